//! The change report over fixture pairs: a small prepared document
//! (`xtask/tests/fixtures/changes/base.json`) and one edit per case, each
//! case's Markdown snapshotted; every rule must be hit by some case. Then the
//! verdicts the report promises, checked by assertion, and the real spec.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::model::{Change, ChangeReport, Group, Rule, Usage, Verdict};
use super::{compare, markdown, text};

const BASE: &str = include_str!("../../tests/fixtures/changes/base.json");

fn base() -> Value {
    serde_json::from_str(BASE).expect("fixture is JSON")
}

#[track_caller]
fn at<'a>(doc: &'a mut Value, pointer: &str) -> &'a mut Value {
    doc.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("the fixture has {pointer}"))
}

#[track_caller]
fn object<'a>(doc: &'a mut Value, pointer: &str) -> &'a mut Map<String, Value> {
    at(doc, pointer).as_object_mut().expect("an object")
}

#[track_caller]
fn props<'a>(doc: &'a mut Value, schema: &str) -> &'a mut Map<String, Value> {
    object(doc, &format!("/components/schemas/{schema}/properties"))
}

#[track_caller]
fn required<'a>(doc: &'a mut Value, schema: &str) -> &'a mut Vec<Value> {
    at(doc, &format!("/components/schemas/{schema}/required"))
        .as_array_mut()
        .expect("an array")
}

fn schemas(doc: &mut Value) -> &mut Map<String, Value> {
    object(doc, "/components/schemas")
}

fn json_content(schema: Value) -> Value {
    json!({ "application/json": { "schema": schema } })
}

/// One fixture edit. With `reverse`, the edited document is the old one.
struct Case {
    name: &'static str,
    reverse: bool,
    edit: fn(&mut Value),
}

const fn case(name: &'static str, edit: fn(&mut Value)) -> Case {
    Case {
        name,
        reverse: false,
        edit,
    }
}

const fn reversed(name: &'static str, edit: fn(&mut Value)) -> Case {
    Case {
        name,
        reverse: true,
        edit,
    }
}

const THING_PATH: &str = "/paths/~1v1~1thing~1{thing_id}";

fn add_other_operation(doc: &mut Value) {
    object(doc, "/paths").insert(
        "/v1/other".into(),
        json!({ "get": {
            "operationId": "list_others_v1_other_get",
            "x-linkt-name": "other_list",
            "responses": { "200": { "description": "Successful Response",
                "content": json_content(json!({ "type": "object",
                    "properties": { "id": { "type": "string" } } })) } }
        } }),
    );
}

fn add_optional_delete_body(doc: &mut Value) {
    object(doc, &format!("{THING_PATH}/delete")).insert(
        "requestBody".into(),
        json!({ "required": false, "content": json_content(json!({ "type": "object" })) }),
    );
}

fn add_multipart_body(doc: &mut Value) {
    object(doc, "/paths/~1v1~1thing/post/requestBody/content").insert(
        "multipart/form-data".into(),
        json!({ "schema": { "$ref": "#/components/schemas/CreateThingRequest" } }),
    );
}

fn add_profile_variant(doc: &mut Value) {
    schemas(doc).insert(
        "ProfileConfig".into(),
        json!({ "type": "object", "required": ["type"], "properties": {
            "type": { "type": "string", "enum": ["profile"], "default": "profile" } } }),
    );
    let config = at(doc, "/components/schemas/Thing/properties/config");
    config["oneOf"]
        .as_array_mut()
        .expect("variants")
        .push(json!({ "$ref": "#/components/schemas/ProfileConfig" }));
    config["discriminator"]["mapping"]["profile"] = json!("#/components/schemas/ProfileConfig");
}

fn remove_ingest_variant(doc: &mut Value) {
    let config = at(
        doc,
        "/components/schemas/CreateThingRequest/properties/config",
    );
    config["oneOf"]
        .as_array_mut()
        .expect("variants")
        .retain(|v| v["$ref"] != "#/components/schemas/IngestConfig");
    config["discriminator"]["mapping"]
        .as_object_mut()
        .expect("mapping")
        .remove("ingest");
}

