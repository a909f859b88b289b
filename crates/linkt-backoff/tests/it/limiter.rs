//! The client-side limiter on made-up instants: no test reads the clock
//! beyond one `Instant::now()` as an origin.

use std::thread;
use std::time::{Duration, Instant};

use linkt_backoff::{Plan, RateLimit, RateLimiter, Window};

fn s(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

#[test]
fn plan_presets() {
    assert_eq!((Plan::Free.per_minute(), Plan::Free.per_day()), (60, 1_000));
    assert_eq!((Plan::Pro.per_minute(), Plan::Pro.per_day()), (300, 10_000));
    let custom = Plan::Custom {
        per_minute: 7,
        per_day: 70,
    };
    assert_eq!((custom.per_minute(), custom.per_day()), (7, 70));
    assert_eq!(RateLimiter::new(Plan::Pro).max_wait(), s(60));
}

#[test]
fn free_plan_bursts_sixty_then_waits_for_the_minute_window() {
    let limiter = RateLimiter::new(Plan::Free);
    let t0 = Instant::now();
    for i in 0..60 {
        assert_eq!(limiter.reserve(t0), Duration::ZERO, "request {}", i + 1);
    }
    // The 61st waits until the first 60 are a minute old…
    assert_eq!(limiter.reserve(t0), s(60));
    // …and so does a 62nd asked for a little later.
    assert_eq!(limiter.reserve(t0 + s(20)), s(40));
    // Once the window has moved on, the two reserved at t0 + 60 s count.
    assert_eq!(limiter.reserve(t0 + s(60)), Duration::ZERO);
}

#[test]
fn paced_requests_never_wait() {
    let limiter = RateLimiter::new(Plan::Free);
    let t0 = Instant::now();
    for i in 0..600 {
        assert_eq!(limiter.reserve(t0 + s(i)), Duration::ZERO, "request {i}");
    }
}

#[test]
fn daily_quota_waits_until_the_day_window_frees_or_refuses() {
    let limiter = RateLimiter::new(Plan::Free);
    let t0 = Instant::now();
    // One request a second: never above 60 a minute.
    for i in 0..1_000 {
        assert_eq!(limiter.try_reserve(t0 + s(i)), Ok(Duration::ZERO));
    }
    let later = t0 + s(1_000);
    // The 1,001st would have to wait until the first is a day old.
    let refusal = limiter.try_reserve(later).expect_err("daily quota used up");
    assert_eq!(refusal.window, Window::Day);
    assert_eq!(refusal.limit, 1_000);
    assert_eq!(refusal.wait, s(86_400 - 1_000));
    assert_eq!(refusal.max_wait, s(60));
    assert_eq!(
        refusal.to_string(),
        "daily limit of 1000 requests reached: next slot in 85400s, beyond the 60s wait cap"
    );
    // A refusal records nothing: asking again gives the same answer.
    assert_eq!(limiter.try_reserve(later), Err(refusal));

    // A handle with a longer cap waits instead.
    let patient = limiter.clone().with_max_wait(s(2 * 86_400));
    assert_eq!(patient.try_reserve(later), Ok(s(86_400 - 1_000)));

    // `reserve` does not wait beyond the cap: it lets the server answer.
    assert_eq!(limiter.reserve(later), Duration::ZERO);

    // A day and a second after the first request the two oldest have
    // expired, but the two sends reserved since fill the window again: the
    // next slot is when the third oldest (t0 + 2 s) is a day old.
    let next_day = t0 + s(86_400 + 1);
    assert_eq!(limiter.try_reserve(next_day), Ok(s(1)));
}

#[test]
fn server_exhaustion_holds_reservations_until_the_reset() {
    let limiter = RateLimiter::new(Plan::Pro);
    let t0 = Instant::now();
    limiter.observe(&RateLimit::new().with_remaining(0).with_reset(s(5)), t0);
    assert_eq!(limiter.reserve(t0), s(5));
    assert_eq!(limiter.reserve(t0 + s(2)), s(3));
    assert_eq!(limiter.reserve(t0 + s(5)), Duration::ZERO);
    assert_eq!(limiter.reserve(t0 + s(9)), Duration::ZERO);
}

#[test]
fn server_reset_beyond_the_cap_is_not_waited_for() {
    let limiter = RateLimiter::new(Plan::Pro);
    let t0 = Instant::now();
    limiter.observe(&RateLimit::new().with_remaining(0).with_reset(s(120)), t0);
    assert_eq!(limiter.reserve(t0), Duration::ZERO);

    // A larger cap honours it.
    let patient = RateLimiter::new(Plan::Pro).with_max_wait(s(300));
    patient.observe(&RateLimit::new().with_remaining(0).with_reset(s(120)), t0);
    assert_eq!(patient.reserve(t0), s(120));
}

#[test]
fn observe_ignores_reports_with_requests_left_or_no_reset() {
    let limiter = RateLimiter::new(Plan::Pro);
    let t0 = Instant::now();
    limiter.observe(&RateLimit::new().with_remaining(3).with_reset(s(5)), t0);
    limiter.observe(&RateLimit::new().with_remaining(0), t0);
    limiter.observe(
        &RateLimit::new()
            .with_remaining(0)
            .with_reset(Duration::ZERO),
        t0,
    );
    assert_eq!(limiter.reserve(t0), Duration::ZERO);
}

#[test]
fn holds_only_extend() {
    let limiter = RateLimiter::new(Plan::Pro);
    let t0 = Instant::now();
    limiter.observe(&RateLimit::new().with_remaining(0).with_reset(s(10)), t0);
    limiter.observe(&RateLimit::new().with_remaining(0).with_reset(s(3)), t0);
    assert_eq!(limiter.reserve(t0), s(10));
}

#[test]
fn hold_and_minute_window_combine() {
    let limiter = RateLimiter::new(Plan::Custom {
        per_minute: 2,
        per_day: 0,
    });
    let t0 = Instant::now();
    assert_eq!(limiter.reserve(t0), Duration::ZERO);
    assert_eq!(limiter.reserve(t0), Duration::ZERO);
    limiter.observe(&RateLimit::new().with_remaining(0).with_reset(s(5)), t0);
    // The minute window is the longer constraint.
    assert_eq!(limiter.reserve(t0), s(60));
}

#[test]
fn clones_share_state() {
    let a = RateLimiter::new(Plan::Free);
    let b = a.clone();
    let t0 = Instant::now();
    for _ in 0..30 {
        assert_eq!(a.reserve(t0), Duration::ZERO);
        assert_eq!(b.reserve(t0), Duration::ZERO);
    }
    assert_eq!(b.reserve(t0), s(60));
    // A hold observed through one handle applies to all.
    let a = a.with_max_wait(s(120));
    a.observe(
        &RateLimit::new().with_remaining(0).with_reset(s(61)),
        t0 + s(10),
    );
    assert_eq!(b.reserve(t0 + s(10)), s(61));
}

#[test]
fn clones_share_state_across_threads() {
    let limiter = RateLimiter::new(Plan::Free);
    let t0 = Instant::now();
    let waits: Vec<Duration> = thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let l = limiter.clone();
                scope.spawn(move || (0..20).map(|_| l.reserve(t0)).collect::<Vec<_>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("thread"))
            .collect()
    });
    assert_eq!(waits.iter().filter(|w| w.is_zero()).count(), 60);
    assert_eq!(waits.iter().filter(|w| **w == s(60)).count(), 20);
}

