//! One budget shared by many clients: exactly the plan's quota reaches the
//! server, whoever sends it; other scopes are independent; the pacing is
//! the in-process limiter's.

use std::time::{Duration, Instant};

use http::HeaderMap;
use linkt::{LimiterBackend, Plan, RateLimit, RateLimiter, ReserveError};
use linkt_ratelimit_redis::{RedisLimiter, Scope};

use crate::support::{self, Redis, Tally};

/// 20 requests a minute: a test sees the whole budget used in well under a
/// second, and the next slot a minute away.
const PLAN: Plan = Plan::Custom {
    per_minute: 20,
    per_day: 0,
};

fn limiter(redis: &Redis, prefix: &str, org: &str, plan: Plan) -> RedisLimiter {
    RedisLimiter::builder(&redis.url, plan)
        .organization(org)
        .key_prefix(prefix)
        .build()
        .expect("a limiter")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_in_many_tasks_share_one_budget() {
    let Some(redis) = Redis::shared() else { return };
    let prefix = support::unique_prefix("tasks");
    let server = support::mock(PLAN).await;

    let workers: Vec<_> = (0..8)
        .map(|_| {
            // A client and a limiter of its own per task, as separate
            // workers would have; only Redis is shared.
            let client = support::client(server.base_url(), limiter(&redis, &prefix, "acme", PLAN));
            tokio::spawn(async move { support::work(&client).await })
        })
        .collect();
    let mut total = Tally::default();
    for worker in workers {
        let tally = tokio::time::timeout(Duration::from_secs(20), worker)
            .await
            .expect("the worker ends")
            .expect("the worker does not panic");
        total.ok += tally.ok;
        total.refused += tally.refused;
        total.other.extend(tally.other);
    }

    assert_eq!(
        total.other,
        Vec::<String>::new(),
        "no call failed otherwise"
    );
    assert_eq!(total.ok, 20, "exactly the per-minute quota got through");
    assert_eq!(total.refused, 8, "every worker was refused in the end");
    let journal = server.journal();
    assert_eq!(journal.len(), 20, "the server saw the quota, no more");
    assert!(
        journal.iter().all(|exchange| exchange.status == Some(200)),
        "no 429: {:?}",
        journal.iter().map(|e| e.status).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn two_organizations_have_independent_budgets() {
    let Some(redis) = Redis::shared() else { return };
    let prefix = support::unique_prefix("orgs");
    let plan = Plan::Custom {
        per_minute: 5,
        per_day: 0,
    };
    let acme = limiter(&redis, &prefix, "acme", plan);
    let globex = limiter(&redis, &prefix, "globex", plan);
    let within = Some(Duration::from_secs(1));

    for _ in 0..5 {
        assert_eq!(acme.reserve(within).await.ok(), Some(Duration::ZERO));
    }
    assert!(
        matches!(
            acme.reserve(within).await,
            Err(ReserveError::PastDeadline { .. })
        ),
        "acme's budget is used up"
    );
    for _ in 0..5 {
        assert_eq!(
            globex.reserve(within).await.ok(),
            Some(Duration::ZERO),
            "globex's budget is its own"
        );
    }
    assert!(matches!(
        globex.reserve(within).await,
        Err(ReserveError::PastDeadline { .. })
    ));
    assert_ne!(acme.keys(), globex.keys());
}

#[tokio::test]
async fn pacing_matches_the_in_process_limiter() {
    let Some(redis) = Redis::shared() else { return };
    let prefix = support::unique_prefix("parity");
    // 3 a minute and 5 a day: the fourth waits a minute, the sixth finds the
    // day used up (a wait beyond the cap: sent at once, as in-process).
    let plan = Plan::Custom {
        per_minute: 3,
        per_day: 5,
    };
    let shared = limiter(&redis, &prefix, "acme", plan);
    let local = RateLimiter::new(plan);
    let started = Instant::now();
    let t0 = Instant::now();
    for n in 1..=8 {
        let remote = shared.reserve(None).await.expect("reserved");
        let expected = local.reserve(t0);
        // The shared limiter's clock moved on since t0, and counts in 100 ms
        // buckets: its wait is up to a bucket later, less the time elapsed.
        let slack = Duration::from_millis(100);
        assert!(
            remote <= expected + slack && remote + started.elapsed() + slack >= expected,
            "reservation {n}: redis {remote:?}, in-process {expected:?}"
        );
    }
    // With a deadline, a slot past it is refused and nothing is recorded.
    let refused = shared.reserve(Some(Duration::from_secs(1))).await;
    assert!(
        matches!(refused, Err(ReserveError::PastDeadline { wait, .. }) if wait > Duration::from_secs(3600)),
        "the day is used up: {refused:?}"
    );
    assert_eq!(shared.plan(), plan);
}

#[tokio::test]
async fn a_servers_reset_holds_every_worker() {
    let Some(redis) = Redis::shared() else { return };
    let prefix = support::unique_prefix("hold");
    let plan = Plan::Custom {
        per_minute: 100,
        per_day: 0,
    };
    let first = limiter(&redis, &prefix, "acme", plan);
    let second = limiter(&redis, &prefix, "acme", plan);
    let mut headers = HeaderMap::new();
    headers.insert("x-ratelimit-limit", "100".parse().expect("a header value"));
    headers.insert(
        "x-ratelimit-remaining",
        "0".parse().expect("a header value"),
    );
    headers.insert("x-ratelimit-reset", "2".parse().expect("a header value"));
    let exhausted = RateLimit::from_headers(&headers, std::time::SystemTime::now())
        .expect("rate-limit headers");
    assert!(exhausted.is_exhausted());

    first.observe(&exhausted).await;
    let wait = second.reserve(None).await.expect("reserved");
    assert!(
        wait > Duration::from_millis(1500) && wait <= Duration::from_secs(2),
        "the other worker waits for the reset: {wait:?}"
    );
    assert!(
        matches!(
            second.reserve(Some(Duration::from_millis(500))).await,
            Err(ReserveError::PastDeadline { .. })
        ),
        "a call that cannot wait that long is refused"
    );
}

#[tokio::test]
async fn redis_keys_hold_a_fingerprint_never_the_key() {
    let Some(redis) = Redis::shared() else { return };
    let prefix = support::unique_prefix("fingerprint");
    let key = linkt::ApiKey::new(support::KEY).expect("a valid key");
    let limiter = RedisLimiter::builder(&redis.url, PLAN)
        .api_key(&key)
        .key_prefix(&prefix)
        .build()
        .expect("a limiter");
    limiter.reserve(None).await.expect("reserved");

    let scope = Scope::api_key(&key);
    assert_eq!(scope.as_str().len(), "key:".len() + 32);
    let stored = redis.command(&["KEYS", &format!("{prefix}*")]);
    assert!(stored.contains(scope.as_str()), "{stored}");
    assert!(stored.contains(":minute:order"), "{stored}");
    for shown in [stored, format!("{limiter:?}"), format!("{scope}")] {
        assert!(!shown.contains(support::KEY), "the key leaked: {shown}");
    }
}

#[test]
fn a_limiter_without_a_scope_or_with_a_bad_url_is_refused() {
    use linkt_ratelimit_redis::BuildError;
    let err = RedisLimiter::builder("redis://127.0.0.1:1/", PLAN)
        .build()
        .expect_err("no scope");
    assert!(matches!(err, BuildError::MissingScope), "{err}");
    let err = RedisLimiter::builder("not a url", PLAN)
        .organization("acme")
        .build()
        .expect_err("a bad url");
    assert!(matches!(err, BuildError::Url(_)), "{err}");
    let err = RedisLimiter::builder("redis://127.0.0.1:1/", PLAN)
        .organization("")
        .build()
        .expect_err("an empty name");
    assert!(matches!(err, BuildError::EmptyOrganization), "{err}");
    let err = RedisLimiter::builder("redis://127.0.0.1:1/", PLAN)
        .organization("acme")
        .key_prefix("a{b")
        .build()
        .expect_err("a brace");
    assert!(matches!(err, BuildError::InvalidPrefix(_)), "{err}");
    assert_eq!(
        Scope::organization("Acme Corp/EU")
            .expect("a name")
            .as_str(),
        "org:Acme%20Corp%2FEU"
    );
}
