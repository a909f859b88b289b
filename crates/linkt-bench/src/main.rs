//! `linkt-bench`: what the `linkt` client costs per request, against plain
//! reqwest + serde (the *floor*), measured side by side in the same run.
//!
//! ```text
//! cargo run --release -p linkt-bench                 # full run (about 20 s)
//! cargo run -p linkt-bench -- --smoke                # one short iteration per scenario
//! cargo run --release -p linkt-bench -- --pairs 100  # more batches, tighter intervals
//! ```
//!
//! A local HTTP/1.1 server on 127.0.0.1 ([`server`]) serves pre-serialized,
//! realistic responses ([`fixtures`]). The client is built as users build it
//! (`Client::builder().api_key(..).base_url(..)`: retries on, tracing compiled
//! in with no subscriber); the floor ([`floor`]) is a plain `reqwest::Client`
//! with the same timeouts and pool, the `x-api-key` header and hand-written
//! structs. [`measure`] describes the timing method; [`alloc`] counts heap
//! allocations.
//!
//! Scenarios: (1) `icp_retrieve` one at a time; (2) `icp_retrieve` with 32
//! in flight; (3) `entity_list` with `page_size=100`; (4) `icp_create`;
//! (5) heap allocations per call of scenario 1.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use linkt::ApiKey;

mod alloc;
mod cpu;
mod fixtures;
mod floor;
mod measure;
mod server;

use fixtures::{Fixtures, ICP_ID, PAGE_SIZE};
use measure::{Comparison, Plan};

#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

/// Result of everything in the bench; errors are reported and end the run.
pub(crate) type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

/// A key that passes `ApiKey` validation; the local server checks it.
const KEY: &str = "lk_bench_0123456789abcdefghijklmnopqrstuv";
/// Name of scenario 1, whose allocations are scenario 5.
const SCENARIO_1: &str = "1. icp_retrieve, one at a time";
/// Calls in flight in the throughput scenario.
const IN_FLIGHT: usize = 32;

