//! Endpoint configuration: [`Environment`], [`Config`] and [`ConfigBuilder`].
//!
//! This module decides *where* requests go (base URL) and checks that the
//! key can be sent there safely. It reads environment variables only through
//! a lookup function, so tests never touch the process environment. Key
//! validation itself lives in `key`.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use http::HeaderMap;
use url::{Host, Url};

use crate::{API_KEY_HEADER_NAME, ApiKey, AuthError, ParseEnvironmentError};

/// Environment variable holding the API key (read by the official SDKs too).
pub const ENV_API_KEY: &str = "LINKT_API_KEY";
/// Environment variable overriding the base URL (read by the official SDKs
/// too).
pub const ENV_BASE_URL: &str = "LINKT_BASE_URL";
/// Environment variable selecting an [`Environment`] by name (`production` or
/// `staging`). The official SDKs take the environment only as a constructor
/// argument; this variable is an addition of this crate.
pub const ENV_ENVIRONMENT: &str = "LINKT_ENVIRONMENT";

/// A Linkt deployment with its own base URL (and its own API keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Environment {
    /// `https://api.linkt.ai` (the default).
    #[default]
    Production,
    /// `https://api-staging.linkt.ai`.
    Staging,
}

impl Environment {
    /// Every environment, in the order their names are listed in errors.
    pub const ALL: [Environment; 2] = [Environment::Production, Environment::Staging];

    /// The base URL of this environment, without a trailing slash. Request
    /// paths (`/v1/...`) are appended to it.
    pub const fn base_url(self) -> &'static str {
        match self {
            Environment::Production => "https://api.linkt.ai",
            Environment::Staging => "https://api-staging.linkt.ai",
        }
    }

    /// The lower-case name accepted by [`FromStr`] (`production`, `staging`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::Staging => "staging",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Environment {
    type Err = ParseEnvironmentError;

    /// Parses `production` or `staging`, ignoring ASCII case and surrounding
    /// whitespace.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim();
        Environment::ALL
            .into_iter()
            .find(|env| env.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| ParseEnvironmentError::new(name))
    }
}

/// A validated client configuration: the API key and the base URL.
///
/// Build one with [`Config::builder`], [`Config::new`] or [`Config::from_env`].
/// A `Config` always satisfies:
///
/// * the base URL is an absolute `http`/`https` URL with a host, no
///   credentials, query or fragment, and no trailing slash;
/// * the key is never sent over plain `http` to a non-loopback host unless
///   [`ConfigBuilder::allow_insecure_http`] was set.
///
/// `Debug` shows the base URL and `api_key: <redacted>`.
#[derive(Clone)]
pub struct Config {
    api_key: ApiKey,
    base_url: String,
    environment: Option<Environment>,
    allow_insecure_http: bool,
}

impl Config {
    /// Starts a builder with nothing set.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// A configuration for [`Environment::Production`] with the given key.
    pub fn new(api_key: ApiKey) -> Config {
        Config {
            api_key,
            base_url: Environment::Production.base_url().to_owned(),
            environment: Some(Environment::Production),
            allow_insecure_http: false,
        }
    }

    /// Reads the configuration from the process environment
    /// (`LINKT_API_KEY`, `LINKT_BASE_URL`, `LINKT_ENVIRONMENT`).
    ///
    /// Same as `Config::builder().build_with_env()`; see
    /// [`ConfigBuilder::build_with_env_lookup`] for the rules.
    ///
    /// # Errors
    ///
    /// [`AuthError::MissingApiKey`] if `LINKT_API_KEY` is unset or empty, and
    /// every error of [`ConfigBuilder::build_with_env_lookup`].
    pub fn from_env() -> Result<Config, AuthError> {
        Config::builder().build_with_env()
    }

    /// Like [`Config::from_env`], but reads variables through `lookup`
    /// (which returns `None` for an unset variable) instead of the process
    /// environment.
    ///
    /// ```
    /// use linkt_auth::Config;
    ///
    /// let config = Config::from_env_with(|name| match name {
    ///     "LINKT_API_KEY" => Some("sk-test".to_owned()),
    ///     "LINKT_ENVIRONMENT" => Some("staging".to_owned()),
    ///     _ => None,
    /// })?;
    /// assert_eq!(config.base_url(), "https://api-staging.linkt.ai");
    /// # Ok::<(), linkt_auth::AuthError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Config::from_env`].
    pub fn from_env_with<F>(lookup: F) -> Result<Config, AuthError>
    where
        F: FnMut(&str) -> Option<String>,
    {
        Config::builder().build_with_env_lookup(lookup)
    }

    /// The API key.
    pub fn api_key(&self) -> &ApiKey {
        &self.api_key
    }

