//! The retry loop: a runtime-agnostic async driver around
//! [`RetryPolicy::decide`].
//!
//! Time and waiting are injected through [`Clock`] and [`Sleeper`], so the
//! loop works on any executor and tests never sleep on the wall clock. What
//! an attempt is, and how its result maps to an [`Outcome`], is the caller's;
//! what to do about it is the policy's.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

use http::Method;

use crate::classify::{Outcome, Retryable};
use crate::jitter::{Jitter, RandomJitter};
use crate::policy::{Decision, RetryPolicy};
use crate::reason::{RetryReason, StopReason};

/// Waits for a duration on some async runtime.
///
/// Every `Fn(Duration) -> impl Future<Output = ()> + Send` is a `Sleeper`,
/// so with tokio pass `tokio::time::sleep` itself.
pub trait Sleeper {
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send;
}

impl<F, Fut> Sleeper for F
where
    F: Fn(Duration) -> Fut,
    Fut: Future<Output = ()> + Send,
{
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send {
        self(duration)
    }
}

/// Where the loop reads time from.
pub trait Clock {
    /// Wall-clock time; used only to turn a `Retry-After` HTTP-date into a
    /// delay.
    fn now(&self) -> SystemTime;
    /// Monotonic time; used only to measure progress against the policy's
    /// deadline.
    fn instant(&self) -> Instant;
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> SystemTime {
        (**self).now()
    }

    fn instant(&self) -> Instant {
        (**self).instant()
    }
}

/// The real clock: [`SystemTime::now`] and [`Instant::now`].
///
/// Under tokio's paused test time, implement [`Clock`] with
/// `tokio::time::Instant::now().into_std()` instead.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn instant(&self) -> Instant {
        Instant::now()
    }
}

/// The environment a retry loop runs in: a clock, a way to sleep, and a
/// source of jitter.
#[derive(Debug, Clone)]
pub struct Env<C, S, J> {
    /// Where time comes from.
    pub clock: C,
    /// How to wait between attempts.
    pub sleeper: S,
    /// Randomness for computed delays.
    pub jitter: J,
}

impl<S: Sleeper> Env<SystemClock, S, RandomJitter> {
    /// The real clock and random jitter, sleeping with `sleeper`
    /// (for example `tokio::time::sleep`).
    pub fn new(sleeper: S) -> Self {
        Self {
            clock: SystemClock,
            sleeper,
            jitter: RandomJitter::new(),
        }
    }
}

impl<C, S, J> Env<C, S, J> {
    /// Replaces the clock.
    pub fn with_clock<C2: Clock>(self, clock: C2) -> Env<C2, S, J> {
        Env {
            clock,
            sleeper: self.sleeper,
            jitter: self.jitter,
        }
    }

    /// Replaces the jitter source.
    pub fn with_jitter<J2: Jitter>(self, jitter: J2) -> Env<C, S, J2> {
        Env {
            clock: self.clock,
            sleeper: self.sleeper,
            jitter,
        }
    }
}

/// Handed to the `on_retry` observer before each sleep.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryEvent {
    /// The number (from 1) of the attempt that just failed; the next attempt
    /// is `attempt + 1`.
    pub attempt: u32,
    /// Why it is retried.
    pub reason: RetryReason,
    /// How long the loop sleeps before the next attempt.
    pub delay: Duration,
}

/// The result of [`run`]: the last attempt's value, unchanged, with an
/// account of how it was reached.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Attempted<R> {
    /// What the last attempt returned.
    pub value: R,
    /// How many attempts were made, from 1 to the policy's
    /// [`max_attempts`](RetryPolicy::max_attempts).
    pub attempts: u32,
    /// Why no further attempt was made.
    pub stop: StopReason,
    /// The usable delay the last response asked for, if any; set in
    /// particular when [`stop`](Self::stop) is
    /// [`StopReason::ServerDelayAboveCap`].
    pub server_delay: Option<Duration>,
    /// The total time slept between attempts.
    pub total_sleep: Duration,
}

impl<R> Attempted<R> {
    /// The last attempt's value.
    pub fn into_value(self) -> R {
        self.value
    }

    /// How many retries were made (`attempts − 1`).
    pub const fn retries(&self) -> u32 {
        self.attempts.saturating_sub(1)
    }
}

