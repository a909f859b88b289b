//! Redis going away mid-run: the fallback policy keeps calls going (with a
//! warning) and recovers, the fail policy fails them with a typed error,
//! and an unresponsive Redis costs a call at most the command timeout.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use linkt::{ErrorKind, LimiterBackend, Plan, ReserveError};
use linkt_ratelimit_redis::{OnUnavailable, RedisLimiter, RedisUnavailable};

use crate::support::{self, Redis};

const PLAN: Plan = Plan::Custom {
    per_minute: 20,
    per_day: 0,
};

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("not poisoned")).into_owned()
    }
}

#[tokio::test]
async fn with_the_fallback_policy_calls_go_on_with_a_warning_and_redis_comes_back() {
    let Some(mut redis) = Redis::own() else {
        return;
    };
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    // This test's runtime has one thread: the default subscriber sees all.
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = support::mock(PLAN).await;
    let limiter = RedisLimiter::builder(&redis.url, PLAN)
        .organization("acme")
        .timeout(Duration::from_millis(300))
        .recheck_after(Duration::from_millis(200))
        .build()
        .expect("a limiter");
    let client = support::client(server.base_url(), limiter.clone());
    let call = || async {
        tokio::time::timeout(Duration::from_secs(5), client.icp_list().send())
            .await
            .expect("the call ends")
    };
    for _ in 0..3 {
        call().await.expect("paced through redis");
    }
    assert!(!limiter.is_redis_lost());

    redis.kill();
    for n in 0..3 {
        let started = Instant::now();
        call()
            .await
            .expect("paced in this process while redis is gone");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "call {n} took {:?}",
            started.elapsed()
        );
    }
    assert!(limiter.is_redis_lost());
    let text = logs.text();
    assert_eq!(
        text.matches("redis unavailable: pacing in this process only")
            .count(),
        1,
        "one warning per outage: {text}"
    );
    assert!(text.contains("WARN"), "{text}");
    assert!(!text.contains(support::KEY), "the key leaked: {text}");

    redis.restart();
    tokio::time::sleep(Duration::from_millis(250)).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while limiter.is_redis_lost() && Instant::now() < deadline {
        call().await.expect("paced");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !limiter.is_redis_lost(),
        "redis is asked again: {}",
        logs.text()
    );
    assert!(
        logs.text().contains("redis answers again"),
        "{}",
        logs.text()
    );
    assert!(
        server.journal().iter().all(|e| e.status == Some(200)),
        "no 429"
    );
}

#[tokio::test]
async fn with_the_fail_policy_calls_fail_with_a_typed_error() {
    let Some(mut redis) = Redis::own() else {
        return;
    };
    let server = support::mock(PLAN).await;
    let limiter = RedisLimiter::builder(&redis.url, PLAN)
        .organization("acme")
        .timeout(Duration::from_millis(300))
        .on_unavailable(OnUnavailable::Fail)
        .build()
        .expect("a limiter");
    let client = support::client(server.base_url(), limiter);
    for _ in 0..2 {
        client.icp_list().send().await.expect("paced through redis");
    }

    redis.kill();
    let started = Instant::now();
    let err = tokio::time::timeout(Duration::from_secs(5), client.icp_list().send())
        .await
        .expect("the call ends")
        .expect_err("no limiter, no call");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(err.kind(), ErrorKind::RateLimiter, "{err}");
    assert_eq!(err.attempts(), Some(0));
    assert_eq!(err.operation_id(), Some("icp_list"));
    let source = std::error::Error::source(&err)
        .and_then(|source| source.downcast_ref::<ReserveError>())
        .expect("the limiter's error is the source");
    assert!(
        matches!(source, ReserveError::Unavailable(inner) if inner.downcast_ref::<RedisUnavailable>().is_some()),
        "{source:?}"
    );
    assert_eq!(
        server.journal().len(),
        2,
        "nothing was sent after redis went away"
    );
}

#[tokio::test]
async fn an_unresponsive_redis_costs_a_call_at_most_the_timeout() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a listener");
    let url = format!("redis://{}/", listener.local_addr().expect("an address"));
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open.push(stream);
        }
    });
    let timeout = Duration::from_millis(300);

    let failing = RedisLimiter::builder(&url, PLAN)
        .organization("acme")
        .timeout(timeout)
        .on_unavailable(OnUnavailable::Fail)
        .build()
        .expect("a limiter");
    let started = Instant::now();
    let refused = tokio::time::timeout(Duration::from_secs(5), failing.reserve(None))
        .await
        .expect("the reservation ends");
    let elapsed = started.elapsed();
    assert!(elapsed >= timeout && elapsed < timeout * 3, "{elapsed:?}");
    let Err(ReserveError::Unavailable(inner)) = refused else {
        panic!("expected unavailable, got {refused:?}");
    };
    assert!(
        matches!(
            inner.downcast_ref::<RedisUnavailable>(),
            Some(RedisUnavailable::Timeout(_))
        ),
        "{inner}"
    );

    let server = support::mock(PLAN).await;
    let falling_back = RedisLimiter::builder(&url, PLAN)
        .organization("acme")
        .timeout(timeout)
        .build()
        .expect("a limiter");
    let client = support::client(server.base_url(), falling_back);
    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(5), client.icp_list().send())
        .await
        .expect("the call ends")
        .expect("paced in this process");
    assert!(started.elapsed() < timeout * 3, "{:?}", started.elapsed());
    // Redis is lost now: the next call does not wait for it again.
    let started = Instant::now();
    client
        .icp_list()
        .send()
        .await
        .expect("paced in this process");
    assert!(started.elapsed() < timeout, "{:?}", started.elapsed());
    held.abort();
}
