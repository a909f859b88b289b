//! Retries through the real client: which calls are repeated, how often, and
//! how long the client asked to wait.

use std::time::Duration;

use httpmock::MockServer;
use linkt::ErrorKind;
use serde_json::json;

use crate::{client, icp_json};

const ICP: &str = "/v1/icp/507f1f77bcf86cd799439011";

#[tokio::test]
async fn get_503_503_200_succeeds_on_the_third_attempt() {
    let server = MockServer::start_async().await;
    let failures = server
        .mock_async(|when, then| {
            when.method("GET")
                .path(ICP)
                .header_missing("x-linkt-retry-count");
            then.status(500);
        })
        .await;
    let mut attempts = Vec::new();
    for (retry, status) in [("0", 503), ("1", 503)] {
        attempts.push(
            server
                .mock_async(|when, then| {
                    when.method("GET")
                        .path(ICP)
                        .header("x-linkt-retry-count", retry);
                    then.status(status).json_body(json!({ "detail": "busy" }));
                })
                .await,
        );
    }
    let success = server
        .mock_async(|when, then| {
            when.method("GET")
                .path(ICP)
                .header("x-linkt-retry-count", "2");
            then.status(200).json_body(icp_json());
        })
        .await;

    let (client, sleeps) = client(&server.base_url());
    let icp = client
        .icp_retrieve()
        .icp_id("507f1f77bcf86cd799439011")
        .send()
        .await
        .expect("third attempt succeeds");

    assert_eq!(icp.name, "Enterprise SaaS Companies");
    for mock in &attempts {
        mock.assert_calls_async(1).await;
    }
    success.assert_calls_async(1).await;
    failures.assert_calls_async(0).await;
    let sleeps = sleeps.recorded();
    assert_eq!(sleeps.len(), 2, "{sleeps:?}");
    // Default backoff: 0.5 s then 1 s, each reduced by at most 25 % of jitter.
    assert!(sleeps[0] >= Duration::from_millis(375) && sleeps[0] <= Duration::from_millis(500));
    assert!(sleeps[1] >= Duration::from_millis(750) && sleeps[1] <= Duration::from_secs(1));
}

#[tokio::test]
async fn three_503s_report_a_server_error_after_three_attempts() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET").path(ICP);
            then.status(503)
                .header("x-request-id", "req-503")
                .json_body(json!({ "detail": "service unavailable" }));
        })
        .await;

    let (client, sleeps) = client(&server.base_url());
    let err = client
        .icp_retrieve()
        .icp_id("507f1f77bcf86cd799439011")
        .send()
        .await
        .expect_err("always 503");

    mock.assert_calls_async(3).await;
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(err.attempts(), Some(3));
    assert_eq!(err.operation_id(), Some("icp_retrieve"));
    assert_eq!(err.request_id(), Some("req-503"));
    assert_eq!(err.message(), "service unavailable");
    assert!(err.is_retryable());
    // Two sleeps between three attempts, none after the last.
    assert_eq!(sleeps.recorded().len(), 2);
}

#[tokio::test]
async fn post_answered_500_is_sent_exactly_once() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/v1/task/507f1f77bcf86cd799439013/execute");
            then.status(500)
                .json_body(json!({ "detail": "internal error" }));
        })
        .await;

    let (client, sleeps) = client(&server.base_url());
    let err = client
        .task_execute()
        .task_id("507f1f77bcf86cd799439013")
        .body(linkt::types::ExecuteTaskRequest::builder())
        .send()
        .await
        .expect_err("500");

    mock.assert_calls_async(1).await;
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.attempts(), Some(1));
    assert!(sleeps.recorded().is_empty());
}

#[tokio::test]
async fn post_answered_429_with_retry_after_is_retried_after_that_delay() {
    let server = MockServer::start_async().await;
    let limited = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/v1/icp")
                .header("x-linkt-retry-count", "0");
            then.status(429)
                .header("retry-after", "1")
                .json_body(json!({ "detail": "rate_limit_exceeded" }));
        })
        .await;
    let created = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/v1/icp")
                .header("x-linkt-retry-count", "1");
            then.status(200).json_body(icp_json());
        })
        .await;

    let (client, sleeps) = client(&server.base_url());
    let icp = client
        .icp_create()
        .body(
            linkt::types::CreateIcpRequest::builder()
                .name("Enterprise SaaS Companies")
                .description("Mid-market B2B SaaS companies")
                .entity_targets(vec![]),
        )
        .send()
        .await
        .expect("second attempt succeeds");

    assert_eq!(icp.id, "507f1f77bcf86cd799439011");
    limited.assert_calls_async(1).await;
    created.assert_calls_async(1).await;
    // The server's delay, lengthened by its jitter (under 100 ms for 1 s),
    // never shortened.
    let slept = sleeps.recorded();
    assert_eq!(slept.len(), 1, "{slept:?}");
    assert!(
        slept[0] >= Duration::from_secs(1) && slept[0] < Duration::from_millis(1100),
        "{slept:?}"
    );
}

#[tokio::test]
async fn x_should_retry_false_stops_after_one_call() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET").path("/v1/icp");
            then.status(503)
                .header("x-should-retry", "false")
                .json_body(json!({ "detail": "down for maintenance" }));
        })
        .await;

    let (client, sleeps) = client(&server.base_url());
    let err = client.icp_list().send().await.expect_err("503");

    mock.assert_calls_async(1).await;
    assert_eq!(err.attempts(), Some(1));
    assert!(sleeps.recorded().is_empty());
}

#[tokio::test]
async fn retry_after_above_the_cap_is_returned_not_slept() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET").path("/v1/icp");
            then.status(429)
                .header("retry-after", "120")
                .json_body(json!({ "detail": "rate_limit_exceeded" }));
        })
        .await;

    let (client, sleeps) = client(&server.base_url());
    let err = client.icp_list().send().await.expect_err("429");

    mock.assert_calls_async(1).await;
    assert!(sleeps.recorded().is_empty());
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));
    assert!(err.to_string().contains("120s"), "{err}");
}

#[tokio::test]
async fn a_disabled_policy_makes_one_attempt() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET").path("/v1/icp");
            then.status(503);
        })
        .await;

    let (client, sleeps) = crate::client_with(
        &server.base_url(),
        linkt::Client::builder().retry_policy(linkt::RetryPolicy::none()),
    );
    let err = client.icp_list().send().await.expect_err("503");

    mock.assert_calls_async(1).await;
    assert_eq!(err.attempts(), Some(1));
    assert!(sleeps.recorded().is_empty());
}

#[tokio::test]
async fn connection_refused_is_a_connection_error() {
    // Bind a port, then close it, so nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let (client, sleeps) = client(&format!("http://127.0.0.1:{port}"));
    let err = client.icp_list().send().await.expect_err("refused");

    assert_eq!(err.kind(), ErrorKind::Connection);
    assert!(err.is_retryable());
    // Refused connections are retried (the request provably was not sent).
    assert_eq!(sleeps.recorded().len(), 2);
}
