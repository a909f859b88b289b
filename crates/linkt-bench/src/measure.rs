//! Timing: warm-up, calibrated batches, client and floor interleaved.
//!
//! The method, kept simple enough to check by hand:
//!
//! 1. **Warm-up.** Both sides run alternately until the warm-up time is spent
//!    (connections opened, pools and allocator caches filled, code paged in),
//!    which also estimates each side's time per call.
//! 2. **Calibration.** One batch size `n` for both sides, so that a batch of
//!    the slower side takes about the batch time (a multiple of the number of
//!    calls in flight, at least one round of them).
//! 3. **Interleaved pairs.** Each pair runs one client batch and one floor
//!    batch back to back, alternating which goes first (ABBA), so slow drift
//!    of the machine (frequency, other load, heap growth) hits both sides
//!    alike. Each batch gives a *batch mean*: elapsed time / `n`.
//! 4. **Summary.** Per side, the median and the 90th percentile of its batch
//!    means. The ratio is client median / floor median. Its spread is given
//!    by the paired ratios (client batch / floor batch of the same pair): the
//!    distribution-free 95% confidence interval of their median, from order
//!    statistics and the binomial distribution; no normality is assumed.
//!
//! Each side builds its own HTTP client for the scenario (the caller does),
//! so the warm-up starts from an empty pool, as a program does when it starts.
//!
//! Connections: the server counts the connections it accepts from each side
//! (see `server.rs`); they are read before the warm-up, after it and after the
//! last pair, when no call is in flight. Both sides make the same number of
//! calls in each phase, so their counts compare directly.
//!
//! Allocations are counted per batch on every thread but the server's (see
//! `alloc.rs`) and reported per call (median over batches). So is the bench's
//! CPU time (see `cpu.rs`): the process's less the server thread's, that is
//! the work of the calls, of their connection tasks and of the runtime's
//! threads; it is less sensitive than wall time to other load on the machine.

use std::future::Future;
use std::time::{Duration, Instant};

use futures::StreamExt as _;

use crate::BenchResult;
use crate::alloc::Snapshot;
use crate::server::{Opened, Server};

/// How long and how often to measure.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Plan {
    /// Client/floor batch pairs.
    pub(crate) pairs: usize,
    /// Target duration of one batch.
    pub(crate) batch: Duration,
    /// Warm-up time for both sides together.
    pub(crate) warmup: Duration,
    /// One short iteration of everything: one warm-up round, one pair, one
    /// round of calls per batch.
    pub(crate) smoke: bool,
}

/// What one side did over all batches.
#[derive(Clone, Debug, Default)]
pub(crate) struct Side {
    /// Batch means, nanoseconds per call.
    pub(crate) batch_means: Vec<f64>,
    /// Allocations per call, per batch.
    pub(crate) allocations: Vec<f64>,
    /// Bytes allocated per call, per batch.
    pub(crate) bytes: Vec<f64>,
    /// Bench CPU time per call (all threads but the server's), per batch, in
    /// ns (empty where the platform does not tell).
    pub(crate) cpu: Vec<f64>,
}

impl Side {
    fn record(&mut self, calls: usize, elapsed: Duration, allocated: Snapshot, cpu: Option<u64>) {
        let calls = calls as f64;
        self.batch_means.push(elapsed.as_nanos() as f64 / calls);
        self.allocations.push(allocated.allocations as f64 / calls);
        self.bytes.push(allocated.bytes as f64 / calls);
        if let Some(cpu) = cpu {
            self.cpu.push(cpu as f64 / calls);
        }
    }

    /// Median batch mean, ns per call.
    pub(crate) fn median(&self) -> f64 {
        quantile(&self.batch_means, 0.5)
    }

    /// 90th percentile of batch means, ns per call.
    pub(crate) fn p90(&self) -> f64 {
        quantile(&self.batch_means, 0.9)
    }

    /// Median allocations per call.
    pub(crate) fn allocations_per_call(&self) -> f64 {
        quantile(&self.allocations, 0.5)
    }

    /// Median bytes allocated per call.
    pub(crate) fn bytes_per_call(&self) -> f64 {
        quantile(&self.bytes, 0.5)
    }

    /// Median bench CPU time per call, ns; NaN where unknown.
    pub(crate) fn cpu_per_call(&self) -> f64 {
        quantile(&self.cpu, 0.5)
    }
}

