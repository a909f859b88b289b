//! The retry loop on a fake clock with a recording sleeper: attempt counts,
//! the sleeps made (never after the last attempt) and the value handed back.

use std::cell::Cell;
use std::collections::VecDeque;
use std::future::{Future, ready};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use http::Method;
use linkt_backoff::{
    Attempted, Clock as _, Env, FirstAttempt, FixedJitter, RetryEvent, RetryPolicy, RetryReason,
    Sleeper, StopReason, TransportFailure, resume, run,
};

use crate::support::{Fake, FakeResult, block_on, classify, response, status_of};

/// What a scripted run produced.
struct Ran {
    out: Attempted<FakeResult>,
    calls: u32,
    numbers: Vec<u32>,
    sleeps: Vec<Duration>,
    events: Vec<RetryEvent>,
}

/// Runs `script` (then 200s) under `policy`; each attempt takes `work`.
fn run_script(policy: RetryPolicy, method: Method, script: Vec<FakeResult>, work: Duration) -> Ran {
    drive(policy, method, None, script, work)
}

/// With `first`: `resume` after a first attempt the caller made, which started
/// at the fake clock's start, took the given time and returned the given
/// result. Without: `run`. Then as [`run_script`].
fn drive(
    policy: RetryPolicy,
    method: Method,
    first: Option<(FakeResult, Duration)>,
    script: Vec<FakeResult>,
    work: Duration,
) -> Ran {
    let fake = Fake::new();
    let started = fake.clock.instant();
    let mut script = VecDeque::from(script);
    let calls = Cell::new(0);
    let mut numbers = Vec::new();
    let mut events = Vec::new();
    let attempt = |n| {
        calls.set(calls.get() + 1);
        numbers.push(n);
        fake.clock.advance(work);
        ready(script.pop_front().unwrap_or_else(|| response(200, &[])))
    };
    let on_retry = |event: &RetryEvent| events.push(event.clone());
    let out = match first {
        None => block_on(run(
            &policy,
            &method,
            fake.env(0.0),
            attempt,
            classify,
            on_retry,
        )),
        Some((value, took)) => {
            fake.clock.advance(took);
            let first = FirstAttempt { value, started };
            block_on(resume(
                &policy,
                &method,
                fake.env(0.0),
                first,
                attempt,
                classify,
                on_retry,
            ))
        }
    };
    Ran {
        out,
        calls: calls.get(),
        numbers,
        sleeps: fake.sleeps(),
        events,
    }
}

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

#[test]
fn two_503s_then_200_succeeds_on_the_third_attempt() {
    let ran = run_script(
        RetryPolicy::new(),
        Method::GET,
        vec![response(503, &[]), response(503, &[])],
        Duration::ZERO,
    );
    assert_eq!(status_of(&ran.out.value), Some(200));
    assert_eq!(ran.out.attempts, 3);
    assert_eq!(ran.out.retries(), 2);
    assert_eq!(ran.calls, 3);
    assert_eq!(ran.numbers, [1, 2, 3]);
    assert_eq!(ran.sleeps, [ms(500), ms(1000)]);
    assert_eq!(ran.out.total_sleep, ms(1500));
    assert!(ran.out.stop.is_success());
    let s503 = RetryReason::Status(http::StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        ran.events
            .iter()
            .map(|e| (e.attempt, e.reason, e.delay))
            .collect::<Vec<_>>(),
        [(1, s503, ms(500)), (2, s503, ms(1000))]
    );
}

#[test]
fn three_503s_return_the_last_error_without_a_final_sleep() {
    let ran = run_script(
        RetryPolicy::new(),
        Method::GET,
        vec![
            response(503, &[("x-attempt", "1")]),
            response(503, &[("x-attempt", "2")]),
            response(503, &[("x-attempt", "3")]),
            response(200, &[]),
        ],
        Duration::ZERO,
    );
    assert_eq!(ran.out.attempts, 3);
    assert_eq!(
        ran.calls, 3,
        "the fourth scripted response is never fetched"
    );
    assert_eq!(ran.sleeps.len(), 2, "no sleep after the last attempt");
    assert_eq!(ran.events.len(), 2);
    let last = ran.out.value.as_ref().expect("a response");
    assert_eq!(last.status.as_u16(), 503);
    assert_eq!(last.headers["x-attempt"], "3", "the last real outcome");
    assert!(matches!(
        ran.out.stop,
        StopReason::AttemptsExhausted { attempts: 3, .. }
    ));
}