/// Runs `attempt` until the policy says stop, and returns the last attempt's
/// value with the attempt count.
///
/// * `attempt(n)` makes attempt number `n` (from 1); for the official SDKs'
///   `x-stainless-retry-count` header send `n − 1`.
/// * `classify` maps each result to an [`Outcome`] (see
///   [`TransportFailure`](crate::TransportFailure) for mapping
///   `reqwest::Error`).
/// * `on_retry` is called before each sleep, e.g. to emit a tracing event.
///
/// The loop makes at most [`max_attempts`](RetryPolicy::max_attempts)
/// attempts and sleeps only between two attempts, never after the last one.
/// A result that is retried is dropped before the sleep; the last one is
/// returned as it came.
pub async fn run<R, C, S, J, A, Fut, K, O>(
    policy: &RetryPolicy,
    method: &Method,
    env: Env<C, S, J>,
    mut attempt: A,
    classify: K,
    on_retry: O,
) -> Attempted<R>
where
    C: Clock,
    S: Sleeper,
    J: Jitter,
    A: FnMut(u32) -> Fut,
    Fut: Future<Output = R>,
    K: Fn(&R) -> Outcome<'_>,
    O: FnMut(&RetryEvent),
{
    let started = env.clock.instant();
    let first = FirstAttempt {
        value: attempt(1).await,
        started,
    };
    resume(policy, method, env, first, attempt, classify, on_retry).await
}

/// The first attempt of a loop, made by the caller of [`resume`].
#[derive(Debug, Clone)]
pub struct FirstAttempt<R> {
    /// What it returned.
    pub value: R,
    /// When it began, on the [`Env`]'s clock: the policy's deadline counts
    /// from here.
    pub started: Instant,
}

/// [`run`] for a caller that made the first attempt itself, for example to
/// return a success without entering the loop: decides on `first`, then
/// calls `attempt(n)` for each retry, from `n = 2`, exactly as [`run`] does.
pub async fn resume<R, C, S, J, A, Fut, K, O>(
    policy: &RetryPolicy,
    method: &Method,
    mut env: Env<C, S, J>,
    first: FirstAttempt<R>,
    mut attempt: A,
    classify: K,
    mut on_retry: O,
) -> Attempted<R>
where
    C: Clock,
    S: Sleeper,
    J: Jitter,
    A: FnMut(u32) -> Fut,
    Fut: Future<Output = R>,
    K: Fn(&R) -> Outcome<'_>,
    O: FnMut(&RetryEvent),
{
    let FirstAttempt {
        mut value,
        started: start,
    } = first;
    let mut total_sleep = Duration::ZERO;
    let mut retries_done: u32 = 0;
    loop {
        let number = retries_done.saturating_add(1);
        let outcome = classify(&value);
        // The path almost every call takes: a success ends the loop, with no
        // clock read and no policy arithmetic.
        if let Retryable::Final {
            reason: stop @ StopReason::Success(_),
        } = outcome.classify()
        {
            return Attempted {
                value,
                attempts: number,
                stop,
                server_delay: None,
                total_sleep,
            };
        }
        let elapsed = env.clock.instant().saturating_duration_since(start);
        let decision = policy.decide(
            method,
            &outcome,
            retries_done,
            elapsed,
            env.clock.now(),
            &mut env.jitter,
        );
        let (delay, reason) = match decision {
            Decision::Retry { delay, reason } => (delay, reason),
            Decision::Stop {
                reason,
                server_delay,
            } => {
                return Attempted {
                    value,
                    attempts: number,
                    stop: reason,
                    server_delay,
                    total_sleep,
                };
            }
        };
        // The bound, stated here and not only inside `decide`: after the last
        // permitted attempt there is no sleep and no further attempt.
        if retries_done >= policy.max_retries() {
            return Attempted {
                value,
                attempts: number,
                stop: StopReason::AttemptsExhausted {
                    attempts: number,
                    last: reason,
                },
                server_delay: None,
                total_sleep,
            };
        }
        on_retry(&RetryEvent {
            attempt: number,
            reason,
            delay,
        });
        drop(value);
        env.sleeper.sleep(delay).await;
        total_sleep = total_sleep.saturating_add(delay);
        retries_done += 1;
        value = attempt(number.saturating_add(1)).await;
    }
}