/// Client and floor measured side by side in one scenario.
#[derive(Clone, Debug)]
pub(crate) struct Comparison {
    /// Calls per batch.
    pub(crate) calls_per_batch: usize,
    /// Calls in flight at once.
    pub(crate) in_flight: usize,
    /// Calls each side made during the warm-up.
    pub(crate) warmup_calls: usize,
    /// The `linkt` client's timed batches.
    pub(crate) client: Side,
    /// Plain reqwest + serde's timed batches.
    pub(crate) floor: Side,
    /// Connections each side opened during the warm-up.
    pub(crate) opened_warmup: Opened,
    /// Connections each side opened during the timed batches.
    pub(crate) opened_timed: Opened,
}

impl Comparison {
    /// Calls each side made in the timed batches.
    pub(crate) fn timed_calls(&self) -> usize {
        self.client.batch_means.len() * self.calls_per_batch
    }

    /// Connections each side opened over the whole scenario.
    pub(crate) fn opened(&self) -> Opened {
        self.opened_warmup.plus(self.opened_timed)
    }

    /// Client / floor connections over the whole scenario: 1 when both
    /// opened none, infinite when only the client opened some.
    pub(crate) fn connection_ratio(&self) -> f64 {
        let opened = self.opened();
        match (opened.client, opened.floor) {
            (0, 0) => 1.0,
            (client, floor) => client as f64 / floor as f64,
        }
    }

    /// Client median / floor median.
    pub(crate) fn ratio(&self) -> f64 {
        self.client.median() / self.floor.median()
    }

    /// Distribution-free 95% confidence interval of the median paired ratio,
    /// when there are enough pairs for one (at least 6).
    pub(crate) fn ratio_interval(&self) -> Option<(f64, f64)> {
        paired_interval(&self.client.batch_means, &self.floor.batch_means)
    }

    /// Median of the paired ratios (client batch / floor batch of a pair):
    /// robust to drift between pairs.
    pub(crate) fn paired_ratio(&self) -> f64 {
        paired_median(&self.client.batch_means, &self.floor.batch_means)
    }

    /// Like [`Self::paired_ratio`], for CPU time.
    pub(crate) fn cpu_paired_ratio(&self) -> f64 {
        paired_median(&self.client.cpu, &self.floor.cpu)
    }

    /// Client / floor median CPU time per call.
    pub(crate) fn cpu_ratio(&self) -> f64 {
        self.client.cpu_per_call() / self.floor.cpu_per_call()
    }

    /// Like [`Self::ratio_interval`], for CPU time.
    pub(crate) fn cpu_ratio_interval(&self) -> Option<(f64, f64)> {
        paired_interval(&self.client.cpu, &self.floor.cpu)
    }
}

/// Median of `client[i] / floor[i]`; NaN when the sides differ in length.
fn paired_median(client: &[f64], floor: &[f64]) -> f64 {
    if client.len() != floor.len() {
        return f64::NAN;
    }
    let ratios: Vec<f64> = client.iter().zip(floor).map(|(c, f)| c / f).collect();
    quantile(&ratios, 0.5)
}

/// Distribution-free 95% CI of the median of `client[i] / floor[i]`.
fn paired_interval(client: &[f64], floor: &[f64]) -> Option<(f64, f64)> {
    if client.len() != floor.len() {
        return None;
    }
    let mut ratios: Vec<f64> = client.iter().zip(floor).map(|(c, f)| c / f).collect();
    ratios.sort_by(f64::total_cmp);
    let (lo, hi) = median_interval_ranks(ratios.len())?;
    Some((ratios[lo], ratios[hi]))
}

/// Linear-interpolated quantile `q` (0..=1) of `values`; NaN when empty.
pub(crate) fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// 0-based ranks `(lo, hi)` of the order statistics that bound a ≥95%
/// confidence interval of the median of `n` samples: the largest `k` with
/// P(Binomial(n, ½) < k) ≤ 2.5% gives ranks `k - 1` and `n - k` (0-based).
fn median_interval_ranks(n: usize) -> Option<(usize, usize)> {
    if !(6..=1000).contains(&n) {
        return None;
    }
    // P(X = 0) = 2^-n; P(X = i + 1) = P(X = i) · (n - i) / (i + 1).
    let mut pmf = 0.5_f64.powi(n as i32);
    let mut below = 0.0; // P(X < k)
    let mut k = 0;
    while k < n / 2 {
        if below + pmf > 0.025 {
            break;
        }
        below += pmf;
        pmf *= (n - k) as f64 / (k + 1) as f64;
        k += 1;
    }
    (k >= 1).then(|| (k - 1, n - k))
}

/// Makes `n` calls of `call`, `in_flight` at a time (one after the other
/// when `in_flight` is 1), in the current task, as an application's `main`
/// would with `buffer_unordered`; ends at the first error.
pub(crate) async fn calls<F, Fut>(n: usize, in_flight: usize, call: &F) -> BenchResult<()>
where
    F: Fn() -> Fut,
    Fut: Future<Output = BenchResult<()>>,
{
    if in_flight <= 1 {
        for _ in 0..n {
            call().await?;
        }
    } else {
        let mut calls = futures::stream::iter(0..n)
            .map(|_| call())
            .buffer_unordered(in_flight);
        while let Some(result) = calls.next().await {
            result?;
        }
    }
    Ok(())
}

