//! The decision table: status × method × headers → retry (with the exact
//! delay) or stop (with the reason). Cases are data; one `check` runs them.
//!
//! Jitter is fixed at r = 0 unless a row says otherwise, so computed delays
//! are exactly `min(0.5 s × 2^n, 8 s)`.

use std::time::Duration;

use http::{Method, StatusCode};
use linkt_backoff::{
    Decision, FixedJitter, Outcome, RetryPolicy, RetryReason, StopReason, TransportFailure,
};

use crate::support::{headers, py_now, secs};

#[derive(Debug, Clone, Copy)]
enum Out {
    Status(u16),
    Transport(TransportFailure),
}

#[derive(Debug, Clone, Copy)]
enum Stop {
    Success,
    NotRetryable,
    ServerSaidNo,
    Transport,
    MethodNotSafe,
    /// Attempts made in total.
    Exhausted(u32),
    /// The server delay that was above the cap.
    AboveCap(Duration),
    Deadline,
}

#[derive(Debug, Clone, Copy)]
enum Expect {
    Retry(Duration),
    Stop(Stop),
}

#[derive(Debug, Clone)]
struct Row {
    name: &'static str,
    policy: RetryPolicy,
    method: Method,
    out: Out,
    headers: &'static [(&'static str, &'static str)],
    retries_done: u32,
    elapsed: Duration,
    jitter: f64,
    expect: Expect,
    /// The server delay a `Stop` must carry.
    server_delay: Option<Duration>,
}

fn row(name: &'static str, method: Method, out: Out) -> Row {
    Row {
        name,
        policy: RetryPolicy::new(),
        method,
        out,
        headers: &[],
        retries_done: 0,
        elapsed: Duration::ZERO,
        jitter: 0.0,
        expect: Expect::Stop(Stop::NotRetryable),
        server_delay: None,
    }
}

impl Row {
    fn h(mut self, headers: &'static [(&'static str, &'static str)]) -> Self {
        self.headers = headers;
        self
    }
    fn retries(mut self, n: u32) -> Self {
        self.retries_done = n;
        self
    }
    fn policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }
    fn elapsed(mut self, s: f64) -> Self {
        self.elapsed = secs(s);
        self
    }
    fn jitter(mut self, r: f64) -> Self {
        self.jitter = r;
        self
    }
    fn retry(mut self, delay: Duration) -> Self {
        self.expect = Expect::Retry(delay);
        self
    }
    fn stop(mut self, stop: Stop) -> Self {
        self.expect = Expect::Stop(stop);
        self
    }
    fn carrying(mut self, server_delay: Duration) -> Self {
        self.server_delay = Some(server_delay);
        self
    }
}

use Method as M;
use Out::{Status as S, Transport as T};
use TransportFailure::{Connect, ConnectionLost, Other, Timeout};

fn s(secs: u64) -> Duration {
    Duration::from_secs(secs)
}
fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// A policy with retries to spare, so that rows about delays are not cut
/// short by the attempt limit.
const ROOMY: RetryPolicy = RetryPolicy::new().with_max_retries(u32::MAX);

