//! The coverage check: does every operation and component schema of the
//! spec have its conformance tests, and does every case still match the spec?
//!
//! [`coverage()`] computes it from the normalized document, the case table,
//! the component table and the snapshot directory, without running anything;
//! [`Coverage::render`] prints the table `cargo xtask conformance` shows.
//! What each column means:
//!
//! * **request snapshot**: a case exists, its path and query parameters and
//!   its body kind equal the spec's, and its committed snapshot
//!   `request__<operation>.snap` exists (the test fails when the request
//!   differs from it);
//! * **decoding**: a case exists and its response kind (JSON type, no
//!   content, bytes) equals the spec's success response; the tests decode a
//!   seeded body generated from that schema and every response example;
//! * **error mapping**: a case exists; the tests send every case through the
//!   nine error statuses;
//! * **property**: every component schema the operation sends or receives
//!   (transitively) is in the component table, so it is round-tripped by
//!   the property tests and compared by the drift check.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use crate::cases::{BodyKind, Case, ResponseKind};
use crate::components::rust_type_name;
use crate::spec::{self, Content, SpecOperation};

/// File name prefix of the request snapshots (`request__icp_create.snap`).
pub const SNAPSHOT_PREFIX: &str = "request__";

/// One cell of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    /// Covered.
    Covered,
    /// Not covered, and why.
    Missing(String),
}

impl Mark {
    /// Whether the cell is covered.
    pub fn is_covered(&self) -> bool {
        matches!(self, Mark::Covered)
    }

    fn from_problems(problems: &[String]) -> Mark {
        match problems.first() {
            None => Mark::Covered,
            Some(first) => Mark::Missing(first.clone()),
        }
    }
}

/// A row of the operation table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationRow {
    /// The operation (client method name).
    pub operation: String,
    /// Request snapshot column.
    pub request_snapshot: Mark,
    /// Response decoding column.
    pub decoding: Mark,
    /// Error mapping column.
    pub error_mapping: Mark,
    /// Property column.
    pub property: Mark,
}

impl OperationRow {
    fn marks(&self) -> [&Mark; 4] {
        [
            &self.request_snapshot,
            &self.decoding,
            &self.error_mapping,
            &self.property,
        ]
    }
}

/// A row of the component table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentRow {
    /// The spec's name, e.g. `HTTPValidationError`.
    pub spec_name: String,
    /// The generated type's name, e.g. `HttpValidationError`.
    pub rust_name: String,
    /// Whether the component table lists it (round-trip property and drift
    /// check).
    pub covered: bool,
}

/// The result of [`coverage()`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// One row per operation of the spec, in document order.
    pub operations: Vec<OperationRow>,
    /// One row per component schema of the spec, in document order.
    pub components: Vec<ComponentRow>,
    /// Everything that is not covered or does not match, one sentence each;
    /// empty when the gate passes.
    pub problems: Vec<String>,
}

impl Coverage {
    /// Whether every operation and component schema is covered and every
    /// case matches the spec.
    pub fn is_complete(&self) -> bool {
        self.problems.is_empty()
    }

    /// The coverage table in Markdown: operations × (request snapshot,
    /// decoding, error mapping, property) with totals, then component
    /// schemas with totals, then the problems, if any.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "| operation | request snapshot | decoding | error mapping | property |"
        );
        let _ = writeln!(out, "|---|:-:|:-:|:-:|:-:|");
        for row in &self.operations {
            let cells: Vec<&str> = row
                .marks()
                .iter()
                .map(|m| if m.is_covered() { "✓" } else { "✗" })
                .collect();
            let _ = writeln!(out, "| `{}` | {} |", row.operation, cells.join(" | "));
        }
        let total = self.operations.len();
        let counts: Vec<String> = (0..4)
            .map(|i| {
                let covered = self
                    .operations
                    .iter()
                    .filter(|row| row.marks()[i].is_covered())
                    .count();
                format!("{covered}/{total}")
            })
            .collect();
        let _ = writeln!(
            out,
            "| **total: {total} operations** | {} |",
            counts.join(" | ")
        );

        let components = self.components.len();
        let covered = self.components.iter().filter(|c| c.covered).count();
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "| component schemas | round-trip property | schema drift |"
        );
        let _ = writeln!(out, "|---|:-:|:-:|");
        for row in self.components.iter().filter(|c| !c.covered) {
            let _ = writeln!(out, "| `{}` | ✗ | ✗ |", row.spec_name);
        }
        let _ = writeln!(
            out,
            "| **total: {components} component schemas** | {covered}/{components} | {covered}/{components} |"
        );

        if !self.problems.is_empty() {
            let _ = writeln!(out);
            let _ = writeln!(out, "Not covered:");
            for problem in &self.problems {
                let _ = writeln!(out, "- {problem}");
            }
        }
        out
    }
}