const USAGE: &str = "\
usage: linkt-bench [--smoke] [--pairs N] [--batch-ms MS] [--warmup-ms MS] [--only N]
       linkt-bench --profile client|floor --calls N [--only N]

  --smoke         one short iteration per scenario (checks that everything works;
                  the numbers mean nothing)
  --pairs N       client/floor batch pairs per scenario (default 60)
  --batch-ms MS   target duration of one batch (default 25)
  --warmup-ms MS  warm-up per scenario, both sides together (default 500)
  --only N        run scenario N (1-4) alone, e.g. under a profiler
  --profile SIDE  no measurement: make --calls calls of one side (client or floor)
                  of scenario --only (default 1), one at a time, for a profiler;
                  the difference between two call counts is the cost of the calls
  --calls N       calls made by --profile (default 1000)
  --runtime RT    the tokio runtime the calls run on: `current` (one thread, the
                  default) or `multi` (`#[tokio::main]`'s multi-thread runtime,
                  one worker per core)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let plan = match parse_args(&args) {
        Ok(Some(plan)) => plan,
        Ok(None) => {
            eprint!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprint!("{message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(plan) {
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

fn parse_args(args: &[String]) -> Result<Option<Plan>, String> {
    let mut plan = Plan {
        pairs: 60,
        batch: Duration::from_millis(25),
        warmup: Duration::from_millis(500),
        smoke: false,
        only: None,
        profile: None,
        multi_thread: false,
    };
    let mut calls = 1000;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            args.next()
                .and_then(|v| v.parse().ok())
                .filter(|&v| v > 0)
                .ok_or_else(|| format!("{name} needs a positive whole number"))
        };
        match arg.as_str() {
            "--smoke" => plan.smoke = true,
            "--pairs" => plan.pairs = number("--pairs")? as usize,
            "--batch-ms" => plan.batch = Duration::from_millis(number("--batch-ms")?),
            "--warmup-ms" => plan.warmup = Duration::from_millis(number("--warmup-ms")?),
            "--only" => match number("--only")? {
                n @ 1..=4 => plan.only = Some(n as usize),
                _ => return Err("--only takes a scenario number from 1 to 4".to_owned()),
            },
            "--calls" => calls = number("--calls")? as usize,
            "--profile" => {
                let side = match args.next().map(String::as_str) {
                    Some("client") => Profiled::Client,
                    Some("floor") => Profiled::Floor,
                    _ => return Err("--profile takes `client` or `floor`".to_owned()),
                };
                plan.profile = Some((side, 0));
            }
            "--runtime" => {
                plan.multi_thread = match args.next().map(String::as_str) {
                    Some("current") => false,
                    Some("multi") => true,
                    _ => return Err("--runtime takes `current` or `multi`".to_owned()),
                };
            }
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unrecognized argument `{other}`")),
        }
    }
    if let Some((_, n)) = &mut plan.profile {
        *n = calls;
    }
    Ok(Some(plan))
}

/// One row of the table.
#[derive(Debug)]
struct Row {
    name: &'static str,
    comparison: Comparison,
}

fn run(plan: Plan) -> BenchResult<String> {
    let fixtures = Fixtures::build()?;
    let base_url = server::start(&fixtures, KEY)?;
    // By default the bench runs on one thread: the client's and the floor's
    // calls and their connection tasks share it (and its allocation
    // counters); the server has the other core. `--runtime multi` runs them
    // on the multi-thread runtime most applications use, where connection
    // tasks move between workers (the per-thread counts then cover the bench
    // thread only).
    let runtime = if plan.multi_thread {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    };
    let rows = runtime.block_on(scenarios(&plan, &fixtures, &base_url))?;
    if let Some((side, calls)) = plan.profile {
        let scenario = plan.only.unwrap_or(1);
        return Ok(format!("{side:?}: {calls} calls of scenario {scenario}\n"));
    }
    Ok(report(&plan, &fixtures, &rows))
}

fn mismatch(what: &str) -> Box<dyn std::error::Error> {
    format!("the {what} decoded a different value than the server sent").into()
}

async fn scenarios(plan: &Plan, fixtures: &Fixtures, base_url: &str) -> BenchResult<Vec<Row>> {
    // rustls with ring, as the linkt client does; only the floor needs it here.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = linkt::Client::builder()
        .api_key(ApiKey::new(KEY)?)
        .base_url(base_url)
        .build()?;
    let floor = floor::Floor::new(base_url, KEY)?;

    // Once, in full: both sides decode exactly what the server sent.
    let icp = client.icp_retrieve().icp_id(ICP_ID).send().await?;
    if *icp != fixtures.icp {
        return Err(mismatch("client"));
    }
    floor::check_icp(&floor.icp_retrieve(ICP_ID).await?, &fixtures.icp)?;
    let page = client.entity_list().page_size(PAGE_SIZE).send().await?;
    if *page != fixtures.entity_page {
        return Err(mismatch("client"));
    }
    floor::check_entity_page(&floor.entity_list(PAGE_SIZE).await?, &fixtures.entity_page)?;
    let created = client
        .icp_create()
        .body(fixtures.create_request.clone())
        .send()
        .await?;
    if *created != fixtures.created {
        return Err(mismatch("client"));
    }
    floor::check_icp(
        &floor.icp_create(&fixtures.create_request_plain).await?,
        &fixtures.created,
    )?;

    // In the timed loops each side checks one field of what it decoded.
    let icp_client = || async {
        let icp = client.icp_retrieve().icp_id(ICP_ID).send().await?;
        check(std::hint::black_box(icp).id == ICP_ID)
    };
    let icp_floor = || async {
        let icp = floor.icp_retrieve(ICP_ID).await?;
        check(std::hint::black_box(icp).id == ICP_ID)
    };
    let list_client = || async {
        let page = client.entity_list().page_size(PAGE_SIZE).send().await?;
        check(std::hint::black_box(page).entities.len() == PAGE_SIZE as usize)
    };
    let list_floor = || async {
        let page = floor.entity_list(PAGE_SIZE).await?;
        check(std::hint::black_box(page).entities.len() == PAGE_SIZE as usize)
    };
    // Each call builds its body, on both sides from a prepared value.
    let create_client = || async {
        let body = fixtures.create_request.clone();
        let icp = client.icp_create().body(body).send().await?;
        check(std::hint::black_box(icp).id == fixtures.created.id)
    };
    let create_floor = || async {
        let body = fixtures.create_request_plain.clone();
        let icp = floor.icp_create(&body).await?;
        check(std::hint::black_box(icp).id == fixtures.created.id)
    };

    if let Some((side, calls)) = plan.profile {
        let client_side = side == Profiled::Client;
        match plan.only.unwrap_or(1) {
            1 | 2 if client_side => repeat(calls, &icp_client).await?,
            1 | 2 => repeat(calls, &icp_floor).await?,
            3 if client_side => repeat(calls, &list_client).await?,
            3 => repeat(calls, &list_floor).await?,
            _ if client_side => repeat(calls, &create_client).await?,
            _ => repeat(calls, &create_floor).await?,
        }
        return Ok(Vec::new());
    }

    let wanted = |n: usize| plan.only.is_none_or(|only| only == n);
    let mut rows = Vec::new();
    if wanted(1) {
        rows.push(Row {
            name: SCENARIO_1,
            comparison: measure::compare(plan, 1, icp_client, icp_floor).await?,
        });
    }
    if wanted(2) {
        rows.push(Row {
            name: "2. icp_retrieve, 32 in flight",
            comparison: measure::compare(plan, IN_FLIGHT, icp_client, icp_floor).await?,
        });
    }
    if wanted(3) {
        rows.push(Row {
            name: "3. entity_list, page_size=100",
            comparison: measure::compare(plan, 1, list_client, list_floor).await?,
        });
    }
    if wanted(4) {
        rows.push(Row {
            name: "4. icp_create",
            comparison: measure::compare(plan, 1, create_client, create_floor).await?,
        });
    }
    Ok(rows)
}

/// Which side `--profile` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Profiled {
    Client,
    Floor,
}