/// The official Python SDK's `test_parse_retry_after_header`
/// (`tests/test_client.py` of the Stainless-generated SDKs, Linkt's
/// included), which freezes `time.time()` at 1696004797 = Fri, 29 Sep 2023
/// 16:26:37 GMT, uses a client with `max_retries=3`, and gives
/// `remaining_retries` (so retries done = 3 − remaining). It checks
/// `_calculate_retry_timeout` with a tolerance for jitter; with r fixed at 0
/// we assert the exact values.
///
/// Our behaviour differs where the server asks for more than 60 s: the SDK
/// falls back to its computed backoff (0.5 s), we stop and hand the delay
/// to the caller (`max_server_delay`). Those rows say so.
fn python_sdk_vectors() -> Vec<Row> {
    let get = |name, h| row(name, M::GET, S(503)).policy(ROOMY).h(h);
    vec![
        get("py [3, '20', 20]", &[("retry-after", "20")]).retry(s(20)),
        get("py [3, '0', 0.5]", &[("retry-after", "0")]).retry(ms(500)),
        get("py [3, '-10', 0.5]", &[("retry-after", "-10")]).retry(ms(500)),
        get("py [3, '60', 60]", &[("retry-after", "60")]).retry(s(60)),
        // SDK: 0.5 (computed backoff). Ours: stop, carrying 61 s.
        get(
            "py [3, '61', 0.5] (differs: stop above cap)",
            &[("retry-after", "61")],
        )
        .stop(Stop::AboveCap(s(61)))
        .carrying(s(61)),
        get(
            "py [3, '16:26:57 GMT', 20]",
            &[("retry-after", "Fri, 29 Sep 2023 16:26:57 GMT")],
        )
        .retry(s(20)),
        // The date equal to now: zero, so ignored.
        get(
            "py [3, '16:26:37 GMT', 0.5]",
            &[("retry-after", "Fri, 29 Sep 2023 16:26:37 GMT")],
        )
        .retry(ms(500)),
        // A past date: ignored.
        get(
            "py [3, '16:26:27 GMT', 0.5]",
            &[("retry-after", "Fri, 29 Sep 2023 16:26:27 GMT")],
        )
        .retry(ms(500)),
        get(
            "py [3, '16:27:37 GMT', 60]",
            &[("retry-after", "Fri, 29 Sep 2023 16:27:37 GMT")],
        )
        .retry(s(60)),
        // SDK: 0.5. Ours: stop, carrying 61 s.
        get(
            "py [3, '16:27:38 GMT', 0.5] (differs: stop above cap)",
            &[("retry-after", "Fri, 29 Sep 2023 16:27:38 GMT")],
        )
        .stop(Stop::AboveCap(s(61)))
        .carrying(s(61)),
        // SDK: 0.5. Ours: stop; 1e35 s saturates to Duration::MAX.
        get(
            "py [3, '9999…9', 0.5] (differs: stop above cap)",
            &[("retry-after", "99999999999999999999999999999999999")],
        )
        .stop(Stop::AboveCap(Duration::MAX))
        .carrying(Duration::MAX),
        get(
            "py [3, 'Zun, …', 0.5]",
            &[("retry-after", "Zun, 29 Sep 2023 16:26:27 GMT")],
        )
        .retry(ms(500)),
        get("py [3, '', 0.5]", &[("retry-after", "")]).retry(ms(500)),
        get("py [2, '', 1.0]", &[("retry-after", "")])
            .retries(1)
            .retry(s(1)),
        get("py [1, '', 2.0]", &[("retry-after", "")])
            .retries(2)
            .retry(s(2)),
        // remaining_retries = -1100 → 1103 retries done; capped at 8 s.
        get("py [-1100, '', 8]", &[("retry-after", "")])
            .retries(1103)
            .retry(s(8)),
        // The rest of the computed-backoff ladder: 0.5, 1, 2, 4, 8, 8.
        get("backoff n=3", &[]).retries(3).retry(s(4)),
        get("backoff n=4", &[]).retries(4).retry(s(8)),
        get("backoff n=5 (capped)", &[]).retries(5).retry(s(8)),
        get("backoff n=u32::MAX - 1 (capped)", &[])
            .retries(u32::MAX - 1)
            .retry(s(8)),
        // `retry-after-ms`, read first by the SDK's `_parse_retry_after_header`.
        get("py retry-after-ms '2000'", &[("retry-after-ms", "2000")]).retry(s(2)),
        get("py retry-after-ms '-2000'", &[("retry-after-ms", "-2000")]).retry(ms(500)),
    ]
}