/// Computes the coverage of `document` (the normalized spec) by the `cases`
/// ([`crate::CASES`]), the `components` table ([`crate::COMPONENTS`], Rust
/// names) and the request snapshots committed in `snapshot_dir`.
pub fn coverage(
    document: &Value,
    cases: &[Case],
    components: &[&str],
    snapshot_dir: &Path,
) -> Coverage {
    let mut problems = Vec::new();
    let operations = match spec::operations(document) {
        Ok(operations) => operations,
        Err(message) => {
            problems.push(format!("the spec cannot be read: {message}"));
            Vec::new()
        }
    };
    let listed: BTreeSet<&str> = components.iter().copied().collect();
    let snapshots = snapshot_names(snapshot_dir);

    let mut rows = Vec::new();
    for op in &operations {
        let case = cases.iter().find(|case| case.operation == op.name);
        let row = operation_row(document, op, case, &listed, &snapshots);
        for mark in row.marks() {
            if let Mark::Missing(why) = mark
                && !problems.contains(why)
            {
                problems.push(why.clone());
            }
        }
        rows.push(row);
    }

    let names: BTreeSet<&str> = operations.iter().map(|op| op.name.as_str()).collect();
    let mut seen = BTreeSet::new();
    for case in cases {
        if !names.contains(case.operation) {
            problems.push(format!(
                "case `{}` names no operation of the spec; remove it from for_each_case!",
                case.operation
            ));
        }
        if !seen.insert(case.operation) {
            problems.push(format!("case `{}` is listed twice", case.operation));
        }
    }
    for snapshot in &snapshots {
        if !names.contains(snapshot.as_str()) {
            problems.push(format!(
                "snapshot {SNAPSHOT_PREFIX}{snapshot}.snap belongs to no operation of the spec; delete it"
            ));
        }
    }

    let mut component_rows = Vec::new();
    let mut spec_rust_names = BTreeSet::new();
    for (spec_name, _) in spec::component_schemas(document) {
        let rust_name = rust_type_name(spec_name);
        let covered = listed.contains(rust_name.as_str());
        if !covered {
            problems.push(format!(
                "component schema `{spec_name}` (type `{rust_name}`) is not in for_each_component!"
            ));
        }
        spec_rust_names.insert(rust_name.clone());
        component_rows.push(ComponentRow {
            spec_name: spec_name.to_owned(),
            rust_name,
            covered,
        });
    }
    for name in components {
        if !spec_rust_names.contains(*name) {
            problems.push(format!(
                "for_each_component! lists `{name}`, which is no component schema of the spec"
            ));
        }
    }

    Coverage {
        operations: rows,
        components: component_rows,
        problems,
    }
}

