//! Constructs that cannot be converted: each is an error whose pointer is
//! asserted exactly.

use linkt_spec::{Error, normalize, to_openapiv3};
use serde_json::{Value, json};

use crate::common::{doc_with_schemas, yaml};

#[track_caller]
fn schema_error(schemas: &str) -> Error {
    match normalize(doc_with_schemas(yaml(schemas))) {
        Ok(doc) => panic!("expected an error, got {doc}"),
        Err(err) => err,
    }
}

#[track_caller]
fn document_error(doc: Value) -> Error {
    match normalize(doc) {
        Ok(doc) => panic!("expected an error, got {doc}"),
        Err(err) => err,
    }
}

#[track_caller]
fn assert_unsupported(err: Error, pointer: &str, keyword: &str) {
    match err {
        Error::Unsupported {
            pointer: p,
            keyword: k,
        } => assert_eq!((p.as_str(), k.as_str()), (pointer, keyword)),
        other => panic!("expected unsupported `{keyword}` at {pointer}, got {other:?}"),
    }
}

#[test]
fn message_names_keyword_and_pointer() {
    let err = schema_error("X: {if: {type: string}, then: {minLength: 1}}");
    assert_eq!(
        err.to_string(),
        "unsupported keyword `if` at /components/schemas/X"
    );
    assert_eq!(err.pointer(), Some("/components/schemas/X"));
}

#[test]
fn json_schema_keywords_without_3_0_equivalent() {
    let cases = [
        (
            "X: {type: object, dependentSchemas: {a: {required: [b]}}}",
            "/components/schemas/X",
            "dependentSchemas",
        ),
        (
            "X: {type: object, dependentRequired: {a: [b]}}",
            "/components/schemas/X",
            "dependentRequired",
        ),
        (
            "X: {type: object, properties: {pair: {type: array, prefixItems: [{type: string}]}}}",
            "/components/schemas/X/properties/pair",
            "prefixItems",
        ),
        (
            "X: {type: object, unevaluatedProperties: false}",
            "/components/schemas/X",
            "unevaluatedProperties",
        ),
        (
            "X: {type: array, unevaluatedItems: false}",
            "/components/schemas/X",
            "unevaluatedItems",
        ),
        (
            "X: {$dynamicRef: '#meta'}",
            "/components/schemas/X",
            "$dynamicRef",
        ),
        (
            "X: {$anchor: here, type: string}",
            "/components/schemas/X",
            "$anchor",
        ),
        (
            "X: {type: object, patternProperties: {'^x': {type: string}}}",
            "/components/schemas/X",
            "patternProperties",
        ),
        (
            "X: {type: array, items: {type: array, contains: {type: integer}}}",
            "/components/schemas/X/items",
            "contains",
        ),
        (
            "X: {type: object, propertyNames: {enum: [a, b]}}",
            "/components/schemas/X",
            "propertyNames",
        ),
        (
            "X: {type: object, propertyNames: {pattern: '^[a-z]+$'}}",
            "/components/schemas/X",
            "propertyNames",
        ),
        (
            "X: {$defs: {Y: {type: string}}, type: string}",
            "/components/schemas/X",
            "$defs",
        ),
        (
            "X: {type: string, contentSchema: {type: object}, contentMediaType: application/json}",
            "/components/schemas/X",
            "contentSchema",
        ),
        ("X: {const: {a: 1}}", "/components/schemas/X", "const"),
        ("X: {const: [1]}", "/components/schemas/X", "const"),
        (
            "X: {type: string, contentEncoding: base32}",
            "/components/schemas/X",
            "contentEncoding",
        ),
        (
            "X: {type: array, items: [{type: string}]}",
            "/components/schemas/X",
            "items",
        ),
        (
            "X: {anyOf: [{type: string, if: {}}, {type: 'null'}]}",
            "/components/schemas/X/anyOf/0",
            "if",
        ),
        (
            "X: {oneOf: [{type: 'null'}, {type: integer}, {not: {else: {}}}]}",
            "/components/schemas/X/oneOf/2/not",
            "else",
        ),
    ];
    for (input, pointer, keyword) in cases {
        assert_unsupported(schema_error(input), pointer, keyword);
    }
}