fn our_rows() -> Vec<Row> {
    let p = RetryPolicy::new();
    vec![
        // Status × method.
        row("GET 503", M::GET, S(503)).retry(ms(500)),
        row("GET 500", M::GET, S(500)).retry(ms(500)),
        row("HEAD 502", M::HEAD, S(502)).retry(ms(500)),
        row("PUT 504", M::PUT, S(504)).retry(ms(500)),
        row("DELETE 500", M::DELETE, S(500)).retry(ms(500)),
        row("OPTIONS 503", M::OPTIONS, S(503)).retry(ms(500)),
        row("TRACE 503", M::TRACE, S(503)).retry(ms(500)),
        row("GET 408", M::GET, S(408)).retry(ms(500)),
        row("GET 409", M::GET, S(409)).retry(ms(500)),
        row("GET 429", M::GET, S(429)).retry(ms(500)),
        row("GET 599", M::GET, S(599)).retry(ms(500)),
        row("POST 500", M::POST, S(500)).stop(Stop::MethodNotSafe),
        row("POST 503", M::POST, S(503)).stop(Stop::MethodNotSafe),
        row("PATCH 502", M::PATCH, S(502)).stop(Stop::MethodNotSafe),
        row("POST 409", M::POST, S(409)).stop(Stop::MethodNotSafe),
        row("POST 429", M::POST, S(429)).retry(ms(500)),
        row("PATCH 429", M::PATCH, S(429)).retry(ms(500)),
        row("POST 408", M::POST, S(408)).retry(ms(500)),
        row("GET 200", M::GET, S(200)).stop(Stop::Success),
        row("POST 201", M::POST, S(201)).stop(Stop::Success),
        row("DELETE 204", M::DELETE, S(204)).stop(Stop::Success),
        row("GET 301", M::GET, S(301)).stop(Stop::NotRetryable),
        row("GET 400", M::GET, S(400)).stop(Stop::NotRetryable),
        row("GET 401", M::GET, S(401)).stop(Stop::NotRetryable),
        row("GET 403", M::GET, S(403)).stop(Stop::NotRetryable),
        row("GET 404", M::GET, S(404)).stop(Stop::NotRetryable),
        row("GET 422", M::GET, S(422)).stop(Stop::NotRetryable),
        row("POST 400", M::POST, S(400)).stop(Stop::NotRetryable),
        // The server's word wins over the status rules.
        row("GET 503 x-should-retry false", M::GET, S(503))
            .h(&[("x-should-retry", "false")])
            .stop(Stop::ServerSaidNo),
        row("POST 429 x-should-retry false", M::POST, S(429))
            .h(&[("x-should-retry", "false")])
            .stop(Stop::ServerSaidNo),
        row("GET 400 x-should-retry true", M::GET, S(400))
            .h(&[("x-should-retry", "true")])
            .retry(ms(500)),
        // A redirect would repeat: no header makes it worth retrying.
        row(
            "GET 307 x-should-retry true (a redirect is final)",
            M::GET,
            S(307),
        )
        .h(&[("x-should-retry", "true")])
        .stop(Stop::NotRetryable),
        row(
            "GET 302 with Retry-After (a redirect is final)",
            M::GET,
            S(302),
        )
        .h(&[("x-should-retry", "true"), ("retry-after", "1")])
        .stop(Stop::NotRetryable)
        .carrying(s(1)),
        row(
            "POST 500 x-should-retry true (server vouches)",
            M::POST,
            S(500),
        )
        .h(&[("x-should-retry", "true")])
        .retry(ms(500)),
        row(
            "GET 200 x-should-retry true (success is final)",
            M::GET,
            S(200),
        )
        .h(&[("x-should-retry", "true")])
        .stop(Stop::Success),
        row("GET 503 x-should-retry maybe (ignored)", M::GET, S(503))
            .h(&[("x-should-retry", "maybe")])
            .retry(ms(500)),
        row("GET 404 x-should-retry yes (ignored)", M::GET, S(404))
            .h(&[("x-should-retry", "yes")])
            .stop(Stop::NotRetryable),
        // Transport failures.
        row("GET connect", M::GET, T(Connect)).retry(ms(500)),
        row("POST connect (provably unsent)", M::POST, T(Connect)).retry(ms(500)),
        row("GET timeout", M::GET, T(Timeout)).retry(ms(500)),
        row("POST timeout", M::POST, T(Timeout)).stop(Stop::MethodNotSafe),
        row("GET connection lost", M::GET, T(ConnectionLost)).retry(ms(500)),
        row("PATCH connection lost", M::PATCH, T(ConnectionLost)).stop(Stop::MethodNotSafe),
        row("GET other", M::GET, T(Other)).stop(Stop::Transport),
        row("POST other", M::POST, T(Other)).stop(Stop::Transport),
        // Opting in to retrying non-idempotent methods, as the SDKs do.
        row("POST 500 opted in", M::POST, S(500))
            .policy(p.with_retry_non_idempotent(true))
            .retry(ms(500)),
        row("POST timeout opted in", M::POST, T(Timeout))
            .policy(p.with_retry_non_idempotent(true))
            .retry(ms(500)),
        row("POST 404 opted in", M::POST, S(404))
            .policy(p.with_retry_non_idempotent(true))
            .stop(Stop::NotRetryable),
        // Server delays.
        row("Retry-After 1.5", M::GET, S(503))
            .h(&[("retry-after", "1.5")])
            .retry(ms(1500)),
        row("Retry-After padded", M::GET, S(429))
            .h(&[("retry-after", " 7 ")])
            .retry(s(7)),
        row("retry-after-ms fractional", M::GET, S(503))
            .h(&[("retry-after-ms", "1500.5")])
            .retry(Duration::from_micros(1_500_500)),
        row("retry-after-ms beats Retry-After", M::GET, S(503))
            .h(&[("retry-after-ms", "250"), ("retry-after", "9")])
            .retry(ms(250)),
        row(
            "bad retry-after-ms falls back to Retry-After",
            M::GET,
            S(503),
        )
        .h(&[("retry-after-ms", "soon"), ("retry-after", "9")])
        .retry(s(9)),
        row("Retry-After future date +30 s", M::GET, S(503))
            .h(&[("retry-after", "Fri, 29 Sep 2023 16:27:07 GMT")])
            .retry(s(30)),
        row("Retry-After RFC 850 date +30 s", M::GET, S(503))
            .h(&[("retry-after", "Friday, 29-Sep-23 16:27:07 GMT")])
            .retry(s(30)),
        row("Retry-After garbage", M::GET, S(503))
            .h(&[("retry-after", "later please")])
            .retry(ms(500)),
        row("Retry-After NaN", M::GET, S(503))
            .h(&[("retry-after", "NaN")])
            .retry(ms(500)),
        row("Retry-After inf", M::GET, S(503))
            .h(&[("retry-after", "inf")])
            .retry(ms(500)),
        row("Retry-After negative fraction", M::GET, S(503))
            .h(&[("retry-after", "-0.5")])
            .retry(ms(500)),
        row("Retry-After 120 above the default cap", M::GET, S(503))
            .h(&[("retry-after", "120")])
            .stop(Stop::AboveCap(s(120)))
            .carrying(s(120)),
        row("Retry-After 1e12 above the default cap", M::GET, S(429))
            .h(&[("retry-after", "1e12")])
            .stop(Stop::AboveCap(s(1_000_000_000_000)))
            .carrying(s(1_000_000_000_000)),
        row(
            "retry-after-ms 120000 above the default cap",
            M::GET,
            S(503),
        )
        .h(&[("retry-after-ms", "120000")])
        .stop(Stop::AboveCap(s(120)))
        .carrying(s(120)),
        row("Retry-After 120 with a 200 s cap", M::GET, S(503))
            .policy(p.with_max_server_delay(s(200)))
            .h(&[("retry-after", "120")])
            .retry(s(120)),
        // A server delay is lengthened by r × max(10 %, 100 ms), never shortened,
        // so a fleet told to come back at one instant does not.
        row("server delay is lengthened by its jitter", M::GET, S(503))
            .h(&[("retry-after", "3")])
            .jitter(0.9)
            .retry(ms(3270)),
        row("server delay with r = 0 is the server's", M::GET, S(503))
            .h(&[("retry-after", "3")])
            .jitter(0.0)
            .retry(s(3)),
        row(
            "a short server delay spreads over at least 100 ms",
            M::GET,
            S(429),
        )
        .h(&[("retry-after", "1")])
        .jitter(0.5)
        .retry(ms(1050)),
        row("server delay jitter off", M::GET, S(503))
            .policy(p.with_server_delay_jitter(0.0))
            .h(&[("retry-after", "3")])
            .jitter(0.9)
            .retry(s(3)),
        row(
            "the cap applies to the delay the server asked for",
            M::GET,
            S(503),
        )
        .h(&[("retry-after", "60")])
        .jitter(0.99)
        .retry(ms(65_940)),
        row("POST 429 with Retry-After 1", M::POST, S(429))
            .h(&[("retry-after", "1")])
            .retry(s(1)),
        row(
            "POST 500 with Retry-After 1 is still unsafe",
            M::POST,
            S(500),
        )
        .h(&[("retry-after", "1")])
        .stop(Stop::MethodNotSafe)
        .carrying(s(1)),
        // Jitter.
        row("jitter r=0.5 at n=1", M::GET, S(503))
            .retries(1)
            .jitter(0.5)
            .retry(ms(875)),
        row("jitter r→1 at n=0", M::GET, S(503))
            .jitter(0.999_999_999)
            .retry(Duration::from_nanos(375_000_001)),
        row("jitter off", M::GET, S(503))
            .policy(p.without_jitter())
            .jitter(0.9)
            .retry(ms(500)),
        // Attempts.
        row("GET 503 after 2 retries: exhausted", M::GET, S(503))
            .retries(2)
            .stop(Stop::Exhausted(3)),
        row("exhausted still carries the server delay", M::GET, S(429))
            .retries(2)
            .h(&[("retry-after", "5")])
            .stop(Stop::Exhausted(3))
            .carrying(s(5)),
        row("none(): no retry", M::GET, S(503))
            .policy(RetryPolicy::none())
            .stop(Stop::Exhausted(1)),
        row("none(): success is still a success", M::GET, S(200))
            .policy(RetryPolicy::none())
            .stop(Stop::Success),
        row("5 retries allowed, 4 done", M::GET, S(503))
            .policy(p.with_max_retries(5))
            .retries(4)
            .retry(s(8)),
        // Deadline: never start a sleep that would end past it.
        row("deadline: sleep ends exactly at it", M::GET, S(503))
            .policy(p.with_deadline(s(10)))
            .elapsed(9.5)
            .retry(ms(500)),
        row("deadline: sleep would end past it", M::GET, S(503))
            .policy(p.with_deadline(s(10)))
            .elapsed(9.6)
            .stop(Stop::Deadline),
        row("deadline: server delay would end past it", M::GET, S(503))
            .policy(p.with_deadline(s(10)))
            .h(&[("retry-after", "5")])
            .elapsed(6.0)
            .stop(Stop::Deadline)
            .carrying(s(5)),
        row("deadline already passed", M::GET, S(503))
            .policy(p.with_deadline(s(1)))
            .elapsed(2.0)
            .stop(Stop::Deadline),
        Row {
            elapsed: Duration::MAX,
            ..row(
                "elapsed + delay overflowing stops at the deadline",
                M::GET,
                S(503),
            )
            .policy(p.with_deadline(Duration::MAX))
            .stop(Stop::Deadline)
        },
    ]
}

