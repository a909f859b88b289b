//! `linkt-mock`: runs the in-memory Linkt server until interrupted.
//!
//! ```text
//! linkt-mock [--port N] [--key KEY]... [--read-only-key KEY]... [--speed X]
//! ```
//!
//! Prints the base URL and the first key, then serves on 127.0.0.1. By
//! default simulated time flows ten times as fast as the wall clock, so a
//! search run finishes in seconds; `--speed 0` stops the clock.

use std::process::ExitCode;

use linkt_mock::{KeyConfig, MockServer};

const USAGE: &str =
    "usage: linkt-mock [--port N] [--key KEY]... [--read-only-key KEY]... [--speed X]";

struct Args {
    port: u16,
    keys: Vec<KeyConfig>,
    speed: f64,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        port: 8080,
        keys: Vec::new(),
        speed: 10.0,
    };
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--port" => {
                let v = value("--port")?;
                parsed.port = v
                    .parse()
                    .map_err(|_| format!("--port: `{v}` is not a port number"))?;
            }
            "--key" => parsed.keys.push(KeyConfig::new(value("--key")?)),
            "--read-only-key" => {
                let key = value("--read-only-key")?;
                // A read-only key reads the data of the first key's organization.
                let org = "cli";
                if let Some(first) = parsed.keys.first_mut() {
                    *first = first.clone().org(org);
                }
                parsed.keys.push(KeyConfig::new(key).read_only().org(org));
            }
            "--speed" => {
                let v = value("--speed")?;
                parsed.speed = v
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .ok_or_else(|| format!("--speed: `{v}` is not a non-negative number"))?;
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    Ok(parsed)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let mut builder = MockServer::builder().port(args.port);
    for key in args.keys {
        builder = builder.key_config(key);
    }
    if args.speed > 0.0 {
        builder = builder.clock_speed(args.speed);
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
