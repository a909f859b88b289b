//! `linkt-mock`: runs the in-memory Linkt server until interrupted.
//!
//! ```text
//! linkt-mock [--port N] [--key KEY]... [--read-only-key KEY]... [--speed X]
//!            [--drift KINDS]
//! ```
//!
//! Prints the base URL and the first key, then serves on 127.0.0.1. The
//! simulated clock starts at the wall-clock time; by default it flows ten
//! times as fast as the wall clock, so a search run finishes in seconds;
//! `--speed 0` stops it. `--help` describes every option; a bad argument is
//! reported by name with exit code 2.

use std::process::ExitCode;

use clap::Parser;
use linkt_mock::{Drift, DriftKind, KeyConfig, MockServer};

/// The organization of the first key and of every read-only key, when there
/// are read-only keys.
const SHARED_ORG: &str = "cli";

/// Runs the in-memory Linkt server on 127.0.0.1 until interrupted.
///
/// Prints the base URL and the first key (`LINKT_BASE_URL=...`,
/// `LINKT_API_KEY=...`), then serves.
#[derive(Debug, Parser)]
#[command(name = "linkt-mock", version)]
struct Args {
    /// The port to listen on; 0 picks a free one.
    #[arg(long, value_name = "N", default_value_t = 8080)]
    port: u16,

    /// An API key to accept, read-write, with its own organization
    /// (repeatable; the first is printed). Without any key the server
    /// accepts lk-mock-0001.
    #[arg(long = "key", value_name = "KEY")]
    keys: Vec<String>,

    /// A read-only API key in the first key's organization (repeatable).
    #[arg(long = "read-only-key", value_name = "KEY")]
    read_only_keys: Vec<String>,

    /// How many times as fast as the wall clock simulated time flows; 0
    /// stops it.
    #[arg(
        long,
        value_name = "X",
        default_value_t = 10.0,
        value_parser = parse_speed,
        allow_negative_numbers = true
    )]
    speed: f64,

    /// Makes successful answers drift from the spec: `all`, or a
    /// comma-separated list of unknown-field, unknown-enum-value,
    /// dropped-optional-field, null-required-field, created-status. None by
    /// default.
    #[arg(long, value_name = "KINDS", value_parser = parse_drift)]
    drift: Option<Drift>,
}

/// A speed: a finite number, 0 or more.
fn parse_speed(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|speed| speed.is_finite() && *speed >= 0.0)
        .ok_or_else(|| "not a non-negative number".to_owned())
}

/// Drift kinds: `all`, or kebab-case kind names separated by commas.
fn parse_drift(text: &str) -> Result<Drift, String> {
    if text.trim() == "all" {
        return Ok(Drift::all());
    }
    let mut kinds = Vec::new();
    for name in text.split(',').map(str::trim) {
        match DriftKind::from_name(name) {
            Some(kind) => kinds.push(kind),
            None => {
                let known: Vec<&str> = DriftKind::ALL.iter().map(|k| k.name()).collect();
                return Err(format!(
                    "unknown drift kind `{name}`; expected `all` or a comma-separated list of {}",
                    known.join(", ")
                ));
            }
        }
    }
    Ok(Drift::only(&kinds))
}

impl Args {
    /// The keys to configure, in order: the `--key`s, then the
    /// `--read-only-key`s. With read-only keys, the first `--key` and every
    /// read-only key share one organization.
    fn key_configs(&self) -> Vec<KeyConfig> {
        let shared = !self.read_only_keys.is_empty();
        let keys = self.keys.iter().enumerate().map(|(i, key)| {
            let config = KeyConfig::new(key.clone());
            if shared && i == 0 {
                config.org(SHARED_ORG)
            } else {
                config
            }
        });
        let read_only = self
            .read_only_keys
            .iter()
            .map(|key| KeyConfig::new(key.clone()).read_only().org(SHARED_ORG));
        keys.chain(read_only).collect()
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let mut builder = MockServer::builder().port(args.port);
    for key in args.key_configs() {
        builder = builder.key_config(key);
    }
    if args.speed > 0.0 {
        builder = builder.clock_speed(args.speed);
    }
    if let Some(drift) = args.drift {
        builder = builder.drift(drift);
    }
    let server = match builder.start().await {
        Ok(server) => server,
        Err(err) => {
            eprintln!("linkt-mock: {err}");
            return ExitCode::FAILURE;
        }
    };
    #[allow(clippy::print_stdout, reason = "the binary's whole output")]
    {
        println!("linkt-mock listening on {}", server.base_url());
        println!("LINKT_BASE_URL={}", server.base_url());
        println!("LINKT_API_KEY={}", server.api_key());
    }
    std::future::pending::<()>().await;
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    #[test]
    fn the_command_is_well_formed() {
        Args::command().debug_assert();
    }

    #[test]
    fn defaults_are_port_8080_speed_10_and_no_keys() {
        let args = Args::try_parse_from(["linkt-mock"]).expect("no arguments parse");
        assert_eq!((args.port, args.speed), (8080, 10.0));
        assert!(args.key_configs().is_empty());
        assert_eq!(args.drift, None);
    }

    #[test]
    fn speed_is_a_non_negative_number() {
        assert_eq!(parse_speed("0"), Ok(0.0));
        assert_eq!(parse_speed("2.5"), Ok(2.5));
        for bad in ["-1", "NaN", "inf", "fast", ""] {
            assert!(parse_speed(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn drift_is_all_or_a_list_of_kind_names() {
        let parse = |value: &str| Args::try_parse_from(["linkt-mock", "--drift", value]);
        assert_eq!(parse("all").expect("all").drift, Some(Drift::all()));
        let only = parse("unknown-field,created-status").expect("a list");
        assert_eq!(
            only.drift,
            Some(Drift::only(&[
                DriftKind::UnknownField,
                DriftKind::CreatedStatus
            ]))
        );
        let err = parse("unknown-field,extra-field").expect_err("a bad name");
        assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation);
        let message = err.to_string();
        assert!(message.contains("`extra-field`"), "{message}");
        assert!(message.contains("--drift"), "{message}");
        assert!(parse("").is_err(), "an empty list names no kind");
    }
}