/// `calls` calls of `call`, one at a time.
async fn repeat<F, Fut>(calls: usize, call: &F) -> BenchResult<()>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = BenchResult<()>>,
{
    for _ in 0..calls {
        call().await?;
    }
    Ok(())
}

fn check(ok: bool) -> BenchResult<()> {
    if ok {
        Ok(())
    } else {
        Err("a response decoded to an unexpected value".into())
    }
}

fn paired(median: f64, interval: Option<(f64, f64)>) -> String {
    match interval {
        Some((lo, hi)) => format!("{median:.3} [{lo:.3}–{hi:.3}]"),
        None => format!("{median:.3}"),
    }
}

fn micros(nanos: f64) -> String {
    if nanos >= 100_000.0 {
        format!("{:.0} µs", nanos / 1000.0)
    } else {
        format!("{:.1} µs", nanos / 1000.0)
    }
}

fn kib(bytes: f64) -> String {
    format!("{:.1} KiB", bytes / 1024.0)
}

fn report(plan: &Plan, fixtures: &Fixtures, rows: &[Row]) -> String {
    let mut out = String::new();
    let profile = if cfg!(debug_assertions) {
        "debug build (numbers are not meaningful)"
    } else {
        "release build"
    };
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").ok().map_or_else(
        || "unknown".to_owned(),
        |l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    );
    let _ = writeln!(
        out,
        "linkt-bench: linkt client vs plain reqwest + serde_json (floor), same run"
    );
    let _ = writeln!(
        out,
        "machine: {cores} cores, {}; {} {}; {profile}; load average at the end {load}",
        cpu_model(),
        std::env::consts::OS,
        std::env::consts::ARCH,
    );
    if plan.smoke {
        let _ = writeln!(out, "plan: --smoke (one short iteration per scenario)");
    } else {
        let _ = writeln!(
            out,
            "plan: {} interleaved client/floor batch pairs per scenario, ~{} ms per batch, {} ms warm-up",
            plan.pairs,
            plan.batch.as_millis(),
            plan.warmup.as_millis(),
        );
    }
    let _ = writeln!(
        out,
        "bodies: IcpResponse {} B; EntityListResponse {} (100 entities of {}-{} B); created IcpResponse {} B",
        fixtures.icp_body.len(),
        kib(fixtures.entity_page_body.len() as f64),
        fixtures.entity_bytes.0,
        fixtures.entity_bytes.1,
        fixtures.created_body.len(),
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "| scenario | client: median (p90) per call | floor: median (p90) per call | ratio | paired ratio [95% CI] | allocations/call (client, floor) |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
    for row in rows {
        let c = &row.comparison;
        let _ = writeln!(
            out,
            "| {} | {} ({}) | {} ({}) | {:.3} | {} | {:.0}, {:.0} |",
            row.name,
            micros(c.client.median()),
            micros(c.client.p90()),
            micros(c.floor.median()),
            micros(c.floor.p90()),
            c.ratio(),
            paired(c.paired_ratio(), c.ratio_interval()),
            c.client.allocations_per_call(),
            c.floor.allocations_per_call(),
        );
    }
    if let Some(first) = rows.iter().find(|row| row.name == SCENARIO_1) {
        // Scenario 5 is the allocation count of scenario 1's batches.
        let c = &first.comparison;
        let (ca, fa) = (
            c.client.allocations_per_call(),
            c.floor.allocations_per_call(),
        );
        let (cb, fb) = (c.client.bytes_per_call(), c.floor.bytes_per_call());
        let _ = writeln!(
            out,
            "| 5. heap allocations per call, scenario 1 | {ca:.0} allocs, {} | {fa:.0} allocs, {} | {:.3} | — | {ca:.0}, {fa:.0} (+{:.0}, +{}) |",
            kib(cb),
            kib(fb),
            ca / fa,
            ca - fa,
            kib(cb - fb),
        );
    }
    if rows.iter().any(|row| !row.comparison.client.cpu.is_empty()) {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "| bench-thread CPU time per call | client | floor | ratio | paired ratio [95% CI] |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|");
        for row in rows {
            let c = &row.comparison;
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.3} | {} |",
                row.name,
                micros(c.client.cpu_per_call()),
                micros(c.floor.cpu_per_call()),
                c.cpu_ratio(),
                paired(c.cpu_paired_ratio(), c.cpu_ratio_interval()),
            );
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Times are per call: the median and 90th percentile of batch means (batch time / calls)."
    );
    let _ = writeln!(
        out,
        "Ratio = client median / floor median. Paired ratio = median of client/floor ratios of the"
    );
    let _ = writeln!(
        out,
        "batches of each pair (robust to drift), with its distribution-free 95% confidence interval."
    );
    let _ = writeln!(out, "Allocations: median per call over batches.");
    let _ = writeln!(
        out,
        "CPU time: the bench thread (calls, connection tasks), not the server thread; median per call."
    );
    for row in rows {
        let c = &row.comparison;
        if c.in_flight > 1 {
            let _ = writeln!(
                out,
                "{}: {:.0} calls/s client, {:.0} calls/s floor ({} calls per batch).",
                row.name,
                1e9 / c.client.median(),
                1e9 / c.floor.median(),
                c.calls_per_batch,
            );
        }
    }
    out
}

/// The CPU model from `/proc/cpuinfo`, where there is one.
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}