fn matches(stop: Stop, reason: &StopReason) -> bool {
    match (stop, reason) {
        (Stop::Success, StopReason::Success(_))
        | (Stop::NotRetryable, StopReason::NotRetryable(_))
        | (Stop::ServerSaidNo, StopReason::ServerSaidNoRetry(_))
        | (Stop::Transport, StopReason::TransportNotRetryable(_))
        | (Stop::MethodNotSafe, StopReason::MethodNotSafe { .. })
        | (Stop::Deadline, StopReason::Deadline { .. }) => true,
        (Stop::Exhausted(n), StopReason::AttemptsExhausted { attempts, .. }) => n == *attempts,
        (Stop::AboveCap(d), StopReason::ServerDelayAboveCap { delay, .. }) => d == *delay,
        _ => false,
    }
}

/// Runs one row; returns a description of the mismatch, if any.
fn check(row: &Row) -> Option<String> {
    let map = headers(row.headers);
    let outcome = match row.out {
        Out::Status(code) => Outcome::Response {
            status: StatusCode::from_u16(code).expect("valid status"),
            headers: &map,
        },
        Out::Transport(failure) => Outcome::Transport(failure),
    };
    let decision = row.policy.decide(
        &row.method,
        &outcome,
        row.retries_done,
        row.elapsed,
        py_now(),
        &mut FixedJitter(row.jitter),
    );
    let ok = match (row.expect, &decision) {
        (Expect::Retry(want), Decision::Retry { delay, .. }) => want == *delay,
        (
            Expect::Stop(want),
            Decision::Stop {
                reason,
                server_delay,
            },
        ) => matches(want, reason) && *server_delay == row.server_delay,
        _ => false,
    };
    (!ok).then(|| format!("{}: expected {:?}, got {decision:?}", row.name, row.expect))
}

