//! Schema drift: each generated type's `schemars` schema against its spec
//! component.
//!
//! For every component: the property names are the same; the required sets
//! agree; nullability agrees; the primitive JSON types (and enum values)
//! agree, for each property and, for arrays, their items. A difference is
//! reported as `Component.field: what differs`, all at once.
//!
//! How schemars 0.8 represents the generated types, and so how the
//! comparison reads it:
//!
//! * an `Option` field is never listed as required, and always admits
//!   `null`. A required nullable spec field is an `Option` decoded with
//!   `deserialize_with` (its absence is an error, which the decoding tests
//!   check), so the required set compared is the spec's required fields
//!   that are not nullable; and an optional field admitting `null` is not a
//!   difference (the value is skipped on encoding);
//! * a field with a serde default is not required, like an optional spec
//!   field with a default.
//!
//! What is compared strictly: names; required-and-not-nullable in either;
//! a spec-nullable field must admit `null`; a required non-nullable one
//! must not; primitive types and enum values.

use std::collections::BTreeSet;

use linkt_conformance::spec;
use serde_json::{Value, json};

use crate::document;
use crate::types::component;

/// A schema's view for comparison: types without null, nullability, enum
/// values, and for an object its properties and required set.
#[derive(Debug, Default, PartialEq)]
struct Shape {
    types: BTreeSet<String>,
    nullable: bool,
    enum_values: Option<BTreeSet<String>>,
}

/// Follows `$ref` within `root` (`#/definitions/..` or
/// `#/components/schemas/..`) and single-element `allOf`.
fn deref<'a>(root: &'a Value, mut schema: &'a Value) -> &'a Value {
    for _ in 0..32 {
        if let Some(target) = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|p| root.pointer(p))
        {
            schema = target;
            continue;
        }
        match schema.get("allOf").and_then(Value::as_array) {
            Some(parts) if parts.len() == 1 => schema = &parts[0],
            _ => break,
        }
    }
    schema
}

fn shape(root: &Value, schema: &Value, depth: usize) -> Shape {
    let mut out = Shape::default();
    if depth > 16 {
        return out;
    }
    if schema.get("nullable").and_then(Value::as_bool) == Some(true) {
        out.nullable = true;
    }
    let schema = deref(root, schema);
    if schema.get("nullable").and_then(Value::as_bool) == Some(true) {
        out.nullable = true;
    }
    if schema == &Value::Bool(true) || schema.as_object().is_some_and(|m| m.is_empty()) {
        out.types.insert("any".to_owned());
        return out;
    }
    match schema.get("type") {
        Some(Value::String(t)) => {
            out.types.insert(t.clone());
        }
        Some(Value::Array(types)) => {
            for t in types.iter().filter_map(Value::as_str) {
                out.types.insert(t.to_owned());
            }
        }
        _ => {}
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let mut listed = BTreeSet::new();
        for value in values {
            match value {
                Value::Null => out.nullable = true,
                Value::String(text) => {
                    listed.insert(text.clone());
                }
                other => {
                    listed.insert(other.to_string());
                }
            }
        }
        if out.types.is_empty() {
            out.types.insert("string".to_owned());
        }
        out.enum_values = Some(listed);
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(members) = schema.get(key).and_then(Value::as_array) {
            for member in members {
                let inner = shape(root, member, depth + 1);
                out.nullable |= inner.nullable;
                out.types.extend(inner.types);
                if let Some(values) = inner.enum_values {
                    out.enum_values
                        .get_or_insert_with(BTreeSet::new)
                        .extend(values);
                }
            }
        }
    }
    let had_null = out.types.remove("null");
    out.nullable |= had_null;
    let null_only = had_null && out.types.is_empty();
    if out.types.is_empty() && !null_only && out.enum_values.is_none() {
        // No type at all: an object by its properties, else any value.
        let inferred = if schema.get("properties").is_some() {
            "object"
        } else {
            "any"
        };
        out.types.insert(inferred.to_owned());
    }
    out
}

