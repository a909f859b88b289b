//! Error responses: every status × FastAPI body shape × request id, as data.

use std::time::Duration;

use http::StatusCode;
use linkt_error::{CallContext, Error, ErrorKind, LocSegment};

use crate::headers;

/// What a status alone determines.
struct StatusRow {
    status: u16,
    kind: ErrorKind,
    code: Option<&'static str>,
    retryable: bool,
    /// `Display` prefix before `: message`.
    head: &'static str,
}

const STATUSES: &[StatusRow] = &[
    StatusRow {
        status: 400,
        kind: ErrorKind::BadRequest,
        code: None,
        retryable: false,
        head: "400 bad request",
    },
    StatusRow {
        status: 401,
        kind: ErrorKind::Unauthorized,
        code: Some("unauthorized"),
        retryable: false,
        head: "401 unauthorized",
    },
    StatusRow {
        status: 403,
        kind: ErrorKind::Forbidden,
        code: Some("forbidden"),
        retryable: false,
        head: "403 forbidden",
    },
    StatusRow {
        status: 404,
        kind: ErrorKind::NotFound,
        code: None,
        retryable: false,
        head: "404 not found",
    },
    StatusRow {
        status: 408,
        kind: ErrorKind::Client,
        code: None,
        retryable: true,
        head: "408 request timeout",
    },
    StatusRow {
        status: 409,
        kind: ErrorKind::Conflict,
        code: None,
        retryable: true,
        head: "409 conflict",
    },
    StatusRow {
        status: 418,
        kind: ErrorKind::Client,
        code: None,
        retryable: false,
        head: "418 i'm a teapot",
    },
    StatusRow {
        status: 422,
        kind: ErrorKind::Validation,
        code: None,
        retryable: false,
        head: "validation failed (422)",
    },
    StatusRow {
        status: 429,
        kind: ErrorKind::RateLimited,
        code: Some("rate_limit_exceeded"),
        retryable: true,
        head: "rate limited (429)",
    },
    StatusRow {
        status: 500,
        kind: ErrorKind::Server,
        code: None,
        retryable: true,
        head: "500 internal server error",
    },
    StatusRow {
        status: 502,
        kind: ErrorKind::Server,
        code: None,
        retryable: true,
        head: "502 bad gateway",
    },
    StatusRow {
        status: 503,
        kind: ErrorKind::Server,
        code: None,
        retryable: true,
        head: "503 service unavailable",
    },
];

/// A body shape and what it determines.
struct BodyRow {
    name: &'static str,
    body: &'static str,
    /// `None`: the message is the lower-case status reason and is not shown.
    message: Option<&'static str>,
    /// A code from the body, overriding the status's code.
    code: Option<&'static str>,
}

