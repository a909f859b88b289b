//! Body excerpts and messages stay bounded and char-boundary safe for any
//! body.

use http::StatusCode;
use linkt_error::{BODY_EXCERPT_LIMIT, CallContext, Error, MESSAGE_LIMIT};
use proptest::prelude::*;

use crate::headers;

fn status() -> impl Strategy<Value = StatusCode> {
    (100u16..=999).prop_map(|code| StatusCode::from_u16(code).unwrap())
}

/// Arbitrary bytes, arbitrary text (multi-byte heavy), and JSON-ish bodies.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..2000),
        any::<String>().prop_map(String::into_bytes),
        "[é€😀a<>{}\\[\\]\":, ]{0,1500}".prop_map(String::into_bytes),
        "[^\"\\\\]{0,2000}".prop_map(|s| format!(r#"{{"detail":"{s}"}}"#).into_bytes()),
        (0usize..1200).prop_map(|n| format!("{}😀", "a".repeat(n)).into_bytes()),
    ]
}

proptest! {
    #[test]
    fn from_response_never_panics_and_stays_bounded(status in status(), body in body()) {
        let err = Error::from_response(status, &headers(&[]), &body, &CallContext::new());
        prop_assert_eq!(err.status(), Some(status));
        prop_assert!(err.message().len() <= MESSAGE_LIMIT);
        if let Some(excerpt) = err.body_excerpt() {
            prop_assert!(excerpt.len() <= BODY_EXCERPT_LIMIT, "{} bytes", excerpt.len());
            prop_assert!(!excerpt.is_empty());
        }
        let _ = err.to_string();
        let _ = format!("{err:?}");
    }

    #[test]
    fn decode_never_panics_and_stays_bounded(body in body()) {
        if let Err(serde_err) = serde_json::from_slice::<Vec<u32>>(&body) {
            let err = Error::decode_as::<Vec<u32>>(serde_err, &body, &CallContext::new());
            prop_assert!(err.message().len() <= MESSAGE_LIMIT);
            prop_assert!(err.body_excerpt().is_none_or(|e| e.len() <= BODY_EXCERPT_LIMIT));
            prop_assert!(err.decode_path().is_some());
            let _ = err.to_string();
        }
    }

    #[test]
    fn short_text_bodies_are_kept_whole(text in "[!-~]([ -~]{0,200}[!-~])?") {
        let err = Error::from_response(StatusCode::BAD_GATEWAY, &headers(&[]), text.as_bytes(), &CallContext::new());
        prop_assert_eq!(err.body_excerpt(), Some(text.as_str()));
    }
}

#[test]
fn long_body_is_cut_on_a_char_boundary_with_a_marker() {
    // 'é' is two bytes; 600 of them cannot end exactly on the limit.
    let body = "é".repeat(600);
    let err = Error::from_response(
        StatusCode::BAD_GATEWAY,
        &headers(&[]),
        body.as_bytes(),
        &CallContext::new(),
    );
    let excerpt = err.body_excerpt().unwrap();
    assert!(excerpt.len() <= BODY_EXCERPT_LIMIT);
    assert!(excerpt.ends_with('…'));
    assert!(excerpt.trim_end_matches('…').chars().all(|c| c == 'é'));
    assert_eq!(excerpt.len(), BODY_EXCERPT_LIMIT - 1, "254 × 'é' + '…'");
}

#[test]
fn invalid_utf8_is_replaced() {
    let err = Error::from_response(
        StatusCode::BAD_GATEWAY,
        &headers(&[]),
        b"bad \xff\xfe body",
        &CallContext::new(),
    );
    assert_eq!(err.body_excerpt(), Some("bad \u{fffd}\u{fffd} body"));
}

#[test]
fn a_body_of_exactly_the_limit_is_kept_whole() {
    let body = "a".repeat(BODY_EXCERPT_LIMIT);
    let err = Error::from_response(
        StatusCode::BAD_GATEWAY,
        &headers(&[]),
        body.as_bytes(),
        &CallContext::new(),
    );
    assert_eq!(err.body_excerpt(), Some(body.as_str()));
}

#[test]
fn a_message_of_exactly_the_limit_is_kept_whole_and_a_longer_one_cut_to_it() {
    let message = |text: &str| {
        let body = serde_json::json!({ "detail": text }).to_string();
        Error::from_response(
            StatusCode::BAD_REQUEST,
            &headers(&[]),
            body.as_bytes(),
            &CallContext::new(),
        )
        .message()
        .to_owned()
    };
    let exact = "a".repeat(MESSAGE_LIMIT);
    assert_eq!(message(&exact), exact);
    let cut = message(&"a".repeat(2 * MESSAGE_LIMIT));
    assert_eq!(cut.len(), MESSAGE_LIMIT);
    assert_eq!(
        cut,
        format!("{}…", "a".repeat(MESSAGE_LIMIT - '…'.len_utf8()))
    );
}

#[test]
fn invalid_utf8_at_the_end_of_a_whole_body_is_replaced() {
    for (body, excerpt) in [
        (&b"bad tail \xff"[..], "bad tail \u{fffd}"),
        (&b"split \xc3"[..], "split \u{fffd}"),
    ] {
        let err = Error::from_response(
            StatusCode::BAD_GATEWAY,
            &headers(&[]),
            body,
            &CallContext::new(),
        );
        assert_eq!(err.body_excerpt(), Some(excerpt), "{body:?}");
    }
}

#[test]
fn the_prefix_of_a_failure_body_over_the_limit_is_marked_within_the_limit() {
    // The client read exactly as much as an excerpt holds: the excerpt
    // still says the body went on, and stays within its limit.
    let read = "a".repeat(BODY_EXCERPT_LIMIT);
    let err = Error::incomplete_body(
        StatusCode::INTERNAL_SERVER_ERROR,
        &headers(&[]),
        read.as_bytes(),
        linkt_error::BodyShortfall::OverLimit { limit: 4096 },
        &CallContext::new(),
    );
    let expected = format!("{}…", "a".repeat(BODY_EXCERPT_LIMIT - '…'.len_utf8()));
    assert_eq!(err.body_excerpt(), Some(expected.as_str()));
}

#[test]
fn a_success_whose_body_broke_off_keeps_its_headers() {
    let sent = headers(&[("x-request-id", "req_3"), ("content-length", "100")]);
    let err = Error::incomplete_body(
        StatusCode::OK,
        &sent,
        b"{\"icps\"",
        linkt_error::BodyShortfall::CutOff {
            read: 7,
            failure: linkt_backoff::TransportFailure::ConnectionLost,
        },
        &CallContext::new(),
    );
    assert_eq!(err.headers(), Some(&sent));
    assert_eq!(err.request_id(), Some("req_3"));
    assert_eq!(err.code(), None);
}
