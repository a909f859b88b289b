//! `--json-body-template`: an example request body to edit and pass back
//! with `--json-body FILE`.
//!
//! The example comes from the spec: the request body's first documented
//! example, else a skeleton built from its schema (every property, with an
//! example, default or placeholder value).

use anyhow::Context as _;
use serde_json::{Map, Value, json};

use crate::output::print_line;

/// How deep a skeleton follows nested schemas.
const MAX_DEPTH: usize = 8;

/// Prints the body template of the operation named `operation` (client
/// method name, e.g. `icp_create`).
pub(crate) fn print(operation: &str) -> anyhow::Result<()> {
    let template = body_template(operation)?;
    print_line(&serde_json::to_string_pretty(&template)?);
    Ok(())
}

pub(crate) fn body_template(operation: &str) -> anyhow::Result<Value> {
    let op = linkt::Operation::find(operation)
        .with_context(|| format!("unknown operation `{operation}`"))?;
    let spec = linkt_mock::spec::Spec::load().map_err(|err| anyhow::anyhow!("{err}"))?;
    let document = spec.document();
    let content = document
        .pointer(&format!(
            "/paths/{}/{}/requestBody/content/application~1json",
            op.path.replace('~', "~0").replace('/', "~1"),
            op.method.to_ascii_lowercase()
        ))
        .with_context(|| format!("`{operation}` takes no JSON body"))?;
    if let Some(example) = content
        .get("examples")
        .and_then(Value::as_object)
        .and_then(|examples| examples.values().find_map(|e| e.get("value")))
        .or_else(|| content.get("example"))
    {
        return Ok(example.clone());
    }
    let schema = content.get("schema").unwrap_or(&Value::Null);
    Ok(skeleton(document, schema, 0))
}

/// A value of `schema`'s shape.
fn skeleton(document: &Value, schema: &Value, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        let resolved = target
            .strip_prefix('#')
            .and_then(|pointer| document.pointer(pointer))
            .unwrap_or(&Value::Null);
        return skeleton(document, resolved, depth + 1);
    }
    for key in ["example", "default"] {
        if let Some(value) = schema.get(key) {
            return value.clone();
        }
    }
    if let Some(first) = schema
        .get("examples")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(alternatives) = schema.get(key).and_then(Value::as_array) {
            let chosen = alternatives
                .iter()
                .find(|s| s.get("type").and_then(Value::as_str) != Some("null"));
            if let Some(chosen) = chosen {
                return skeleton(document, chosen, depth + 1);
            }
        }
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("object") | None if schema.get("properties").is_some() => {
            let mut object = Map::new();
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (name, property) in properties {
                    object.insert(name.clone(), skeleton(document, property, depth + 1));
                }
            }
            Value::Object(object)
        }
        Some("object") => json!({}),
        Some("array") => match schema.get("items") {
            Some(items) => json!([skeleton(document, items, depth + 1)]),
            None => json!([]),
        },
        Some("string") => json!(""),
        Some("integer") => json!(0),
        Some("number") => json!(0.0),
        Some("boolean") => json!(false),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_body_operation_has_a_template() {
        let mut with_body = 0;
        for op in linkt::OPERATIONS {
            if let Ok(template) = body_template(op.name) {
                with_body += 1;
                assert!(template.is_object(), "{}: {template}", op.name);
            }
        }
        assert!(with_body >= 10, "{with_body} operations with a JSON body");
    }

    #[test]
    fn icp_create_template_is_a_valid_body() {
        let template = body_template("icp_create").expect("template");
        let body: Result<linkt::types::CreateIcpRequest, _> = serde_json::from_value(template);
        assert!(body.is_ok(), "{body:?}");
    }

    #[test]
    fn operations_without_a_body_say_so() {
        let err = body_template("icp_list").expect_err("no body");
        assert!(err.to_string().contains("no JSON body"), "{err}");
    }
}
