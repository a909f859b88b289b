//! `RateLimit::from_headers` over every header form the server might send.

use std::time::{Duration, SystemTime};

use linkt_backoff::RateLimit;

use crate::support::headers;

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn parse(pairs: &[(&str, &str)]) -> Option<RateLimit> {
    RateLimit::from_headers(&headers(pairs), now())
}

fn s(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

#[test]
fn no_headers_no_rate_limit() {
    assert_eq!(parse(&[]), None);
    assert_eq!(parse(&[("content-type", "application/json")]), None);
}

#[test]
fn all_garbage_is_none() {
    assert_eq!(
        parse(&[
            ("x-ratelimit-limit", "lots"),
            ("x-ratelimit-remaining", "-1"),
            ("x-ratelimit-reset", "soon"),
            ("ratelimit", ";;,,=="),
        ]),
        None
    );
}

#[test]
fn x_ratelimit_with_delta_reset() {
    let rl = parse(&[
        ("X-RateLimit-Limit", "60"),
        ("X-RateLimit-Remaining", "59"),
        ("X-RateLimit-Reset", "42"),
    ])
    .expect("rate limit");
    assert_eq!(
        rl,
        RateLimit::new()
            .with_limit(60)
            .with_remaining(59)
            .with_reset(s(42))
    );
    assert!(!rl.is_exhausted());
}

#[test]
fn x_ratelimit_reset_as_epoch_seconds_and_milliseconds() {
    let at = |reset: &str| {
        parse(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", reset)])
            .and_then(|rl| rl.reset)
    };
    assert_eq!(at("1700000030"), Some(s(30)), "epoch seconds");
    assert_eq!(
        at("1700000030500"),
        Some(Duration::from_millis(30_500)),
        "epoch ms"
    );
    assert_eq!(at("1600000000"), Some(Duration::ZERO), "past epoch");
    assert_eq!(
        at("999999999"),
        Some(s(999_999_999)),
        "just below 10^9 is a delta"
    );
    assert_eq!(
        at("2.5"),
        Some(Duration::from_millis(2500)),
        "fractional delta"
    );
    assert_eq!(at("-3"), None);
    assert_eq!(at("NaN"), None);
    assert_eq!(at("tomorrow"), None);
}

#[test]
fn garbage_fields_are_none_others_kept() {
    let rl = parse(&[
        ("x-ratelimit-limit", "sixty"),
        ("x-ratelimit-remaining", "0"),
        ("x-ratelimit-reset", "5"),
    ])
    .expect("rate limit");
    assert_eq!(rl.limit, None);
    assert_eq!(rl.remaining, Some(0));
    assert_eq!(rl.reset, Some(s(5)));
    assert!(rl.is_exhausted());
}

#[test]
fn old_draft_limit_with_policy_window() {
    let rl = parse(&[("x-ratelimit-limit", "100, 100;w=60, 1000;w=86400")]).expect("rate limit");
    assert_eq!(rl.limit, Some(100));
    assert_eq!(rl.window, Some(s(60)));
}

#[test]
fn draft_separate_headers() {
    let rl = parse(&[
        ("RateLimit-Limit", "300"),
        ("RateLimit-Remaining", "12"),
        ("RateLimit-Reset", "7"),
        ("RateLimit-Policy", "300;w=60"),
    ])
    .expect("rate limit");
    assert_eq!(
        rl,
        RateLimit::new()
            .with_limit(300)
            .with_remaining(12)
            .with_reset(s(7))
            .with_window(s(60))
    );
}

#[test]
fn draft_07_dictionary() {
    let rl = parse(&[
        ("RateLimit", "limit=100, remaining=50, reset=30"),
        ("RateLimit-Policy", "100;w=60"),
    ])
    .expect("rate limit");
    assert_eq!(
        rl,
        RateLimit::new()
            .with_limit(100)
            .with_remaining(50)
            .with_reset(s(30))
            .with_window(s(60))
    );
}

#[test]
fn draft_structured_fields() {
    let rl = parse(&[
        ("RateLimit", "\"default\";r=50;t=30"),
        ("RateLimit-Policy", "\"default\";q=100;w=60"),
    ])
    .expect("rate limit");
    assert_eq!(rl.limit, Some(100));
    assert_eq!(rl.remaining, Some(50));
    assert_eq!(rl.reset, Some(s(30)));
    assert_eq!(rl.window, Some(s(60)));
    assert_eq!(rl.policy.as_deref(), Some("default"));
}

#[test]
fn draft_structured_fields_without_policy_header() {
    let rl = parse(&[("RateLimit", "default;r=0;t=4")]).expect("rate limit");
    assert_eq!(rl.remaining, Some(0));
    assert_eq!(rl.reset, Some(s(4)));
    assert_eq!(rl.limit, None);
    assert_eq!(rl.window, None);
    assert_eq!(rl.policy.as_deref(), Some("default"));
}

#[test]
fn several_policies_pick_the_most_constrained() {
    let rl = parse(&[
        ("RateLimit", "\"burst\";r=5;t=2, \"daily\";r=0;t=3600"),
        (
            "RateLimit-Policy",
            "\"burst\";q=10;w=1, \"daily\";q=1000;w=86400",
        ),
    ])
    .expect("rate limit");
    assert_eq!(rl.policy.as_deref(), Some("daily"));
    assert_eq!(rl.limit, Some(1000));
    assert_eq!(rl.remaining, Some(0));
    assert_eq!(rl.reset, Some(s(3600)));
    assert_eq!(rl.window, Some(s(86_400)));
}

#[test]
fn quoted_names_may_hold_separators() {
    let rl = parse(&[
        ("RateLimit", "\"a,b;c=d\";r=3;t=9"),
        (
            "RateLimit-Policy",
            "\"other\";q=1;w=1, \"a,b;c=d\";q=30;w=10",
        ),
    ])
    .expect("rate limit");
    assert_eq!(rl.policy.as_deref(), Some("a,b;c=d"));
    assert_eq!(rl.limit, Some(30));
    assert_eq!(rl.remaining, Some(3));
    assert_eq!(rl.window, Some(s(10)));
}

#[test]
fn draft_header_wins_and_x_headers_fill_gaps() {
    let rl = parse(&[
        ("RateLimit", "\"default\";r=50"),
        ("X-RateLimit-Limit", "60"),
        ("X-RateLimit-Remaining", "59"),
        ("X-RateLimit-Reset", "12"),
    ])
    .expect("rate limit");
    assert_eq!(rl.remaining, Some(50), "from RateLimit");
    assert_eq!(rl.limit, Some(60), "from X-RateLimit-Limit");
    assert_eq!(rl.reset, Some(s(12)), "from X-RateLimit-Reset");
}

#[test]
fn garbage_parameters_leave_fields_empty() {
    let rl = parse(&[
        ("RateLimit", "\"default\";r=lots;t=-1"),
        ("RateLimit-Policy", "\"default\";q=;w=0"),
    ]);
    // The policy name is all that could be read.
    assert_eq!(
        rl.map(|r| (r.limit, r.remaining, r.reset, r.window)),
        Some((None, None, None, None))
    );
}

#[test]
fn the_policy_named_by_the_rate_limit_header_gives_limit_and_window() {
    let rl = parse(&[
        ("RateLimit", "\"hourly\";r=5;t=2"),
        (
            "RateLimit-Policy",
            "\"burst\";q=10;w=1, \"hourly\";q=100;w=3600",
        ),
    ])
    .expect("rate limit");
    assert_eq!(rl.policy.as_deref(), Some("hourly"));
    assert_eq!((rl.limit, rl.window), (Some(100), Some(s(3600))));
}

#[test]
fn a_bare_policy_is_chosen_by_the_limit_else_the_first() {
    let rl = parse(&[
        ("RateLimit-Limit", "100"),
        ("RateLimit-Policy", "10;w=1, 100;w=60"),
    ])
    .expect("rate limit");
    assert_eq!((rl.limit, rl.window), (Some(100), Some(s(60))));

    let rl = parse(&[
        ("RateLimit-Limit", "5"),
        ("RateLimit-Policy", "10;w=1, 100;w=60"),
    ])
    .expect("rate limit");
    assert_eq!((rl.limit, rl.window), (Some(5), Some(s(1))));
}

#[test]
fn among_policies_with_nothing_left_the_longest_wait_is_reported() {
    for value in [
        "\"a\";r=0;t=5, \"b\";r=0;t=30",
        "\"b\";r=0;t=30, \"a\";r=0;t=5",
    ] {
        let rl = parse(&[("RateLimit", value)]).expect("rate limit");
        assert_eq!(rl.policy.as_deref(), Some("b"), "{value}");
        assert_eq!(rl.reset, Some(s(30)), "{value}");
        assert!(rl.is_exhausted());
    }
}

#[test]
fn a_reset_of_zero_is_now() {
    let rl =
        parse(&[("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", "0")]).expect("rate limit");
    assert_eq!(rl.reset, Some(Duration::ZERO));
    assert!(rl.is_exhausted());
    let rl = parse(&[("RateLimit", "\"default\";r=0;t=0")]).expect("rate limit");
    assert_eq!(rl.reset, Some(Duration::ZERO));
    let rl = parse(&[("RateLimit", "limit=10, remaining=0, reset=0")]).expect("rate limit");
    assert_eq!(rl.reset, Some(Duration::ZERO));
}

#[test]
fn requests_left_is_not_exhausted() {
    assert!(!RateLimit::new().with_remaining(1).is_exhausted());
    assert!(!RateLimit::new().is_exhausted());
    assert!(RateLimit::new().with_remaining(0).is_exhausted());
}

#[test]
fn the_dictionary_limit_is_the_one_the_server_sent() {
    let rl = parse(&[("RateLimit", "limit=50, remaining=5, reset=3")]).expect("rate limit");
    assert_eq!(
        rl,
        RateLimit::new()
            .with_limit(50)
            .with_remaining(5)
            .with_reset(s(3))
    );
    // A policy with another quota does not replace it.
    let rl = parse(&[
        ("RateLimit", "limit=50, remaining=5, reset=3"),
        ("RateLimit-Policy", "100;w=60"),
    ])
    .expect("rate limit");
    assert_eq!(rl.limit, Some(50));
}
