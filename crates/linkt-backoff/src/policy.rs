//! Policy: given a classified outcome, whether to retry and after how long.
//!
//! [`RetryPolicy`] holds the limits (attempts, backoff, server-delay cap,
//! deadline, method safety) and [`RetryPolicy::decide`] turns one outcome into
//! a [`Decision`]. It reads no clock and draws no random numbers of its own:
//! `now`, the elapsed time and the jitter source are passed in, so a decision
//! is a pure function of its inputs. Reading the outcome itself is
//! [`classify`](crate::classify)'s job.

use std::time::{Duration, SystemTime};

use http::Method;

use crate::classify::{Outcome, Retryable, is_idempotent};
use crate::jitter::Jitter;
use crate::reason::{RetryReason, StopReason};

/// What to do after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Sleep for `delay`, then make another attempt.
    Retry {
        /// How long to wait before the next attempt.
        delay: Duration,
        /// Why the attempt is repeated.
        reason: RetryReason,
    },
    /// Make no further attempt; the outcome just seen is final.
    Stop {
        /// Why.
        reason: StopReason,
        /// The usable delay the server asked for in this response, if any
        /// (see [`server_delay`](crate::server_delay)), reported whatever the
        /// reason, so a caller can surface it (for example with
        /// [`StopReason::ServerDelayAboveCap`]).
        server_delay: Option<Duration>,
    },
}

impl Decision {
    /// Whether another attempt should be made.
    pub const fn is_retry(&self) -> bool {
        matches!(self, Self::Retry { .. })
    }
}

/// How often and how patiently to retry.
///
/// Build one with `const fn` setters, so a policy can be a `const`:
///
/// ```
/// use std::time::Duration;
/// use linkt_backoff::RetryPolicy;
///
/// const PATIENT: RetryPolicy = RetryPolicy::new()
///     .with_max_retries(5)
///     .with_deadline(Duration::from_secs(30));
/// assert_eq!(PATIENT.max_attempts(), 6);
/// ```
///
/// # Default
///
/// Matches the official Linkt SDKs except where noted:
///
/// | setting | default |
/// |---|---|
/// | [`max_retries`](Self::with_max_retries) | 2 (so at most 3 attempts) |
/// | [`initial_delay`](Self::with_initial_delay) | 0.5 s, doubled for every retry already made |
/// | [`max_delay`](Self::with_max_delay) | 8 s |
/// | [`jitter`](Self::with_jitter) | 0.25: a computed delay is multiplied by `1 − 0.25 × r`, r ∈ [0, 1), so it lands in 75–100 % of its base |
/// | [`max_server_delay`](Self::with_max_server_delay) | 60 s; a longer server delay **stops** the retrying (the SDKs fall back to their computed backoff instead) |
/// | [`server_delay_jitter`](Self::with_server_delay_jitter) | 0.1: a server delay `d` is lengthened by `r × max(0.1 × d, 100 ms)`, r ∈ [0, 1), never shortened, so clients told to come back at one instant do not all return at it (the SDKs use it exactly) |
/// | [`deadline`](Self::with_deadline) | none |
/// | [`retry_non_idempotent`](Self::with_retry_non_idempotent) | `false` (the SDKs retry every method) |
///
/// So the computed delays before retries 1, 2, 3, 4, 5, … are at most 0.5 s,
/// 1 s, 2 s, 4 s, 8 s, 8 s, …
///
/// # Requests that are never retried
///
/// Whatever the number of attempts left, [`decide`](Self::decide) stops on:
///
/// * a success (2xx), even with `x-should-retry: true`;
/// * a response with `x-should-retry: false`;
/// * a response whose status is not 408, 409, 429 or 500 and above, unless
///   the server sent `x-should-retry: true`;
/// * [`TransportFailure::Other`](crate::TransportFailure::Other);
/// * a non-idempotent method (POST, PATCH, CONNECT, extension methods) after
///   a 409, a status of 500 and above, a timeout or a lost connection,
///   because the server may already have acted on it (a repeated
///   `POST /v1/task/{id}/execute` could run a paid job twice), unless
///   [`with_retry_non_idempotent(true)`](Self::with_retry_non_idempotent).
///   Such methods are retried only when the request provably was not
///   processed: a connect failure, 408, 429, or `x-should-retry: true`;
/// * a server delay above `max_server_delay`;
/// * a delay that would end past the deadline.
///
/// The crate never sees request bodies: a caller whose body cannot be
/// cloned (a stream) must not retry it, for example by using
/// [`RetryPolicy::none`] for that request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    max_retries: u32,
    initial_delay: Duration,
    max_delay: Duration,
    jitter: f64,
    max_server_delay: Duration,
    server_delay_jitter: f64,
    deadline: Option<Duration>,
    retry_non_idempotent: bool,
}

