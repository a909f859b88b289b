//! The report: Markdown tables, one row per scenario and runtime.
//!
//! The targets (time within [`TIME_TARGET`] of the floor, connections within
//! [`CONNECTION_TARGET`]) are marked on the rows that miss them; nothing
//! passes or fails on a number.

use std::fmt::Write as _;

use crate::fixtures::Fixtures;
use crate::measure::{Comparison, Plan};
use crate::scenario::{Runtime, Scenario};

/// Target of the paired time ratio (client / floor).
pub(crate) const TIME_TARGET: f64 = 1.05;
/// Target of the ratio of connections opened (client / floor).
pub(crate) const CONNECTION_TARGET: f64 = 1.1;

/// One row of the matrix, measured.
#[derive(Debug)]
pub(crate) struct Row {
    pub(crate) scenario: Scenario,
    pub(crate) runtime: Runtime,
    pub(crate) comparison: Comparison,
}

impl Row {
    /// The targets this row misses: `time`, `connections`, both or none.
    fn misses(&self) -> Vec<&'static str> {
        let c = &self.comparison;
        let mut misses = Vec::new();
        // A NaN ratio (no timed batch) is no evidence either way.
        if c.paired_ratio() > TIME_TARGET {
            misses.push("time");
        }
        if c.connection_ratio() > CONNECTION_TARGET {
            misses.push("connections");
        }
        misses
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

fn signed_kib(bytes: f64) -> String {
    if bytes < 0.0 {
        format!("−{}", kib(-bytes))
    } else {
        format!("+{}", kib(bytes))
    }
}

fn signed(value: f64) -> String {
    if value < 0.0 {
        format!("−{:.0}", -value)
    } else {
        format!("+{value:.0}")
    }
}

/// The whole report.
pub(crate) fn render(plan: &Plan, fixtures: &Fixtures, rows: &[Row]) -> String {
    let mut out = String::new();
    header(&mut out, plan, fixtures);
    main_table(&mut out, rows);
    connections_table(&mut out, rows);
    allocations_table(&mut out, rows);
    cpu_table(&mut out, rows);
    legend(&mut out, rows);
    out
}

fn header(out: &mut String, plan: &Plan, fixtures: &Fixtures) {
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
        "linkt-bench: linkt client vs plain reqwest + serde_json (floor), same run, same runtime"
    );
    let _ = writeln!(
        out,
        "machine: {cores} cores, {}; {} {}; {profile}; load average at the end {load}",
        cpu_model(),
        std::env::consts::OS,
        std::env::consts::ARCH,
    );
    if plan.smoke {
        let _ = writeln!(out, "plan: --smoke (one short iteration per row)");
    } else {
        let _ = writeln!(
            out,
            "plan: per row, a fresh runtime, client and floor; {} ms warm-up, then {} interleaved client/floor batch pairs of ~{} ms",
            plan.warmup.as_millis(),
            plan.pairs,
            plan.batch.as_millis(),
        );
    }
    let _ = writeln!(
        out,
        "runtimes: current-thread; multi-thread with {cores} workers (as #[tokio::main]); the server has a thread of its own"
    );
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
}

fn main_table(out: &mut String, rows: &[Row]) {
    let _ = writeln!(
        out,
        "| scenario | runtime | client: median (p90) per call | floor: median (p90) per call | ratio | paired ratio [95% CI] | connections (client, floor) | connection ratio | targets |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---|");
    for row in rows {
        let c = &row.comparison;
        let opened = c.opened();
        let misses = row.misses();
        let targets = if misses.is_empty() {
            "met".to_owned()
        } else {
            format!("**missed: {}**", misses.join(", "))
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} ({}) | {} ({}) | {:.3} | {} | {}, {} | {:.2} | {targets} |",
            row.scenario,
            row.runtime,
            micros(c.client.median()),
            micros(c.client.p90()),
            micros(c.floor.median()),
            micros(c.floor.p90()),
            c.ratio(),
            paired(c.paired_ratio(), c.ratio_interval()),
            opened.client,
            opened.floor,
            c.connection_ratio(),
        );
    }
    let _ = writeln!(out);
}

fn connections_table(out: &mut String, rows: &[Row]) {
    let _ = writeln!(
        out,
        "| connections opened: warm-up + timed | runtime | calls per side | client | floor |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|");
    for row in rows {
        let c = &row.comparison;
        let _ = writeln!(
            out,
            "| {} | {} | {} + {} | {} + {} | {} + {} |",
            row.scenario,
            row.runtime,
            c.warmup_calls,
            c.timed_calls(),
            c.opened_warmup.client,
            c.opened_timed.client,
            c.opened_warmup.floor,
            c.opened_timed.floor,
        );
    }
    let _ = writeln!(out);
}

fn allocations_table(out: &mut String, rows: &[Row]) {
    let _ = writeln!(
        out,
        "| heap allocations per call | runtime | client | floor | client − floor |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|");
    for row in rows {
        let c = &row.comparison;
        let (ca, fa) = (
            c.client.allocations_per_call(),
            c.floor.allocations_per_call(),
        );
        let (cb, fb) = (c.client.bytes_per_call(), c.floor.bytes_per_call());
        let _ = writeln!(
            out,
            "| {} | {} | {ca:.0} ({}) | {fa:.0} ({}) | {} ({}) |",
            row.scenario,
            row.runtime,
            kib(cb),
            kib(fb),
            signed(ca - fa),
            signed_kib(cb - fb),
        );
    }
    let _ = writeln!(out);
}

fn cpu_table(out: &mut String, rows: &[Row]) {
    if rows.iter().all(|row| row.comparison.client.cpu.is_empty()) {
        return;
    }
    let _ = writeln!(
        out,
        "| CPU time per call (all threads but the server's) | runtime | client | floor | ratio | paired ratio [95% CI] |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|");
    for row in rows {
        let c = &row.comparison;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.3} | {} |",
            row.scenario,
            row.runtime,
            micros(c.client.cpu_per_call()),
            micros(c.floor.cpu_per_call()),
            c.cpu_ratio(),
            paired(c.cpu_paired_ratio(), c.cpu_ratio_interval()),
        );
    }
    let _ = writeln!(out);
}

fn legend(out: &mut String, rows: &[Row]) {
    let lines = [
        "Times are per call: the median and 90th percentile of batch means (batch time / calls).".to_owned(),
        "Ratio = client median / floor median. Paired ratio = median of client/floor ratios of the".to_owned(),
        "batches of each pair (robust to drift), with its distribution-free 95% confidence interval.".to_owned(),
        "Connections: accepted by the server on each side's own listener over the row (warm-up and".to_owned(),
        "timed batches; both sides make the same calls), from a fresh client and floor per row.".to_owned(),
        format!(
            "Targets: paired ratio ≤ {TIME_TARGET:.2} and connection ratio ≤ {CONNECTION_TARGET:.1}; a row that misses one is marked, nothing fails."
        ),
        "Allocations and CPU time: every thread but the server's; median per call over batches.".to_owned(),
    ];
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    let mut throughput = rows
        .iter()
        .filter(|row| row.comparison.in_flight > 1)
        .peekable();
    if throughput.peek().is_some() {
        let _ = writeln!(out, "Throughput, calls/s (client, floor):");
    }
    for row in throughput {
        let c = &row.comparison;
        let _ = writeln!(
            out,
            "- {}, {}: {:.0}, {:.0} ({} calls per batch)",
            row.scenario,
            row.runtime,
            1e9 / c.client.median(),
            1e9 / c.floor.median(),
            c.calls_per_batch,
        );
    }
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