const BODIES: &[BodyRow] = &[
    BodyRow {
        name: "detail string",
        body: r#"{"detail":"Entity not found"}"#,
        message: Some("Entity not found"),
        code: None,
    },
    BodyRow {
        name: "detail list",
        body: r#"{"detail":[{"loc":["body","entity_targets",0,"description"],"msg":"Field required","type":"missing","input":{"entity_type":"company"}},{"loc":["query","page"],"msg":"Input should be greater than or equal to 1","type":"greater_than_equal","input":"0","ctx":{"ge":1}}]}"#,
        message: Some("body.entity_targets[0].description: Field required (and 1 more)"),
        code: None,
    },
    BodyRow {
        name: "detail object",
        body: r#"{"detail":{"code":"quota_exceeded","message":"Monthly quota exceeded"}}"#,
        message: Some("Monthly quota exceeded"),
        code: Some("quota_exceeded"),
    },
    BodyRow {
        name: "detail object without message",
        body: r#"{"detail":{"field":"name"}}"#,
        message: Some(r#"{"field":"name"}"#),
        code: None,
    },
    BodyRow {
        name: "error field",
        body: r#"{"error":"rate_limit_exceeded","message":"Too many requests"}"#,
        message: Some("Too many requests"),
        code: Some("rate_limit_exceeded"),
    },
    BodyRow {
        name: "html",
        body: "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
        message: Some("502 Bad Gateway"),
        code: None,
    },
    BodyRow {
        name: "plain text",
        body: "upstream connect error or disconnect/reset before headers\n",
        message: Some("upstream connect error or disconnect/reset before headers"),
        code: None,
    },
    BodyRow {
        name: "empty",
        body: "",
        message: None,
        code: None,
    },
    BodyRow {
        name: "whitespace",
        body: " \n",
        message: None,
        code: None,
    },
];

#[track_caller]
fn check(row: &StatusRow, body: &BodyRow, request_id: Option<&str>) {
    let status = StatusCode::from_u16(row.status).unwrap();
    let headers = match request_id {
        Some(id) => headers(&[("x-request-id", id)]),
        None => headers(&[]),
    };
    let err = Error::from_response(status, &headers, body.body.as_bytes(), &CallContext::new());
    let what = format!("{} × {} × request id {request_id:?}", row.status, body.name);

    assert_eq!(err.kind(), row.kind, "{what}");
    assert_eq!(err.status(), Some(status), "{what}");
    assert_eq!(err.code(), body.code.or(row.code), "{what}");
    assert_eq!(err.request_id(), request_id, "{what}");
    assert_eq!(err.is_retryable(), row.retryable, "{what}");
    assert_eq!(err.retry_after(), None, "{what}");
    assert_eq!(err.operation_id(), None, "{what}");

    let reason = status.canonical_reason().unwrap().to_ascii_lowercase();
    assert_eq!(err.message(), body.message.unwrap_or(&reason), "{what}");

    let mut display = row.head.to_owned();
    if let Some(message) = body.message {
        display.push_str(": ");
        display.push_str(message);
    }
    if let Some(id) = request_id {
        display.push_str(&format!(" (request id {id})"));
    }
    assert_eq!(err.to_string(), display, "{what}");

    if body.body.trim().is_empty() {
        assert_eq!(err.body_excerpt(), None, "{what}");
    } else {
        assert_eq!(err.body_excerpt(), Some(body.body.trim()), "{what}");
    }
    assert_eq!(
        err.validation_errors().len(),
        if body.name == "detail list" { 2 } else { 0 },
        "{what}"
    );
}

#[test]
fn status_body_request_id_table() {
    for row in STATUSES {
        for body in BODIES {
            for request_id in [None, Some("req_8f2c")] {
                check(row, body, request_id);
            }
        }
    }
}

#[test]
fn validation_issues_are_parsed() {
    let body = BODIES.iter().find(|b| b.name == "detail list").unwrap();
    let err = Error::from_response(
        StatusCode::UNPROCESSABLE_ENTITY,
        &headers(&[]),
        body.body.as_bytes(),
        &CallContext::new().with_operation_id("entity_create"),
    );
    let issues = err.validation_errors();
    assert_eq!(
        issues[0].loc,
        [
            LocSegment::Key("body".into()),
            LocSegment::Key("entity_targets".into()),
            LocSegment::Index(0),
            LocSegment::Key("description".into()),
        ]
    );
    assert_eq!(issues[0].msg, "Field required");
    assert_eq!(issues[0].error_type, "missing");
    assert_eq!(
        issues[0].input,
        Some(serde_json::json!({"entity_type": "company"}))
    );
    assert_eq!(issues[0].ctx, None);
    assert_eq!(issues[1].path(), "query.page");
    assert_eq!(issues[1].ctx, Some(serde_json::json!({"ge": 1})));
    assert_eq!(
        issues[1].to_string(),
        "query.page: Input should be greater than or equal to 1"
    );
    assert!(err.detail().unwrap().is_array());
    assert_eq!(
        err.to_string(),
        "validation failed (422): body.entity_targets[0].description: Field required (and 1 more) (operation entity_create)"
    );
}

#[test]
fn rate_limited_with_retry_after_and_rate_limit_headers() {
    let headers = headers(&[
        ("retry-after", "120"),
        ("x-ratelimit-limit", "60"),
        ("x-ratelimit-remaining", "0"),
        ("x-ratelimit-reset", "120"),
    ]);
    let err = Error::from_response(
        StatusCode::TOO_MANY_REQUESTS,
        &headers,
        b"",
        &CallContext::new(),
    );
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));
    assert_eq!(err.to_string(), "rate limited (429), retry after 120s");
    let rate_limit = err.rate_limit().unwrap();
    assert_eq!(rate_limit.limit, Some(60));
    assert_eq!(rate_limit.remaining, Some(0));
    assert!(err.is_retryable());
}

