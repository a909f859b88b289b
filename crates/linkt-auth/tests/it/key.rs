//! API key validation, redaction and header value.

use linkt_auth::{API_KEY_HEADER, API_KEY_HEADER_NAME, ApiKey, AuthError, InvalidCharKind};

#[track_caller]
fn check(input: &str, expected: Result<(), (usize, InvalidCharKind)>) {
    match (ApiKey::new(input), expected) {
        (Ok(key), Ok(())) => assert_eq!(key.expose_secret(), input),
        (Err(AuthError::InvalidApiKeyChar { position, kind }), Err((want_pos, want_kind))) => {
            assert_eq!((position, kind), (want_pos, want_kind), "input {input:?}");
        }
        (got, want) => panic!("input {input:?}: got {got:?}, want {want:?}"),
    }
}

#[test]
fn validation_table() {
    use InvalidCharKind::*;
    check("sk-live-0123456789abcdef", Ok(()));
    check("a", Ok(()));
    check("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", Ok(()));
    check("abc def", Err((4, Space)));
    check(" abc", Err((1, Space)));
    check("abc\n", Err((4, Control)));
    check("abc\r\n", Err((4, Control)));
    check("a\tb", Err((2, Control)));
    check("a\0b", Err((2, Control)));
    check("a\x7fb", Err((2, Control)));
    check("ключ", Err((1, NonAscii)));
    check("ab\u{a0}c", Err((3, NonAscii)));
    check("abc\u{201d}", Err((4, NonAscii)));
    // Position counts characters, not bytes.
    check("é\n", Err((1, NonAscii)));
    check("xé", Err((2, NonAscii)));
}

#[test]
fn empty_and_blank_keys_are_rejected() {
    for input in ["", " ", "   ", "\t", "\n", " \r\n "] {
        assert!(
            matches!(ApiKey::new(input), Err(AuthError::EmptyApiKey)),
            "{input:?}"
        );
    }
}

#[test]
fn error_names_position_and_kind_but_not_the_key() {
    let err = ApiKey::new("secret-value with-space").unwrap_err();
    let msg = err.to_string();
    assert_eq!(
        msg,
        "invalid api key: character 13 is a space (an api key may contain only visible ascii characters)"
    );
    assert!(!msg.contains("secret"));
    assert!(!format!("{err:?}").contains("secret"));
}

#[test]
fn debug_and_display_are_redacted() {
    let key = ApiKey::new("sk-abc").unwrap();
    assert_eq!(format!("{key:?}"), "ApiKey(<redacted>)");
    assert_eq!(format!("{key}"), "ApiKey(<redacted>)");
    assert_eq!(format!("{key:#?}"), "ApiKey(<redacted>)");
}

#[test]
fn header_value_is_sensitive() {
    let key = ApiKey::new("sk-abc").unwrap();
    let value = key.header_value();
    assert!(value.is_sensitive());
    assert_eq!(value.as_bytes(), b"sk-abc");
    assert!(!format!("{value:?}").contains("sk-abc"));
    assert_eq!(API_KEY_HEADER, "x-api-key");
    assert_eq!(API_KEY_HEADER_NAME.as_str(), API_KEY_HEADER);
}

#[test]
fn equality_and_parsing() {
    let a = ApiKey::new("sk-abc").unwrap();
    assert_eq!(a, "sk-abc".parse::<ApiKey>().unwrap());
    assert_eq!(a, ApiKey::try_from(String::from("sk-abc")).unwrap());
    assert_ne!(a, ApiKey::new("sk-abd").unwrap());
    assert_ne!(a, ApiKey::new("sk-ab").unwrap());
    assert_eq!(a.clone(), a);
}
