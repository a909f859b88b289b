//! Redacting a secret the caller knows (the API key) from everything the
//! server sent back.

use http::StatusCode;
use linkt_error::{CallContext, Error, ResponseRecord};

use crate::headers;

const KEY: &str = "lk_live_0123456789abcdef";

/// A 401 whose body echoes the key everywhere a server can put text.
fn echoing_error() -> Error {
    let body = serde_json::json!({
        "detail": [{
            "loc": ["header", KEY],
            "msg": format!("invalid api key {KEY}, got {KEY}"),
            "type": KEY,
            "input": {"x-api-key": KEY, "nested": [KEY, {KEY: 1}]},
            "ctx": {"key": KEY},
        }],
        "code": KEY,
    });
    Error::from_response(
        StatusCode::UNAUTHORIZED,
        &headers(&[
            ("x-request-id", &format!("req-{KEY}")),
            ("www-authenticate", &format!("ApiKey key=\"{KEY}\"")),
        ]),
        &serde_json::to_vec(&body).unwrap(),
        &CallContext::new().with_operation_id("icp_list"),
    )
}

/// Every place an error shows or holds server text.
fn everything(err: &Error) -> Vec<(&'static str, String)> {
    let mut all = vec![
        ("display", err.to_string()),
        ("debug", format!("{err:?}")),
        ("message", err.message().to_owned()),
        ("body_excerpt", format!("{:?}", err.body_excerpt())),
        ("detail", format!("{:?}", err.detail())),
        ("code", format!("{:?}", err.code())),
        ("request_id", format!("{:?}", err.request_id())),
        ("validation", format!("{:?}", err.validation_errors())),
        ("decode_path", format!("{:?}", err.decode_path())),
    ];
    if let Some(headers) = err.headers() {
        for value in headers.values() {
            all.push((
                "header",
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            ));
        }
    }
    all
}

#[test]
fn a_redacted_secret_is_nowhere() {
    let err = echoing_error();
    assert!(err.message().contains(KEY), "the fixture echoes the key");

    let err = err.with_redacted(KEY);
    for (place, text) in everything(&err) {
        assert!(!text.contains(KEY), "{place}: {text}");
    }
    assert_eq!(
        err.message(),
        "header.[redacted]: invalid api key [redacted], got [redacted]"
    );
    assert_eq!(err.request_id(), Some("req-[redacted]"));
    assert_eq!(err.code(), Some("[redacted]"));
    assert!(err.body_excerpt().unwrap().contains("[redacted]"));
}

#[test]
fn redact_in_place_is_the_same() {
    let mut err = echoing_error();
    err.redact(KEY);
    assert_eq!(
        err.to_string(),
        echoing_error().with_redacted(KEY).to_string()
    );
    assert!(!format!("{err:?}").contains(KEY));
}

