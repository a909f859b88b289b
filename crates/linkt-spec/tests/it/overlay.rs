//! Overlay 1.0: update merges, removal, and the errors that keep a stale
//! overlay from passing unnoticed.

use linkt_spec::{Error, apply_overlay};
use serde_json::{Value, json};

use crate::common::yaml;

fn spec() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "tags": [{"name": "things"}],
        "paths": {
            "/things": {
                "get": {
                    "operationId": "list_things",
                    "parameters": [
                        {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                        {"name": "debug", "in": "query", "schema": {"type": "boolean"}},
                        {"name": "trace", "in": "header", "schema": {"type": "boolean"}}
                    ],
                    "responses": {"200": {"description": "ok"}}
                },
                "post": {
                    "operationId": "create_thing",
                    "parameters": [{"name": "debug", "in": "query", "schema": {"type": "boolean"}}],
                    "responses": {"201": {"description": "created"}}
                }
            }
        }
    })
}

fn overlay(actions: &str) -> Value {
    yaml(&format!(
        "overlay: 1.0.0\ninfo: {{title: test, version: 1.0.0}}\nactions:\n{actions}"
    ))
}

#[test]
fn update_merges_objects_appends_arrays_replaces_values() {
    let mut doc = spec();
    let report = apply_overlay(
        &mut doc,
        &overlay(
            r#"
  - target: "$.paths['/things'].get"
    description: name the method
    update:
      x-linkt-name: things_list
      operationId: things_list
      responses: {"404": {description: missing}}
      parameters: [{name: page, in: query, schema: {type: integer}}]
  - target: "$.tags"
    update: {name: extra}
  - target: "$.info.version"
    update: "2"
"#,
        ),
    )
    .expect("applies");
    let get = &doc["paths"]["/things"]["get"];
    assert_eq!(get["x-linkt-name"], "things_list");
    assert_eq!(get["operationId"], "things_list");
    assert_eq!(
        get["responses"],
        json!({"200": {"description": "ok"}, "404": {"description": "missing"}})
    );
    let names: Vec<&str> = get["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, ["limit", "debug", "trace", "page"]);
    assert_eq!(doc["tags"], json!([{"name": "things"}, {"name": "extra"}]));
    assert_eq!(doc["info"]["version"], "2");
    let matched: Vec<usize> = report.actions.iter().map(|a| a.matched).collect();
    assert_eq!(matched, [1, 1, 1]);
    assert_eq!(
        report.actions[0].to_string(),
        "action 0: updated 1 node at `$.paths['/things'].get` (name the method)"
    );
}

#[test]
fn remove_deletes_every_match() {
    let mut doc = spec();
    let report = apply_overlay(
        &mut doc,
        &overlay(
            r#"
  - target: "$.paths.*.*.parameters[?@.name == 'debug' || @.in == 'header']"
    description: internal parameters
    remove: true
"#,
        ),
    )
    .expect("applies");
    assert_eq!(report.actions[0].matched, 3);
    assert!(report.actions[0].removed);
    assert_eq!(
        doc["paths"]["/things"]["get"]["parameters"],
        json!([{"name": "limit", "in": "query", "schema": {"type": "integer"}}])
    );
    assert_eq!(doc["paths"]["/things"]["post"]["parameters"], json!([]));
}

#[test]
fn remove_nested_matches_and_then_update() {
    let mut doc = spec();
    apply_overlay(
        &mut doc,
        &overlay(
            r#"
  - target: "$..schema"
    remove: true
  - target: "$.paths['/things'].post"
    remove: true
  - target: "$.paths['/things']"
    update: {post: {operationId: replaced, responses: {"204": {description: none}}}}
"#,
        ),
    )
    .expect("applies");
    assert_eq!(
        doc["paths"]["/things"]["post"],
        json!({"operationId": "replaced", "responses": {"204": {"description": "none"}}})
    );
    assert!(
        doc["paths"]["/things"]["get"]["parameters"][0]
            .get("schema")
            .is_none()
    );
}

#[test]
fn no_match_names_the_action() {
    let mut doc = spec();
    let err = apply_overlay(
        &mut doc,
        &overlay(
            r#"
  - target: "$.info"
    update: {x-ok: true}
  - target: "$.paths['/gone'].get"
    description: rename the gone method
    update: {x-linkt-name: gone}
"#,
        ),
    )
    .expect_err("stale action");
    match &err {
        Error::NoMatch {
            index,
            description,
            target,
        } => {
            assert_eq!(*index, 1);
            assert_eq!(description.as_deref(), Some("rename the gone method"));
            assert_eq!(target, "$.paths['/gone'].get");
        }
        other => panic!("expected no match, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "overlay action 1 (rename the gone method) matched nothing: `$.paths['/gone'].get`"
    );
}

#[test]
fn invalid_jsonpath_is_an_error() {
    let mut doc = spec();
    let err = apply_overlay(
        &mut doc,
        &overlay("  - target: \"$.paths[?@.x ==]\"\n    remove: true\n"),
    )
    .expect_err("bad path");
    match &err {
        Error::JsonPath { index, target, .. } => {
            assert_eq!((*index, target.as_str()), (0, "$.paths[?@.x ==]"));
        }
        other => panic!("expected a jsonpath error, got {other:?}"),
    }
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn malformed_overlays_are_errors() {
    let cases = [
        (
            json!({"info": {"title": "t", "version": "1"}, "actions": []}),
            "/overlay",
        ),
        (
            json!({"overlay": "1.0.0", "info": {"title": "t"}, "actions": [{"target": "$", "update": {}}]}),
            "/info",
        ),
        (
            json!({"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": []}),
            "/actions",
        ),
        (
            json!({"overlay": "1.0.0", "info": {"title": "t", "version": "1"},
                   "actions": [{"target": "$.info", "updates": {}}]}),
            "/actions/0/updates",
        ),
        (
            json!({"overlay": "1.0.0", "info": {"title": "t", "version": "1"},
                   "actions": [{"target": "$.info"}]}),
            "/actions/0",
        ),
        (
            json!({"overlay": "1.0.0", "info": {"title": "t", "version": "1"},
                   "actions": [{"target": "info", "remove": true}]}),
            "/actions/0/target",
        ),
    ];
    for (overlay, pointer) in cases {
        let mut doc = spec();
        match apply_overlay(&mut doc, &overlay) {
            Err(Error::Overlay { pointer: p, .. }) => assert_eq!(p, pointer, "{overlay}"),
            other => panic!("{overlay}: expected an overlay error, got {other:?}"),
        }
    }
}

#[test]
fn removing_the_root_is_an_error() {
    let mut doc = spec();
    let err = apply_overlay(&mut doc, &overlay("  - target: \"$\"\n    remove: true\n"));
    assert!(
        matches!(&err, Err(Error::OverlayAction { index: 0, pointer, .. }) if pointer.is_empty()),
        "{err:?}"
    );
}