const CASES: &[Case] = &[
    case("operation-added", add_other_operation),
    reversed("operation-removed", add_other_operation),
    case("operation-path-changed", |d| {
        let paths = object(d, "/paths");
        let item = paths.remove("/v1/thing/export").expect("export");
        paths.insert("/v1/things/export".into(), item);
    }),
    case("operation-method-changed", |d| {
        let item = object(d, THING_PATH);
        let op = item.remove("delete").expect("delete");
        item.insert("post".into(), op);
    }),
    case("operation-renamed", |d| {
        *at(d, &format!("{THING_PATH}/get/x-linkt-name")) = json!("thing_get");
    }),
    case("operation-id-changed", |d| {
        *at(d, &format!("{THING_PATH}/get/operationId")) =
            json!("read_thing_v1_thing__thing_id__get");
    }),
    case("parameter-added", |d| {
        let parameters = at(d, "/paths/~1v1~1thing/get/parameters")
            .as_array_mut()
            .expect("parameters");
        let string = json!({ "type": "string" });
        parameters
            .push(json!({ "name": "org", "in": "query", "required": true, "schema": string }));
        parameters
            .push(json!({ "name": "sort", "in": "query", "required": false, "schema": string }));
    }),
    case("parameter-removed", |d| {
        at(d, "/paths/~1v1~1thing/get/parameters")
            .as_array_mut()
            .expect("parameters")
            .retain(|p| p["name"] != "status");
    }),
    case("parameter-requiredness", |d| {
        *at(d, "/paths/~1v1~1thing/get/parameters/0/required") = json!(false);
        *at(d, "/paths/~1v1~1thing/get/parameters/1/required") = json!(true);
    }),
    case("parameter-type-changed", |d| {
        *at(d, &format!("{THING_PATH}/get/parameters/0/schema")) = json!({ "type": "integer" });
    }),
    case("parameter-enum", |d| {
        *at(d, "/paths/~1v1~1thing/get/parameters/2/schema/enum") =
            json!(["new", "archived", null]);
    }),
    case("parameter-default-changed", |d| {
        *at(d, "/paths/~1v1~1thing/get/parameters/1/schema/default") = json!(10);
    }),
    case("enum-value-added", |d| {
        *at(d, "/components/schemas/Status/enum") = json!(["new", "done", "archived"]);
    }),
    case("enum-value-removed", |d| {
        *at(d, "/components/schemas/Status/enum") = json!(["new"]);
    }),
    case("enum-constraint", |d| {
        props(d, "Thing").insert(
            "kind".into(),
            json!({ "type": "string", "enum": ["a", "b"] }),
        );
        *at(d, "/paths/~1v1~1thing/get/parameters/2/schema") =
            json!({ "type": "string", "nullable": true });
    }),
    case("request-body-added", add_optional_delete_body),
    reversed("request-body-removed", add_optional_delete_body),
    case("request-body-became-optional", |d| {
        *at(d, "/paths/~1v1~1thing/post/requestBody/required") = json!(false);
    }),
    reversed("request-body-became-required", |d| {
        *at(d, "/paths/~1v1~1thing/post/requestBody/required") = json!(false);
    }),
    case("request-body-type-changed", |d| {
        *at(
            d,
            "/paths/~1v1~1thing/post/requestBody/content/application~1json/schema",
        ) = {
            let item = json!({ "$ref": "#/components/schemas/CreateThingRequest" });
            json!({ "type": "array", "items": item })
        };
    }),
    case("request-media-type-added", add_multipart_body),
    reversed("request-media-type-removed", add_multipart_body),
    case("response-success-status-changed", |d| {
        let responses = object(d, "/paths/~1v1~1thing/post/responses");
        let ok = responses.remove("200").expect("200");
        responses.insert("201".into(), ok);
    }),
    case("response-body-added", |d| {
        *at(d, &format!("{THING_PATH}/delete/responses")) = json!({ "200": {
            "description": "Successful Response",
            "content": json_content(json!({ "$ref": "#/components/schemas/Thing" })) } });
    }),
    case("response-body-removed", |d| {
        *at(d, &format!("{THING_PATH}/get/responses")) =
            json!({ "204": { "description": "Successful Response" } });
    }),
    case("response-body-type-changed", |d| {
        *at(
            d,
            "/paths/~1v1~1thing~1export/get/responses/200/content/text~1csv/schema",
        ) = json!({ "type": "object" });
    }),
    case("response-media-type-changed", |d| {
        let content = object(d, "/paths/~1v1~1thing~1export/get/responses/200/content");
        let csv = content.remove("text/csv").expect("csv");
        content.insert("application/json".into(), csv);
    }),
    case("component-added", |d| {
        schemas(d).insert("Extra".into(), json!({ "type": "object" }));
    }),
    case("component-removed", |d| {
        schemas(d).remove("Legacy");
    }),
    case("request-property-added", |d| {
        props(d, "CreateThingRequest").insert("owner".into(), json!({ "type": "string" }));
        props(d, "CreateThingRequest").insert("note".into(), json!({ "type": "string" }));
        required(d, "CreateThingRequest").push(json!("owner"));
    }),
    case("response-property-added", |d| {
        props(d, "Thing").insert("rating".into(), json!({ "type": "number" }));
    }),
    case("request-property-removed", |d| {
        props(d, "CreateThingRequest").remove("description");
    }),
    case("response-property-removed", |d| {
        props(d, "Thing").remove("name");
        required(d, "Thing").retain(|r| r != "name");
    }),
    case("request-property-requiredness", |d| {
        required(d, "CreateThingRequest").retain(|r| r != "name");
        required(d, "CreateThingRequest").push(json!("priority"));
    }),
    case("response-property-requiredness", |d| {
        required(d, "Thing").retain(|r| r != "name");
        required(d, "Thing").push(json!("count"));
    }),
    case("request-property-nullability", |d| {
        props(d, "CreateThingRequest")["name"]["nullable"] = json!(true);
        props(d, "CreateThingRequest")["description"]
            .as_object_mut()
            .expect("description")
            .remove("nullable");
    }),
    case("response-property-nullability", |d| {
        props(d, "Thing")["name"]["nullable"] = json!(true);
        props(d, "Thing")["status"]
            .as_object_mut()
            .expect("status")
            .remove("nullable");
    }),
    case("property-type-changed", |d| {
        props(d, "CreateThingRequest")["name"] = json!({ "type": "integer" });
        props(d, "Thing")["created_at"] = json!({ "type": "string" });
        props(d, "Thing")["count"] = json!({ "type": "number" });
        props(d, "Thing")["tags"]["items"] = json!({ "type": "integer" });
    }),
    case("array-items-nullable", |d| {
        props(d, "Thing")["tags"]["items"]["nullable"] = json!(true);
    }),
    case("union-variant-added", add_profile_variant),
    case("union-variant-removed", remove_ingest_variant),
    case("union-variant-type-changed", |d| {
        let mut v2 = d["components"]["schemas"]["SearchConfig"].clone();
        v2["properties"]["limit"] = json!({ "type": "integer" });
        v2["required"]
            .as_array_mut()
            .expect("required")
            .push(json!("limit"));
        schemas(d).insert("SearchConfigV2".into(), v2);
        let config = at(d, "/components/schemas/Thing/properties/config");
        config["oneOf"][0] = json!({ "$ref": "#/components/schemas/SearchConfigV2" });
        config["discriminator"]["mapping"]["search"] = json!("#/components/schemas/SearchConfigV2");
    }),
    case("discriminator-changed", |d| {
        props(d, "Thing")["config"]["discriminator"]["propertyName"] = json!("kind");
    }),
    case("untagged-union-variant-added", |d| {
        props(d, "ValidationError")["loc"]["items"]["anyOf"]
            .as_array_mut()
            .expect("variants")
            .push(json!({ "type": "boolean" }));
    }),
    case("additional-properties-changed", |d| {
        props(d, "Thing")["extra"]["additionalProperties"] = json!(false);
        props(d, "CreateThingRequest")["labels"]["additionalProperties"] =
            json!({ "type": "integer" });
    }),
    case("constraints", |d| {
        props(d, "CreateThingRequest")["name"] = json!({ "type": "string", "maxLength": 100 });
        *at(d, "/paths/~1v1~1thing/get/parameters/1/schema/minimum") = json!(0);
    }),
    case("default-changed", |d| {
        props(d, "Thing")["count"]["default"] = json!(0);
        props(d, "SearchConfig")["query"]["default"] = json!("*");
    }),
    case("both-directions", |d| {
        required(d, "Address").retain(|r| r != "city");
        required(d, "Address").push(json!("zip"));
    }),
    case("all-of-same-shape", |d| {
        schemas(d).insert(
            "Place".into(),
            json!({ "type": "object", "required": ["city"],
                    "properties": { "city": { "type": "string" } } }),
        );
        schemas(d)["Address"] = json!({ "allOf": [
            { "$ref": "#/components/schemas/Place" },
            { "type": "object", "properties": { "zip": { "type": "string" } } }
        ] });
    }),
    case("all-of-member-changed", |d| {
        schemas(d).insert(
            "Place".into(),
            json!({ "type": "object", "properties": { "city": { "type": "string" } } }),
        );
        schemas(d)["Address"] = json!({ "allOf": [
            { "$ref": "#/components/schemas/Place" },
            { "type": "object", "properties": { "zip": { "type": "string" } } }
        ] });
    }),
    case("recursive-schema-replaced", |d| {
        let mut v2 = d["components"]["schemas"]["Node"].clone();
        v2["properties"]["children"]["items"] = json!({ "$ref": "#/components/schemas/NodeV2" });
        v2["properties"]["depth"] = json!({ "type": "integer" });
        schemas(d).insert("NodeV2".into(), v2);
        props(d, "Thing")["tree"] = json!({ "$ref": "#/components/schemas/NodeV2" });
    }),
];