#[test]
fn a_detail_string_echoing_the_key() {
    let body = format!(r#"{{"detail":"Invalid API key: {KEY}"}}"#);
    let err = Error::from_response(
        StatusCode::UNAUTHORIZED,
        &headers(&[]),
        body.as_bytes(),
        &CallContext::new(),
    )
    .with_redacted(KEY);
    assert_eq!(
        err.to_string(),
        "401 unauthorized: Invalid API key: [redacted]"
    );
    assert_eq!(
        err.detail(),
        Some(&serde_json::json!("Invalid API key: [redacted]"))
    );
    assert_eq!(
        err.body_excerpt(),
        Some(r#"{"detail":"Invalid API key: [redacted]"}"#)
    );
    for (place, text) in everything(&err) {
        assert!(!text.contains(KEY), "{place}: {text}");
    }
}

#[test]
fn a_secret_shorter_than_eight_bytes_is_left_alone() {
    let short = "abc1234";
    let body = format!(r#"{{"detail":"token {short} rejected"}}"#);
    let err = Error::from_response(
        StatusCode::BAD_REQUEST,
        &headers(&[]),
        body.as_bytes(),
        &CallContext::new(),
    )
    .with_redacted(short)
    .with_redacted("");
    assert_eq!(err.message(), "token abc1234 rejected");
    assert!(err.body_excerpt().unwrap().contains(short));
}

#[test]
fn the_json_escaped_form_in_the_excerpt_is_redacted() {
    let secret = "sk\"quoted\\key";
    let body =
        serde_json::to_vec(&serde_json::json!({ "detail": format!("bad {secret}") })).unwrap();
    assert!(String::from_utf8_lossy(&body).contains(r#"sk\"quoted\\key"#));
    let err = Error::from_response(
        StatusCode::BAD_REQUEST,
        &headers(&[]),
        &body,
        &CallContext::new(),
    )
    .with_redacted(secret);
    assert_eq!(err.body_excerpt(), Some(r#"{"detail":"bad [redacted]"}"#));
    assert_eq!(err.message(), "bad [redacted]");
}

#[test]
fn a_secret_cut_by_the_bound_leaves_no_prefix() {
    // The excerpt (512 bytes) ends in the middle of the key.
    let detail = format!("{}{KEY}", "a".repeat(490));
    let body = serde_json::to_vec(&serde_json::json!({ "detail": detail })).unwrap();
    let err = Error::from_response(
        StatusCode::BAD_REQUEST,
        &headers(&[]),
        &body,
        &CallContext::new(),
    );
    let excerpt = err.body_excerpt().unwrap();
    assert!(excerpt.ends_with("alk_live_…"), "{excerpt}");
    let err = err.with_redacted(KEY);
    let excerpt = err.body_excerpt().unwrap();
    assert!(excerpt.ends_with("a[redacted]…"), "{excerpt}");
    assert!(excerpt.len() <= linkt_error::BODY_EXCERPT_LIMIT);
}

#[test]
fn a_decode_error_echoing_the_key() {
    let body = format!(r#"{{"id": "{KEY}"}}"#);
    let serde_err =
        serde_json::from_str::<std::collections::HashMap<String, u32>>(&body).unwrap_err();
    let err = Error::decode_as::<std::collections::HashMap<String, u32>>(
        serde_err,
        body.as_bytes(),
        &CallContext::new(),
    );
    assert!(err.message().contains(KEY));
    let err = err.with_redacted(KEY);
    for (place, text) in everything(&err) {
        assert!(!text.contains(KEY), "{place}: {text}");
    }
    let source = std::error::Error::source(&err).unwrap();
    assert!(!source.to_string().contains(KEY));
    assert!(!format!("{source:?}").contains(KEY));
}

/// How the client's hooks use it: the body is redacted in the record before
/// `From<progenitor_client::Error<E>>` reads it.
#[test]
fn a_record_redacted_by_the_hooks() {
    let mut record = ResponseRecord {
        operation_id: "icp_list",
        attempts: 1,
        body: format!(r#"{{"detail":"Invalid API key: {KEY}"}}"#).into(),
    };
    record.redact(KEY);
    let response = http::Response::builder()
        .status(401)
        .extension(record.clone())
        .body(record.body.clone())
        .unwrap();
    let err = linkt_error::Error::from(progenitor_client::Error::<()>::UnexpectedResponse(
        reqwest::Response::from(response),
    ));
    assert_eq!(
        err.to_string(),
        "401 unauthorized: Invalid API key: [redacted] (operation icp_list)"
    );
}

/// The body excerpt of a 400 whose `detail` is `filler` followed by [`KEY`].
fn excerpt_after_redaction(filler: &str) -> (String, String) {
    let body =
        serde_json::to_vec(&serde_json::json!({ "detail": format!("{filler}{KEY}") })).unwrap();
    let err = Error::from_response(
        StatusCode::BAD_REQUEST,
        &headers(&[]),
        &body,
        &CallContext::new(),
    );
    let before = err.body_excerpt().unwrap().to_owned();
    let after = err.with_redacted(KEY).body_excerpt().unwrap().to_owned();
    (before, after)
}

#[test]
fn a_cut_secret_is_replaced_in_place_within_the_bound() {
    // Cut 12 bytes into the key: the marker takes the key's place.
    let (before, after) = excerpt_after_redaction(&"a".repeat(486));
    assert!(before.ends_with("aalk_live_0123…"), "{before}");
    assert_eq!(
        after,
        format!("{{\"detail\":\"{}[redacted]…", "a".repeat(486))
    );

    // Cut 6 bytes in, after three-byte characters: the text before the
    // marker gives way for it, on a character boundary, and the excerpt
    // stays within its limit.
    let (before, after) = excerpt_after_redaction(&"€".repeat(164));
    assert!(before.ends_with("€lk_liv…"), "{before}");
    assert_eq!(
        after,
        format!("{{\"detail\":\"{}[redacted]…", "€".repeat(162))
    );
    assert!(after.len() <= linkt_error::BODY_EXCERPT_LIMIT);
}

#[test]
fn a_message_that_redaction_lengthens_is_cut_back_to_its_limit() {
    // Eight-byte secrets become ten-byte markers: the message would grow
    // past its limit, and is cut before a whole marker, never inside one.
    let secret = "s3cr3t!!";
    let detail = format!("{secret} ").repeat(linkt_error::MESSAGE_LIMIT / 9);
    let body = serde_json::to_vec(&serde_json::json!({ "detail": detail })).unwrap();
    let err = Error::from_response(
        StatusCode::BAD_REQUEST,
        &headers(&[]),
        &body,
        &CallContext::new(),
    )
    .with_redacted(secret);
    let message = err.message();
    assert!(
        message.len() <= linkt_error::MESSAGE_LIMIT,
        "{}",
        message.len()
    );
    let head = message.strip_suffix('…').expect("cut");
    assert!(
        head.ends_with("[redacted]") || head.ends_with(' '),
        "{}",
        &head[head.len() - 20..]
    );
    assert!(!message.contains(secret));
}

#[test]
fn a_source_that_echoes_the_secret_is_kept_as_its_redacted_message() {
    #[derive(Debug, serde::Deserialize)]
    enum Plan {
        Free,
    }
    let body = format!("\"{KEY}\"");
    let serde_err = serde_json::from_str::<Plan>(&body).expect_err("unknown variant");
    let err = Error::decode(serde_err, body.as_bytes(), &CallContext::new()).with_redacted(KEY);
    let source = std::error::Error::source(&err).expect("a source");
    assert!(
        source
            .to_string()
            .starts_with("unknown variant `[redacted]`"),
        "{source}"
    );
    assert!(
        format!("{source:?}").starts_with("RedactedSource(\"unknown variant `[redacted]`"),
        "{source:?}"
    );
    assert!(!format!("{err:?}").contains(KEY));
}

#[test]
fn a_source_whose_message_alone_echoes_the_secret_is_redacted() {
    /// An error that prints the key in its message but not in its `Debug`.
    struct Echo;
    impl std::fmt::Display for Echo {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "rejected {KEY}")
        }
    }
    impl std::fmt::Debug for Echo {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("Echo")
        }
    }
    impl std::error::Error for Echo {}

    let err = Error::configuration_from(Echo).with_redacted(KEY);
    let source = std::error::Error::source(&err).expect("a source");
    assert_eq!(source.to_string(), "rejected [redacted]");
    assert_eq!(err.message(), "rejected [redacted]");
}