#[test]
fn null_only_schemas() {
    let cases = [
        (
            "X: {type: object, properties: {nothing: {type: 'null'}}}",
            "/components/schemas/X/properties/nothing",
        ),
        ("X: {type: ['null']}", "/components/schemas/X"),
        (
            "X: {anyOf: [{type: 'null'}, {const: null}]}",
            "/components/schemas/X",
        ),
        (
            "X: {type: array, items: {const: null}}",
            "/components/schemas/X/items",
        ),
        ("X: {not: {type: 'null'}}", "/components/schemas/X/not"),
        (
            "X: {oneOf: [{type: 'null', title: Nothing}, {type: string}]}",
            "/components/schemas/X/oneOf/0",
        ),
    ];
    for (input, pointer) in cases {
        match schema_error(input) {
            Error::NullOnly { pointer: p } => assert_eq!(p, pointer, "{input}"),
            other => panic!("{input}: expected null-only, got {other:?}"),
        }
    }
}

#[test]
fn inexpressible_combinations() {
    let cases = [
        (
            "X: {type: [string, integer], enum: [a, 1]}",
            "/components/schemas/X",
        ),
        (
            "X: {type: [string, integer], anyOf: [{minLength: 1}]}",
            "/components/schemas/X",
        ),
        (
            "X: {type: [integer, boolean], format: uuid}",
            "/components/schemas/X",
        ),
        (
            "X: {type: string, enum: [a, b], const: c}",
            "/components/schemas/X",
        ),
        (
            "X: {type: integer, contentMediaType: application/octet-stream}",
            "/components/schemas/X",
        ),
        ("X: {contentMediaType: image/png}", "/components/schemas/X"),
        (
            "X: {type: string, format: uuid, contentEncoding: base64}",
            "/components/schemas/X",
        ),
    ];
    for (input, pointer) in cases {
        match schema_error(input) {
            Error::Inexpressible { pointer: p, .. } => assert_eq!(p, pointer, "{input}"),
            other => panic!("{input}: expected inexpressible, got {other:?}"),
        }
    }
}

#[test]
fn unresolved_references() {
    let err = schema_error(
        r##"
Pet:
  oneOf: [{$ref: "#/components/schemas/Cat"}]
  discriminator:
    propertyName: kind
    mapping: {cat: "#/components/schemas/Cat", dog: Dog}
Cat: {type: object}
"##,
    );
    match err {
        Error::Unresolved { pointer, reference } => {
            assert_eq!(pointer, "/components/schemas/Pet/discriminator/mapping/dog");
            assert_eq!(reference, "#/components/schemas/Dog");
        }
        other => panic!("expected unresolved, got {other:?}"),
    }

    let err = schema_error(
        r##"
Holder: {type: object, properties: {x: {$ref: "#/components/schemas/Missing", description: gone}}}
"##,
    );
    match err {
        Error::Unresolved { pointer, reference } => {
            assert_eq!(
                pointer,
                "/components/schemas/Holder/properties/x/allOf/0/$ref"
            );
            assert_eq!(reference, "#/components/schemas/Missing");
        }
        other => panic!("expected unresolved, got {other:?}"),
    }
}

fn base() -> Value {
    json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}})
}

fn with(mut doc: Value, key: &str, value: Value) -> Value {
    if let Value::Object(map) = &mut doc {
        map.insert(key.to_owned(), value);
    }
    doc
}

