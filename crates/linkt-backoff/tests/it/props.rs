//! Properties: computed delays stay in their jitter band, the loop never
//! exceeds its attempt bound, header parsing never panics, and the limiter's
//! schedule never breaks a quota.

use std::cell::Cell;
use std::collections::VecDeque;
use std::future::ready;
use std::time::{Duration, Instant};

use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use linkt_backoff::{
    FixedJitter, Outcome, Plan, RateLimit, RateLimiter, RetryPolicy, StopReason, TransportFailure,
    run, server_delay, should_retry_header,
};
use proptest::prelude::*;

use crate::support::{Fake, FakeResponse, FakeResult, block_on, classify, py_now};

/// `min(0.5 s × 2^n, 8 s)`, computed independently of the crate.
fn expected_base(n: u32) -> Duration {
    if n >= 4 {
        Duration::from_secs(8)
    } else {
        Duration::from_millis(500 * (1 << n))
    }
}

proptest! {
    #[test]
    fn backoff_stays_within_its_jitter_band(n in any::<u32>(), r in 0.0f64..1.0) {
        let policy = RetryPolicy::new();
        let base = expected_base(n);
        prop_assert_eq!(policy.base_delay(n), base);
        let delay = policy.backoff(n, &mut FixedJitter(r));
        prop_assert!(delay <= base);
        // delay ≥ 0.75 × base, in exact integer arithmetic.
        prop_assert!(delay.as_nanos() * 4 >= base.as_nanos() * 3, "{:?} vs {:?}", delay, base);
    }

    #[test]
    fn backoff_band_holds_for_any_jitter_fraction(
        n in 0u32..64,
        j in 0.0f64..=1.0,
        r in any::<f64>(),
    ) {
        let policy = RetryPolicy::new().with_jitter(j);
        let base = policy.base_delay(n);
        let delay = policy.backoff(n, &mut FixedJitter(r));
        prop_assert!(delay <= base);
        let floor = base.as_secs_f64() * (1.0 - j);
        prop_assert!(delay.as_secs_f64() >= floor - 1e-9);
    }

    /// A server delay is never shortened, and lengthened by less than
    /// `max(fraction × delay, 100 ms)`; random sources agree on the band.
    #[test]
    fn server_delays_are_only_lengthened(
        millis in 0u64..120_000,
        j in 0.0f64..=1.0,
        r in any::<f64>(),
        seed in any::<u64>(),
    ) {
        let asked = Duration::from_millis(millis);
        let policy = RetryPolicy::new().with_server_delay_jitter(j);
        let spread = asked.mul_f64(j).max(Duration::from_millis(100));
        for delay in [
            policy.server_delay_with_jitter(asked, &mut FixedJitter(r)),
            policy.server_delay_with_jitter(asked, &mut linkt_backoff::RandomJitter::with_seed(seed)),
        ] {
            prop_assert!(delay >= asked, "{:?} < {:?}", delay, asked);
            if j > 0.0 {
                prop_assert!(delay <= asked + spread, "{:?} > {:?} + {:?}", delay, asked, spread);
            } else {
                prop_assert_eq!(delay, asked);
            }
        }
    }
}

/// The default jitter source spreads server delays: a hundred clients
/// told `Retry-After: 2` do not all come back at the same instant.
#[test]
fn a_fleet_told_one_instant_spreads_out() {
    let policy = RetryPolicy::new();
    let asked = Duration::from_secs(2);
    let delays: std::collections::BTreeSet<Duration> = (0..100)
        .map(|seed| {
            policy
                .server_delay_with_jitter(asked, &mut linkt_backoff::RandomJitter::with_seed(seed))
        })
        .collect();
    assert!(delays.len() > 90, "{} distinct delays", delays.len());
    assert!(
        delays
            .iter()
            .all(|d| *d >= asked && *d < asked + Duration::from_millis(200))
    );
}