fn operation_row(
    document: &Value,
    op: &SpecOperation,
    case: Option<&Case>,
    components: &BTreeSet<&str>,
    snapshots: &BTreeSet<String>,
) -> OperationRow {
    let name = &op.name;
    let property = {
        let mut referenced = BTreeSet::new();
        let schemas = op
            .request_body
            .iter()
            .chain(op.responses.iter().filter_map(|(_, r)| r.content.as_ref()))
            .map(|content| &content.schema);
        for schema in schemas {
            referenced.extend(spec::referenced_components(document, schema));
        }
        let missing: Vec<String> = referenced
            .iter()
            .filter(|spec_name| !components.contains(rust_type_name(spec_name).as_str()))
            .map(|spec_name| {
                format!("operation `{name}` uses component schema `{spec_name}`, which has no property test")
            })
            .collect();
        Mark::from_problems(&missing)
    };
    let Some(case) = case else {
        let missing = Mark::Missing(format!(
            "operation `{name}` ({} {}) has no case in for_each_case!",
            op.method, op.path
        ));
        return OperationRow {
            operation: name.clone(),
            request_snapshot: missing.clone(),
            decoding: missing.clone(),
            error_mapping: missing,
            property,
        };
    };

    let mut request = Vec::new();
    for location in ["path", "query"] {
        let in_spec: BTreeSet<&str> = op.parameter_names(location).into_iter().collect();
        let in_case: BTreeSet<&str> = match location {
            "path" => case.path.iter().copied().collect(),
            _ => case.query.iter().copied().collect(),
        };
        for missing in in_spec.difference(&in_case) {
            request.push(format!(
                "case `{name}` lacks the {location} parameter `{missing}` of the spec"
            ));
        }
        for extra in in_case.difference(&in_spec) {
            request.push(format!(
                "case `{name}` has a {location} parameter `{extra}` the spec does not"
            ));
        }
    }
    let (expected, actual) = (
        expected_body(op.request_body.as_ref(), document),
        describe_body(case.body),
    );
    if expected != actual {
        request.push(format!(
            "case `{name}` sends body {actual} but the spec's request body is {expected}"
        ));
    }
    if !snapshots.contains(name) {
        request.push(format!(
            "operation `{name}` has no committed request snapshot {SNAPSHOT_PREFIX}{name}.snap"
        ));
    }

    let (expected, actual) = (
        expected_response(op.success.content.as_ref()),
        describe_response(case.response),
    );
    let decoding = if expected == actual {
        Mark::Covered
    } else {
        Mark::Missing(format!(
            "case `{name}` expects response {actual} but the spec's {} response is {expected}",
            op.success.status
        ))
    };

    OperationRow {
        operation: name.clone(),
        request_snapshot: Mark::from_problems(&request),
        decoding,
        error_mapping: Mark::Covered,
        property,
    }
}

/// How the spec's request body reads in the terms of [`BodyKind`].
fn expected_body(content: Option<&Content>, document: &Value) -> String {
    let Some(content) = content else {
        return describe_body(BodyKind::None);
    };
    if content.media_type == "multipart/form-data" {
        let (schema, _) = spec::unwrap(document, &content.schema);
        let part = schema
            .get("properties")
            .and_then(Value::as_object)
            .and_then(|p| p.keys().next())
            .map_or("?", String::as_str);
        return format!("multipart({part})");
    }
    match spec::ref_name(&content.schema) {
        Some(name) if content.media_type == "application/json" => {
            format!("json({})", rust_type_name(name))
        }
        _ => format!("{} (inline schema)", content.media_type),
    }
}

fn describe_body(body: BodyKind) -> String {
    match body {
        BodyKind::None => "none()".to_owned(),
        BodyKind::Json(name) => format!("json({name})"),
        BodyKind::Multipart(part) => format!("multipart({part})"),
    }
}

/// How the spec's success response reads in the terms of [`ResponseKind`].
fn expected_response(content: Option<&Content>) -> String {
    let Some(content) = content else {
        return describe_response(ResponseKind::Empty);
    };
    if content.media_type != "application/json" {
        return describe_response(ResponseKind::Bytes);
    }
    match spec::ref_name(&content.schema) {
        Some(name) => format!("json({})", rust_type_name(name)),
        None => "application/json (inline schema)".to_owned(),
    }
}

fn describe_response(response: ResponseKind) -> String {
    match response {
        ResponseKind::Json(name) => format!("json({name})"),
        ResponseKind::Empty => "empty()".to_owned(),
        ResponseKind::Bytes => "bytes()".to_owned(),
    }
}

/// Operation names of the `request__<operation>.snap` files in `dir`.
fn snapshot_names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let file = entry.file_name().into_string().ok()?;
            let stem = file.strip_suffix(".snap")?;
            Some(stem.strip_prefix(SNAPSHOT_PREFIX)?.to_owned())
        })
        .collect()
}
