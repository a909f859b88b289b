//! The client a command runs with: credentials and base URL from flags or the
//! environment, or an embedded mock server (`--mock`); and how failures are
//! reported (one line on stderr).

use std::sync::OnceLock;

use anyhow::Context as _;
use clap::ArgMatches;
use linkt::{ApiKey, Client, ErrorKind};

/// Environment variable holding the API key.
pub(crate) const ENV_API_KEY: &str = "LINKT_API_KEY";
/// Environment variable holding the base URL.
pub(crate) const ENV_BASE_URL: &str = "LINKT_BASE_URL";

/// The process's client. Request builders borrow their client, and the
/// per-operation hooks of the generated CLI must be able to make a builder
/// that outlives any borrow they are given, so the client lives as long as
/// the process.
static CLIENT: OnceLock<Client> = OnceLock::new();

/// A client, and the mock server it talks to in `--mock` mode.
#[derive(Debug)]
pub(crate) struct Session {
    client: &'static Client,
    mock: Option<linkt_mock::MockServer>,
}

impl Session {
    /// Connects as the global options say: `--mock` starts an embedded mock
    /// server; otherwise the key comes from `--api-key` or `LINKT_API_KEY`,
    /// the base URL from `--base-url` or `LINKT_BASE_URL` (production by
    /// default).
    pub(crate) async fn open(matches: &ArgMatches) -> anyhow::Result<Session> {
        let key_flag = matches.get_one::<String>("api-key");
        if matches.get_flag("mock") {
            let server = linkt_mock::MockServer::start()
                .await
                .context("starting the embedded mock server")?;
            // Only an explicit --api-key replaces the mock's own key: a real
            // key in LINKT_API_KEY must not break `linkt --mock`.
            let key = key_flag.map_or(server.api_key(), String::as_str);
            // Its sleeps advance the mock's simulated clock instead of waiting.
            let builder = server
                .client_builder(key)
                .map_err(|err| key_error(err.message(), "--api-key"))?;
            let client = builder.build()?;
            return Ok(Session {
                client: install(client),
                mock: Some(server),
            });
        }

        let (key, source) = match key_flag {
            Some(key) => (key.clone(), "--api-key"),
            None => match std::env::var(ENV_API_KEY) {
                Ok(key) if !key.trim().is_empty() => (key, ENV_API_KEY),
                _ => anyhow::bail!(
                    "missing API key: set {ENV_API_KEY} or pass --api-key (or try --mock)"
                ),
            },
        };
        let key = ApiKey::new(key).map_err(|err| key_error(&err.to_string(), source))?;
        let mut builder = Client::builder().api_key(key);
        match matches.get_one::<String>("base-url") {
            Some(url) => builder = builder.base_url(url),
            None => {
                if let Ok(url) = std::env::var(ENV_BASE_URL) {
                    builder = builder.base_url(url);
                }
            }
        }
        let client = builder.build()?;
        Ok(Session {
            client: install(client),
            mock: None,
        })
    }

    /// The client.
    pub(crate) fn client(&self) -> &'static Client {
        self.client
    }

    /// The embedded mock server, in `--mock` mode.
    pub(crate) fn mock(&self) -> Option<&linkt_mock::MockServer> {
        self.mock.as_ref()
    }
}

fn install(client: Client) -> &'static Client {
    CLIENT.get_or_init(|| client)
}

/// A malformed key, naming where it came from.
fn key_error(message: &str, source: &str) -> anyhow::Error {
    anyhow::anyhow!("{source}: {message}")
}

/// A failure as one line: the API's error with a hint where one helps, or the
/// chain of causes joined by `: `.
pub(crate) fn one_line(err: anyhow::Error) -> String {
    let text = match err.downcast_ref::<linkt::Error>() {
        Some(api) => describe(api),
        None => format!("{err:#}"),
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An API error, with what to check for credential problems.
pub(crate) fn describe(err: &linkt::Error) -> String {
    match err.kind() {
        ErrorKind::Unauthorized => {
            format!("{err} (check the API key in {ENV_API_KEY} or --api-key)")
        }
        ErrorKind::Forbidden => {
            format!("{err} (the API key in {ENV_API_KEY} or --api-key lacks permission)")
        }
        _ => err.to_string(),
    }
}
