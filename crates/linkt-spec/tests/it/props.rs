//! Property tests over generated documents.
//!
//! - 3.0 documents (objects, arrays, refs, nullable, enums, unions) pass
//!   through `normalize` unchanged, and read as 3.1 they are already a
//!   fixed point of the rules;
//! - generated 3.1 documents normalize to something that parses as 3.0,
//!   in which every schema that carried a null type is `nullable: true`,
//!   no `{type: "null"}`, type array, `const` or `examples` remains, and
//!   normalizing again changes nothing.
//!
//! Schemas that must end up nullable are marked `x-expect-nullable: true`
//! by the generator; extensions pass through the normalizer untouched.

use linkt_spec::{normalize, to_openapiv3};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, Value, json};

use crate::common::objects;

const COMPONENTS: [&str; 3] = ["A", "B", "C"];

fn reference() -> impl Strategy<Value = Value> {
    prop::sample::select(&COMPONENTS[..])
        .prop_map(|name| json!({"$ref": format!("#/components/schemas/{name}")}))
}

fn object_of(properties: Vec<Value>, required: usize) -> Value {
    let mut map = Map::new();
    for (i, schema) in properties.into_iter().enumerate() {
        map.insert(format!("p{i}"), schema);
    }
    let required: Vec<String> = (0..required.min(map.len()))
        .map(|i| format!("p{i}"))
        .collect();
    let mut object = json!({"type": "object", "properties": map});
    if !required.is_empty() {
        object["required"] = json!(required);
    }
    object
}

fn with_key(mut schema: Value, key: &str, value: Value) -> Value {
    if let Value::Object(map) = &mut schema {
        map.insert(key.to_owned(), value);
    }
    schema
}

fn leaf_30() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({"type": "string"})),
        Just(json!({"type": "string", "format": "date-time"})),
        (0i64..10).prop_map(|n| json!({"type": "integer", "minimum": n})),
        Just(json!({"type": "number", "minimum": 0, "exclusiveMinimum": true})),
        Just(json!({"type": "boolean", "example": true})),
        prop::sample::subsequence(vec!["a", "b", "c"], 1..=3)
            .prop_map(|values| json!({"type": "string", "enum": values})),
        reference(),
        Just(json!({})),
    ]
}

fn schema_30() -> impl Strategy<Value = Value> {
    leaf_30().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            (prop::collection::vec(inner.clone(), 1..4), 0usize..3)
                .prop_map(|(properties, required)| object_of(properties, required)),
            inner
                .clone()
                .prop_map(|items| json!({"type": "array", "items": items})),
            inner
                .clone()
                .prop_map(|values| json!({"type": "object", "additionalProperties": values})),
            inner.clone().prop_map(|schema| {
                if schema.get("$ref").is_some() {
                    json!({"allOf": [schema], "nullable": true})
                } else {
                    with_key(schema, "nullable", json!(true))
                }
            }),
            prop::collection::vec(inner.clone(), 2..4)
                .prop_map(|branches| json!({"oneOf": branches})),
            (inner, "[a-z ]{1,12}").prop_map(|(schema, text)| {
                if schema.get("$ref").is_some() {
                    json!({"allOf": [schema], "description": text})
                } else {
                    with_key(schema, "description", json!(text))
                }
            }),
        ]
    })
}

/// A null branch, in one of the spellings pydantic and hand-written
/// documents use.
fn null_branch() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => Just(json!({"type": "null"})),
        1 => Just(json!({"type": ["null"]})),
        1 => Just(json!({"const": null})),
        1 => Just(json!({"enum": [null]})),
    ]
}

fn expect_nullable(schema: Value) -> Value {
    with_key(schema, "x-expect-nullable", json!(true))
}

fn leaf_31() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({"type": "string"})),
        Just(json!({"type": "string", "format": "uuid"})),
        (0i64..10).prop_map(|n| json!({"type": "integer", "exclusiveMinimum": n})),
        Just(json!({"type": "number", "exclusiveMaximum": 1.5, "minimum": 0})),
        Just(json!({"const": "x"})),
        Just(json!({"type": "string", "const": "y", "title": "Tag"})),
        Just(expect_nullable(
            json!({"type": ["string", "null"], "maxLength": 3})
        )),
        Just(expect_nullable(json!({"type": ["null", "integer"]}))),
        reference(),
        reference().prop_map(|r| with_key(r, "description", json!("described"))),
        Just(json!({"type": "string", "examples": ["e", "f"]})),
        Just(json!({"type": "string", "contentMediaType": "application/octet-stream"})),
        Just(json!(true)),
        Just(json!({})),
    ]
}

