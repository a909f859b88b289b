//! The gate: the coverage check `cargo xtask conformance` runs, run here
//! too, and shown failing on modified copies of the spec, the way a new
//! vendor spec would make it fail.

use std::path::PathBuf;

use httpmock::MockServer;
use linkt::ErrorKind;
use linkt_conformance::spec;
use linkt_conformance::{CASES, COMPONENTS, Coverage, Mark, coverage};
use serde_json::{Value, json};

use crate::dispatch::{self, Call, Reply};
use crate::types::component;
use crate::wire::Recorder;
use crate::{client, document, runtime};

fn snapshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(linkt_conformance::SNAPSHOT_DIR)
}

fn coverage_of(document: &Value) -> Coverage {
    coverage(document, CASES, COMPONENTS, &snapshot_dir())
}

#[test]
fn every_operation_and_component_schema_is_covered() {
    let coverage = coverage_of(document());
    assert!(coverage.is_complete(), "\n{}", coverage.render());
    assert_eq!(coverage.operations.len(), CASES.len());
    assert!(coverage.render().contains(&format!(
        "| **total: {n} operations** | {n}/{n} | {n}/{n} | {n}/{n} | {n}/{n} |",
        n = CASES.len()
    )));
}

#[test]
fn the_cases_are_the_generated_clients_operations() {
    let mut cases: Vec<&str> = CASES.iter().map(|c| c.operation).collect();
    let mut client: Vec<&str> = linkt::OPERATIONS.iter().map(|op| op.name).collect();
    let mut typed: Vec<&str> = dispatch::DISPATCHED.to_vec();
    cases.sort_unstable();
    client.sort_unstable();
    typed.sort_unstable();
    assert_eq!(cases, client);
    assert_eq!(cases, typed);
}

fn problems_naming<'a>(coverage: &'a Coverage, needle: &str) -> Vec<&'a String> {
    coverage
        .problems
        .iter()
        .filter(|p| p.contains(needle))
        .collect()
}

#[test]
fn an_operation_added_to_the_spec_fails_the_gate_naming_it() {
    let mut document = document().clone();
    document["paths"]["/v1/widget"] = json!({
        "get": {
            "operationId": "list_widgets_v1_widget_get",
            "x-linkt-name": "widget_list",
            "parameters": [
                { "name": "page", "in": "query", "schema": { "type": "integer" } }
            ],
            "responses": { "200": { "description": "ok", "content": { "application/json": {
                "schema": { "$ref": "#/components/schemas/IcpListResponse" }
            } } } }
        }
    });
    let coverage = coverage_of(&document);
    assert!(!coverage.is_complete());
    let named = problems_naming(&coverage, "`widget_list`");
    assert!(
        named
            .iter()
            .any(|p| p.contains("has no case") && p.contains("GET /v1/widget")),
        "{:#?}",
        coverage.problems
    );
    let row = coverage
        .operations
        .iter()
        .find(|row| row.operation == "widget_list")
        .expect("a row for the new operation");
    assert!(!row.request_snapshot.is_covered());
    assert!(!row.decoding.is_covered());
    assert!(!row.error_mapping.is_covered());
    assert_eq!(row.property, Mark::Covered, "its schemas are known ones");
    let table = coverage.render();
    assert!(
        table.contains("| `widget_list` | ✗ | ✗ | ✗ | ✓ |"),
        "{table}"
    );
    let n = CASES.len() + 1;
    assert!(
        table.contains(&format!("| **total: {n} operations** | {}/{n} |", n - 1)),
        "{table}"
    );
}

#[test]
fn a_case_without_its_operation_fails_the_gate_naming_it() {
    let mut document = document().clone();
    document["paths"]["/v1/files"]
        .as_object_mut()
        .expect("a path item")
        .remove("get");
    let coverage = coverage_of(&document);
    assert!(
        !problems_naming(&coverage, "case `files_list` names no operation").is_empty(),
        "{:#?}",
        coverage.problems
    );
    assert!(
        !problems_naming(
            &coverage,
            "request__files_list.snap belongs to no operation"
        )
        .is_empty(),
        "{:#?}",
        coverage.problems
    );
}

