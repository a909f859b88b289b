//! Default headers: the ones the client owns are refused, `User-Agent` is
//! prepended to the client's own, any other reaches the server.

use httpmock::MockServer;
use linkt::{ApiKey, Client, ErrorKind};
use serde_json::json;

use crate::{KEY, client_with};

fn empty_page() -> serde_json::Value {
    json!({ "icps": [], "page": 1, "page_size": 20, "total": 0 })
}

#[test]
fn a_default_header_the_client_owns_is_refused_naming_it() {
    for name in [
        "Host",
        "Content-Length",
        "Transfer-Encoding",
        "x-api-key",
        "Connection",
        "Content-Type",
        "Accept",
        "x-linkt-retry-count",
        "TE",
        "Trailer",
        "Upgrade",
        "Expect",
        "Keep-Alive",
        "Proxy-Connection",
    ] {
        let err = Client::builder()
            .api_key(ApiKey::new(KEY).expect("key"))
            .default_header(name, "1")
            .build()
            .expect_err(name);
        assert_eq!(err.kind(), ErrorKind::Configuration, "{name}: {err}");
        assert!(
            err.to_string()
                .to_ascii_lowercase()
                .contains(&name.to_ascii_lowercase()),
            "{name}: {err}"
        );
    }
}

#[test]
fn a_refused_header_is_reported_even_when_a_valid_one_follows() {
    let err = Client::builder()
        .api_key(ApiKey::new(KEY).expect("key"))
        .default_header("Host", "elsewhere.example")
        .default_header("x-team", "a")
        .build()
        .expect_err("host refused");
    assert!(err.to_string().contains("Host"), "{err}");
}

#[tokio::test]
async fn a_default_user_agent_is_prepended_to_the_clients_own() {
    let server = MockServer::start_async().await;
    let expected = format!("myapp/1.2 linkt-rust/{}", env!("CARGO_PKG_VERSION"));
    let mock = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v1/icp")
                .header("user-agent", expected.as_str());
            then.status(200).json_body(empty_page());
        })
        .await;
    let (client, _) = client_with(
        &server.base_url(),
        Client::builder().default_header("User-Agent", "myapp/1.2"),
    );
    client.icp_list().send().await.expect("listed");
    mock.assert_async().await;
}

#[tokio::test]
async fn an_allowed_custom_header_reaches_the_server() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v1/icp")
                .header("x-team", "a")
                .header("x-api-key", KEY);
            then.status(200).json_body(empty_page());
        })
        .await;
    let (client, _) = client_with(
        &server.base_url(),
        Client::builder().default_header("x-team", "a"),
    );
    client.icp_list().send().await.expect("listed");
    mock.assert_async().await;
}
