//! What every error says of its call, the direct `linkt::Error` of `send()`,
//! plain integer arguments, and per-call options on a view that shares the
//! client's connection pool.

use std::sync::atomic::Ordering;
use std::time::Duration;

use httpmock::MockServer;
use linkt::{CallOptions, Client, ErrorKind, RetryPolicy};

use crate::{client, client_with, icp_json, keep_alive_server};

/// Asserts the context every error of `send()` carries.
#[track_caller]
fn assert_context(err: &linkt::Error, operation: &str, method: &str, path: &str, attempts: u32) {
    assert_eq!(err.operation_id(), Some(operation), "{err:?}");
    assert_eq!(err.method(), Some(method), "{err:?}");
    assert_eq!(err.path_template(), Some(path), "{err:?}");
    assert_eq!(err.attempts(), Some(attempts), "{err:?}");
}

#[tokio::test]
async fn the_result_of_send_is_matched_by_kind_directly() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v1/icp/missing");
            then.status(404)
                .header("content-type", "application/json")
                .header("x-request-id", "req_404")
                .body(r#"{"detail": "ICP not found"}"#);
        })
        .await;
    let (client, _) = client(&server.base_url());

    // No conversion: `send()` returns `linkt::Error`.
    match client.icp_retrieve().icp_id("missing").send().await {
        Err(err) if err.kind() == ErrorKind::NotFound => {
            assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
            assert_eq!(err.message(), "ICP not found");
            assert_eq!(err.request_id(), Some("req_404"));
            assert_eq!(
                err.headers().and_then(|h| h.get("x-request-id")),
                Some(&http::HeaderValue::from_static("req_404"))
            );
            assert!(
                err.body_excerpt()
                    .is_some_and(|b| b.contains("ICP not found"))
            );
            assert_context(&err, "icp_retrieve", "GET", "/v1/icp/{icp_id}", 1);
        }
        other => panic!("expected a 404, got {other:?}"),
    }
}

#[tokio::test]
async fn a_connection_failure_names_the_call_and_its_attempts() {
    // A port nothing listens on: every attempt is refused.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        listener.local_addr().expect("an address").port()
    };
    let (client, sleeps) = client(&format!("http://127.0.0.1:{port}"));
    let err = client.icp_list().send().await.expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    assert_context(&err, "icp_list", "GET", "/v1/icp", 3);
    assert_eq!(sleeps.recorded().len(), 2);
    assert!(err.to_string().contains("after 3 attempts"), "{err}");
}

#[tokio::test]
async fn a_decode_failure_names_the_call_and_its_attempts() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v1/icp/abc");
            then.status(200)
                .header("content-type", "application/json")
                .body(r#"{"id": 7}"#);
        })
        .await;
    let (client, _) = client(&server.base_url());
    let err = client
        .icp_retrieve()
        .icp_id("abc")
        .send()
        .await
        .expect_err("not an ICP");
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert_context(&err, "icp_retrieve", "GET", "/v1/icp/{icp_id}", 1);
}

#[tokio::test]
async fn an_error_before_sending_names_the_call_and_no_attempt() {
    let server = MockServer::start_async().await;
    let (client, _) = client(&server.base_url());

    let err = client
        .icp_delete()
        .icp_id("..")
        .send()
        .await
        .expect_err("a dot segment");
    assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
    assert_context(&err, "icp_delete", "DELETE", "/v1/icp/{icp_id}", 0);

    // `0` is not a page: refused before sending, naming the parameter.
    let err = client.icp_list().page(0).send().await.expect_err("page 0");
    assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
    assert!(err.message().contains("for page"), "{err}");
    assert_context(&err, "icp_list", "GET", "/v1/icp", 0);
}

#[tokio::test]
async fn integer_arguments_take_plain_literals() {
    let server = MockServer::start_async().await;
    let list = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v1/icp")
                .query_param("page", "2")
                .query_param("page_size", "50");
            then.status(200)
                .header("content-type", "application/json")
                .json_body(serde_json::json!({
                    "icps": [icp_json()], "total": 51, "page": 2, "page_size": 50
                }));
        })
        .await;
    let (client, _) = client(&server.base_url());
    let page_size: usize = 50;
    let icps = client
        .icp_list()
        .page(2)
        .page_size(page_size)
        .send()
        .await
        .expect("page 2");
    // The value derefs to the typed body; status and headers are kept.
    assert_eq!(icps.total, 51);
    assert_eq!(icps.icps.len(), 1);
    assert_eq!(icps.status(), 200);
    assert_eq!(icps.into_inner().page, 2);
    list.assert_async().await;
}