/// The least spread of a jittered server delay, so that even
/// `Retry-After: 1` spreads a fleet over a tenth of a second.
const MIN_SERVER_DELAY_SPREAD: Duration = Duration::from_millis(100);

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl RetryPolicy {
    /// The default policy; see [`RetryPolicy`'s docs](Self#default).
    pub const DEFAULT: Self = Self {
        max_retries: 2,
        initial_delay: Duration::from_millis(500),
        max_delay: Duration::from_secs(8),
        jitter: 0.25,
        max_server_delay: Duration::from_secs(60),
        server_delay_jitter: 0.1,
        deadline: None,
        retry_non_idempotent: false,
    };

    /// The default policy; see [`RetryPolicy`'s docs](Self#default).
    pub const fn new() -> Self {
        Self::DEFAULT
    }

    /// A policy that never retries: exactly one attempt.
    pub const fn none() -> Self {
        Self::DEFAULT.with_max_retries(0)
    }

    /// Sets how many retries may follow the first attempt (0 disables
    /// retrying).
    pub const fn with_max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// Sets the computed delay before the first retry; it doubles for every
    /// retry already made, up to [`max_delay`](Self::with_max_delay).
    pub const fn with_initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// Sets the cap on computed delays (not on server-requested ones; see
    /// [`with_max_server_delay`](Self::with_max_server_delay)).
    pub const fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Sets the jitter fraction `j`: a computed delay `d` becomes
    /// `d × (1 − j × r)` with r ∈ [0, 1). Clamped to `[0, 1]`; NaN means 0.
    /// Server-requested delays are never jittered.
    pub const fn with_jitter(mut self, fraction: f64) -> Self {
        self.jitter = unit_fraction(fraction);
        self
    }

    /// Turns jitter off, so computed delays are exactly
    /// `min(initial × 2^n, max)`.
    pub const fn without_jitter(self) -> Self {
        self.with_jitter(0.0)
    }

    /// Sets the longest server-requested delay (`retry-after-ms`,
    /// `Retry-After`) that will be slept through. A longer request stops the
    /// retrying with [`StopReason::ServerDelayAboveCap`], leaving the wait to
    /// the caller.
    pub const fn with_max_server_delay(mut self, cap: Duration) -> Self {
        self.max_server_delay = cap;
        self
    }

    /// Sets how much a server-requested delay is lengthened at random: by
    /// `r × max(fraction × delay, 100 ms)` with r ∈ [0, 1), clamped to
    /// `[0, 1]`; `0.0` uses server delays exactly. A server delay is never
    /// shortened. The cap ([`with_max_server_delay`](Self::with_max_server_delay))
    /// applies to the delay the server asked for; the deadline to the
    /// lengthened one.
    pub const fn with_server_delay_jitter(mut self, fraction: f64) -> Self {
        self.server_delay_jitter = unit_fraction(fraction);
        self
    }

    /// Sets an overall deadline, counted from the start of the first attempt:
    /// a sleep that would end past it is never started. It does not bound
    /// the attempts themselves; that is the HTTP client's timeout.
    pub const fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Removes the overall deadline.
    pub const fn without_deadline(mut self) -> Self {
        self.deadline = None;
        self
    }

    /// With `true`, non-idempotent methods (POST, PATCH, …) are retried on
    /// every retryable outcome, as the official SDKs do; with `false` (the
    /// default) only when the request provably was not processed.
    pub const fn with_retry_non_idempotent(mut self, retry: bool) -> Self {
        self.retry_non_idempotent = retry;
        self
    }

    /// How many retries may follow the first attempt.
    pub const fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// How many attempts may be made in total (`max_retries + 1`,
    /// saturating).
    pub const fn max_attempts(&self) -> u32 {
        self.max_retries.saturating_add(1)
    }

    /// The computed delay before the first retry.
    pub const fn initial_delay(&self) -> Duration {
        self.initial_delay
    }

    /// The cap on computed delays.
    pub const fn max_delay(&self) -> Duration {
        self.max_delay
    }

    /// The jitter fraction, in `[0, 1]`.
    pub const fn jitter(&self) -> f64 {
        self.jitter
    }

    /// The longest server-requested delay that will be slept through.
    pub const fn max_server_delay(&self) -> Duration {
        self.max_server_delay
    }

    /// The fraction by which server-requested delays are lengthened at random.
    pub const fn server_delay_jitter(&self) -> f64 {
        self.server_delay_jitter
    }

    /// A server-requested delay with its positive jitter (see
    /// [`with_server_delay_jitter`](Self::with_server_delay_jitter)): in
    /// `[delay, delay + max(fraction × delay, 100 ms))`, never shorter.
    pub fn server_delay_with_jitter(&self, delay: Duration, jitter: &mut impl Jitter) -> Duration {
        if self.server_delay_jitter <= 0.0 {
            return delay;
        }
        let r = jitter.next_unit();
        let r = if r.is_nan() { 0.0 } else { r.clamp(0.0, 1.0) };
        let spread = delay
            .mul_f64(self.server_delay_jitter)
            .max(MIN_SERVER_DELAY_SPREAD);
        delay.saturating_add(spread.mul_f64(r))
    }

    /// The overall deadline, if any.
    pub const fn deadline(&self) -> Option<Duration> {
        self.deadline
    }

    /// Whether non-idempotent methods are retried on every retryable
    /// outcome.
    pub const fn retry_non_idempotent(&self) -> bool {
        self.retry_non_idempotent
    }

    /// The computed delay before a retry, without jitter:
    /// `min(initial_delay × 2^retries_done, max_delay)`, saturating.
    pub fn base_delay(&self, retries_done: u32) -> Duration {
        // 2^127 still fits a u128; past that the product saturates anyway.
        let factor = 1u128 << retries_done.min(127);
        let nanos = self
            .initial_delay
            .as_nanos()
            .saturating_mul(factor)
            .min(self.max_delay.as_nanos());
        duration_from_nanos(nanos)
    }

    /// The computed delay before a retry, with jitter: [`base_delay`]
    /// reduced by up to the jitter fraction, so it lies in
    /// `[base × (1 − jitter), base]`.
    ///
    /// [`base_delay`]: Self::base_delay
    pub fn backoff(&self, retries_done: u32, jitter: &mut impl Jitter) -> Duration {
        let base = self.base_delay(retries_done);
        let r = jitter.next_unit();
        let r = if r.is_nan() { 0.0 } else { r.clamp(0.0, 1.0) };
        let base_nanos = base.as_nanos();
        // Float-to-int casts saturate, and the product never exceeds
        // `base × jitter`; the `min` is belt and braces.
        let reduction = ((base_nanos as f64) * self.jitter * r) as u128;
        duration_from_nanos(base_nanos - reduction.min(base_nanos))
    }

    /// Decides what to do after an attempt.
    ///
    /// * `retries_done`: retries already made before this attempt (0 after
    ///   the first attempt); it is also the exponent of the computed backoff.
    /// * `elapsed`: time since the first attempt started, for the deadline.
    /// * `now`: wall-clock time, to read a `Retry-After` HTTP-date.
    /// * `jitter`: the random source for computed delays.
    ///
    /// The checks, in order: the [classification](crate::classify) (final
    /// outcomes stop), method safety, attempts left, the server delay (used,
    /// lengthened by its jitter, when present and within the cap; above the
    /// cap it stops), else the computed backoff, and last the deadline.
    pub fn decide(
        &self,
        method: &Method,
        outcome: &Outcome<'_>,
        retries_done: u32,
        elapsed: Duration,
        now: SystemTime,
        jitter: &mut impl Jitter,
    ) -> Decision {
        let classified = outcome.classify();
        // A success carries no delay worth reading: skip the header parsing
        // on the path every successful call takes.
        if let Retryable::Final {
            reason: reason @ StopReason::Success(_),
        } = classified
        {
            return Decision::Stop {
                reason,
                server_delay: None,
            };
        }
        let server_delay = outcome.server_delay(now);
        let stop = |reason| Decision::Stop {
            reason,
            server_delay,
        };
        let (reason, unprocessed) = match classified {
            Retryable::Final { reason } => return stop(reason),
            Retryable::Transient {
                reason,
                unprocessed,
            } => (reason, unprocessed),
        };
        if !unprocessed && !self.retry_non_idempotent && !is_idempotent(method) {
            return stop(StopReason::MethodNotSafe {
                method: method.clone(),
                after: reason,
            });
        }
        if retries_done >= self.max_retries {
            return stop(StopReason::AttemptsExhausted {
                attempts: retries_done.saturating_add(1),
                last: reason,
            });
        }
        let delay = match server_delay {
            Some(delay) if delay > self.max_server_delay => {
                return stop(StopReason::ServerDelayAboveCap {
                    delay,
                    cap: self.max_server_delay,
                });
            }
            Some(delay) => self.server_delay_with_jitter(delay, jitter),
            None => self.backoff(retries_done, jitter),
        };
        if let Some(deadline) = self.deadline {
            let ends_in_time = elapsed
                .checked_add(delay)
                .is_some_and(|end| end <= deadline);
            if !ends_in_time {
                return stop(StopReason::Deadline {
                    delay,
                    elapsed,
                    deadline,
                });
            }
        }
        Decision::Retry { delay, reason }
    }
}