#[test]
fn ietf_rate_limit_headers() {
    let headers = headers(&[("ratelimit", "limit=100, remaining=50, reset=30")]);
    let err = Error::from_response(
        StatusCode::TOO_MANY_REQUESTS,
        &headers,
        b"",
        &CallContext::new(),
    );
    let rate_limit = err.rate_limit().unwrap();
    assert_eq!(rate_limit.limit, Some(100));
    assert_eq!(rate_limit.remaining, Some(50));
    assert_eq!(rate_limit.reset, Some(Duration::from_secs(30)));
}

#[test]
fn retry_after_ms_wins_and_is_shown() {
    let headers = headers(&[("retry-after-ms", "1500"), ("retry-after", "9")]);
    let err = Error::from_response(
        StatusCode::SERVICE_UNAVAILABLE,
        &headers,
        br#"{"detail":"maintenance"}"#,
        &CallContext::new()
            .with_operation_id("icp_list")
            .with_attempts(3),
    );
    assert_eq!(err.retry_after(), Some(Duration::from_millis(1500)));
    assert_eq!(
        err.to_string(),
        "503 service unavailable: maintenance, retry after 1500ms (operation icp_list, after 3 attempts)"
    );
    assert_eq!(err.attempts(), Some(3));
}

#[test]
fn x_should_retry_overrides_status_rules() {
    let no = headers(&[("x-should-retry", "false")]);
    let err = Error::from_response(
        StatusCode::SERVICE_UNAVAILABLE,
        &no,
        b"",
        &CallContext::new(),
    );
    assert!(!err.is_retryable());
    let yes = headers(&[("x-should-retry", "true")]);
    let err = Error::from_response(StatusCode::BAD_REQUEST, &yes, b"", &CallContext::new());
    assert!(err.is_retryable());
}

#[test]
fn other_statuses() {
    for (status, kind, display) in [
        (
            302,
            ErrorKind::UnexpectedStatus,
            "unexpected status 302 found",
        ),
        (
            201,
            ErrorKind::UnexpectedStatus,
            "unexpected status 201 created",
        ),
        (
            101,
            ErrorKind::UnexpectedStatus,
            "unexpected status 101 switching protocols",
        ),
        (499, ErrorKind::Client, "499 client error"),
        (599, ErrorKind::Server, "599 server error"),
    ] {
        let status = StatusCode::from_u16(status).unwrap();
        let err = Error::from_response(status, &headers(&[]), b"", &CallContext::new());
        assert_eq!(err.kind(), kind, "{status}");
        assert_eq!(err.to_string(), display, "{status}");
        assert_eq!(err.is_retryable(), status.is_server_error(), "{status}");
    }
}

#[test]
fn status_beyond_599_is_unexpected() {
    let status = StatusCode::from_u16(600).unwrap();
    let err = Error::from_response(status, &headers(&[]), b"", &CallContext::new());
    assert_eq!(err.kind(), ErrorKind::UnexpectedStatus);
    assert_eq!(err.to_string(), "unexpected status 600");
}