fn schema_31() -> impl Strategy<Value = Value> {
    leaf_31().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            (prop::collection::vec(inner.clone(), 1..4), 0usize..3)
                .prop_map(|(properties, required)| object_of(properties, required)),
            inner
                .clone()
                .prop_map(|items| json!({"type": "array", "items": items})),
            inner
                .clone()
                .prop_map(|values| json!({"type": "object", "additionalProperties": values})),
            (inner.clone(), null_branch(), any::<bool>()).prop_map(
                |(schema, null_schema, first)| {
                    let branches = if first {
                        json!([null_schema, schema])
                    } else {
                        json!([schema, null_schema])
                    };
                    expect_nullable(
                        json!({"anyOf": branches, "title": "Optional", "default": null}),
                    )
                }
            ),
            (prop::collection::vec(inner.clone(), 2..4), null_branch()).prop_map(
                |(mut branches, null_schema)| {
                    branches.push(null_schema);
                    expect_nullable(json!({"oneOf": branches, "description": "one of several"}))
                }
            ),
            prop::collection::vec(inner, 2..4).prop_map(|branches| json!({"anyOf": branches})),
        ]
    })
}

fn document(version: &str, components: Vec<Value>, parameter: Value, body: Value) -> Value {
    let mut schemas = Map::new();
    for (name, schema) in COMPONENTS.iter().zip(components) {
        schemas.insert((*name).to_owned(), schema);
    }
    json!({
        "openapi": version,
        "info": {"title": "generated", "version": "1"},
        "paths": {"/things": {"post": {
            "operationId": "post_things",
            "parameters": [{"name": "q", "in": "query", "schema": parameter}],
            "requestBody": {"content": {"application/json": {"schema": body}}},
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}}}
        }}},
        "components": {"schemas": schemas}
    })
}

fn document_30() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(schema_30(), 3),
        leaf_30(),
        schema_30(),
    )
        .prop_map(|(components, parameter, body)| document("3.0.3", components, parameter, body))
}

fn document_31() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(schema_31(), 3),
        leaf_31(),
        schema_31(),
    )
        .prop_map(|(components, parameter, body)| document("3.1.0", components, parameter, body))
}

fn relabel(mut doc: Value, version: &str) -> Value {
    doc["openapi"] = json!(version);
    doc
}

proptest! {
    #![proptest_config(Config { cases: 256, ..Config::default() })]

    #[test]
    fn openapi_3_0_documents_are_unchanged(doc in document_30()) {
        let out = normalize(doc.clone()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&out, &doc);
        let as_31 = normalize(relabel(doc.clone(), "3.1.0"))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&as_31, &doc);
        prop_assert!(to_openapiv3(&out).is_ok());
    }

    #[test]
    fn openapi_3_1_documents_normalize_to_a_fixed_point(doc in document_31()) {
        let once = normalize(doc).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let twice = normalize(relabel(once.clone(), "3.1.0"))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&twice, &once);
        let passed = normalize(once.clone()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&passed, &once);
        if let Err(err) = to_openapiv3(&once) {
            return Err(TestCaseError::fail(format!("{err}: {:?}", std::error::Error::source(&err))));
        }
    }

    #[test]
    fn null_branches_become_nullable(doc in document_31()) {
        let out = normalize(doc).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for object in objects(&out) {
            prop_assert_ne!(object.get("type"), Some(&json!("null")), "{:?}", object);
            prop_assert!(!object.get("type").is_some_and(Value::is_array), "{:?}", object);
            prop_assert!(!object.contains_key("const"), "{:?}", object);
            prop_assert!(!object.contains_key("examples"), "{:?}", object);
            if object.contains_key("x-expect-nullable") {
                prop_assert_eq!(object.get("nullable"), Some(&json!(true)), "{:?}", object);
            }
        }
    }
}