/// `fraction` clamped to `[0, 1]`, NaN as 0.
const fn unit_fraction(fraction: f64) -> f64 {
    if fraction.is_nan() || fraction <= 0.0 {
        0.0
    } else if fraction >= 1.0 {
        1.0
    } else {
        fraction
    }
}

/// A `Duration` from nanoseconds, saturating at [`Duration::MAX`].
pub(crate) fn duration_from_nanos(nanos: u128) -> Duration {
    const NANOS_PER_SEC: u128 = 1_000_000_000;
    let Ok(secs) = u64::try_from(nanos / NANOS_PER_SEC) else {
        return Duration::MAX;
    };
    // The remainder is below 10^9, so it fits a u32 and `Duration::new`
    // carries nothing into the seconds.
    let sub = u32::try_from(nanos % NANOS_PER_SEC).unwrap_or(0);
    Duration::new(secs, sub)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jitter::FixedJitter;

    #[test]
    fn base_delay_doubles_and_caps() {
        let p = RetryPolicy::new();
        let secs: Vec<f64> = (0..7).map(|n| p.base_delay(n).as_secs_f64()).collect();
        assert_eq!(secs, [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]);
        assert_eq!(p.base_delay(u32::MAX), Duration::from_secs(8));
    }

    #[test]
    fn base_delay_saturates_with_a_huge_cap() {
        let p = RetryPolicy::new()
            .with_initial_delay(Duration::MAX)
            .with_max_delay(Duration::MAX);
        assert_eq!(p.base_delay(1000), Duration::MAX);
        // No overflow: about 75 % of the maximum.
        let delay = p.backoff(1000, &mut FixedJitter(0.999));
        let ratio = delay.as_secs_f64() / Duration::MAX.as_secs_f64();
        assert!((0.75..0.751).contains(&ratio), "{ratio}");
    }

    #[test]
    fn jitter_is_clamped() {
        let p = RetryPolicy::new();
        assert_eq!(p.with_jitter(f64::NAN).jitter(), 0.0);
        assert_eq!(p.with_jitter(-1.0).jitter(), 0.0);
        assert_eq!(p.with_jitter(7.0).jitter(), 1.0);
        for r in [f64::NAN, -3.0, f64::NEG_INFINITY] {
            assert_eq!(
                p.backoff(0, &mut FixedJitter(r)),
                Duration::from_millis(500)
            );
        }
        for r in [1.0, 5.0, f64::INFINITY] {
            assert_eq!(
                p.backoff(0, &mut FixedJitter(r)),
                Duration::from_millis(375)
            );
        }
        assert_eq!(
            p.with_jitter(1.0).backoff(0, &mut FixedJitter(1.0)),
            Duration::ZERO
        );
    }

    #[test]
    fn duration_from_nanos_saturates() {
        assert_eq!(duration_from_nanos(u128::MAX), Duration::MAX);
        assert_eq!(
            duration_from_nanos(1_500_000_000),
            Duration::from_millis(1500)
        );
    }
}