fn run(case: &Case) -> ChangeReport {
    let mut edited = base();
    (case.edit)(&mut edited);
    if case.reverse {
        compare(&edited, &base())
    } else {
        compare(&base(), &edited)
    }
}

#[track_caller]
fn report(name: &str) -> ChangeReport {
    let case = CASES
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no case {name}"));
    run(case)
}

/// The one change of `report` with `rule` at a location ending in `detail`.
#[track_caller]
fn only<'r>(report: &'r ChangeReport, rule: Rule, detail: &str) -> &'r Change {
    let found: Vec<_> = report
        .changes
        .iter()
        .filter(|c| c.rule == rule && c.location.to_string().ends_with(detail))
        .collect();
    assert_eq!(found.len(), 1, "{rule} at {detail} in\n{}", text(report));
    found[0]
}

#[test]
fn every_case_is_snapshotted_as_markdown() {
    for case in CASES {
        let report = run(case);
        assert!(!report.is_empty(), "{} reports nothing", case.name);
        insta::assert_snapshot!(case.name, markdown(&report));
    }
}

#[test]
fn every_rule_is_covered_by_a_case() {
    let hit: BTreeSet<Rule> = CASES
        .iter()
        .flat_map(|c| run(c).changes)
        .map(|c| c.rule)
        .collect();
    let missing: Vec<&str> = Rule::ALL
        .iter()
        .filter(|r| !hit.contains(r))
        .map(|r| r.id())
        .collect();
    assert!(missing.is_empty(), "rules without a case: {missing:?}");
}

