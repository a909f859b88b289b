//! Client-side pacing: the plan's limits, and the server's `remaining: 0`.

use std::time::Duration;

use httpmock::MockServer;
use linkt::{Client, Plan};
use serde_json::json;

use crate::client_with;

fn empty_page() -> serde_json::Value {
    json!({ "icps": [], "page": 1, "page_size": 20, "total": 0 })
}

#[tokio::test]
async fn a_loop_is_paced_to_the_plan_instead_of_hitting_429() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET").path("/v1/icp");
            then.status(200).json_body(empty_page());
        })
        .await;
    let (client, sleeps) = client_with(
        &server.base_url(),
        Client::builder().rate_limit(Plan::Custom {
            per_minute: 2,
            per_day: 100,
        }),
    );
    // Clones share the limiter.
    let clone = client.clone();
    client.icp_list().send().await.expect("first");
    clone.icp_list().send().await.expect("second");
    assert!(sleeps.recorded().is_empty(), "within the minute's quota");
    client.icp_list().send().await.expect("third");

    mock.assert_calls_async(3).await;
    let sleeps = sleeps.recorded();
    assert_eq!(sleeps.len(), 1, "{sleeps:?}");
    assert!(
        sleeps[0] > Duration::from_secs(55) && sleeps[0] <= Duration::from_secs(60),
        "the third call waits for the minute window: {sleeps:?}"
    );
}

#[tokio::test]
async fn remaining_zero_from_the_server_waits_for_the_reset() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v1/icp");
            then.status(200)
                .header("x-ratelimit-limit", "300")
                .header("x-ratelimit-remaining", "0")
                .header("x-ratelimit-reset", "5")
                .json_body(empty_page());
        })
        .await;
    let (client, sleeps) = client_with(&server.base_url(), Client::builder().rate_limit(Plan::Pro));
    client.icp_list().send().await.expect("first");
    assert!(sleeps.recorded().is_empty());
    client.icp_list().send().await.expect("second");

    let sleeps = sleeps.recorded();
    assert_eq!(sleeps.len(), 1, "{sleeps:?}");
    assert!(
        sleeps[0] > Duration::from_millis(4500) && sleeps[0] <= Duration::from_secs(5),
        "{sleeps:?}"
    );
    assert_eq!(client.last_rate_limit().and_then(|l| l.remaining), Some(0));
}

#[tokio::test]
async fn without_a_plan_the_client_does_not_pace() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v1/icp");
            then.status(200)
                .header("x-ratelimit-remaining", "0")
                .header("x-ratelimit-reset", "5")
                .json_body(empty_page());
        })
        .await;
    let (client, sleeps) = client_with(&server.base_url(), Client::builder());
    for _ in 0..3 {
        client.icp_list().send().await.expect("listed");
    }
    assert!(sleeps.recorded().is_empty());
}

#[tokio::test]
async fn a_wait_past_the_deadline_fails_the_call_at_once_and_keeps_the_slot_free() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET").path("/v1/icp");
            then.status(200).json_body(empty_page());
        })
        .await;
    let (client, sleeps) = client_with(
        &server.base_url(),
        Client::builder()
            .rate_limit(Plan::Custom {
                per_minute: 1,
                per_day: 0,
            })
            .retry_policy(linkt::RetryPolicy::default().with_deadline(Duration::from_secs(10))),
    );
    client.icp_list().send().await.expect("within the quota");
    let err = client
        .icp_list()
        .send()
        .await
        .expect_err("the next slot is a minute away, the deadline 10 s");
    assert_eq!(err.kind(), linkt::ErrorKind::RateLimiter, "{err}");
    assert_eq!(err.attempts(), Some(0), "nothing was sent");
    let wait = err.retry_after().expect("the refused wait");
    assert!(
        wait > Duration::from_secs(55) && wait <= Duration::from_secs(60),
        "{wait:?}"
    );
    assert!(
        err.to_string().contains("past the call's deadline"),
        "{err}"
    );
    assert!(sleeps.recorded().is_empty(), "no sleep, no retry");
    mock.assert_calls_async(1).await;

    // Without a deadline the same client waits, as before: the refused
    // call took no slot, so the wait is for the first call's.
    let view = client
        .with_options(linkt::CallOptions::new().retry_policy(linkt::RetryPolicy::none()))
        .expect("a view");
    view.icp_list().send().await.expect("paced");
    let sleeps = sleeps.recorded();
    assert_eq!(sleeps.len(), 1, "{sleeps:?}");
    assert!(sleeps[0] <= Duration::from_secs(60), "{sleeps:?}");
    mock.assert_calls_async(2).await;
}

/// A backend that grants every slot after a fixed wait and counts what the
/// client asked.
#[derive(Debug, Default, Clone)]
struct Fixed(std::sync::Arc<Asked>);

#[derive(Debug, Default)]
struct Asked {
    reserved: std::sync::atomic::AtomicU32,
    observed: std::sync::atomic::AtomicU32,
    within: std::sync::Mutex<Vec<Option<Duration>>>,
}

impl linkt::LimiterBackend for Fixed {
    fn plan(&self) -> Plan {
        Plan::Pro
    }

    fn reserve(
        &self,
        within: Option<Duration>,
    ) -> linkt_backoff::BoxFuture<'_, Result<Duration, linkt::ReserveError>> {
        self.0
            .reserved
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.0.within.lock().expect("not poisoned").push(within);
        Box::pin(std::future::ready(Ok(Duration::from_millis(250))))
    }

    fn observe<'a>(&'a self, rate_limit: &'a linkt::RateLimit) -> linkt_backoff::BoxFuture<'a, ()> {
        assert!(
            rate_limit.is_exhausted(),
            "only exhausted headers are passed on"
        );
        self.0
            .observed
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Box::pin(std::future::ready(()))
    }
}

#[tokio::test]
async fn any_backend_paces_the_client_and_hears_an_exhausted_quota() {
    use std::sync::atomic::Ordering;
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v1/icp");
            then.status(200)
                .header("x-ratelimit-limit", "300")
                .header("x-ratelimit-remaining", "0")
                .header("x-ratelimit-reset", "5")
                .json_body(empty_page());
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method("DELETE").path("/v1/icp/abc");
            then.status(204)
                .header("x-ratelimit-limit", "300")
                .header("x-ratelimit-remaining", "7")
                .header("x-ratelimit-reset", "5");
        })
        .await;
    let backend = Fixed::default();
    let (client, sleeps) = client_with(
        &server.base_url(),
        Client::builder()
            .rate_limiter(backend.clone())
            .retry_policy(linkt::RetryPolicy::default().with_deadline(Duration::from_secs(30))),
    );
    client.icp_list().send().await.expect("listed");
    client
        .icp_delete()
        .icp_id("abc")
        .send()
        .await
        .expect("deleted");

    assert_eq!(backend.0.reserved.load(Ordering::SeqCst), 2);
    assert_eq!(
        backend.0.observed.load(Ordering::SeqCst),
        1,
        "only the response with nothing left"
    );
    assert_eq!(sleeps.recorded(), vec![Duration::from_millis(250); 2]);
    let within = backend.0.within.lock().expect("not poisoned").clone();
    assert!(
        within
            .iter()
            .all(|w| w.is_some_and(|w| w <= Duration::from_secs(30) && w > Duration::from_secs(25))),
        "what is left of the deadline: {within:?}"
    );
}
