//! `linkt-bench`: what the `linkt` client costs per request, in time and in
//! connections, against plain reqwest + serde (the *floor*), measured side by
//! side in the same run.
//!
//! ```text
//! cargo run --release -p linkt-bench                 # the whole matrix (about 70 s)
//! cargo run -p linkt-bench -- --smoke                # one short iteration per row
//! cargo run --release -p linkt-bench -- --pairs 100  # more batches, tighter intervals
//! ```
//!
//! A local HTTP/1.1 server on 127.0.0.1 ([`server`]) serves pre-serialized,
//! realistic responses ([`fixtures`]) and counts the connections each side
//! opens, on a listener per side. The client is built as users build it
//! (`Client::builder().api_key(..).base_url(..).build()`: its own timeouts,
//! pool and retries, tracing compiled in with no subscriber); the floor
//! ([`floor`]) is a plain `reqwest::Client` with nothing configured, the
//! `x-api-key` header and hand-written structs.
//!
//! The matrix ([`scenario`]): seven scenarios (three operations at 1, 32 and
//! 128 calls in flight), each on tokio's current-thread and multi-thread
//! runtimes; every row compares the client with the floor on the same
//! runtime, on interleaved batches ([`measure`]), with heap allocations
//! ([`alloc`]) and CPU time ([`cpu`]) per call. The report ([`report`])
//! marks the rows that miss the targets (time within 1.05× of the floor,
//! connections within 1.1×) and fails on none.

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

mod alloc;
mod cpu;
mod fixtures;
mod floor;
mod measure;
mod report;
mod scenario;
mod server;

use fixtures::Fixtures;
use measure::Plan;
use report::Row;
use scenario::{Runtime, SCENARIOS};
use server::{Caller, Server};

#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

/// Result of everything in the bench; errors are reported and end the run.
pub(crate) type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

/// A key that passes `ApiKey` validation; the local server checks it.
pub(crate) const KEY: &str = "lk_bench_0123456789abcdefghijklmnopqrstuv";

const USAGE: &str = "\
usage: linkt-bench [--smoke] [--pairs N] [--batch-ms MS] [--warmup-ms MS] [--only N] [--runtime RT]
       linkt-bench --profile client|floor [--calls N] [--only N] [--runtime RT]

