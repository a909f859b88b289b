//! `Display` is one safe line whatever the server sent: control characters
//! and bidi overrides escaped, server text bounded.

use http::StatusCode;
use linkt_error::{CallContext, Error};
use proptest::prelude::*;

use crate::headers;

/// Longest `Display` of any error, in characters.
const DISPLAY_BOUND: usize = 1024;

fn detail_body(detail: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "detail": detail })).unwrap()
}

fn from_body(status: StatusCode, body: &[u8]) -> Error {
    Error::from_response(status, &headers(&[]), body, &CallContext::new())
}

/// A character that must never reach a terminal unescaped.
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
}

#[track_caller]
fn assert_safe(err: &Error) {
    let display = err.to_string();
    assert!(!display.chars().any(unsafe_char), "{display:?}");
    assert!(
        display.chars().count() <= DISPLAY_BOUND,
        "{} chars",
        display.chars().count()
    );
    let debug = format!("{err:?}");
    assert!(!debug.chars().any(unsafe_char), "{debug:?}");
}

#[test]
fn newlines_and_escapes_in_detail_are_escaped() {
    let err = from_body(
        StatusCode::BAD_REQUEST,
        &detail_body("line one\nline two\u{1b}[31m"),
    );
    assert_eq!(
        err.to_string(),
        r"400 bad request: line one\nline two\u{1b}[31m"
    );
    assert_safe(&err);
    // The accessor keeps the server's text as sent.
    assert_eq!(err.message(), "line one\nline two\u{1b}[31m");
}

#[test]
fn every_control_character_is_escaped() {
    let c0: String = ('\0'..='\u{1f}').collect();
    let err = from_body(StatusCode::BAD_GATEWAY, &detail_body(&c0));
    let display = err.to_string();
    assert_safe(&err);
    assert!(
        display.starts_with(r"502 bad gateway: \u{0}\u{1}"),
        "{display}"
    );
    assert!(display.contains(r"\u{8}\t\n\u{b}\u{c}\r\u{e}"), "{display}");
    assert!(
        display.ends_with(r"\u{1b}\u{1c}\u{1d}\u{1e}\u{1f}"),
        "{display}"
    );
    let del_c1: String = ('\u{7f}'..='\u{9f}').collect();
    let err = from_body(StatusCode::BAD_GATEWAY, &detail_body(&del_c1));
    let display = err.to_string();
    assert_safe(&err);
    assert!(
        display.starts_with(r"502 bad gateway: \u{7f}\u{80}"),
        "{display}"
    );
    assert!(display.ends_with(r"\u{9e}\u{9f}"), "{display}");
}

#[test]
fn bidi_overrides_are_escaped() {
    let err = from_body(
        StatusCode::NOT_FOUND,
        &detail_body("file \u{202e}fdp.exe\u{202c} and \u{2066}isolate\u{2069}"),
    );
    assert_eq!(
        err.to_string(),
        r"404 not found: file \u{202e}fdp.exe\u{202c} and \u{2066}isolate\u{2069}"
    );
    assert_safe(&err);
}

#[test]
fn long_detail_is_bounded_in_display() {
    let detail = "é".repeat(10_000);
    let err = from_body(StatusCode::BAD_REQUEST, &detail_body(&detail));
    let display = err.to_string();
    let shown = display.strip_prefix("400 bad request: ").unwrap();
    assert!(shown.ends_with('…'), "{display}");
    assert_eq!(shown.chars().count(), 301, "300 characters and the marker");
    assert!(shown.trim_end_matches('…').chars().all(|c| c == 'é'));
    assert_safe(&err);
}

#[test]
fn request_id_code_and_validation_text_are_escaped() {
    let body = serde_json::json!({
        "detail": [{"loc": ["body", "na\u{1b}me"], "msg": "bad\r\nvalue", "type": "x"}],
    });
    let err = Error::from_response(
        StatusCode::UNPROCESSABLE_ENTITY,
        &headers(&[("x-request-id", "id\twith tab")]),
        &serde_json::to_vec(&body).unwrap(),
        &CallContext::new(),
    );
    assert_eq!(
        err.to_string(),
        r"validation failed (422): body.na\u{1b}me: bad\r\nvalue (request id id\twith tab)"
    );
    assert_safe(&err);
}

#[test]
fn decode_path_is_escaped() {
    let body = "{\"k\u{85}\u{202e}\": 5}";
    let serde_err =
        serde_json::from_str::<std::collections::HashMap<String, String>>(body).unwrap_err();
    let err = Error::decode_as::<std::collections::HashMap<String, String>>(
        serde_err,
        body.as_bytes(),
        &CallContext::new(),
    );
    assert_eq!(
        err.to_string(),
        r#"failed to decode response at ["k\u{85}\u{202e}"]: invalid type: integer `5`, expected a string"#
    );
    assert_safe(&err);
}

fn status() -> impl Strategy<Value = StatusCode> {
    (100u16..=999).prop_map(|code| StatusCode::from_u16(code).unwrap())
}

/// Any Unicode, and text made mostly of control characters, bidi controls
/// and line separators.
fn server_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\u{0}-\u{1f}\u{7f}-\u{9f}\u{202a}-\u{202e}\u{2066}-\u{2069}\u{2028}\u{2029}a é]{0,3000}",
        (0usize..12_000).prop_map(|n| "\u{1b}".repeat(n)),
    ]
}

/// Bodies that put `text` wherever a server can put text.
fn body(text: String) -> Vec<Vec<u8>> {
    let json = |value: serde_json::Value| serde_json::to_vec(&value).unwrap();
    vec![
        json(serde_json::json!({ "detail": text })),
        json(serde_json::json!({ "detail": { "code": text, "message": text } })),
        json(serde_json::json!({ "detail": { "weird": text } })),
        json(serde_json::json!({ "error": text, "code": text })),
        json(serde_json::json!({
            "detail": [{"loc": [text, 0, text], "msg": text, "type": text, "input": text}]
        })),
        json(serde_json::json!(text)),
        text.clone().into_bytes(),
        format!("<html><title>{text}</title></html>").into_bytes(),
    ]
}

proptest! {
    #[test]
    fn display_is_one_bounded_line_for_any_server_text(
        status in status(),
        text in server_text(),
        request_id in "[\t -~\u{80}-\u{ff}]{0,300}",
    ) {
        for body in body(text.clone()) {
            let headers = match http::HeaderValue::from_str(&request_id) {
                Ok(_) => headers(&[("x-request-id", &request_id)]),
                Err(_) => headers(&[]),
            };
            let err = Error::from_response(status, &headers, &body, &CallContext::new())
                .with_operation_id(text.clone());
            let display = err.to_string();
            prop_assert!(!display.chars().any(unsafe_char), "{:?}", display);
            prop_assert!(!display.contains('\n'));
            prop_assert!(display.chars().count() <= DISPLAY_BOUND, "{} chars", display.chars().count());
            let debug = format!("{err:?}");
            prop_assert!(!debug.chars().any(unsafe_char), "{:?}", debug);
        }
        let key_body = serde_json::to_vec(&serde_json::json!({ text.clone(): 5 })).unwrap();
        if let Err(serde_err) = serde_json::from_slice::<std::collections::HashMap<String, String>>(&key_body) {
            let err = Error::decode_as::<std::collections::HashMap<String, String>>(serde_err, &key_body, &CallContext::new());
            let display = err.to_string();
            prop_assert!(!display.chars().any(unsafe_char), "{:?}", display);
            prop_assert!(display.chars().count() <= DISPLAY_BOUND, "{} chars", display.chars().count());
        }
    }
}