    /// The base URL without a trailing slash, e.g. `https://api.linkt.ai`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The environment the base URL came from, or `None` for a custom base
    /// URL.
    pub fn environment(&self) -> Option<Environment> {
        self.environment
    }

    /// Whether the key may be sent over plain `http` to non-loopback hosts.
    pub fn allows_insecure_http(&self) -> bool {
        self.allow_insecure_http
    }

    /// Headers to send with every request: `x-api-key` with a value marked
    /// sensitive. Suitable for `reqwest::ClientBuilder::default_headers`.
    pub fn default_headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::with_capacity(1);
        headers.insert(API_KEY_HEADER_NAME, self.api_key.header_value());
        headers
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("base_url", &self.base_url)
            .field("environment", &self.environment)
            .field("api_key", &format_args!("<redacted>"))
            .field("allow_insecure_http", &self.allow_insecure_http)
            .finish()
    }
}

/// Builds a [`Config`] from values given in code and, optionally, from
/// environment variables.
///
/// # Rules
///
/// * The key is required: from [`api_key`](Self::api_key), else (when
///   building with the environment) `LINKT_API_KEY`.
/// * The server is chosen by *either* an [`Environment`] *or* a base URL.
///   Giving both, from any mix of code and environment variables, is
///   [`AuthError::AmbiguousBaseUrl`] (as in the official SDKs). Giving
///   neither selects [`Environment::Production`].
/// * Values set in code take precedence over environment variables for the
///   same setting.
/// * Plain `http` base URLs are accepted only for loopback hosts
///   (`127.0.0.0/8`, `::1`, `localhost`) unless
///   [`allow_insecure_http(true)`](Self::allow_insecure_http) is set;
///   otherwise [`AuthError::InsecureTransport`] is returned before any
///   request is made.
///
/// # Default
///
/// Nothing set; `allow_insecure_http` is `false`.
#[derive(Clone, Default)]
pub struct ConfigBuilder {
    api_key: Option<ApiKey>,
    environment: Option<Environment>,
    base_url: Option<String>,
    allow_insecure_http: bool,
}

impl fmt::Debug for ConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigBuilder")
            .field("base_url", &self.base_url)
            .field("environment", &self.environment)
            .field(
                "api_key",
                &format_args!(
                    "{}",
                    if self.api_key.is_some() {
                        "<redacted>"
                    } else {
                        "<unset>"
                    }
                ),
            )
            .field("allow_insecure_http", &self.allow_insecure_http)
            .finish()
    }
}

impl ConfigBuilder {
    /// Sets the API key.
    pub fn api_key(mut self, api_key: ApiKey) -> Self {
        self.api_key = Some(api_key);
        self
    }