#[test]
fn post_500_is_attempted_once() {
    let ran = run_script(
        RetryPolicy::new(),
        Method::POST,
        vec![response(500, &[])],
        Duration::ZERO,
    );
    assert_eq!(ran.out.attempts, 1);
    assert_eq!(status_of(&ran.out.value), Some(500));
    assert!(ran.sleeps.is_empty());
    assert!(matches!(ran.out.stop, StopReason::MethodNotSafe { .. }));
}

#[test]
fn post_429_with_retry_after_then_200_sleeps_exactly_one_second() {
    let ran = run_script(
        RetryPolicy::new(),
        Method::POST,
        vec![response(429, &[("retry-after", "1")])],
        Duration::ZERO,
    );
    assert_eq!(status_of(&ran.out.value), Some(200));
    assert_eq!(ran.out.attempts, 2);
    assert_eq!(ran.sleeps, [Duration::from_secs(1)]);
}

#[test]
fn post_connect_failure_is_retried_but_timeout_is_not() {
    let ran = run_script(
        RetryPolicy::new(),
        Method::POST,
        vec![Err(TransportFailure::Connect)],
        Duration::ZERO,
    );
    assert_eq!(status_of(&ran.out.value), Some(200));
    assert_eq!(ran.out.attempts, 2);

    let ran = run_script(
        RetryPolicy::new(),
        Method::POST,
        vec![Err(TransportFailure::Timeout)],
        Duration::ZERO,
    );
    assert_eq!(
        ran.out.value.as_ref().err(),
        Some(&TransportFailure::Timeout)
    );
    assert_eq!(ran.out.attempts, 1);
}

#[test]
fn x_should_retry_false_on_503_stops_after_one_attempt() {
    let ran = run_script(
        RetryPolicy::new(),
        Method::GET,
        vec![response(503, &[("x-should-retry", "false")])],
        Duration::ZERO,
    );
    assert_eq!(ran.out.attempts, 1);
    assert!(ran.sleeps.is_empty());
    assert!(matches!(ran.out.stop, StopReason::ServerSaidNoRetry(_)));
}

#[test]
fn retry_after_above_the_cap_stops_and_carries_the_delay() {
    let ran = run_script(
        RetryPolicy::new(),
        Method::GET,
        vec![response(503, &[("retry-after", "120")])],
        Duration::ZERO,
    );
    assert_eq!(ran.out.attempts, 1);
    assert!(ran.sleeps.is_empty());
    assert_eq!(ran.out.server_delay, Some(Duration::from_secs(120)));
    assert_eq!(
        ran.out.stop,
        StopReason::ServerDelayAboveCap {
            delay: Duration::from_secs(120),
            cap: Duration::from_secs(60)
        }
    );
    assert_eq!(ran.out.stop.to_string(), "server delay 120s above cap 60s");
}

#[test]
fn deadline_stops_before_a_sleep_that_would_cross_it() {
    // Each attempt takes 0.4 s. After attempt 1: 0.4 s + 0.5 s = 0.9 s ≤ 2 s,
    // sleep. After attempt 2: 1.3 s + 1 s = 2.3 s > 2 s, stop.
    let ran = run_script(
        RetryPolicy::new()
            .with_max_retries(5)
            .with_deadline(Duration::from_secs(2)),
        Method::GET,
        vec![response(503, &[]); 6],
        ms(400),
    );
    assert_eq!(ran.out.attempts, 2);
    assert_eq!(ran.sleeps, [ms(500)]);
    assert_eq!(
        ran.out.stop,
        StopReason::Deadline {
            delay: ms(1000),
            elapsed: ms(1300),
            deadline: Duration::from_secs(2)
        }
    );
}

#[test]
fn resume_after_a_success_makes_no_attempt() {
    let ran = drive(
        RetryPolicy::new(),
        Method::GET,
        Some((response(201, &[]), Duration::ZERO)),
        vec![],
        Duration::ZERO,
    );
    assert_eq!(status_of(&ran.out.value), Some(201));
    assert_eq!(ran.out.attempts, 1);
    assert_eq!(ran.calls, 0);
    assert!(ran.sleeps.is_empty());
    assert!(ran.out.stop.is_success());
}

#[test]
fn resume_continues_as_run_from_attempt_two() {
    let resumed = drive(
        RetryPolicy::new(),
        Method::GET,
        Some((response(503, &[]), Duration::ZERO)),
        vec![response(503, &[])],
        Duration::ZERO,
    );
    let ran = run_script(
        RetryPolicy::new(),
        Method::GET,
        vec![response(503, &[]), response(503, &[])],
        Duration::ZERO,
    );
    assert_eq!(resumed.numbers, [2, 3]);
    assert_eq!(resumed.out.attempts, ran.out.attempts);
    assert_eq!(resumed.sleeps, ran.sleeps);
    assert_eq!(resumed.events, ran.events);
    assert_eq!(status_of(&resumed.out.value), Some(200));
}