#[test]
fn a_refusal_reports_the_quota_with_the_longest_wait() {
    let t0 = Instant::now();
    // Both quotas used up: the day's slot is further away, so it is the one
    // reported, whichever window is checked first.
    let both = RateLimiter::new(Plan::Custom {
        per_minute: 1,
        per_day: 1,
    })
    .with_max_wait(s(10));
    assert_eq!(both.try_reserve(t0), Ok(Duration::ZERO));
    let refusal = both.try_reserve(t0).expect_err("both quotas used up");
    assert_eq!(
        (
            refusal.window,
            refusal.limit,
            refusal.wait,
            refusal.max_wait
        ),
        (Window::Day, 1, s(86_400), s(10))
    );

    // Only the minute used up beyond the cap: the minute is reported.
    let minute = RateLimiter::new(Plan::Custom {
        per_minute: 1,
        per_day: 100,
    })
    .with_max_wait(s(10));
    assert_eq!(minute.try_reserve(t0), Ok(Duration::ZERO));
    let refusal = minute.try_reserve(t0).expect_err("minute used up");
    assert_eq!(
        (refusal.window, refusal.limit, refusal.wait),
        (Window::Minute, 1, s(60))
    );
    assert_eq!(
        refusal.to_string(),
        "per-minute limit of 1 requests reached: next slot in 60s, beyond the 10s wait cap"
    );
}

