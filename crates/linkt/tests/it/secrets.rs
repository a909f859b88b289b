//! The key never shows: not in `Debug`/`Display` of the key, the builder, the
//! client or any error, nor in tracing output at TRACE level while calls
//! succeed, fail and retry.

use httpmock::MockServer;
use linkt::{ApiKey, Client};
use proptest::prelude::*;
use serde_json::json;

fn server() -> MockServer {
    let server = MockServer::start();
    // A retried success, a non-retried failure, and a retried failure.
    server.mock(|when, then| {
        when.method("GET")
            .path("/v1/icp")
            .header("x-linkt-retry-count", "0");
        then.status(503).json_body(json!({ "detail": "busy" }));
    });
    server.mock(|when, then| {
        when.method("GET")
            .path("/v1/icp")
            .header("x-linkt-retry-count", "1");
        then.status(200)
            .json_body(json!({ "icps": [], "page": 1, "page_size": 20, "total": 0 }));
    });
    server.mock(|when, then| {
        when.method("DELETE").path_includes("/v1/icp/");
        then.status(401)
            .json_body(json!({ "detail": "invalid api key" }));
    });
    server.mock(|when, then| {
        when.method("GET").path("/v1/sheet");
        then.status(500).body("<html>oops</html>");
    });
    server
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn the_key_never_appears(key in "[A-Za-z0-9_.~-]{12,64}") {
        static SERVER: std::sync::OnceLock<MockServer> = std::sync::OnceLock::new();
        let server = SERVER.get_or_init(server);

        let logs = crate::tracing_capture();
        let logged_before = logs.len();

        let api_key = ApiKey::new(key.clone()).expect("valid key");
        let builder = Client::builder()
            .api_key(api_key.clone())
            .base_url(server.base_url())
            .sleep_with(|_| std::future::ready(()));
        let mut shown = vec![format!("{api_key:?}"), format!("{api_key}"), format!("{builder:?}")];
        let client = builder.build().expect("client");
        shown.push(format!("{client:?}"));

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            client.icp_list().send().await.expect("retried success");
            let errors = [
                client.icp_delete().icp_id("507f1f77bcf86cd799439011").send().await
                        .expect_err("401"),
                client.sheet_list().send().await.expect_err("500"),
                client.task_retrieve().task_id("bad").send().await.expect_err("invalid"),
            ];
            for err in errors {
                shown.push(format!("{err}"));
                shown.push(format!("{err:?}"));
                shown.push(format!("{err:#}"));
            }
        });
        // Other tests log concurrently; every line must be free of this key.
        let logs = logs.text_from(logged_before);
        prop_assert!(logs.contains("linkt.call"), "tracing recorded the calls");
        prop_assert!(logs.contains("retrying"), "tracing recorded the retry");
        prop_assert!(!logs.contains(&key), "key in tracing output: {}", logs.lines().find(|l| l.contains(&key)).unwrap_or_default().chars().take(300).collect::<String>());
        for text in &shown {
            prop_assert!(!text.contains(&key), "key in {text}");
        }
    }
}

/// A server that echoes the request's key, in its `detail` and in a header,
/// does not get it into any part of the error.
#[tokio::test]
async fn a_key_the_server_echoes_is_redacted_from_the_error() {
    let server = MockServer::start_async().await;
    let key = crate::KEY;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v1/icp");
            then.status(401)
                .header("x-echo", format!("key={key}"))
                .json_body(json!({
                    "detail": format!("invalid api key {key}\nplease check"),
                    "key": key,
                }));
        })
        .await;
    let (client, _) = crate::client(&server.base_url());
    let err = client.icp_list().send().await.expect_err("401");

    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    let display = err.to_string();
    assert!(display.contains("[redacted]"), "{display}");
    assert_eq!(display.lines().count(), 1, "{display}");
    let mut shown = vec![
        display,
        format!("{err:?}"),
        err.message().to_owned(),
        err.body_excerpt().unwrap_or_default().to_owned(),
        err.detail().map(ToString::to_string).unwrap_or_default(),
    ];
    if let Some(headers) = err.headers() {
        shown.extend(
            headers
                .values()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
        );
    }
    for text in &shown {
        assert!(!text.contains(key), "the key in {text}");
    }
}