#[test]
fn odd_json_bodies() {
    for (body, message) in [
        (r#""just a string""#, "just a string"),
        ("42", "42"),
        (r#"{"detail":null,"message":"gone"}"#, "gone"),
        (r#"{"detail":[1,2]}"#, "[1,2]"),
        (r#"{"detail":17}"#, "17"),
        (r#"{"foo":"bar"}"#, r#"{"foo":"bar"}"#),
        ("{}", "bad request"),
        ("{\"detail\": \"unterminated", "{\"detail\": \"unterminated"),
    ] {
        let err = Error::from_response(
            StatusCode::BAD_REQUEST,
            &headers(&[]),
            body.as_bytes(),
            &CallContext::new(),
        );
        assert_eq!(err.message(), message, "{body}");
    }
}

#[test]
fn with_context_fills_in_the_call() {
    let err = Error::from_response(
        StatusCode::NOT_FOUND,
        &headers(&[]),
        b"",
        &CallContext::new(),
    )
    .with_context(
        &CallContext::new()
            .with_operation_id("icp_get")
            .with_attempts(1),
    );
    assert_eq!(err.operation_id(), Some("icp_get"));
    assert_eq!(err.attempts(), Some(1));
    assert_eq!(err.to_string(), "404 not found (operation icp_get)");
    let err = err.with_attempts(2).with_operation_id("icp_get2");
    assert_eq!(
        err.to_string(),
        "404 not found (operation icp_get2, after 2 attempts)"
    );
}

#[test]
fn typed_error_response_keeps_the_body() {
    #[derive(serde::Serialize)]
    struct HttpValidationError {
        detail: Vec<serde_json::Value>,
    }
    let value = progenitor_client::ResponseValue::new(
        HttpValidationError {
            detail: vec![
                serde_json::json!({"loc": ["body", "name"], "msg": "Field required", "type": "missing"}),
            ],
        },
        StatusCode::UNPROCESSABLE_ENTITY,
        headers(&[("x-request-id", "r-1")]),
    );
    let err = Error::from_error_response(&value, &CallContext::new());
    assert_eq!(err.message(), "body.name: Field required");
    assert_eq!(err.request_id(), Some("r-1"));
    assert_eq!(err.validation_errors().len(), 1);
}

#[test]
fn configuration_and_invalid_request() {
    let err = Error::configuration("missing api key");
    assert_eq!(err.kind(), ErrorKind::Configuration);
    assert_eq!(err.to_string(), "invalid configuration: missing api key");
    assert!(std::error::Error::source(&err).is_none());

    let source = std::io::Error::other("bad base url");
    let err = Error::configuration_from(source);
    assert_eq!(err.message(), "bad base url");
    assert!(std::error::Error::source(&err).is_some());
    assert!(!err.is_retryable());

    let err = Error::invalid_request(
        "page must be >= 1",
        &CallContext::new().with_operation_id("icp_list"),
    );
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert_eq!(
        err.to_string(),
        "invalid request: page must be >= 1 (operation icp_list)"
    );
}

#[test]
fn error_is_send_sync_static() {
    fn assert_bounds<T: Send + Sync + 'static + std::error::Error>() {}
    assert_bounds::<Error>();
    assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
}

#[test]
fn an_error_field_is_the_code_only_when_it_looks_like_one() {
    for (body, code, message) in [
        (
            r#"{"error": "Something went wrong."}"#,
            None,
            "Something went wrong.",
        ),
        (r#"{"error": "Rate_Limit"}"#, None, "Rate_Limit"),
        (r#"{"error": "quota exceeded"}"#, None, "quota exceeded"),
        (
            r#"{"error": "quota-exceeded.v2_1"}"#,
            Some("quota-exceeded.v2_1"),
            "quota-exceeded.v2_1",
        ),
        (r#"{"error": ""}"#, None, ""),
        // A blank `code` does not hide a usable `error`; a `code` is trimmed.
        (
            r#"{"code": "  ", "error": "not_ready"}"#,
            Some("not_ready"),
            "not_ready",
        ),
        (
            r#"{"code": " bad_filter ", "message": "Bad filter"}"#,
            Some("bad_filter"),
            "Bad filter",
        ),
    ] {
        let err = Error::from_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &headers(&[]),
            body.as_bytes(),
            &CallContext::new(),
        );
        assert_eq!(err.code(), code, "{body}");
        assert_eq!(err.message(), message, "{body}");
    }
    // Over 64 characters is a sentence, however it is spelt.
    let long = "a".repeat(65);
    let body = format!(r#"{{"error": "{long}"}}"#);
    let err = Error::from_response(
        StatusCode::BAD_REQUEST,
        &headers(&[]),
        body.as_bytes(),
        &CallContext::new(),
    );
    assert_eq!(err.code(), None);
    let exactly = "a".repeat(64);
    let body = format!(r#"{{"error": "{exactly}"}}"#);
    let err = Error::from_response(
        StatusCode::BAD_REQUEST,
        &headers(&[]),
        body.as_bytes(),
        &CallContext::new(),
    );
    assert_eq!(err.code(), Some(exactly.as_str()));
}

#[test]
fn an_error_response_keeps_its_headers() {
    let sent = headers(&[("x-request-id", "req_9"), ("x-custom", "kept")]);
    let err = Error::from_response(
        StatusCode::SERVICE_UNAVAILABLE,
        &sent,
        b"",
        &CallContext::new(),
    );
    assert_eq!(err.headers(), Some(&sent));
    assert_eq!(
        err.headers()
            .and_then(|h| h.get("x-custom"))
            .map(|v| v.as_bytes()),
        Some(&b"kept"[..])
    );
    // Errors without a response have none.
    assert_eq!(
        Error::invalid_request("bad", &CallContext::new()).headers(),
        None
    );
    assert_eq!(Error::configuration("bad").headers(), None);
}

#[test]
fn a_kind_displays_as_its_name() {
    for kind in [
        ErrorKind::RateLimited,
        ErrorKind::NotFound,
        ErrorKind::BodyTooLarge,
        ErrorKind::RateLimiter,
    ] {
        assert_eq!(kind.to_string(), kind.as_str());
    }
    assert_eq!(ErrorKind::RateLimited.to_string(), "rate limited");
}

#[test]
fn debug_shows_what_is_known_and_leaves_out_what_is_not() {
    let body =
        br#"{"detail": [{"loc": ["body", "name"], "msg": "Field required", "type": "missing"}]}"#;
    let err = Error::from_response(
        StatusCode::UNPROCESSABLE_ENTITY,
        &headers(&[("x-request-id", "req_7")]),
        body,
        &CallContext::new().with_operation_id("icp_create"),
    );
    let debug = format!("{err:?}");
    for part in [
        "Error { kind: Validation, status: Some(422)",
        "request_id: \"req_7\"",
        "operation_id: \"icp_create\"",
        "validation_errors: [",
        "Field required",
    ] {
        assert!(debug.contains(part), "{part} in {debug}");
    }
    for absent in ["attempts", "retry_after", "decode_path", "source"] {
        assert!(!debug.contains(absent), "{absent} in {debug}");
    }

    let err = Error::from_response(
        StatusCode::NOT_FOUND,
        &headers(&[]),
        br#"{"detail": "ICP not found"}"#,
        &CallContext::new().with_attempts(2),
    );
    let debug = format!("{err:?}");
    assert!(
        debug.starts_with("Error { kind: NotFound, status: Some(404), message: \"ICP not found\""),
        "{debug}"
    );
    assert!(debug.contains("attempts: 2"), "{debug}");
    assert!(!debug.contains("validation_errors"), "{debug}");
}

#[test]
fn a_success_cut_off_displays_as_the_connection_error_it_is() {
    let err = Error::incomplete_body(
        StatusCode::OK,
        &headers(&[]),
        b"{\"ic",
        linkt_error::BodyShortfall::CutOff {
            read: 4,
            failure: linkt_backoff::TransportFailure::ConnectionLost,
        },
        &CallContext::new(),
    );
    assert_eq!(
        err.to_string(),
        "connection error: response body cut off after 4 bytes: connection lost"
    );
}

#[test]
fn a_single_loc_value_is_a_one_segment_location() {
    let body = br#"{"detail": [
        {"loc": "name", "msg": "Field required", "type": "missing"},
        {"loc": 3, "msg": "Not a number", "type": "int_parsing"}
    ]}"#;
    let err = Error::from_response(
        StatusCode::UNPROCESSABLE_ENTITY,
        &headers(&[]),
        body,
        &CallContext::new(),
    );
    let issues = err.validation_errors();
    assert_eq!(issues[0].loc, [LocSegment::Key("name".into())]);
    assert_eq!(issues[1].loc, [LocSegment::Index(3)]);
}

#[test]
fn a_location_segment_displays_as_its_key_or_index() {
    assert_eq!(LocSegment::Key("name".into()).to_string(), "name");
    assert_eq!(LocSegment::Key("a\nb".into()).to_string(), "a\\nb");
    assert_eq!(LocSegment::Index(7).to_string(), "7");
}
