//! Path parameters through the real client: an id that would change the
//! path's shape (empty, or a dot segment in any spelling) is refused before
//! anything is sent, and every other id stays one path segment.

use httpmock::{Mock, MockServer};
use linkt::{Client, ErrorKind};

use crate::client;

/// A server that answers every request, and its catch-all mock.
async fn catch_all(server: &MockServer) -> Mock<'_> {
    server
        .mock_async(|_when, then| {
            then.status(204);
        })
        .await
}

/// Asserts that `result` is the client's refusal of `parameter`'s `value`
/// and that the server received nothing.
async fn assert_refused<T: std::fmt::Debug>(
    result: Result<T, linkt::Error>,
    parameter: &str,
    value: &str,
    mock: &Mock<'_>,
) {
    let err = result.expect_err("an id that changes the path");
    assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
    assert!(
        err.message()
            .contains(&format!("path parameter `{parameter}`")),
        "{err}"
    );
    if !value.is_empty() {
        assert!(err.message().contains(&format!("`{value}`")), "{err}");
    }
    assert_eq!(mock.calls_async().await, 0, "the server received a request");
}

fn setup(server: &MockServer) -> Client {
    client(&server.base_url()).0
}

#[tokio::test]
async fn icp_delete_refuses_dot_dot() {
    let server = MockServer::start_async().await;
    let mock = catch_all(&server).await;
    let client = setup(&server);

    // Sent as is, `DELETE /v1/icp/..` would be `DELETE /v1/`.
    let err = client
        .icp_delete()
        .icp_id("..")
        .send()
        .await
        .expect_err("a dot segment");

    assert_eq!(
        err.to_string(),
        "invalid request: path parameter `icp_id` may not be `..` \
         (a dot segment would change the path) (operation icp_delete)"
    );
    let result = client.icp_delete().icp_id("..").send().await;
    assert_refused(result, "icp_id", "..", &mock).await;
}

#[tokio::test]
async fn sheet_delete_refuses_dot() {
    let server = MockServer::start_async().await;
    let mock = catch_all(&server).await;
    let client = setup(&server);

    // `DELETE /v1/sheet/.` would be `DELETE /v1/sheet/`.
    let result = client.sheet_delete().sheet_id(".").send().await;

    assert_refused(result, "sheet_id", ".", &mock).await;
}

#[tokio::test]
async fn entity_retrieve_refuses_an_empty_id() {
    let server = MockServer::start_async().await;
    let mock = catch_all(&server).await;
    let client = setup(&server);

    // `GET /v1/entity/` would be another operation.
    let result = client.entity_retrieve().entity_id("").send().await;

    assert_refused(result, "entity_id", "", &mock).await;
}

#[tokio::test]
async fn percent_encoded_dot_segments_are_refused_in_every_case() {
    let server = MockServer::start_async().await;
    let mock = catch_all(&server).await;
    let client = setup(&server);

    for id in ["%2e%2e", "%2E%2E", "%2e.", ".%2E", "%2e", "%2E"] {
        let result = client.icp_retrieve().icp_id(id).send().await;
        assert_refused(result, "icp_id", id, &mock).await;
    }
}

#[tokio::test]
async fn a_refused_id_in_a_request_with_a_body_sends_nothing() {
    let server = MockServer::start_async().await;
    let mock = catch_all(&server).await;
    let client = setup(&server);
    let body: linkt::types::UpdateIcpRequest =
        serde_json::from_value(serde_json::json!({ "name": "n" })).expect("icp body");

    let result = client.icp_update().icp_id("..").body(body).send().await;

    assert_refused(result, "icp_id", "..", &mock).await;
}

#[tokio::test]
async fn an_id_with_separators_and_dots_stays_one_segment() {
    let server = MockServer::start_async().await;
    let one_segment = server
        .mock_async(|when, then| {
            when.method("DELETE").path("/v1/icp/..%2F..%5Cx%20.");
            then.status(204);
        })
        .await;
    let elsewhere = catch_all(&server).await;
    let client = setup(&server);

    // `/` is encoded; `\`, which a URL parser reads as `/` in an http URL,
    // must be encoded too.
    client
        .icp_delete()
        .icp_id("../..\\x .")
        .send()
        .await
        .expect("deleted");

    one_segment.assert_calls_async(1).await;
    assert_eq!(elsewhere.calls_async().await, 0);
}

#[tokio::test]
async fn ids_made_of_dots_beyond_two_are_sent() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("DELETE").path("/v1/icp/...");
            then.status(204);
        })
        .await;
    let elsewhere = catch_all(&server).await;
    let client = setup(&server);

    client
        .icp_delete()
        .icp_id("...")
        .send()
        .await
        .expect("deleted");

    mock.assert_calls_async(1).await;
    assert_eq!(elsewhere.calls_async().await, 0);
}
