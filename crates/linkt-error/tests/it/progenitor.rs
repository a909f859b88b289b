//! `From<progenitor_client::Error<E>>`: every variant.

use bytes::Bytes;
use http::StatusCode;
use linkt_error::{Error, ErrorKind, ResponseRecord};
use progenitor_client::{Error as P, ResponseValue};

use crate::headers;

/// A `reqwest::Response` as the client's `exec` hook re-creates it.
fn response(status: u16, body: &'static str, record: Option<ResponseRecord>) -> reqwest::Response {
    let mut response = http::Response::builder()
        .status(status)
        .header("x-request-id", "req-1")
        .header("content-type", "application/json")
        .body(Bytes::from_static(body.as_bytes()))
        .unwrap();
    if let Some(record) = record {
        response.extensions_mut().insert(record);
    }
    reqwest::Response::from(response)
}

fn record(body: &'static str) -> ResponseRecord {
    ResponseRecord {
        operation_id: "icp_get",
        attempts: 3,
        body: Bytes::from_static(body.as_bytes()),
    }
}

#[test]
fn unexpected_response_with_record_reads_the_body() {
    let body = r#"{"detail":"ICP not found"}"#;
    let err = Error::from(P::<()>::UnexpectedResponse(response(
        404,
        body,
        Some(record(body)),
    )));
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.message(), "ICP not found");
    assert_eq!(err.operation_id(), Some("icp_get"));
    assert_eq!(err.attempts(), Some(3));
    assert_eq!(err.request_id(), Some("req-1"));
    assert_eq!(
        err.to_string(),
        "404 not found: ICP not found (operation icp_get, request id req-1, after 3 attempts)"
    );
}

#[test]
fn unexpected_response_without_record_uses_status_and_headers() {
    let err = Error::from(P::<()>::UnexpectedResponse(response(503, "ignored", None)));
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.message(), "service unavailable");
    assert_eq!(err.body_excerpt(), None);
    assert_eq!(err.request_id(), Some("req-1"));
    assert_eq!(err.operation_id(), None);
    assert!(err.is_retryable());
    assert_eq!(
        err.to_string(),
        "503 service unavailable (request id req-1)"
    );
}

#[test]
fn unexpected_success_status_is_unexpected() {
    let err = Error::from(P::<()>::UnexpectedResponse(response(
        201,
        "{}",
        Some(record("{}")),
    )));
    assert_eq!(err.kind(), ErrorKind::UnexpectedStatus);
    assert!(!err.is_retryable());
}

#[test]
fn error_response_maps_status_and_headers() {
    #[derive(Debug)]
    struct Typed;
    let value = ResponseValue::new(
        Typed,
        StatusCode::TOO_MANY_REQUESTS,
        headers(&[("retry-after", "7")]),
    );
    let err = Error::from(P::ErrorResponse(value));
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.code(), Some("rate_limit_exceeded"));
    assert_eq!(err.retry_after(), Some(std::time::Duration::from_secs(7)));
    assert_eq!(err.to_string(), "rate limited (429), retry after 7s");
}

#[test]
fn invalid_response_payload_is_a_decode_error() {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code, reason = "decoded only")]
    struct Icp {
        created_at: String,
    }
    let body = Bytes::from_static(br#"{"created_at": 5}"#);
    let serde_err = serde_json::from_slice::<Icp>(&body).unwrap_err();
    let err = Error::from(P::<()>::InvalidResponsePayload(body, serde_err));
    assert_eq!(err.kind(), ErrorKind::Decode);
    // progenitor's error does not carry the type: a data error has no path.
    assert_eq!(err.decode_path(), None);
    assert_eq!(
        err.to_string(),
        "failed to decode response: invalid type: integer `5`, expected a string"
    );
    assert_eq!(err.body_excerpt(), Some(r#"{"created_at": 5}"#));
}

#[test]
fn invalid_response_payload_that_is_not_json_names_where_it_breaks() {
    let body = Bytes::from_static(br#"{"icps": [{"created_at": "t"}, {"#);
    let serde_err = serde_json::from_slice::<serde_json::Value>(&body).unwrap_err();
    let err = Error::from(P::<()>::InvalidResponsePayload(body, serde_err));
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert_eq!(err.decode_path(), Some(".icps[1]"));
    assert_eq!(
        err.to_string(),
        "failed to decode response at .icps[1]: EOF while parsing an object at line 1 column 32"
    );
}

#[test]
fn invalid_request_and_custom() {
    let err = Error::from(P::<()>::InvalidRequest("bad header".into()));
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert_eq!(err.to_string(), "invalid request: bad header");
    let err = Error::from(P::<()>::Custom("hook refused".into()));
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert_eq!(err.message(), "hook refused");
}

#[test]
fn transport_variants() {
    let builder_error = || {
        reqwest::Request::try_from(
            http::Request::builder()
                .uri("/relative")
                .body(Vec::<u8>::new())
                .unwrap(),
        )
        .unwrap_err()
    };
    for err in [
        Error::from(P::<()>::CommunicationError(builder_error())),
        Error::from(P::<()>::ResponseBodyError(builder_error())),
        Error::from(P::<()>::InvalidUpgrade(builder_error())),
    ] {
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
        assert!(!err.is_retryable());
        assert!(std::error::Error::source(&err).is_some());
    }
}

#[test]
fn question_mark_works_for_any_error_type() {
    struct NotDebugNotSerialize;
    #[allow(clippy::result_large_err, reason = "the shape of a generated call")]
    fn call() -> Result<(), P<NotDebugNotSerialize>> {
        Err(P::InvalidRequest("x".into()))
    }
    fn wrapper() -> linkt_error::Result<()> {
        call()?;
        Ok(())
    }
    assert_eq!(wrapper().unwrap_err().kind(), ErrorKind::InvalidRequest);
}

#[test]
fn a_record_debugs_as_its_call_and_body_length_not_the_body() {
    let record = record(r#"{"detail": "key sk-live-123 rejected"}"#);
    assert_eq!(
        format!("{record:?}"),
        format!(
            "ResponseRecord {{ operation_id: {:?}, attempts: {}, body_len: {} }}",
            record.operation_id,
            record.attempts,
            record.body.len()
        )
    );
    assert!(!format!("{record:?}").contains("sk-live-123"));
}