/// Runs `n` calls, `in_flight` at a time, and records them on `side`.
async fn batch<F, Fut>(
    server: &Server,
    side: &mut Side,
    n: usize,
    in_flight: usize,
    call: &F,
) -> BenchResult<()>
where
    F: Fn() -> Fut,
    Fut: Future<Output = BenchResult<()>>,
{
    // CPU time is read outside the allocation count and the wall-clock interval.
    let cpu_before = server.bench_cpu_ns();
    let allocated = Snapshot::now();
    let started = Instant::now();
    calls(n, in_flight, call).await?;
    let elapsed = started.elapsed();
    let allocated = Snapshot::now().since(allocated);
    let cpu = server
        .bench_cpu_ns()
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before));
    side.record(n, elapsed, allocated, cpu);
    Ok(())
}

/// Measures the client against the floor with `in_flight` calls at a time;
/// `server` counts the connections each side opens.
pub(crate) async fn compare<C, CF, F, FF>(
    plan: &Plan,
    server: &Server,
    in_flight: usize,
    client: C,
    floor: F,
) -> BenchResult<Comparison>
where
    C: Fn() -> CF,
    CF: Future<Output = BenchResult<()>>,
    F: Fn() -> FF,
    FF: Future<Output = BenchResult<()>>,
{
    let in_flight = in_flight.max(1);
    let round = in_flight;

    // Warm-up, which also estimates the time per call of each side.
    let mut warm_client = Side::default();
    let mut warm_floor = Side::default();
    let mut warmup_calls = 0;
    let opened_before = server.opened();
    let warmup_started = Instant::now();
    let mut n = round;
    loop {
        batch(server, &mut warm_client, n, in_flight, &client).await?;
        batch(server, &mut warm_floor, n, in_flight, &floor).await?;
        warmup_calls += n;
        if plan.smoke || warmup_started.elapsed() >= plan.warmup {
            break;
        }
        // Grow towards the batch size so that the estimate is not dominated
        // by the first, cold calls.
        let slowest = last(&warm_client).max(last(&warm_floor));
        let target = (plan.batch.as_nanos() as f64 / slowest.max(1.0)) as usize;
        n = (n * 2).min(target.max(round));
    }

    let n = if plan.smoke {
        round
    } else {
        let slowest = last(&warm_client).max(last(&warm_floor)).max(1.0);
        let wanted = (plan.batch.as_nanos() as f64 / slowest).ceil() as usize;
        wanted.div_ceil(round).max(1) * round
    };

    let opened_warm = server.opened();
    let mut result = Comparison {
        calls_per_batch: n,
        in_flight,
        warmup_calls,
        client: Side::default(),
        floor: Side::default(),
        opened_warmup: opened_warm.since(opened_before),
        opened_timed: Opened::default(),
    };
    let pairs = if plan.smoke { 1 } else { plan.pairs.max(1) };
    for pair in 0..pairs {
        if pair % 2 == 0 {
            batch(server, &mut result.client, n, in_flight, &client).await?;
            batch(server, &mut result.floor, n, in_flight, &floor).await?;
        } else {
            batch(server, &mut result.floor, n, in_flight, &floor).await?;
            batch(server, &mut result.client, n, in_flight, &client).await?;
        }
    }
    result.opened_timed = server.opened().since(opened_warm);
    Ok(result)
}

fn last(side: &Side) -> f64 {
    side.batch_means.last().copied().unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate() {
        let values = [4.0, 1.0, 3.0, 2.0, 5.0];
        assert_eq!(quantile(&values, 0.5), 3.0);
        assert_eq!(quantile(&values, 0.0), 1.0);
        assert_eq!(quantile(&values, 1.0), 5.0);
        assert!((quantile(&values, 0.9) - 4.6).abs() < 1e-12);
        assert!(quantile(&[], 0.5).is_nan());
    }

    #[test]
    fn median_interval_matches_binomial_tables() {
        // Classic table values (e.g. Conover): n = 10 → ranks 2 and 9 (1-based);
        // n = 20 → 6 and 15; n = 40 → 14 and 27.
        assert_eq!(median_interval_ranks(10), Some((1, 8)));
        assert_eq!(median_interval_ranks(20), Some((5, 14)));
        assert_eq!(median_interval_ranks(40), Some((13, 26)));
        assert_eq!(median_interval_ranks(5), None);
    }
}
