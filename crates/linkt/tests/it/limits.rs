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