#[test]
fn python_sdk_retry_after_vectors() {
    let failures: Vec<String> = python_sdk_vectors().iter().filter_map(check).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn decision_table() {
    let rows = our_rows();
    let failures: Vec<String> = rows.iter().filter_map(check).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn retry_reasons_say_why() {
    let map = headers(&[("x-should-retry", "true")]);
    let forced = Outcome::Response {
        status: StatusCode::BAD_REQUEST,
        headers: &map,
    };
    let d = RetryPolicy::new().decide(
        &M::GET,
        &forced,
        0,
        Duration::ZERO,
        py_now(),
        &mut FixedJitter(0.0),
    );
    assert_eq!(
        d,
        Decision::Retry {
            delay: ms(500),
            reason: RetryReason::ServerSaidRetry(StatusCode::BAD_REQUEST)
        }
    );
}

#[test]
fn display_messages_are_short_and_lower_case() {
    let s503 = StatusCode::SERVICE_UNAVAILABLE;
    let cases: Vec<(String, &str)> = vec![
        (RetryReason::Status(s503).to_string(), "status 503"),
        (
            RetryReason::ServerSaidRetry(StatusCode::BAD_REQUEST).to_string(),
            "server said x-should-retry: true (status 400)",
        ),
        (RetryReason::Transport(Timeout).to_string(), "timed out"),
        (
            RetryReason::Transport(Connect).to_string(),
            "could not connect",
        ),
        (
            StopReason::Success(StatusCode::OK).to_string(),
            "success (status 200)",
        ),
        (
            StopReason::NotRetryable(StatusCode::NOT_FOUND).to_string(),
            "status 404 is not retryable",
        ),
        (
            StopReason::ServerSaidNoRetry(s503).to_string(),
            "server said x-should-retry: false (status 503)",
        ),
        (
            StopReason::TransportNotRetryable(Other).to_string(),
            "transport failure is not retryable",
        ),
        (
            StopReason::MethodNotSafe {
                method: M::POST,
                after: RetryReason::Status(StatusCode::INTERNAL_SERVER_ERROR),
            }
            .to_string(),
            "method POST not safe to retry after status 500",
        ),
        (
            StopReason::AttemptsExhausted {
                attempts: 3,
                last: RetryReason::Status(s503),
            }
            .to_string(),
            "attempts exhausted after 3 (last: status 503)",
        ),
        (
            StopReason::ServerDelayAboveCap {
                delay: s(120),
                cap: s(60),
            }
            .to_string(),
            "server delay 120s above cap 60s",
        ),
        (
            StopReason::Deadline {
                delay: s(4),
                elapsed: s(7),
                deadline: s(10),
            }
            .to_string(),
            "deadline: sleeping 4s after 7s would pass 10s",
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got, want);
        assert!(!got.ends_with('.'));
    }
}

#[test]
fn default_policy_matches_its_docs() {
    const P: RetryPolicy = RetryPolicy::DEFAULT;
    assert_eq!(P, RetryPolicy::default());
    assert_eq!(P.max_retries(), 2);
    assert_eq!(P.max_attempts(), 3);
    assert_eq!(P.initial_delay(), ms(500));
    assert_eq!(P.max_delay(), s(8));
    assert_eq!(P.jitter(), 0.25);
    assert_eq!(P.max_server_delay(), s(60));
    assert_eq!(P.deadline(), None);
    assert!(!P.retry_non_idempotent());
    const NONE: RetryPolicy = RetryPolicy::none();
    assert_eq!(NONE.max_attempts(), 1);
    const CUSTOM: RetryPolicy = RetryPolicy::new()
        .with_max_retries(u32::MAX)
        .with_deadline(Duration::from_secs(30))
        .without_deadline()
        .with_jitter(0.1);
    assert_eq!(CUSTOM.max_attempts(), u32::MAX);
    assert_eq!(CUSTOM.deadline(), None);
    assert_eq!(CUSTOM.jitter(), 0.1);
}

#[test]
fn a_policy_reports_what_it_was_set_to() {
    const SET: RetryPolicy = RetryPolicy::new()
        .with_deadline(Duration::from_secs(30))
        .with_retry_non_idempotent(true)
        .with_server_delay_jitter(0.5)
        .with_initial_delay(Duration::from_millis(100))
        .with_max_delay(Duration::from_secs(2))
        .with_max_server_delay(Duration::from_secs(5));
    assert_eq!(SET.deadline(), Some(s(30)));
    assert!(SET.retry_non_idempotent());
    assert_eq!(SET.server_delay_jitter(), 0.5);
    assert_eq!(SET.initial_delay(), ms(100));
    assert_eq!(SET.max_delay(), s(2));
    assert_eq!(SET.max_server_delay(), s(5));
    assert_eq!(RetryPolicy::new().server_delay_jitter(), 0.1);
    assert_eq!(SET.with_server_delay_jitter(3.0).server_delay_jitter(), 1.0);
    assert_eq!(
        SET.with_server_delay_jitter(-1.0).server_delay_jitter(),
        0.0
    );
}

#[test]
fn a_post_is_retried_after_a_500_only_when_the_policy_opts_in() {
    let map = headers(&[]);
    let outcome = Outcome::Response {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        headers: &map,
    };
    let decide = |policy: RetryPolicy| {
        policy.decide(
            &M::POST,
            &outcome,
            0,
            Duration::ZERO,
            py_now(),
            &mut FixedJitter(0.0),
        )
    };
    let opted_in = decide(RetryPolicy::new().with_retry_non_idempotent(true));
    assert!(opted_in.is_retry(), "{opted_in:?}");
    let default = decide(RetryPolicy::new());
    assert!(!default.is_retry(), "{default:?}");
}

#[test]
fn a_stop_says_whether_the_outcome_was_retryable() {
    let status = RetryReason::Status(StatusCode::SERVICE_UNAVAILABLE);
    let retryable = [
        StopReason::MethodNotSafe {
            method: M::POST,
            after: status,
        },
        StopReason::AttemptsExhausted {
            attempts: 3,
            last: status,
        },
        StopReason::ServerDelayAboveCap {
            delay: s(120),
            cap: s(60),
        },
        StopReason::Deadline {
            delay: s(4),
            elapsed: s(7),
            deadline: s(10),
        },
    ];
    for reason in &retryable {
        assert!(reason.was_retryable(), "{reason}");
        assert!(!reason.is_success(), "{reason}");
    }
    let final_ = [
        StopReason::Success(StatusCode::OK),
        StopReason::NotRetryable(StatusCode::NOT_FOUND),
        StopReason::ServerSaidNoRetry(StatusCode::SERVICE_UNAVAILABLE),
        StopReason::TransportNotRetryable(Other),
    ];
    for reason in &final_ {
        assert!(!reason.was_retryable(), "{reason}");
    }
    assert!(StopReason::Success(StatusCode::NO_CONTENT).is_success());
}

#[test]
fn a_retry_reason_names_the_status_it_came_from() {
    assert_eq!(
        RetryReason::Status(StatusCode::TOO_MANY_REQUESTS).status(),
        Some(StatusCode::TOO_MANY_REQUESTS)
    );
    assert_eq!(
        RetryReason::ServerSaidRetry(StatusCode::BAD_REQUEST).status(),
        Some(StatusCode::BAD_REQUEST)
    );
    for failure in [Connect, ConnectionLost, Timeout] {
        assert_eq!(RetryReason::Transport(failure).status(), None);
    }
}

#[test]
fn a_decision_says_whether_to_retry() {
    assert!(
        Decision::Retry {
            delay: ms(500),
            reason: RetryReason::Transport(Connect),
        }
        .is_retry()
    );
    assert!(
        !Decision::Stop {
            reason: StopReason::Success(StatusCode::OK),
            server_delay: None,
        }
        .is_retry()
    );
}

#[test]
fn a_classification_says_whether_the_outcome_is_worth_repeating() {
    let none = headers(&[]);
    let response = |status: u16| Outcome::Response {
        status: StatusCode::from_u16(status).expect("a status code"),
        headers: &none,
    };
    for transient in [response(503), response(429), Outcome::Transport(Connect)] {
        assert!(transient.classify().is_transient(), "{transient:?}");
    }
    for final_ in [response(200), response(404), Outcome::Transport(Other)] {
        assert!(!final_.classify().is_transient(), "{final_:?}");
    }
}