#[test]
fn document_level_failures() {
    let hook = json!({"newThing": {"post": {"responses": {"200": {"description": "ok"}}}}});
    assert_unsupported(
        document_error(with(base(), "webhooks", hook)),
        "",
        "webhooks",
    );
    assert_unsupported(
        document_error(with(base(), "$self", json!("https://example.com/api"))),
        "",
        "$self",
    );

    let err = document_error(with(
        base(),
        "info",
        json!({"title": "t", "version": "1", "license": {"name": "MIT", "identifier": "MIT", "url": "https://x"}}),
    ));
    assert!(
        matches!(&err, Error::Inexpressible { pointer, .. } if pointer == "/info/license"),
        "{err:?}"
    );

    let err = document_error(with(
        base(),
        "paths",
        json!({"/a": {"$ref": "#/components/pathItems/Nope"}}),
    ));
    assert!(
        matches!(&err, Error::Unresolved { pointer, reference }
            if pointer == "/paths/~1a/$ref" && reference == "#/components/pathItems/Nope"),
        "{err:?}"
    );

    let doc = with(
        with(
            base(),
            "paths",
            json!({"/a": {"$ref": "#/components/pathItems/A", "summary": "mine"}}),
        ),
        "components",
        json!({"pathItems": {"A": {"summary": "theirs"}}}),
    );
    let err = document_error(doc);
    assert!(
        matches!(&err, Error::Inexpressible { pointer, .. } if pointer == "/paths/~1a"),
        "{err:?}"
    );

    let err = document_error(with(
        base(),
        "paths",
        json!({"/a": {"get": {"operationId": "a"}}}),
    ));
    assert!(
        matches!(&err, Error::Malformed { pointer, .. } if pointer == "/paths/~1a/get"),
        "{err:?}"
    );

    let err = document_error(with(
        base(),
        "components",
        json!({"securitySchemes": {"mtls": {"type": "mutualTLS"}}}),
    ));
    assert_unsupported(err, "/components/securitySchemes/mtls", "mutualTLS");

    let err = document_error(with(
        base(),
        "paths",
        json!({"/a": {"get": {
            "parameters": [{"$ref": "#/components/parameters/P", "x-note": "n"}],
            "responses": {"200": {"description": "ok"}}
        }}}),
    ));
    assert_unsupported(err, "/paths/~1a/get/parameters/0", "x-note");

    let err = document_error(with(
        base(),
        "paths",
        json!({"/a": {"get": {
            "parameters": [{"$ref": "#/components/parameters/P", "description": "d"}],
            "responses": {"200": {"description": "ok"}}
        }}}),
    ));
    assert!(
        matches!(&err, Error::Unresolved { pointer, .. } if pointer == "/paths/~1a/get/parameters/0/$ref"),
        "{err:?}"
    );

    let err = document_error(with(
        base(),
        "components",
        json!({"schemas": {"A": {"type": "string"}}, "pathitems": {}}),
    ));
    assert_unsupported(err, "/components", "pathitems");
}

#[test]
fn versions() {
    for found in ["2.0", "3.2.0", ""] {
        let doc = with(base(), "openapi", json!(found));
        match document_error(doc) {
            Error::Version { found: f, .. } => assert_eq!(f, found),
            other => panic!("expected a version error, got {other:?}"),
        }
    }
    let err = to_openapiv3(&base()).err();
    assert!(
        matches!(&err, Some(Error::Version { found, expected: "3.0.x" }) if found == "3.1.0"),
        "{err:?}"
    );
    assert_eq!(
        err.map(|e| e.to_string()).as_deref(),
        Some("unsupported openapi version `3.1.0`, expected 3.0.x")
    );
}

#[test]
fn to_openapiv3_names_the_failing_object() {
    let doc = json!({
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {"/a": {"post": {
            "requestBody": {"content": {"application/json": {"schema": {"type": "object", "required": "id"}}}},
            "responses": {"200": {"description": "ok"}}
        }}}
    });
    let err = to_openapiv3(&doc).expect_err("invalid 3.0 document");
    assert_eq!(
        err.pointer(),
        Some("/paths/~1a/post/requestBody/content/application~1json/schema")
    );
    assert!(
        err.to_string()
            .starts_with("invalid openapi 3.0 document at /paths/~1a/post/requestBody"),
        "{err}"
    );
}