#[test]
fn case_names_are_unique() {
    let names: BTreeSet<&str> = CASES.iter().map(|c| c.name).collect();
    assert_eq!(names.len(), CASES.len());
}

#[test]
fn identical_documents_have_no_changes() {
    let report = compare(&base(), &base());
    assert!(report.is_empty(), "{}", text(&report));
    assert_eq!(text(&report), "no API changes\n");
    assert_eq!(markdown(&report), "## API changes\n\nNo API changes.\n");
}

#[test]
fn reports_are_deterministic() {
    for case in CASES {
        assert_eq!(markdown(&run(case)), markdown(&run(case)), "{}", case.name);
    }
}

#[test]
fn operations_added_and_removed() {
    let added = report("operation-added");
    let change = only(&added, Rule::OperationAdded, "(other_list)");
    assert_eq!(change.verdict(), Verdict::NotBreaking);
    let removed = report("operation-removed");
    let change = only(&removed, Rule::OperationRemoved, "(other_list)");
    assert_eq!(change.verdict(), Verdict::Breaking);
}

#[test]
fn a_moved_operation_breaks_the_wire_but_keeps_its_method() {
    let report = report("operation-path-changed");
    assert_eq!(report.changes.len(), 1, "{}", text(&report));
    let change = only(&report, Rule::OperationPathChanged, "(thing_export)");
    assert_eq!(
        (change.wire, change.rust),
        (Verdict::Breaking, Verdict::NotBreaking)
    );
}