#[tokio::test]
async fn two_calls_of_one_client_keep_their_own_timeouts() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v1/icp/abc");
            then.status(200)
                .header("content-type", "application/json")
                .json_body(icp_json())
                .delay(Duration::from_millis(400));
        })
        .await;
    let (client, _) = client(&server.base_url());
    let hurried = client
        .with_options(
            CallOptions::new()
                .timeout(Duration::from_millis(100))
                .retry_policy(RetryPolicy::none()),
        )
        .expect("valid options");

    let err = hurried
        .icp_retrieve()
        .icp_id("abc")
        .send()
        .await
        .expect_err("slower than 100 ms");
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert_context(&err, "icp_retrieve", "GET", "/v1/icp/{icp_id}", 1);

    // The client itself keeps its 60 s timeout.
    let icp = client
        .icp_retrieve()
        .icp_id("abc")
        .send()
        .await
        .expect("within 60 s");
    assert_eq!(icp.name, "Enterprise SaaS Companies");
}

#[tokio::test]
async fn a_view_has_its_own_retry_policy() {
    let server = MockServer::start_async().await;
    let unavailable = server
        .mock_async(|when, then| {
            when.method("GET").path("/v1/icp");
            then.status(503);
        })
        .await;
    let (client, sleeps) = client(&server.base_url());

    let err = client
        .with_options(CallOptions::new().retry_policy(RetryPolicy::none()))
        .expect("valid options")
        .icp_list()
        .send()
        .await
        .expect_err("503");
    assert_context(&err, "icp_list", "GET", "/v1/icp", 1);
    assert_eq!(unavailable.calls_async().await, 1);
    assert!(sleeps.recorded().is_empty());

    let err = client.icp_list().send().await.expect_err("503");
    assert_context(&err, "icp_list", "GET", "/v1/icp", 3);
    assert_eq!(unavailable.calls_async().await, 4);
}

#[tokio::test]
async fn a_view_sends_its_headers_and_refuses_the_clients_own() {
    let server = MockServer::start_async().await;
    let tagged = server
        .mock_async(|when, then| {
            when.method("DELETE")
                .path("/v1/icp/abc")
                .header("x-correlation-id", "batch-7")
                .header("x-team", "growth")
                .header("x-api-key", crate::KEY);
            then.status(204);
        })
        .await;
    let (client, _) = client_with(
        &server.base_url(),
        Client::builder().default_header("x-team", "research"),
    );
    client
        .with_options(
            CallOptions::new()
                .header("x-correlation-id", "batch-7")
                .header("x-team", "growth"),
        )
        .expect("valid options")
        .icp_delete()
        .icp_id("abc")
        .send()
        .await
        .expect("the view's headers");
    tagged.assert_async().await;

    for (name, value) in [
        ("x-api-key", "lk_other_0123456789"),
        ("content-length", "3"),
        ("host", "elsewhere.example"),
        ("bad header", "x"),
    ] {
        let err = client
            .with_options(CallOptions::new().header(name, value))
            .expect_err(name);
        assert_eq!(err.kind(), ErrorKind::Configuration, "{name}: {err}");
        assert!(err.to_string().contains(name), "{name}: {err}");
        assert!(!format!("{err:?}").contains("lk_other"), "{err:?}");
    }
}

#[tokio::test]
async fn a_view_has_its_own_body_limit() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v1/icp/abc");
            then.status(200)
                .header("content-type", "application/json")
                .json_body(icp_json());
        })
        .await;
    let (client, _) = client(&server.base_url());
    let err = client
        .with_options(CallOptions::new().max_response_body(16))
        .expect("valid options")
        .icp_retrieve()
        .icp_id("abc")
        .send()
        .await
        .expect_err("over 16 bytes");
    assert_eq!(err.kind(), ErrorKind::BodyTooLarge, "{err}");
    assert_context(&err, "icp_retrieve", "GET", "/v1/icp/{icp_id}", 1);
    client
        .icp_retrieve()
        .icp_id("abc")
        .send()
        .await
        .expect("within the client's limit");
}

