//! Helpers shared by the test modules.

use std::path::PathBuf;

use linkt_spec::{Format, normalize, parse};
use serde_json::{Value, json};

/// Parses YAML written in a test.
#[track_caller]
pub(crate) fn yaml(text: &str) -> Value {
    parse(text, Format::Yaml).expect("test yaml parses")
}

/// A minimal 3.1 document whose `components.schemas` are `schemas`.
pub(crate) fn doc_with_schemas(schemas: Value) -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {},
        "components": {"schemas": schemas}
    })
}

/// Pretty JSON, as snapshots hold it.
pub(crate) fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).expect("json serializes")
}

/// Normalizes a document of `components.schemas` written as YAML and
/// snapshots the resulting `components.schemas`, with the input as the
/// snapshot's description.
#[track_caller]
pub(crate) fn check_schemas(name: &str, input: &str) {
    let output = normalize(doc_with_schemas(yaml(input))).expect("normalizes");
    let schemas = output
        .pointer("/components/schemas")
        .expect("schemas survive");
    snapshot(name, input, schemas);
}

/// Normalizes a whole document written as YAML and snapshots it.
#[track_caller]
pub(crate) fn check_document(name: &str, input: &str) {
    let output = normalize(yaml(input)).expect("normalizes");
    snapshot(name, input, &output);
}

#[track_caller]
fn snapshot(name: &str, input: &str, output: &Value) {
    insta::with_settings!({
        description => input.trim(),
        omit_expression => true,
        prepend_module_to_snapshot => false,
    }, {
        insta::assert_snapshot!(name, pretty(output));
    });
}

/// A file under `tests/it/fixtures/`.
pub(crate) fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/fixtures")
        .join(name)
}

/// Every object in `value`, depth first.
pub(crate) fn objects(value: &Value) -> Vec<&serde_json::Map<String, Value>> {
    let mut out = Vec::new();
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(map) => {
                out.push(map);
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    out
}