#[test]
fn resume_counts_the_deadline_from_the_first_attempts_start() {
    // The first attempt took 1.6 s: 1.6 s + 0.5 s > 2 s, so no retry. The
    // elapsed time counts from `started`, not from the call to `resume`.
    let ran = drive(
        RetryPolicy::new().with_deadline(Duration::from_secs(2)),
        Method::GET,
        Some((response(503, &[]), ms(1600))),
        vec![],
        Duration::ZERO,
    );
    assert_eq!(ran.calls, 0);
    assert_eq!(
        ran.out.stop,
        StopReason::Deadline {
            delay: ms(500),
            elapsed: ms(1600),
            deadline: Duration::from_secs(2)
        }
    );
}

#[test]
fn http_date_is_read_against_the_injected_clock() {
    // The fake clock starts at Fri, 29 Sep 2023 16:26:37 GMT.
    let ran = run_script(
        RetryPolicy::new(),
        Method::GET,
        vec![response(
            503,
            &[("retry-after", "Fri, 29 Sep 2023 16:26:40 GMT")],
        )],
        Duration::ZERO,
    );
    assert_eq!(ran.sleeps, [Duration::from_secs(3)]);
    assert_eq!(ran.out.attempts, 2);
}

#[test]
fn none_policy_makes_one_attempt() {
    let ran = run_script(
        RetryPolicy::none(),
        Method::GET,
        vec![response(503, &[])],
        Duration::ZERO,
    );
    assert_eq!(ran.out.attempts, 1);
    assert!(ran.sleeps.is_empty());
    assert!(matches!(
        ran.out.stop,
        StopReason::AttemptsExhausted { attempts: 1, .. }
    ));
}

#[test]
fn jitter_comes_from_the_injected_source() {
    let fake = Fake::new();
    let mut results = VecDeque::from(vec![response(503, &[]), response(503, &[])]);
    let out = block_on(run(
        &RetryPolicy::new(),
        &Method::GET,
        fake.env(0.5),
        |_| ready(results.pop_front().unwrap_or_else(|| response(200, &[]))),
        classify,
        |_| {},
    ));
    assert_eq!(out.attempts, 3);
    assert_eq!(
        fake.sleeps(),
        [ms(437) + Duration::from_micros(500), ms(875)]
    );
}

#[test]
fn works_with_tokio_sleep_under_paused_time() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a tokio runtime");
    rt.block_on(async {
        let started = tokio::time::Instant::now();
        let mut results = VecDeque::from(vec![response(503, &[]), response(502, &[])]);
        let policy = RetryPolicy::new();
        let future = run(
            &policy,
            &Method::GET,
            Env::new(tokio::time::sleep).with_jitter(FixedJitter(0.0)),
            move |_| ready(results.pop_front().unwrap_or_else(|| response(200, &[]))),
            classify,
            |_| {},
        );
        assert_send(&future);
        let out = future.await;
        assert_eq!(status_of(&out.value), Some(200));
        assert_eq!(out.attempts, 3);
        assert_eq!(
            started.elapsed(),
            ms(1500),
            "virtual time advanced by the sleeps"
        );
    });
}

fn assert_send<T: Send>(_: &T) {}

/// A downstream type can implement `Sleeper` next to the blanket impl for
/// closures; the clock and jitter may be borrowed.
struct CountingSleeper(Arc<AtomicU32>);

impl Sleeper for CountingSleeper {
    fn sleep(&self, _: Duration) -> impl Future<Output = ()> + Send {
        self.0.fetch_add(1, Ordering::Relaxed);
        ready(())
    }
}

#[test]
fn custom_sleeper_types_plug_in() {
    let count = Arc::new(AtomicU32::new(0));
    let mut jitter = FixedJitter(0.0);
    let fake = Fake::new();
    let env = Env {
        clock: &fake.clock,
        sleeper: CountingSleeper(Arc::clone(&count)),
        jitter: &mut jitter,
    };
    let mut results = VecDeque::from(vec![Err(TransportFailure::ConnectionLost)]);
    let out = block_on(run(
        &RetryPolicy::new(),
        &Method::DELETE,
        env,
        |_| ready(results.pop_front().unwrap_or_else(|| response(204, &[]))),
        classify,
        |_| {},
    ));
    assert_eq!(out.attempts, 2);
    assert_eq!(status_of(&out.value), Some(204));
    assert_eq!(count.load(Ordering::Relaxed), 1);
}