#[tokio::test]
async fn a_view_shares_the_clients_connections() {
    let (base_url, accepted) = keep_alive_server(icp_json().to_string()).await;
    let (client, _) = client(&base_url);
    let view = client
        .with_options(CallOptions::new().timeout(Duration::from_secs(5)))
        .expect("valid options");
    for _ in 0..3 {
        for caller in [&client, &view] {
            caller
                .icp_retrieve()
                .icp_id("abc")
                .send()
                .await
                .expect("an ICP");
        }
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "one pooled connection");

    // A client of its own opens a connection of its own.
    let (other, _) = crate::client(&base_url);
    other
        .icp_retrieve()
        .icp_id("abc")
        .send()
        .await
        .expect("an ICP");
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_stay_at_the_calls_in_flight() {
    // With reqwest's default pool the client keeps a connection per call in
    // flight; a cap on idle connections below the concurrency would close
    // and reopen connections on every round.
    const IN_FLIGHT: usize = 48;
    const ROUNDS: usize = 5;
    let (base_url, accepted) = keep_alive_server(icp_json().to_string()).await;
    let (client, _) = client(&base_url);
    for _ in 0..ROUNDS {
        let calls = (0..IN_FLIGHT).map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.icp_retrieve().icp_id("abc").send().await })
        });
        for call in futures::future::join_all(calls).await {
            call.expect("the task").expect("an ICP");
        }
    }
    let opened = accepted.load(Ordering::SeqCst);
    assert!(
        opened <= IN_FLIGHT + IN_FLIGHT / 2,
        "{opened} connections for {ROUNDS} rounds of {IN_FLIGHT} calls"
    );
}

#[test]
fn the_state_reports_the_retry_policy_in_force_and_its_debug_the_settings_not_the_key() {
    use linkt::ClientInfo as _;

    let client = Client::builder()
        .api_key(linkt::ApiKey::new(crate::KEY).expect("valid key"))
        .base_url("http://127.0.0.1:9")
        .retry_policy(RetryPolicy::new().with_max_retries(5))
        .max_response_body(4096)
        .default_header("x-team", "growth")
        .build()
        .expect("client");
    assert_eq!(client.inner().retry_policy().max_retries(), 5);
    let view = client
        .with_options(CallOptions::new().retry_policy(RetryPolicy::none()))
        .expect("valid options");
    assert_eq!(view.inner().retry_policy().max_retries(), 0);
    assert_eq!(client.inner().retry_policy().max_retries(), 5);

    let shown = format!("{:?}", client.inner());
    assert!(shown.starts_with("ClientState"), "{shown}");
    for part in [
        "api_key: \"<redacted>\"",
        "max_retries: 5",
        "max_response_body: 4096",
        "x-team",
        "linkt-rust/",
    ] {
        assert!(shown.contains(part), "{part} in {shown}");
    }
    assert!(!shown.contains(crate::KEY), "{shown}");
    assert!(
        !shown.contains("growth"),
        "header values are not shown: {shown}"
    );
}

#[test]
fn a_builder_shows_its_settings_not_the_key() {
    let builder = Client::builder()
        .api_key(linkt::ApiKey::new(crate::KEY).expect("valid key"))
        .timeout(Duration::from_secs(7))
        .connect_timeout(Duration::from_millis(250))
        .pool_max_idle_per_host(3)
        .pool_idle_timeout(None)
        .max_response_body(4096);
    let shown = format!("{builder:?}");
    assert!(shown.starts_with("ClientBuilder"), "{shown}");
    for part in [
        "timeout: 7s",
        "connect_timeout: 250ms",
        "pool_max_idle_per_host: 3",
        "pool_idle_timeout: None",
        "max_response_body: 4096",
    ] {
        assert!(shown.contains(part), "{part} in {shown}");
    }
    assert!(!shown.contains(crate::KEY), "{shown}");
}

#[test]
fn call_options_show_header_names_not_values() {
    let options = CallOptions::new()
        .timeout(Duration::from_secs(2))
        .header("x-session", "s3cr3t-session-token");
    let shown = format!("{options:?}");
    assert!(shown.starts_with("CallOptions"), "{shown}");
    assert!(
        shown.contains("timeout: Some(2s)") && shown.contains("x-session"),
        "{shown}"
    );
    assert!(!shown.contains("s3cr3t-session-token"), "{shown}");
}

#[tokio::test]
async fn from_env_keeps_what_was_set_in_code_before_it() {
    // The key and base URL given in code take precedence over the
    // environment; the environment must not name an environment, which
    // would conflict with the base URL.
    assert!(
        std::env::var_os("LINKT_ENVIRONMENT").is_none_or(|value| value.is_empty()),
        "this test expects LINKT_ENVIRONMENT to be unset"
    );
    let server = MockServer::start_async().await;
    let listed = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v1/icp")
                .header("x-api-key", crate::KEY);
            then.status(200).json_body(
                serde_json::json!({ "icps": [], "page": 1, "page_size": 20, "total": 0 }),
            );
        })
        .await;
    let client = Client::builder()
        .api_key(linkt::ApiKey::new(crate::KEY).expect("valid key"))
        .base_url(server.base_url())
        .from_env()
        .build()
        .expect("the key and base URL from code");

    let page = client.icp_list().send().await.expect("an empty page");
    assert_eq!(page.total, 0);
    assert_eq!(listed.calls_async().await, 1);
}