#[test]
fn a_wait_of_exactly_the_cap_is_waited_for() {
    let limiter = RateLimiter::new(Plan::Custom {
        per_minute: 1,
        per_day: 0,
    });
    let t0 = Instant::now();
    assert_eq!(limiter.try_reserve(t0), Ok(Duration::ZERO));
    assert_eq!(limiter.try_reserve(t0), Ok(s(60)));
    // The window frees exactly a minute after each send.
    assert_eq!(limiter.try_reserve(t0 + s(120)), Ok(Duration::ZERO));
}

#[test]
fn windows_have_their_length_and_a_name() {
    assert_eq!(Window::Minute.length(), s(60));
    assert_eq!(Window::Day.length(), s(86_400));
    assert_eq!(Window::Minute.to_string(), "per-minute");
    assert_eq!(Window::Day.to_string(), "daily");
}

#[test]
fn sends_that_left_the_window_do_not_blur_the_recent_ones() {
    // Over a thousand sends that have all left the minute window, then a
    // burst a millisecond apart: the burst's waits are exact, as if the old
    // sends had never been made.
    let limiter = RateLimiter::new(Plan::Custom {
        per_minute: 100,
        per_day: 0,
    });
    let t0 = Instant::now();
    for i in 0..1_100 {
        assert_eq!(limiter.try_reserve(t0 + s(i)), Ok(Duration::ZERO));
    }
    let burst = t0 + s(1_200);
    let ms = Duration::from_millis;
    for j in 0..100 {
        assert_eq!(limiter.try_reserve(burst + ms(j)), Ok(Duration::ZERO));
    }
    // The 101st waits until the burst's first send is a minute old.
    assert_eq!(limiter.try_reserve(burst + ms(100)), Ok(s(60) - ms(100)));
}

#[test]
fn a_wait_of_exactly_what_is_left_of_the_deadline_is_granted() {
    let per_minute_one = Plan::Custom {
        per_minute: 1,
        per_day: 0,
    };
    let t0 = Instant::now();
    // Within the cap: the slot a minute away is waited for.
    let limiter = RateLimiter::new(per_minute_one);
    assert_eq!(limiter.reserve_within(t0, None).ok(), Some(Duration::ZERO));
    assert_eq!(limiter.reserve_within(t0, Some(s(60))).ok(), Some(s(60)));

    // Beyond the cap but not past the deadline: sent at once for the server
    // to answer.
    let impatient = RateLimiter::new(per_minute_one).with_max_wait(s(10));
    assert_eq!(
        impatient.reserve_within(t0, None).ok(),
        Some(Duration::ZERO)
    );
    assert_eq!(
        impatient.reserve_within(t0, Some(s(60))).ok(),
        Some(Duration::ZERO)
    );
    // A second less left, and both are refused.
    let limiter = RateLimiter::new(per_minute_one);
    assert_eq!(limiter.reserve(t0), Duration::ZERO);
    assert!(limiter.reserve_within(t0, Some(s(59))).is_err());
    let impatient = RateLimiter::new(per_minute_one).with_max_wait(s(10));
    assert_eq!(impatient.reserve(t0), Duration::ZERO);
    assert!(impatient.reserve_within(t0, Some(s(59))).is_err());
}

#[test]
fn a_server_reset_of_exactly_the_cap_is_honoured() {
    let limiter = RateLimiter::new(Plan::Pro);
    let t0 = Instant::now();
    limiter.observe(&RateLimit::new().with_remaining(0).with_reset(s(60)), t0);
    assert_eq!(limiter.reserve(t0), s(60));
}

#[test]
fn a_refusal_for_the_deadline_says_how_long_the_wait_was() {
    use linkt_backoff::ReserveError;
    let limiter = RateLimiter::new(Plan::Custom {
        per_minute: 1,
        per_day: 0,
    });
    let t0 = Instant::now();
    assert_eq!(limiter.reserve(t0), Duration::ZERO);
    let refused = limiter
        .reserve_within(t0 + s(15), Some(s(5)))
        .expect_err("45 s is past a 5 s deadline");
    assert_eq!(refused.wait(), Some(s(45)));
    let unavailable = ReserveError::Unavailable("redis is down".into());
    assert_eq!(unavailable.wait(), None);
}