Scenarios, each run on both runtimes (current-thread, then multi-thread):
  1  icp_retrieve, 1 in flight        5  icp_retrieve, 128 in flight
  2  icp_retrieve, 32 in flight       6  entity_list page_size=100, 32 in flight
  3  entity_list page_size=100, 1     7  icp_create, 32 in flight
  4  icp_create, 1 in flight

  --smoke         one short iteration of every row (checks that everything works;
                  the numbers mean nothing)
  --pairs N       client/floor batch pairs per row (default 60)
  --batch-ms MS   target duration of one batch (default 25)
  --warmup-ms MS  warm-up per row, both sides together (default 500)
  --only N        run scenario N (1-7) alone, on both runtimes unless --runtime
  --runtime RT    run on one runtime only: `current` (current-thread) or `multi`
                  (multi-thread, one worker per core, as #[tokio::main] builds it)
  --profile SIDE  no measurement: make --calls calls of one side (client or floor)
                  of scenario --only (default 1), at its calls in flight, on
                  --runtime (default current), for a profiler; the difference
                  between two call counts is the cost of the calls
  --calls N       calls made by --profile (default 1000)
";

/// A command-line mistake, reported with the usage text.
#[derive(Debug)]
struct UsageError(String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// What to run.
#[derive(Debug)]
struct Args {
    plan: Plan,
    /// Only this scenario number.
    only: Option<usize>,
    /// Only this runtime.
    runtime: Option<Runtime>,
    /// `--profile`: which side, how many calls.
    profile: Option<(Caller, usize)>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse_args(&args) {
        Ok(Some(args)) => args,
        Ok(None) => {
            eprint!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprint!("{err}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(report) => {
            let mut stdout = std::io::stdout().lock();
            if stdout.write_all(report.as_bytes()).is_err() {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("linkt-bench: {err}");
            ExitCode::FAILURE
        }
    }
}

/// The arguments, or `None` for `--help`.
fn parse_args(args: &[String]) -> Result<Option<Args>, UsageError> {
    let mut parsed = Args {
        plan: Plan {
            pairs: 60,
            batch: Duration::from_millis(25),
            warmup: Duration::from_millis(500),
            smoke: false,
        },
        only: None,
        runtime: None,
        profile: None,
    };
    let mut side = None;
    let mut calls = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Result<usize, UsageError> {
            args.next()
                .and_then(|v| v.parse().ok())
                .filter(|&v| v > 0)
                .ok_or_else(|| UsageError(format!("{name} needs a positive whole number")))
        };
        match arg.as_str() {
            "--smoke" => parsed.plan.smoke = true,
            "--pairs" => parsed.plan.pairs = number("--pairs")?,
            "--batch-ms" => parsed.plan.batch = millis(number("--batch-ms")?),
            "--warmup-ms" => parsed.plan.warmup = millis(number("--warmup-ms")?),
            "--only" => {
                let n = number("--only")?;
                if !SCENARIOS.iter().any(|s| s.number == n) {
                    return Err(UsageError(format!(
                        "--only takes a scenario number from 1 to {}",
                        SCENARIOS.len()
                    )));
                }
                parsed.only = Some(n);
            }
            "--calls" => calls = Some(number("--calls")?),
            "--profile" => {
                side = Some(match args.next().map(String::as_str) {
                    Some("client") => Caller::Client,
                    Some("floor") => Caller::Floor,
                    _ => return Err(UsageError("--profile takes `client` or `floor`".into())),
                });
            }
            "--runtime" => {
                parsed.runtime = Some(match args.next().map(String::as_str) {
                    Some("current") => Runtime::CurrentThread,
                    Some("multi") => Runtime::MultiThread,
                    _ => return Err(UsageError("--runtime takes `current` or `multi`".into())),
                });
            }
            "-h" | "--help" => return Ok(None),
            other => return Err(UsageError(format!("unrecognized argument `{other}`"))),
        }
    }
    match (side, calls) {
        (Some(side), calls) => parsed.profile = Some((side, calls.unwrap_or(1000))),
        (None, Some(_)) => return Err(UsageError("--calls goes with --profile".into())),
        (None, None) => {}
    }
    Ok(Some(parsed))
}

fn millis(ms: usize) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
}

fn run(args: &Args) -> BenchResult<String> {
    // rustls with ring, as the linkt client installs it; reqwest is built
    // without a provider of its own, so the floor needs it too.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let fixtures = Fixtures::build()?;
    let server = Server::start(&fixtures, KEY)?;
    Runtime::CurrentThread
        .build()?
        .block_on(scenario::verify(&server, &fixtures))?;

    let wanted = |number: usize| args.only.is_none_or(|only| only == number);
    if let Some((caller, calls)) = args.profile {
        let number = args.only.unwrap_or(1);
        let Some(&scenario) = SCENARIOS.iter().find(|s| s.number == number) else {
            return Err(UsageError(format!("no scenario {number}")).into());
        };
        let runtime = args.runtime.unwrap_or(Runtime::CurrentThread);
        let before = server.opened();
        runtime.build()?.block_on(scenario::profile(
            &server, &fixtures, scenario, caller, calls,
        ))?;
        let opened = server.opened().since(before);
        let opened = match caller {
            Caller::Client => opened.client,
            Caller::Floor => opened.floor,
        };
        return Ok(format!(
            "{caller:?}: {calls} calls of scenario {scenario}, {runtime} runtime; {opened} connections opened\n"
        ));
    }

    let runtimes = Runtime::ALL
        .into_iter()
        .filter(|&r| args.runtime.is_none_or(|only| only == r));
    let matrix: Vec<(Runtime, scenario::Scenario)> = runtimes
        .flat_map(|runtime| {
            SCENARIOS
                .into_iter()
                .filter(|s| wanted(s.number))
                .map(move |s| (runtime, s))
        })
        .collect();
    let mut rows = Vec::with_capacity(matrix.len());
    for (i, &(runtime, scenario)) in matrix.iter().enumerate() {
        if !args.plan.smoke {
            eprintln!(
                "linkt-bench: {}/{}: {scenario}, {runtime}",
                i + 1,
                matrix.len()
            );
        }
        // A runtime per row, dropped with its tasks before the next row.
        let comparison = runtime
            .build()?
            .block_on(scenario::measure(&args.plan, &server, &fixtures, scenario))?;
        rows.push(Row {
            scenario,
            runtime,
            comparison,
        });
    }
    Ok(report::render(&args.plan, &fixtures, &rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Args>, UsageError> {
        let args: Vec<String> = args.iter().map(|&a| a.to_owned()).collect();
        parse_args(&args)
    }

    #[test]
    fn parses_the_matrix_filters_and_the_profile() {
        let args = parse(&["--only", "5", "--runtime", "multi"])
            .expect("valid")
            .expect("not --help");
        assert_eq!(args.only, Some(5));
        assert_eq!(args.runtime, Some(Runtime::MultiThread));
        assert!(args.profile.is_none());

        let args = parse(&["--profile", "floor", "--calls", "20"])
            .expect("valid")
            .expect("not --help");
        assert_eq!(args.profile, Some((Caller::Floor, 20)));

        assert!(parse(&["--help"]).expect("valid").is_none());
    }

    #[test]
    fn refuses_bad_arguments_without_panicking() {
        for bad in [
            &["--only", "8"][..],
            &["--only", "0"],
            &["--only"],
            &["--pairs", "-1"],
            &["--runtime", "both"],
            &["--profile"],
            &["--calls", "5"],
            &["--frobnicate"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
