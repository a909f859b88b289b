//! Decode failures: the JSON path of the failure, found by decoding again.

use linkt_error::{CallContext, Error, ErrorKind};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "fields exist only to be decoded")]
struct IcpList {
    icps: Vec<Icp>,
    page: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "fields exist only to be decoded")]
struct Icp {
    id: Option<String>,
    created_at: String,
    #[serde(default)]
    entity_targets: Vec<Target>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "fields exist only to be decoded")]
struct Target {
    entity_type: Kind,
    description: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Company,
    Person,
}

/// Decodes `body` as an [`IcpList`] and maps the failure.
#[track_caller]
fn decode(body: &str) -> Error {
    let err = serde_json::from_str::<IcpList>(body).unwrap_err();
    Error::decode_as::<IcpList>(
        err,
        body.as_bytes(),
        &CallContext::new().with_operation_id("icp_list"),
    )
}

#[track_caller]
fn check(body: &str, path: &str, display: &str) {
    let err = decode(body);
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert_eq!(err.decode_path(), Some(path), "{body}");
    assert_eq!(err.to_string(), display, "{body}");
    assert!(!err.is_retryable());
    assert!(std::error::Error::source(&err).is_some());
    assert_eq!(err.status(), None);
}

#[test]
fn invalid_type_names_the_field() {
    check(
        r#"{"icps":[{"created_at":5}]}"#,
        ".icps[0].created_at",
        "failed to decode response of icp_list at .icps[0].created_at: invalid type: integer `5`, expected a string",
    );
}

#[test]
fn paths_in_pretty_printed_and_nested_documents() {
    let body = r#"{
  "page": 1,
  "icps": [
    {"id": "a", "created_at": "2025-01-05T12:00:00Z"},
    {
      "id": "b",
      "created_at": "2025-01-05T12:00:00Z",
      "entity_targets": [
        {"entity_type": "company", "description": "x"},
        {"entity_type": "planet", "description": "y"}
      ]
    }
  ]
}"#;
    check(
        body,
        ".icps[1].entity_targets[1].entity_type",
        "failed to decode response of icp_list at .icps[1].entity_targets[1].entity_type: unknown variant `planet`, expected `company` or `person`",
    );
    let body = r#"{"icps": [{"created_at": "t", "entity_targets": {"not": "a list"}}]}"#;
    check(
        body,
        ".icps[0].entity_targets",
        "failed to decode response of icp_list at .icps[0].entity_targets: invalid type: map, expected a sequence",
    );
    check(
        r#"{"page": "one", "icps": []}"#,
        ".page",
        "failed to decode response of icp_list at .page: invalid type: string \"one\", expected u32",
    );
    check(
        r#"{"icps": [{"created_at": "t", "id": "\"quoted\" \\ {[,]}"}, {"created_at": true}]}"#,
        ".icps[1].created_at",
        "failed to decode response of icp_list at .icps[1].created_at: invalid type: boolean `true`, expected a string",
    );
}

#[test]
fn missing_field_names_the_object() {
    check(
        r#"{"icps":[{"created_at":"t"},{"id":"x"}]}"#,
        ".icps[1]",
        "failed to decode response of icp_list at .icps[1]: missing field `created_at`",
    );
    check(
        r#"{"icps":[{"created_at":"t","entity_targets":[{"entity_type":"person"}]}]}"#,
        ".icps[0].entity_targets[0]",
        "failed to decode response of icp_list at .icps[0].entity_targets[0]: missing field `description`",
    );
    check(
        r#"{"page": 2}"#,
        ".",
        "failed to decode response of icp_list: missing field `icps`",
    );
}

#[test]
fn odd_keys_are_quoted() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code, reason = "decoded only")]
    struct Odd {
        #[serde(rename = "a key")]
        a: u8,
    }
    let body = r#"{"a key": "x"}"#;
    let err = serde_json::from_str::<Odd>(body).unwrap_err();
    let err = Error::decode_as::<Odd>(err, body.as_bytes(), &CallContext::new());
    assert_eq!(err.decode_path(), Some(r#"["a key"]"#));
    assert_eq!(
        err.to_string(),
        r#"failed to decode response at ["a key"]: invalid type: string "x", expected u8"#
    );
}

#[test]
fn syntax_errors_keep_their_position() {
    check(
        "<html>502</html>",
        ".",
        "failed to decode response of icp_list: expected value at line 1 column 1",
    );
    // The list that breaks off is named, not its last element.
    check(
        r#"{"icps": [{"created_at": "t"}"#,
        ".icps",
        "failed to decode response of icp_list at .icps: EOF while parsing a list at line 1 column 29",
    );
    let err = decode("");
    assert_eq!(err.body_excerpt(), None);
    assert_eq!(
        err.to_string(),
        "failed to decode response of icp_list: EOF while parsing a value at line 1 column 0"
    );
}

#[test]
fn excerpt_is_kept_and_bounded() {
    let long = format!(
        r#"{{"icps":[{{"created_at":5}}], "pad": "{}"}}"#,
        "é".repeat(1000)
    );
    let err = decode(&long);
    let excerpt = err.body_excerpt().unwrap();
    assert!(excerpt.len() <= linkt_error::BODY_EXCERPT_LIMIT);
    assert!(excerpt.starts_with(r#"{"icps":[{"created_at":5}]"#));
    assert!(excerpt.ends_with('…'));
}

#[test]
fn deeply_nested_documents_do_not_overflow() {
    let depth = 10_000;
    let body = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let err = serde_json::from_str::<IcpList>(&body).unwrap_err();
    let err = Error::decode_as::<IcpList>(err, body.as_bytes(), &CallContext::new());
    assert_eq!(err.kind(), ErrorKind::Decode);

    // A path deeper than the tracked limit is cut with `…`.
    let body = format!("{}1", "[".repeat(200));
    let err = serde_json::from_str::<serde_json::Value>(&body).unwrap_err();
    let err = Error::decode_as::<serde_json::Value>(err, body.as_bytes(), &CallContext::new());
    assert!(err.decode_path().unwrap().len() < 1000);
}

/// A value that fails only after it was read whole, like the generated
/// clients' validated newtypes and untagged unions.
#[derive(Debug)]
struct NonEmpty;

impl<'de> Deserialize<'de> for NonEmpty {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if text.is_empty() {
            Err(serde::de::Error::custom("value must not be empty"))
        } else {
            Ok(NonEmpty)
        }
    }
}

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "fields exist only to be decoded")]
struct Named {
    id: String,
    name: NonEmpty,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "fields exist only to be decoded")]