/// A scripted outcome: a status with optional retry headers, or a transport
/// failure.
fn outcome_strategy() -> impl Strategy<Value = FakeResult> {
    let status = prop::sample::select(vec![
        200u16, 201, 204, 301, 400, 404, 408, 409, 422, 429, 500, 502, 503, 504,
    ]);
    let should = prop::option::of(prop::sample::select(vec!["true", "false", "junk"]));
    let after = prop::option::of(prop::sample::select(vec![
        "0",
        "1",
        "0.25",
        "-3",
        "61",
        "120",
        "nan",
        "Fri, 29 Sep 2023 16:26:40 GMT",
    ]));
    let response = (status, should, after).prop_map(|(status, should, after)| {
        let mut headers = HeaderMap::new();
        if let Some(v) = should {
            headers.insert("x-should-retry", HeaderValue::from_static(v));
        }
        if let Some(v) = after {
            headers.insert("retry-after", HeaderValue::from_static(v));
        }
        Ok(FakeResponse {
            status: StatusCode::from_u16(status).expect("valid status"),
            headers,
        })
    });
    let failure = prop::sample::select(vec![
        TransportFailure::Connect,
        TransportFailure::ConnectionLost,
        TransportFailure::Timeout,
        TransportFailure::Other,
    ])
    .prop_map(Err);
    prop_oneof![3 => response, 1 => failure]
}

fn method_strategy() -> impl Strategy<Value = Method> {
    prop::sample::select(vec![
        Method::GET,
        Method::HEAD,
        Method::PUT,
        Method::DELETE,
        Method::POST,
        Method::PATCH,
    ])
}

proptest! {
    #[test]
    fn attempts_never_exceed_max_retries_plus_one(
        script in prop::collection::vec(outcome_strategy(), 0..12),
        max_retries in 0u32..6,
        non_idempotent in any::<bool>(),
        deadline in prop::option::of(0u64..20_000),
        method in method_strategy(),
        jitter in 0.0f64..1.0,
    ) {
        let mut policy = RetryPolicy::new()
            .with_max_retries(max_retries)
            .with_retry_non_idempotent(non_idempotent);
        if let Some(ms) = deadline {
            policy = policy.with_deadline(Duration::from_millis(ms));
        }
        let fake = Fake::new();
        let calls = Cell::new(0u32);
        let mut queue = VecDeque::from(script);
        let mut observed = 0u32;
        let out = block_on(run(
            &policy,
            &method,
            fake.env(jitter),
            |n| {
                calls.set(calls.get() + 1);
                assert_eq!(n, calls.get(), "attempts are numbered from 1");
                // Past the script, keep failing so only the bound stops the loop.
                ready(queue.pop_front().unwrap_or(Err(TransportFailure::Connect)))
            },
            classify,
            |_| observed += 1,
        ));
        let sleeps = fake.sleeps();
        prop_assert!(out.attempts >= 1);
        prop_assert!(out.attempts <= max_retries + 1);
        prop_assert_eq!(out.attempts, calls.get());
        prop_assert_eq!(sleeps.len() as u32, out.attempts - 1, "a sleep between attempts only");
        prop_assert_eq!(observed, out.attempts - 1);
        prop_assert_eq!(out.total_sleep, sleeps.iter().sum::<Duration>());
        if let Some(ms) = deadline {
            prop_assert!(out.total_sleep <= Duration::from_millis(ms));
        }
        if matches!(out.stop, StopReason::AttemptsExhausted { .. }) {
            prop_assert_eq!(out.attempts, max_retries + 1);
        }
        prop_assert!(sleeps.iter().all(|d| *d <= Duration::from_secs(60)));
    }
}

/// Bytes a header value may hold; also biased towards the characters the
/// parsers look for.
fn header_value() -> impl Strategy<Value = HeaderValue> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..40).prop_filter_map("a valid header value", |b| {
            let bytes: Vec<u8> = b
                .into_iter()
                .filter(|&c| c == b'\t' || (c >= 32 && c != 127))
                .collect();
            HeaderValue::from_bytes(&bytes).ok()
        }),
        "[0-9a-zA-Z\"\\\\=;,. :+-]{0,40}"
            .prop_filter_map("a valid header value", |s| HeaderValue::from_str(&s).ok()),
    ]
}

