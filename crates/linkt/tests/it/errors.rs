//! Failures through the real client map to `linkt::Error` with the server's
//! message, the request id, the operation and the attempt count.

use httpmock::MockServer;
use linkt::ErrorKind;
use serde_json::json;

use crate::client;

async fn failing_list(status: u16, body: &str, request_id: Option<&str>) -> linkt::Error {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v1/icp");
            let then = then.status(status).body(body);
            if let Some(id) = request_id {
                then.header("x-request-id", id);
            }
        })
        .await;
    let (client, _) = crate::client_with(
        &server.base_url(),
        linkt::Client::builder().retry_policy(linkt::RetryPolicy::none()),
    );
    client.icp_list().send().await.expect_err("failure")
}

#[tokio::test]
async fn statuses_map_to_kinds_with_message_and_request_id() {
    let cases = [
        (400, ErrorKind::BadRequest, "bad filter"),
        (401, ErrorKind::Unauthorized, "invalid api key"),
        (403, ErrorKind::Forbidden, "key lacks permission"),
        (404, ErrorKind::NotFound, "ICP not found"),
        (409, ErrorKind::Conflict, "lock timeout"),
        (429, ErrorKind::RateLimited, "rate_limit_exceeded"),
        (500, ErrorKind::Server, "internal error"),
        (503, ErrorKind::Server, "maintenance"),
    ];
    for (status, kind, detail) in cases {
        let body = json!({ "detail": detail }).to_string();
        let err = failing_list(status, &body, Some("req-42")).await;
        assert_eq!(err.kind(), kind, "{status}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(err.message(), detail, "{status}");
        assert_eq!(err.request_id(), Some("req-42"));
        assert_eq!(err.operation_id(), Some("icp_list"));
        assert_eq!(err.attempts(), Some(1));
    }
    let err = failing_list(404, r#"{"detail":"gone"}"#, None).await;
    assert_eq!(err.request_id(), None);
}

#[tokio::test]
async fn validation_errors_carry_fastapi_details() {
    let body = json!({ "detail": [
        { "loc": ["query", "page"], "msg": "Input should be greater than or equal to 1",
          "type": "greater_than_equal", "input": "0", "ctx": { "ge": 1 } },
        { "loc": ["body", "entity_targets", 0, "description"], "msg": "Field required",
          "type": "missing" }
    ] });
    let err = failing_list(422, &body.to_string(), None).await;
    assert_eq!(err.kind(), ErrorKind::Validation);
    let issues = err.validation_errors();
    assert_eq!(issues.len(), 2);
    assert_eq!(issues[0].path(), "query.page");
    assert_eq!(issues[0].error_type, "greater_than_equal");
    assert_eq!(issues[1].path(), "body.entity_targets[0].description");
    assert_eq!(issues[1].msg, "Field required");
}

#[tokio::test]
async fn a_proxy_html_page_becomes_a_bounded_message() {
    let page = format!(
        "<html><head><title>502 Bad Gateway</title></head><body>{}</body></html>",
        "x".repeat(10_000)
    );
    let err = failing_list(502, &page, None).await;
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.message(), "502 Bad Gateway");
    let excerpt = err.body_excerpt().expect("excerpt");
    assert!(excerpt.len() <= 520, "{}", excerpt.len());
}

#[tokio::test]
async fn an_empty_body_still_has_kind_and_status() {
    let err = failing_list(404, "", None).await;
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    assert!(!err.message().is_empty());
}

#[tokio::test]
async fn a_body_that_does_not_match_the_schema_is_a_decode_error_naming_the_field() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v1/icp");
            then.status(200).json_body(json!({
                "icps": [ { "id": "a", "name": 5 } ], "page": 1, "page_size": 20, "total": 1
            }));
        })
        .await;
    let (client, _) = client(&server.base_url());
    let err = client.icp_list().send().await.expect_err("bad body");
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert_eq!(err.decode_path(), Some(".icps[0].name"), "{err}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn invalid_parameters_are_rejected_before_sending() {
    let (client, _) = client("http://127.0.0.1:9");
    // The vendor spec constrains task ids to 24-hex ObjectIds.
    let err = client
        .task_retrieve()
        .task_id("not-an-object-id")
        .send()
        .await
        .expect_err("invalid id");
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(err.to_string().contains("task_id"), "{err}");
}