struct Holder {
    items: Vec<NonEmpty>,
    last: Named,
}

#[track_caller]
fn decode_path_of<T: serde::de::DeserializeOwned + std::fmt::Debug>(body: &str) -> String {
    let err = serde_json::from_str::<T>(body).expect_err("invalid");
    Error::decode_as::<T>(err, body.as_bytes(), &CallContext::new())
        .decode_path()
        .expect("path")
        .to_owned()
}

#[test]
fn errors_raised_after_a_whole_value_name_that_value() {
    // Last field of an object: serde_json has consumed the closing brace.
    assert_eq!(decode_path_of::<Named>(r#"{"id":"a","name":""}"#), ".name");
    // Middle of an array: serde_json has consumed the comma.
    assert_eq!(
        decode_path_of::<Holder>(r#"{"items":["a","","b"],"last":{"id":"x","name":"y"}}"#),
        ".items[1]"
    );
    // Last element of an array, then the last field of a nested object.
    assert_eq!(
        decode_path_of::<Holder>(r#"{"items":["a",""],"last":{"id":"x","name":"y"}}"#),
        ".items[1]"
    );
    assert_eq!(
        decode_path_of::<Holder>(r#"{"items":[],"last":{"id":"x","name":""}}"#),
        ".last.name"
    );
    // With whitespace before the closing brace.
    assert_eq!(
        decode_path_of::<Named>("{\n  \"id\": \"a\",\n  \"name\": \"\"\n}\n"),
        ".name"
    );
}

#[test]
fn a_missing_field_still_names_the_object() {
    assert_eq!(
        decode_path_of::<Holder>(r#"{"items":[],"last":{"id":"x"}}"#),
        ".last"
    );
}

#[test]
fn a_path_is_at_most_128_levels_deep_whatever_the_body_holds() {
    // serde_json stops at 128 levels: the failure is raised while opening
    // the 128th, inside 127 arrays.
    let body = format!("{}{}", "[".repeat(200), "]".repeat(200));
    assert_eq!(
        decode_path_of::<serde_json::Value>(&body),
        "[0]".repeat(127)
    );
    // The same body through `decode` (type unknown: read again as a
    // `Value`) gets the same bounded path, as does a body deeper still
    // and cut short.
    for body in [body, "[".repeat(10_000)] {
        let err = serde_json::from_str::<serde_json::Value>(&body).expect_err("too deep");
        let err = Error::decode(err, body.as_bytes(), &CallContext::new());
        assert_eq!(err.decode_path(), Some("[0]".repeat(127).as_str()));
    }
}

#[test]
fn keys_with_escapes_are_read_as_the_server_wrote_them() {
    type Lists = std::collections::BTreeMap<String, Vec<u32>>;
    for (body, path) in [
        (r#"{"a\"b": [1, "x"]}"#, r#"["a\"b"][1]"#),
        (r#"{"back\\slash": ["x"]}"#, r#"["back\\slash"][0]"#),
        (r#"{"line\nbreak": [1, 2, "x"]}"#, r#"["line\nbreak"][2]"#),
        (r#"{"caf\u00e9": ["x"]}"#, r#"["café"][0]"#),
        (r#"{"\u00e9\t": [1], "next": ["x"]}"#, ".next[0]"),
    ] {
        assert_eq!(decode_path_of::<Lists>(body), path, "{body}");
    }
}

#[test]
fn plain_keys_are_dotted_and_long_keys_cut() {
    type Lists = std::collections::BTreeMap<String, Vec<u32>>;
    for key in ["$ref", "@type", "a-b", "snake_case9"] {
        let body = format!(r#"{{"{key}": ["x"]}}"#);
        assert_eq!(decode_path_of::<Lists>(&body), format!(".{key}[0]"));
    }
    let long = "k".repeat(100);
    let body = format!(r#"{{"{long}": ["x"]}}"#);
    assert_eq!(
        decode_path_of::<Lists>(&body),
        format!(r#"["{}…"][0]"#, "k".repeat(64))
    );
    // A key of exactly 64 bytes is kept whole.
    let longest = "k".repeat(64);
    let body = format!(r#"{{"{longest}": ["x"]}}"#);
    assert_eq!(decode_path_of::<Lists>(&body), format!(".{longest}[0]"));
}