    /// Selects a predefined environment. Conflicts with
    /// [`base_url`](Self::base_url).
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = Some(environment);
        self
    }

    /// Sets a custom base URL such as `http://127.0.0.1:8080` or a proxy.
    /// Conflicts with [`environment`](Self::environment). A trailing slash is
    /// removed; paths (`/v1/...`) are appended to it.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// Allows sending the key over plain `http` to non-loopback hosts.
    /// Off by default; only for trusted networks.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Builds from the values set in code only; no environment variable is
    /// read.
    ///
    /// # Errors
    ///
    /// [`AuthError::MissingApiKey`], [`AuthError::AmbiguousBaseUrl`], and
    /// the base-URL errors ([`AuthError::InvalidBaseUrl`],
    /// [`AuthError::UnsupportedScheme`], [`AuthError::UnsupportedBaseUrl`],
    /// [`AuthError::InsecureTransport`]).
    pub fn build(self) -> Result<Config, AuthError> {
        self.build_inner(|_| Ok(None))
    }

    /// Builds from the values set in code, filling the rest from the process
    /// environment. See [`build_with_env_lookup`](Self::build_with_env_lookup).
    ///
    /// # Errors
    ///
    /// As [`build_with_env_lookup`](Self::build_with_env_lookup), plus
    /// [`AuthError::EnvNotUnicode`].
    pub fn build_with_env(self) -> Result<Config, AuthError> {
        self.build_inner(|name| match std::env::var_os(name) {
            None => Ok(None),
            Some(value) => value
                .into_string()
                .map(Some)
                .map_err(|_| AuthError::EnvNotUnicode { name }),
        })
    }

    /// Builds from the values set in code, filling the rest from variables
    /// read through `lookup` (`None` means unset):
    ///
    /// * `LINKT_API_KEY` if no key was set in code;
    /// * `LINKT_BASE_URL` if no base URL was set in code;
    /// * `LINKT_ENVIRONMENT` (`production`/`staging`) if no environment was
    ///   set in code.
    ///
    /// An empty variable counts as unset.
    ///
    /// # Errors
    ///
    /// [`AuthError::MissingApiKey`] (naming `LINKT_API_KEY`),
    /// [`AuthError::AmbiguousBaseUrl`], the base-URL errors of
    /// [`build`](Self::build), and [`AuthError::InvalidEnvVar`] wrapping the
    /// error of a variable's value.
    pub fn build_with_env_lookup<F>(self, mut lookup: F) -> Result<Config, AuthError>
    where
        F: FnMut(&str) -> Option<String>,
    {
        self.build_inner(|name| Ok(lookup(name)))
    }

    fn build_inner<F>(self, mut lookup: F) -> Result<Config, AuthError>
    where
        F: FnMut(&'static str) -> Result<Option<String>, AuthError>,
    {
        let mut read = |name: &'static str| -> Result<Option<String>, AuthError> {
            Ok(lookup(name)?.filter(|value| !value.is_empty()))
        };
        let in_env = |name: &'static str| {
            move |error: AuthError| AuthError::InvalidEnvVar {
                name,
                source: Box::new(error),
            }
        };

        let api_key = match self.api_key {
            Some(key) => key,
            None => match read(ENV_API_KEY)? {
                Some(value) => ApiKey::new(value).map_err(in_env(ENV_API_KEY))?,
                None => return Err(AuthError::MissingApiKey),
            },
        };

        let environment = match self.environment {
            Some(environment) => Some((environment, None)),
            None => match read(ENV_ENVIRONMENT)? {
                Some(name) => Some((
                    name.parse::<Environment>()
                        .map_err(|e| in_env(ENV_ENVIRONMENT)(e.into()))?,
                    Some(ENV_ENVIRONMENT),
                )),
                None => None,
            },
        };

        let base_url = match self.base_url {
            Some(url) => Some((url, None)),
            None => read(ENV_BASE_URL)?.map(|url| (url, Some(ENV_BASE_URL))),
        };

        let allow_insecure_http = self.allow_insecure_http;
        let (base_url, environment) = match (environment, base_url) {
            (Some((environment, _)), Some((base_url, _))) => {
                return Err(AuthError::AmbiguousBaseUrl {
                    environment,
                    base_url: redact_userinfo(&base_url),
                });
            }
            (Some((environment, _)), None) => {
                (environment.base_url().to_owned(), Some(environment))
            }
            (None, Some((base_url, origin))) => {
                let parsed = normalize_base_url(&base_url, allow_insecure_http);
                let parsed = match origin {
                    Some(name) => parsed.map_err(in_env(name))?,
                    None => parsed?,
                };
                (parsed, None)
            }
            (None, None) => (
                Environment::Production.base_url().to_owned(),
                Some(Environment::Production),
            ),
        };

        Ok(Config {
            api_key,
            base_url,
            environment,
            allow_insecure_http,
        })
    }
}

/// Parses, checks and normalizes a base URL (see [`Config`] invariants).
fn normalize_base_url(input: &str, allow_insecure_http: bool) -> Result<String, AuthError> {
    let input = input.trim();
    let url = Url::parse(input).map_err(|source| AuthError::InvalidBaseUrl {
        url: redact_userinfo(input),
        source,
    })?;
    let unsupported = |reason: &'static str| AuthError::UnsupportedBaseUrl {
        url: strip_userinfo(&url),
        reason,
    };
    let scheme = url.scheme();
    if scheme != "https" && scheme != "http" {
        return Err(AuthError::UnsupportedScheme {
            url: strip_userinfo(&url),
            scheme: scheme.to_owned(),
        });
    }
    let Some(host) = url.host() else {
        return Err(unsupported("no host"));
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(unsupported("credentials in the url are not supported"));
    }
    if url.query().is_some() {
        return Err(unsupported("a base url cannot have a query string"));
    }
    if url.fragment().is_some() {
        return Err(unsupported("a base url cannot have a fragment"));
    }
    if scheme == "http" && !allow_insecure_http && !is_loopback(&host) {
        return Err(AuthError::InsecureTransport {
            host: url.host_str().unwrap_or_default().to_owned(),
        });
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(domain) => domain.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).to_canonical().is_loopback(),
    }
}

fn strip_userinfo(url: &Url) -> String {
    let mut url = url.clone();
    // Both only fail for URLs without a host, which keep no userinfo anyway.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.into()
}

/// Removes `user:password@` from a URL given as text, parsed or not.
fn redact_userinfo(input: &str) -> String {
    if !input.contains('@') {
        return input.to_owned();
    }
    match Url::parse(input) {
        Ok(url) => strip_userinfo(&url),
        Err(_) => match (input.find("://"), input.rfind('@')) {
            (Some(start), Some(at)) if at > start => {
                format!("{}<redacted>{}", &input[..start + 3], &input[at..])
            }
            _ => input.to_owned(),
        },
    }
}