fn properties(root: &Value, schema: &Value) -> Vec<(String, Value)> {
    deref(root, schema)
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

fn required(root: &Value, schema: &Value) -> BTreeSet<String> {
    deref(root, schema)
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

fn items<'a>(root: &'a Value, schema: &'a Value) -> Option<&'a Value> {
    let schema = deref(root, schema);
    schema.get("items").or_else(|| {
        // An `Option<Vec<T>>` in schemars is `type: [array, null]` with
        // items, or an `anyOf` whose non-null member has them.
        schema
            .get("anyOf")
            .and_then(Value::as_array)?
            .iter()
            .find_map(|m| deref(root, m).get("items"))
    })
}

/// Differences between spec component `name` of `document` and the
/// `schemars` schema (as JSON) of its generated type.
fn differences(document: &Value, name: &str, generated: &Value) -> Vec<String> {
    let spec_schema = json!({ "$ref": format!("#/components/schemas/{name}") });
    let mut out = Vec::new();

    let spec_shape = shape(document, &spec_schema, 0);
    let rust_shape = shape(generated, generated, 0);
    compare(name, &spec_shape, &rust_shape, true, &mut out);

    let spec_properties = properties(document, &spec_schema);
    let rust_properties = properties(generated, generated);
    let spec_names: BTreeSet<&String> = spec_properties.iter().map(|(k, _)| k).collect();
    let rust_names: BTreeSet<&String> = rust_properties.iter().map(|(k, _)| k).collect();
    for missing in spec_names.difference(&rust_names) {
        out.push(format!(
            "{name}.{missing}: in the spec, not in the generated type"
        ));
    }
    for extra in rust_names.difference(&spec_names) {
        out.push(format!(
            "{name}.{extra}: in the generated type, not in the spec"
        ));
    }

    let spec_required = required(document, &spec_schema);
    let rust_required = required(generated, generated);
    for (field, spec_property) in &spec_properties {
        let Some((_, rust_property)) = rust_properties.iter().find(|(k, _)| k == field) else {
            continue;
        };
        let path = format!("{name}.{field}");
        let spec_shape = shape(document, spec_property, 0);
        let rust_shape = shape(generated, rust_property, 0);
        let in_spec = spec_required.contains(field);
        let in_rust = rust_required.contains(field);
        match (in_spec && !spec_shape.nullable, in_rust) {
            (true, false) => out.push(format!(
                "{path}: required in the spec, optional in the generated type"
            )),
            (false, true) => out.push(format!(
                "{path}: {} in the spec, required in the generated type",
                if in_spec { "nullable" } else { "optional" }
            )),
            _ => {}
        }
        compare(&path, &spec_shape, &rust_shape, in_spec, &mut out);
        if let (Some(spec_items), Some(rust_items)) = (
            items(document, spec_property),
            items(generated, rust_property),
        ) {
            let spec_items = shape(document, spec_items, 0);
            let rust_items = shape(generated, rust_items, 0);
            compare(
                &format!("{path}[]"),
                &spec_items,
                &rust_items,
                true,
                &mut out,
            );
        }
    }
    out
}

/// Compares types, enum values and nullability (strictly when `strict`:
/// required fields and the component itself; for optional fields only
/// "spec nullable ⇒ generated admits null").
fn compare(path: &str, spec: &Shape, rust: &Shape, strict: bool, out: &mut Vec<String>) {
    let comparable = !spec.types.contains("any") && !rust.types.contains("any");
    if comparable && spec.types != rust.types {
        out.push(format!(
            "{path}: type {:?} in the spec, {:?} in the generated type",
            spec.types, rust.types
        ));
    }
    if !comparable && spec.types.contains("any") != rust.types.contains("any") {
        out.push(format!(
            "{path}: type {:?} in the spec, {:?} in the generated type",
            spec.types, rust.types
        ));
    }
    if let (Some(spec_values), Some(rust_values)) = (&spec.enum_values, &rust.enum_values)
        && spec_values != rust_values
    {
        out.push(format!(
            "{path}: values {spec_values:?} in the spec, {rust_values:?} in the generated type"
        ));
    }
    if spec.nullable && !rust.nullable {
        out.push(format!(
            "{path}: nullable in the spec, not in the generated type"
        ));
    }
    if strict && !spec.nullable && rust.nullable {
        out.push(format!(
            "{path}: not nullable in the spec, nullable in the generated type"
        ));
    }
}

/// The `schemars` schema of a component's generated type, as JSON; `None`
/// when the type does not derive `JsonSchema`.
fn generated_schema(spec_name: &str) -> Option<Value> {
    let component = component(spec_name)
        .unwrap_or_else(|| panic!("component schema `{spec_name}` has no type in the table"));
    (component.schema)().map(|schema| serde_json::to_value(schema).expect("a schema encodes"))
}

#[test]
fn generated_types_agree_with_the_spec_components() {
    let document = document();
    let mut report = Vec::new();
    let mut underived = Vec::new();
    for (name, _) in spec::component_schemas(document) {
        match generated_schema(name) {
            Some(generated) => report.extend(differences(document, name, &generated)),
            None => underived.push(name),
        }
    }
    assert!(
        underived.is_empty(),
        "{} generated type(s) do not derive schemars::JsonSchema, so their drift cannot be \
         checked (the generator must derive it on every type): {underived:?}",
        underived.len()
    );
    assert!(
        report.is_empty(),
        "{} difference(s) between the spec and the generated types:\n{}",
        report.len(),
        report.join("\n")
    );
}

#[test]
fn drift_is_reported_naming_component_and_field() {
    let mut changed = document().clone();
    let icp = &mut changed["components"]["schemas"]["IcpResponse"];
    icp["properties"]["schema_version"]["type"] = json!("string");
    icp["properties"]["tags"] = json!({ "type": "array", "items": { "type": "string" } });
    icp["required"]
        .as_array_mut()
        .expect("required")
        .push(json!("schema_version"));
    icp["properties"]["description"]["nullable"] = json!(true);
    let generated = generated_schema("IcpResponse").expect("IcpResponse derives JsonSchema");
    let report = differences(&changed, "IcpResponse", &generated);
    let expected = [
        "IcpResponse.tags: in the spec, not in the generated type",
        "IcpResponse.schema_version: required in the spec, optional in the generated type",
        "IcpResponse.schema_version: type {\"string\"} in the spec, {\"integer\"} in the generated type",
        "IcpResponse.schema_version: not nullable in the spec, nullable in the generated type",
        "IcpResponse.description: nullable in the spec, required in the generated type",
        "IcpResponse.description: nullable in the spec, not in the generated type",
    ];
    for line in expected {
        assert!(
            report.iter().any(|r| r == line),
            "missing `{line}` in {report:#?}"
        );
    }
    assert_eq!(report.len(), expected.len(), "{report:#?}");
}