#[test]
fn response_properties() {
    let added = report("response-property-added");
    assert_eq!(added.changes.len(), 1, "{}", text(&added));
    assert_eq!(
        only(&added, Rule::ResponsePropertyAdded, "Thing.rating").verdict(),
        Verdict::NotBreaking
    );

    let removed = report("response-property-removed");
    let change = only(&removed, Rule::ResponsePropertyRemoved, "Thing.name");
    assert_eq!(
        (change.wire, change.rust),
        (Verdict::Breaking, Verdict::Breaking)
    );

    let requiredness = report("response-property-requiredness");
    let optional = only(
        &requiredness,
        Rule::ResponsePropertyBecameOptional,
        "Thing.name",
    );
    assert_eq!(
        (optional.wire, optional.rust),
        (Verdict::Breaking, Verdict::Breaking)
    );
    let required = only(
        &requiredness,
        Rule::ResponsePropertyBecameRequired,
        "Thing.count",
    );
    assert_eq!(
        (required.wire, required.rust),
        (Verdict::NotBreaking, Verdict::Breaking)
    );

    let nullability = report("response-property-nullability");
    let nullable = only(
        &nullability,
        Rule::ResponsePropertyBecameNullable,
        "Thing.name",
    );
    assert_eq!(
        (nullable.wire, nullable.rust),
        (Verdict::Breaking, Verdict::Breaking)
    );
    // `status` is optional, so `Option` already: only the wire sees a difference, and it is benign.
    let not_nullable = only(
        &nullability,
        Rule::ResponsePropertyBecameNotNullable,
        "Thing.status",
    );
    assert_eq!(not_nullable.verdict(), Verdict::NotBreaking);
}

#[test]
fn request_properties() {
    let added = report("request-property-added");
    assert_eq!(
        only(
            &added,
            Rule::RequestPropertyAddedRequired,
            "CreateThingRequest.owner"
        )
        .verdict(),
        Verdict::Breaking
    );
    assert_eq!(
        only(
            &added,
            Rule::RequestPropertyAddedOptional,
            "CreateThingRequest.note"
        )
        .verdict(),
        Verdict::NotBreaking
    );

    let requiredness = report("request-property-requiredness");
    let required = only(
        &requiredness,
        Rule::RequestPropertyBecameRequired,
        "CreateThingRequest.priority",
    );
    assert_eq!(
        (required.wire, required.rust),
        (Verdict::Breaking, Verdict::Breaking)
    );
    let optional = only(
        &requiredness,
        Rule::RequestPropertyBecameOptional,
        "CreateThingRequest.name",
    );
    assert_eq!(
        (optional.wire, optional.rust),
        (Verdict::NotBreaking, Verdict::Breaking)
    );

    let removed = report("request-property-removed");
    let change = only(
        &removed,
        Rule::RequestPropertyRemoved,
        "CreateThingRequest.description",
    );
    assert_eq!(
        (change.wire, change.rust),
        (Verdict::NotBreaking, Verdict::Breaking)
    );
}

#[test]
fn enums_and_unions_are_open() {
    let added = report("enum-value-added");
    assert_eq!(
        only(&added, Rule::EnumValueAdded, "Status").verdict(),
        Verdict::NotBreaking
    );
    let removed = report("enum-value-removed");
    let change = only(&removed, Rule::EnumValueRemoved, "Status");
    // `Status` is sent in requests too, where the server now refuses the value.
    assert_eq!(
        (change.wire, change.rust),
        (Verdict::Breaking, Verdict::Breaking)
    );

    let variant = report("union-variant-added");
    assert_eq!(
        only(&variant, Rule::UnionVariantAdded, "Thing.config").verdict(),
        Verdict::NotBreaking
    );
    let variant = report("union-variant-removed");
    assert_eq!(
        only(
            &variant,
            Rule::UnionVariantRemoved,
            "CreateThingRequest.config"
        )
        .verdict(),
        Verdict::Breaking
    );
    let untagged = report("untagged-union-variant-added");
    assert_eq!(
        only(&untagged, Rule::UnionVariantAdded, "ValidationError.loc[]").verdict(),
        Verdict::Breaking
    );
}

#[test]
fn a_schema_used_both_ways_takes_the_stricter_verdict() {
    let report = report("both-directions");
    for change in &report.changes {
        assert!(
            matches!(
                &change.location.group,
                Group::Component { name, usage }
                    if name == "Address" && usage.request && usage.response
            ),
            "{}",
            text(&report)
        );
    }
    // Optional in a response breaks old clients; required in a request breaks them too.
    let city = only(
        &report,
        Rule::ResponsePropertyBecameOptional,
        "Address.city",
    );
    assert_eq!(city.wire, Verdict::Breaking);
    let zip = only(&report, Rule::RequestPropertyBecameRequired, "Address.zip");
    assert_eq!(zip.wire, Verdict::Breaking);
}