const PARSED_HEADERS: [&str; 12] = [
    "x-should-retry",
    "retry-after",
    "retry-after-ms",
    "ratelimit",
    "ratelimit-policy",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "ratelimit",
];

proptest! {
    #[test]
    fn header_parsing_never_panics(
        values in prop::collection::vec(prop::option::of(header_value()), PARSED_HEADERS.len()),
        status in 100u16..1000,
        retries_done in any::<u32>(),
        elapsed_ms in any::<u64>(),
        unix_secs in 0u64..=253_402_300_799,
    ) {
        let mut headers = HeaderMap::new();
        for (name, value) in PARSED_HEADERS.iter().zip(values) {
            if let Some(value) = value {
                headers.append(HeaderName::from_static(name), value);
            }
        }
        let now = std::time::UNIX_EPOCH + Duration::from_secs(unix_secs);
        if let Some(delay) = server_delay(&headers, now) {
            prop_assert!(!delay.is_zero());
        }
        let _ = should_retry_header(&headers);
        let parsed = RateLimit::from_headers(&headers, now);
        if let Some(rl) = &parsed {
            prop_assert!(*rl != RateLimit::default());
            let limiter = RateLimiter::new(Plan::Free);
            let t0 = Instant::now();
            limiter.observe(rl, t0);
            prop_assert!(limiter.reserve(t0) <= limiter.max_wait());
        }
        let status = StatusCode::from_u16(status).expect("100..1000 is a valid status");
        let outcome = Outcome::Response { status, headers: &headers };
        let _ = RetryPolicy::new().with_deadline(Duration::from_secs(30)).decide(
            &Method::POST,
            &outcome,
            retries_done,
            Duration::from_millis(elapsed_ms),
            now,
            &mut FixedJitter(0.5),
        );
    }

    #[test]
    fn retry_after_text_never_panics(text in "\\PC*") {
        if let Ok(value) = HeaderValue::from_str(&text) {
            let mut headers = HeaderMap::new();
            headers.insert("retry-after", value.clone());
            headers.insert("retry-after-ms", value.clone());
            headers.insert("ratelimit", value);
            let _ = server_delay(&headers, py_now());
            let _ = RateLimit::from_headers(&headers, py_now());
        }
    }
}

/// In every span of `window` starting at a send, at most `limit` sends.
fn respects(schedule: &[Duration], window: Duration, limit: u32) -> bool {
    if limit == 0 {
        return true;
    }
    schedule.iter().all(|&start| {
        let in_window = schedule
            .iter()
            .filter(|&&t| t >= start && t < start + window)
            .count();
        in_window <= limit as usize
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn limiter_schedule_never_breaks_a_quota(
        gaps_ms in prop::collection::vec(0u64..40_000, 1..150),
        per_minute in 1u32..8,
        per_day in 0u32..40,
        clones in 1usize..3,
    ) {
        let limiter = RateLimiter::new(Plan::Custom { per_minute, per_day })
            .with_max_wait(Duration::MAX);
        let handles: Vec<RateLimiter> = (0..clones).map(|_| limiter.clone()).collect();
        let t0 = Instant::now();
        let mut asked = Duration::ZERO;
        let mut schedule = Vec::new();
        for (i, gap) in gaps_ms.iter().enumerate() {
            asked += Duration::from_millis(*gap);
            let wait = handles[i % clones]
                .try_reserve(t0 + asked)
                .expect("no cap on waiting");
            schedule.push(asked + wait);
        }
        schedule.sort();
        prop_assert!(respects(&schedule, Duration::from_secs(60), per_minute));
        prop_assert!(respects(&schedule, Duration::from_secs(86_400), per_day));
    }
}