#[test]
fn a_new_parameter_or_changed_body_fails_the_gate_naming_it() {
    let mut document = document().clone();
    document["paths"]["/v1/icp"]["get"]["parameters"]
        .as_array_mut()
        .expect("parameters")
        .push(json!({ "name": "tag", "in": "query", "schema": { "type": "string" } }));
    document["paths"]["/v1/icp"]["post"]["requestBody"]["content"]["application/json"]["schema"] =
        json!({ "$ref": "#/components/schemas/UpdateIcpRequest" });
    let coverage = coverage_of(&document);
    assert!(
        !problems_naming(&coverage, "case `icp_list` lacks the query parameter `tag`").is_empty(),
        "{:#?}",
        coverage.problems
    );
    assert!(
        !problems_naming(&coverage, "spec's request body is json(UpdateIcpRequest)").is_empty(),
        "{:#?}",
        coverage.problems
    );
}

#[test]
fn a_new_component_schema_fails_the_gate_naming_it() {
    let mut document = document().clone();
    document["components"]["schemas"]["WidgetResponse"] = json!({
        "type": "object",
        "properties": { "id": { "type": "string" } },
        "required": ["id"]
    });
    document["paths"]["/v1/icp"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] =
        json!({ "$ref": "#/components/schemas/WidgetResponse" });
    let coverage = coverage_of(&document);
    assert!(
        !problems_naming(&coverage, "component schema `WidgetResponse`").is_empty(),
        "{:#?}",
        coverage.problems
    );
    let row = coverage
        .operations
        .iter()
        .find(|row| row.operation == "icp_list")
        .expect("icp_list");
    assert!(matches!(&row.property, Mark::Missing(why) if why.contains("WidgetResponse")));
    assert!(matches!(&row.decoding, Mark::Missing(why) if why.contains("json(WidgetResponse)")));
    assert!(coverage.render().contains("| `WidgetResponse` | ✗ | ✗ |"));
}

/// Renames a required property of a component schema in a copy of the spec.
fn rename_required(document: &mut Value, schema: &str, from: &str, to: &str) {
    let component = &mut document["components"]["schemas"][schema];
    let properties = component["properties"].as_object_mut().expect("properties");
    let property = properties.remove(from).expect("the property exists");
    properties.insert(to.to_owned(), property);
    for name in component["required"]
        .as_array_mut()
        .expect("required")
        .iter_mut()
    {
        if name == from {
            *name = json!(to);
        }
    }
}

#[test]
fn a_renamed_required_response_field_fails_decoding_naming_it() {
    // The vendor renames IcpResponse.name; the client still expects `name`.
    let mut renamed = document().clone();
    rename_required(&mut renamed, "IcpResponse", "name", "display_name");
    let body = spec::example_value(
        &renamed,
        &json!({ "$ref": "#/components/schemas/IcpResponse" }),
        "body",
    );
    assert!(body.get("display_name").is_some() && body.get("name").is_none());

    let server = MockServer::start();
    let op = crate::spec_operations()
        .iter()
        .find(|op| op.name == "icp_retrieve")
        .expect("icp_retrieve");
    let reply = Reply {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: serde_json::to_vec(&body).expect("JSON"),
    };
    let _mock = dispatch::mock(&server, "icp_retrieve", &reply, &Recorder::default());
    let (client, _) = client(&server.base_url());
    let call = Call::from_spec(document(), op, None);
    let err = runtime()
        .block_on(dispatch::perform(&client, "icp_retrieve", &call))
        .expect_err("the renamed field fails decoding");
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert!(err.to_string().contains("missing field `name`"), "{err}");
    assert_eq!(err.decode_path(), Some("."), "{err}");
}

#[test]
fn a_renamed_nested_required_field_fails_decoding_naming_its_path() {
    let mut renamed = document().clone();
    rename_required(&mut renamed, "IcpEntityTarget", "entity_type", "kind");
    let body = spec::example_value(
        &renamed,
        &json!({ "$ref": "#/components/schemas/IcpResponse" }),
        "body",
    );
    let bytes = serde_json::to_vec_pretty(&body).expect("JSON");
    let decode = component("IcpResponse").expect("IcpResponse").round_trip;
    let err = decode(&bytes).expect_err("the renamed field fails decoding");
    assert_eq!(err.decode_path(), Some(".entity_targets[0]"), "{err}");
    assert!(
        err.to_string().contains("missing field `entity_type`"),
        "{err}"
    );
    assert!(err.to_string().contains(".entity_targets[0]"), "{err}");
}