#[test]
fn all_of_members_are_merged_before_comparing() {
    // The same properties and requiredness, now composed: only the new component.
    let same = report("all-of-same-shape");
    assert_eq!(same.changes.len(), 1, "{}", text(&same));
    only(&same, Rule::ComponentAdded, "Place");
    // `city` is no longer required by the member that now holds it.
    let changed = report("all-of-member-changed");
    only(
        &changed,
        Rule::ResponsePropertyBecameOptional,
        "Address.city",
    );
}

#[test]
fn a_recursive_schema_replaced_by_another_terminates() {
    let report = report("recursive-schema-replaced");
    let change = only(&report, Rule::ResponsePropertyTypeChanged, "Thing.tree");
    assert_eq!(
        (change.wire, change.rust),
        (Verdict::NotBreaking, Verdict::Breaking)
    );
    only(&report, Rule::ResponsePropertyAdded, "Thing.tree.depth");
}

#[test]
fn constraints_that_change_the_rust_type_are_breaking_for_rust() {
    let report = report("constraints");
    // minimum 1 -> 0: `NonZeroU64` -> `u64`.
    let page = only(&report, Rule::ConstraintRelaxed, "query parameter `page`");
    assert_eq!(page.rust, Verdict::Breaking);
    // The string stays a validated newtype.
    let max = only(
        &report,
        Rule::ConstraintTightened,
        "CreateThingRequest.name",
    );
    assert_eq!(
        (max.wire, max.rust),
        (Verdict::Breaking, Verdict::NotBreaking)
    );
}

#[test]
fn text_lists_breaking_changes_first_with_both_verdicts_when_they_differ() {
    let text = text(&report("response-property-requiredness"));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0], "API changes: 2 breaking, 0 not breaking",
        "{text}"
    );
    assert_eq!(lines[1], "breaking:");
    assert!(text.contains("response-property-became-required"), "{text}");
    assert!(
        text.contains("[wire: not breaking, Rust: breaking]"),
        "{text}"
    );
    assert!(!text.contains('`'), "{text}");
}

/// The real spec against itself with one field of `IcpResponse` removed.
#[test]
fn the_real_spec_with_a_removed_response_field() {
    let root = crate::codegen::workspace_root();
    let overlay = root.join("spec/overlay.yaml");
    let spec_path = root.join("spec/linkt-v1.openapi.json");
    let original = linkt_spec::prepare(&spec_path, Some(&overlay)).expect("the spec prepares");

    let mut raw: Value =
        serde_json::from_slice(&std::fs::read(&spec_path).expect("spec")).expect("JSON");
    let schema = raw
        .pointer_mut("/components/schemas/IcpResponse")
        .expect("IcpResponse");
    schema["properties"]
        .as_object_mut()
        .expect("properties")
        .remove("description")
        .expect("IcpResponse.description");
    schema["required"]
        .as_array_mut()
        .expect("required")
        .retain(|r| r != "description");
    let dir = root.join("target/xtask-tests/changes");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let edited_path = dir.join("linkt-v1.openapi.json");
    std::fs::write(&edited_path, serde_json::to_vec(&raw).expect("JSON")).expect("write");
    let edited =
        linkt_spec::prepare(&edited_path, Some(&overlay)).expect("the edited spec prepares");

    assert!(compare(&original.document, &original.document).is_empty());
    let report = compare(&original.document, &edited.document);
    assert_eq!(report.changes.len(), 1, "{}", text(&report));
    let change = &report.changes[0];
    assert_eq!(change.rule, Rule::ResponsePropertyRemoved);
    assert_eq!(change.location.to_string(), "IcpResponse.description");
    assert_eq!(change.verdict(), Verdict::Breaking);
    assert_eq!(
        change.location.group,
        Group::Component {
            name: "IcpResponse".into(),
            usage: Usage::RESPONSE
        }
    );
    assert!(markdown(&report).contains("**1 breaking**, 0 not breaking"));
}

/// The drift report of `linkt doctor` suggests spec changes in this
/// report's vocabulary: each of its rules is one of these.
#[test]
fn the_drift_reports_rules_are_change_report_rules() {
    let ids: Vec<&str> = Rule::ALL.iter().map(|rule| rule.id()).collect();
    for rule in linkt_doctor::Rule::ALL {
        assert!(
            ids.contains(&rule.name()),
            "`{}` of linkt-doctor is not a change-report rule",
            rule.name()
        );
    }
}
