//! Drift mode: answers that differ from the spec in controlled, recorded
//! ways, for testing tools that compare a live server with the spec.
//!
//! See [`Drift`]: where each kind applies and how the walk of a body
//! chooses the place.

use std::collections::VecDeque;
use std::fmt;

use linkt_spec::schema::{self, Discriminator};
use serde_json::{Map, Value};

use crate::spec::Spec;

/// The operations that create something and answer `201` with
/// [`DriftKind::CreatedStatus`] instead of their documented `200`: a
/// `POST` creating an ICP, a sheet, a task, a run, a schedule or a file.
///
/// `task_execute` starts a run but is an action on a task, and is not
/// among them; the other `POST`s answer `204`.
pub const CREATE_OPERATIONS: &[&str] = &[
    "icp_create",
    "sheet_create",
    "task_create",
    "run_create",
    "schedule_create",
    "files_upload",
];

/// Most schema hops (`$ref`, `allOf`, union members) followed from one
/// schema before giving up (a cycle).
const MAX_HOPS: usize = 32;

/// Most values the walk visits in one body.
const MAX_NODES: usize = 10_000;

/// One way an answer can drift from the spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DriftKind {
    /// A property the spec does not list,
    /// `"drift_unknown_field": "added by linkt-mock drift mode"`, is added
    /// to the root object ([`Drift::UNKNOWN_FIELD`]).
    UnknownField,
    /// A string whose schema is an enum becomes
    /// [`Drift::UNKNOWN_ENUM_VALUE`].
    UnknownEnumValue,
    /// A property its schema does not require is removed.
    DroppedOptionalField,
    /// A required property whose schema does not admit `null` is set to
    /// `null`.
    NullRequiredField,
    /// A create ([`CREATE_OPERATIONS`]) answers `201` instead of `200`,
    /// with the same body.
    CreatedStatus,
}

impl DriftKind {
    /// Every kind, in the order they are applied and recorded.
    pub const ALL: &'static [DriftKind] = &[
        DriftKind::UnknownField,
        DriftKind::UnknownEnumValue,
        DriftKind::DroppedOptionalField,
        DriftKind::NullRequiredField,
        DriftKind::CreatedStatus,
    ];

    /// The kebab-case name (`unknown-field`, `unknown-enum-value`,
    /// `dropped-optional-field`, `null-required-field`, `created-status`),
    /// as the `linkt-mock` program's `--drift` option takes it.
    pub fn name(self) -> &'static str {
        match self {
            DriftKind::UnknownField => "unknown-field",
            DriftKind::UnknownEnumValue => "unknown-enum-value",
            DriftKind::DroppedOptionalField => "dropped-optional-field",
            DriftKind::NullRequiredField => "null-required-field",
            DriftKind::CreatedStatus => "created-status",
        }
    }

    /// The kind with the kebab-case `name`, if any.
    pub fn from_name(name: &str) -> Option<DriftKind> {
        DriftKind::ALL.iter().copied().find(|k| k.name() == name)
    }

    fn bit(self) -> u8 {
        match self {
            DriftKind::UnknownField => 1,
            DriftKind::UnknownEnumValue => 2,
            DriftKind::DroppedOptionalField => 4,
            DriftKind::NullRequiredField => 8,
            DriftKind::CreatedStatus => 16,
        }
    }
}

impl fmt::Display for DriftKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which kinds of drift a server injects; none by default.
///
/// A server started with [`MockServerBuilder::drift`] changes the successful
/// answers of its operations after it has checked them against the spec
/// (so the check still guards the handlers, and a drifted answer is never
/// turned into a 500), and records every change it made
/// ([`MockServer::injected_drift`]). Only answers the operation itself
/// produced are changed, and only `2xx` ones: errors, injected faults and
/// `GET /openapi.json` never drift.
///
/// # Where each kind applies
///
/// The body kinds apply to a `2xx` answer with a JSON body. Each one is
/// applied at most once per answer, at the first place in this walk of the
/// body that fits it, guided by the schema the spec declares for the
/// answer's status:
///
/// - breadth first: a property closer to the root (fewer tokens in its JSON
///   pointer) comes before a deeper one; at the same depth, properties come
///   in the order of their parents, and an object's properties in the
///   order its schema declares them (not the body's key order);
/// - only properties the schema declares and the body has are visited; an
///   array contributes its first element only; `$ref`, `allOf` and the
///   member of a `oneOf`/`anyOf` the value matches (by discriminator when
///   there is one) are followed.
///
/// An *identifier* is a property named `id` or ending in `_id`; it is never
/// dropped or nulled, so a tour can follow what it created. The places are
/// chosen on the answer as the handler produced it; a property changed by
/// one kind (or one inside it, or the object around it) is not picked by a
/// later kind, in the order [`DriftKind::UnknownEnumValue`],
/// [`DriftKind::DroppedOptionalField`], [`DriftKind::NullRequiredField`].
///
/// | kind | where | pointer for `icp_retrieve` | for `icp_list` (one ICP or more) |
/// |---|---|---|---|
/// | [`UnknownField`](DriftKind::UnknownField) | the root, when it is an object whose schema lists its properties (declares some, and no `additionalProperties`) | `/drift_unknown_field` | `/drift_unknown_field` |
/// | [`UnknownEnumValue`](DriftKind::UnknownEnumValue) | the first string whose schema is an enum of two values or more | none (no enum) | none |
/// | [`DroppedOptionalField`](DriftKind::DroppedOptionalField) | the first property its object's schema does not require, not an identifier | `/entity_structure` | `/icps/0/entity_structure` |
/// | [`NullRequiredField`](DriftKind::NullRequiredField) | the first required property holding a string, number or boolean whose schema does not admit `null`, not an identifier | `/name` | `/page` |
/// | [`CreatedStatus`](DriftKind::CreatedStatus) | the operations of [`CREATE_OPERATIONS`] answering 200 | (not a create) | (not a create) |
///
/// `icp_create` and `icp_update` drift as `icp_retrieve` does (and
/// `icp_create` also answers `201`). `run_retrieve`'s schema is a
/// free-form object, so no kind applies to it: any property is
/// documented there. `files_upload` and `files_retrieve` have an enum:
/// `/processing_status`.
///
/// What [`Spec::check_response`](crate::spec::Spec::check_response) makes
/// of a drifted answer, at the documented status: an unknown enum value is
/// an `enum` issue (`literal_error` for an enum written inline rather than
/// a named schema), a nulled property a `*_type` issue (`string_type`,
/// `int_type`, ...) with input `null`, and a dropped optional property is
/// no issue. The spec does not close its objects (no
/// `additionalProperties: false`), so the unknown field passes that check
/// too; against a schema closed with `additionalProperties: false` it is
/// `extra_forbidden`. A `201` is a status the spec does not declare.
///
/// [`MockServerBuilder::drift`]: crate::MockServerBuilder::drift
/// [`MockServer::injected_drift`]: crate::MockServer::injected_drift
///
/// # Example
///
/// ```
/// use linkt_mock::{Drift, DriftKind};
///
/// let drift = Drift::only(&[DriftKind::UnknownField]);
/// assert!(drift.contains(DriftKind::UnknownField));
/// assert!(!drift.contains(DriftKind::CreatedStatus));
/// assert!(Drift::default().is_none());
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Drift {
    kinds: u8,
}

impl fmt::Debug for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.kinds()).finish()
    }
}

impl Drift {
    /// The property [`DriftKind::UnknownField`] adds to the root object.
    pub const UNKNOWN_FIELD: &'static str = "drift_unknown_field";

    /// The value of [`Drift::UNKNOWN_FIELD`].
    pub const UNKNOWN_FIELD_VALUE: &'static str = "added by linkt-mock drift mode";

    /// The value [`DriftKind::UnknownEnumValue`] puts in an enum.
    pub const UNKNOWN_ENUM_VALUE: &'static str = "drift_unknown_value";

    /// No drift: every answer is as the handlers made it (the default).
    pub fn none() -> Drift {
        Drift { kinds: 0 }
    }

    /// Every kind of drift.
    pub fn all() -> Drift {
        Drift::only(DriftKind::ALL)
    }

    /// Exactly `kinds`.
    pub fn only(kinds: &[DriftKind]) -> Drift {
        Drift {
            kinds: kinds.iter().fold(0, |bits, k| bits | k.bit()),
        }
    }

    /// Whether `kind` is injected.
    pub fn contains(&self, kind: DriftKind) -> bool {
        self.kinds & kind.bit() != 0
    }

    /// Whether nothing is injected.
    pub fn is_none(&self) -> bool {
        self.kinds == 0
    }

    /// The kinds injected, in the order of [`DriftKind::ALL`].
    pub fn kinds(&self) -> impl Iterator<Item = DriftKind> + use<> {
        let drift = *self;
        DriftKind::ALL
            .iter()
            .copied()
            .filter(move |k| drift.contains(*k))
    }
}

/// One change drift mode made to one answer, as recorded by
/// [`MockServer::injected_drift`](crate::MockServer::injected_drift).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct InjectedDrift {
    /// Client method name of the operation.
    pub operation: String,
    /// The status sent (`201` when [`DriftKind::CreatedStatus`] applied to
    /// the same answer).
    pub status: u16,
    /// What was changed.
    pub kind: DriftKind,
    /// Where in the body: an RFC 6901 JSON pointer (`/icps/0/name`); empty
    /// for [`DriftKind::CreatedStatus`].
    pub pointer: String,
}

/// What drift did to one answer.
pub(crate) struct Applied {
    /// The status to send.
    pub(crate) status: u16,
    /// Each change, in the order of [`DriftKind::ALL`].
    pub(crate) changes: Vec<(DriftKind, String)>,
    /// Whether the body changed (and must be serialized again).
    pub(crate) body_changed: bool,
}

/// Applies `drift` to an answer of `operation` with `status` and, if it is
/// JSON, `body`. The caller has checked that the status is `2xx`.
pub(crate) fn apply(
    drift: Drift,
    spec: &Spec,
    operation: &str,
    status: u16,
    body: Option<&mut Value>,
) -> Applied {
    let mut changes = Vec::new();
    let mut body_changed = false;
    if let Some(body) = body {
        let schema = spec.response_schema(operation, status);
        let targets = schema.map(|schema| Targets::find(drift, spec, schema, body));
        let closed = schema.is_some_and(|schema| lists_its_properties(spec, schema, body));
        if drift.contains(DriftKind::UnknownField)
            && closed
            && let Value::Object(root) = body
        {
            root.insert(
                Drift::UNKNOWN_FIELD.to_owned(),
                Value::String(Drift::UNKNOWN_FIELD_VALUE.to_owned()),
            );
            changes.push((
                DriftKind::UnknownField,
                format!("/{}", escape(Drift::UNKNOWN_FIELD)),
            ));
        }
        if let Some(targets) = targets {
            if let Some(pointer) = targets.enum_value
                && let Some(value) = body.pointer_mut(&pointer)
            {
                *value = Value::String(Drift::UNKNOWN_ENUM_VALUE.to_owned());
                changes.push((DriftKind::UnknownEnumValue, pointer));
            }
            if let Some((parent, name, pointer)) = targets.dropped
                && let Some(Value::Object(object)) = body.pointer_mut(&parent)
                && object.shift_remove(&name).is_some()
            {
                changes.push((DriftKind::DroppedOptionalField, pointer));
            }
            if let Some(pointer) = targets.nulled
                && let Some(value) = body.pointer_mut(&pointer)
            {
                *value = Value::Null;
                changes.push((DriftKind::NullRequiredField, pointer));
            }
        }
        body_changed = !changes.is_empty();
    }
    let mut sent = status;
    if drift.contains(DriftKind::CreatedStatus)
        && status == 200
        && CREATE_OPERATIONS.contains(&operation)
    {
        sent = 201;
        changes.push((DriftKind::CreatedStatus, String::new()));
    }
    Applied {
        status: sent,
        changes,
        body_changed,
    }
}

/// The places the body kinds apply, chosen on the unchanged body.
#[derive(Default)]
struct Targets {
    /// Pointer of the enum string.
    enum_value: Option<String>,
    /// Pointer of the object, name and pointer of the dropped property.
    dropped: Option<(String, String, String)>,
    /// Pointer of the nulled property.
    nulled: Option<String>,
}

impl Targets {
    fn find(drift: Drift, spec: &Spec, schema: &Value, body: &Value) -> Targets {
        let mut targets = Targets::default();
        let wanted = [
            DriftKind::UnknownEnumValue,
            DriftKind::DroppedOptionalField,
            DriftKind::NullRequiredField,
        ];
        if !wanted.iter().any(|k| drift.contains(*k)) {
            return targets;
        }
        let visits = walk(spec, schema, body);
        let mut taken: Vec<String> = Vec::new();
        if drift.contains(DriftKind::UnknownEnumValue) {
            targets.enum_value = visits
                .iter()
                .find(|v| v.value.is_string() && is_string_enum(spec, v.schema, v.value))
                .map(|v| v.pointer.clone());
            taken.extend(targets.enum_value.clone());
        }
        if drift.contains(DriftKind::DroppedOptionalField) {
            targets.dropped = visits
                .iter()
                .find(|v| !v.required && !is_identifier(v.name) && is_free(&taken, &v.pointer))
                .map(|v| (v.parent.clone(), v.name.to_owned(), v.pointer.clone()));
            taken.extend(targets.dropped.as_ref().map(|(_, _, p)| p.clone()));
        }
        if drift.contains(DriftKind::NullRequiredField) {
            targets.nulled = visits
                .iter()
                .find(|v| {
                    v.required
                        && !is_identifier(v.name)
                        && matches!(
                            v.value,
                            Value::String(_) | Value::Number(_) | Value::Bool(_)
                        )
                        && is_free(&taken, &v.pointer)
                        && !spec.check_value(v.schema, &Value::Null).is_empty()
                })
                .map(|v| v.pointer.clone());
        }
        targets
    }
}

/// `id` or `*_id`: never dropped or nulled.
fn is_identifier(name: &str) -> bool {
    name == "id" || name.ends_with("_id")
}

/// Whether `pointer` is neither a taken pointer, inside one, nor around one.
fn is_free(taken: &[String], pointer: &str) -> bool {
    let within = |inner: &str, outer: &str| {
        inner
            .strip_prefix(outer)
            .is_some_and(|rest| rest.starts_with('/'))
    };
    taken
        .iter()
        .all(|t| t != pointer && !within(pointer, t) && !within(t, pointer))
}

/// Whether `value`'s schema is an enum of strings with two values or more
/// that would not accept [`Drift::UNKNOWN_ENUM_VALUE`] (a one-value enum is
/// a constant, such as a union's tag).
fn is_string_enum(spec: &Spec, schema: &Value, value: &Value) -> bool {
    let mut layers = Vec::new();
    collect_layers(spec, schema, value, &mut layers, 0);
    let is_enum = layers
        .iter()
        .find_map(|layer| layer.get("enum").and_then(Value::as_array))
        .is_some_and(|options| {
            options.iter().all(|o| o.is_string() || o.is_null())
                && options.iter().filter(|o| o.is_string()).count() >= 2
        });
    is_enum
        && !spec
            .check_value(schema, &Value::String(Drift::UNKNOWN_ENUM_VALUE.to_owned()))
            .is_empty()
}

/// A declared property present in the body, as the walk meets it.
struct Visit<'s, 'v> {
    /// Pointer of the object holding it.
    parent: String,
    /// Pointer of the property.
    pointer: String,
    name: &'s str,
    schema: &'s Value,
    required: bool,
    value: &'v Value,
}

/// The declared properties of `body`, breadth first (see the module
/// documentation).
fn walk<'s, 'v>(spec: &'s Spec, schema: &'s Value, body: &'v Value) -> Vec<Visit<'s, 'v>> {
    let mut visits = Vec::new();
    let mut queue: VecDeque<(String, &'s Value, &'v Value)> = VecDeque::new();
    queue.push_back((String::new(), schema, body));
    let mut nodes = 0;
    while let Some((pointer, schema, value)) = queue.pop_front() {
        nodes += 1;
        if nodes > MAX_NODES {
            break;
        }
        let mut layers = Vec::new();
        collect_layers(spec, schema, value, &mut layers, 0);
        match value {
            Value::Object(object) => {
                let required: Vec<&str> = layers
                    .iter()
                    .filter_map(|layer| layer.get("required").and_then(Value::as_array))
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                let mut seen: Vec<&str> = Vec::new();
                let declared = layers
                    .iter()
                    .filter_map(|layer| layer.get("properties").and_then(Value::as_object))
                    .flatten();
                for (name, property) in declared {
                    if seen.contains(&name.as_str()) {
                        continue;
                    }
                    seen.push(name);
                    let Some(item) = object.get(name) else {
                        continue;
                    };
                    let child = format!("{pointer}/{}", escape(name));
                    if item.is_object() || item.is_array() {
                        queue.push_back((child.clone(), property, item));
                    }
                    visits.push(Visit {
                        parent: pointer.clone(),
                        pointer: child,
                        name,
                        schema: property,
                        required: required.contains(&name.as_str()),
                        value: item,
                    });
                }
            }
            Value::Array(items) => {
                let item_schema = layers.iter().find_map(|layer| layer.get("items"));
                if let (Some(first), Some(item_schema)) = (items.first(), item_schema) {
                    queue.push_back((format!("{pointer}/0"), item_schema, first));
                }
            }
            _ => {}
        }
    }
    visits
}

/// The schema objects that apply to `value` under `schema`: itself, its
/// `$ref` target, its `allOf` members and the member of a union the value
/// matches.
/// Whether `value`'s schema lists its properties: it declares some, and no
/// layer admits others (`additionalProperties: true` or a schema). A
/// property added to a free-form object is no drift.
fn lists_its_properties(spec: &Spec, schema: &Value, value: &Value) -> bool {
    let mut layers = Vec::new();
    collect_layers(spec, schema, value, &mut layers, 0);
    layers.iter().any(|layer| layer.contains_key("properties"))
        && layers.iter().all(|layer| {
            layer
                .get("additionalProperties")
                .is_none_or(|extra| extra == &Value::Bool(false))
        })
}

fn collect_layers<'s>(
    spec: &'s Spec,
    schema: &'s Value,
    value: &Value,
    out: &mut Vec<&'s Map<String, Value>>,
    hops: usize,
) {
    if hops > MAX_HOPS {
        return;
    }
    let Some(object) = schema.as_object() else {
        return;
    };
    if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
        // The validator reads a `$ref` alone, as OpenAPI 3.0 does.
        if let Some(target) = spec.resolve(reference) {
            collect_layers(spec, target, value, out, hops + 1);
        }
        return;
    }
    out.push(object);
    for member in object
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        collect_layers(spec, member, value, out, hops + 1);
    }
    if let Some(member) =
        schema::alternatives(schema).and_then(|m| matching(spec, schema, m, value))
    {
        collect_layers(spec, member, value, out, hops + 1);
    }
}

/// The member of a union `value` belongs to: the one its discriminator
/// names, or else the first it matches.
fn matching<'s>(
    spec: &'s Spec,
    union: &'s Value,
    members: &'s [Value],
    value: &Value,
) -> Option<&'s Value> {
    if let Some(discriminator) = Discriminator::of(union)
        && let Some(tag) = value.get(discriminator.property).and_then(Value::as_str)
        && let Some(target) = discriminator.target(tag)
    {
        return members
            .iter()
            .find(|m| m.get("$ref").and_then(Value::as_str) == Some(target))
            .or_else(|| spec.resolve(target));
    }
    members
        .iter()
        .find(|member| spec.check_value(member, value).is_empty())
}

/// A property name as a JSON pointer token (RFC 6901).
fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec() -> &'static Spec {
        Spec::load().expect("the embedded spec prepares")
    }

    fn icp() -> Value {
        json!({
            "id": "507f1f77bcf86cd799439011",
            "name": "Fintech",
            "description": "B2B",
            "entity_targets": [{"entity_type": "company", "description": "d", "root": true}],
            "entity_structure": [{"entity_type": "company", "root": true}],
            "schema_version": 2,
            "created_at": "2025-01-06T09:00:00Z",
            "updated_at": "2025-01-06T09:00:00Z"
        })
    }

    fn kinds(applied: &Applied) -> Vec<(DriftKind, &str)> {
        applied
            .changes
            .iter()
            .map(|(k, p)| (*k, p.as_str()))
            .collect()
    }

    #[test]
    fn names_round_trip_and_sets_hold_what_they_were_given() {
        for kind in DriftKind::ALL {
            assert_eq!(DriftKind::from_name(kind.name()), Some(*kind));
            assert_eq!(kind.to_string(), kind.name());
        }
        assert_eq!(DriftKind::from_name("UnknownField"), None);
        assert!(Drift::none().is_none() && Drift::default().is_none());
        assert_eq!(Drift::all().kinds().count(), DriftKind::ALL.len());
        let only = Drift::only(&[DriftKind::NullRequiredField, DriftKind::UnknownField]);
        assert_eq!(
            only.kinds().collect::<Vec<_>>(),
            [DriftKind::UnknownField, DriftKind::NullRequiredField]
        );
        assert_eq!(
            format!("{only:?}"),
            "{UnknownField, NullRequiredField}",
            "Debug names the kinds"
        );
    }

    #[test]
    fn an_icp_gets_each_body_kind_at_its_first_place() {
        let mut body = icp();
        let applied = apply(Drift::all(), spec(), "icp_retrieve", 200, Some(&mut body));
        assert_eq!(
            kinds(&applied),
            [
                (DriftKind::UnknownField, "/drift_unknown_field"),
                (DriftKind::DroppedOptionalField, "/entity_structure"),
                (DriftKind::NullRequiredField, "/name"),
            ]
        );
        assert_eq!(applied.status, 200, "not a create");
        assert!(applied.body_changed);
        assert_eq!(body["drift_unknown_field"], Drift::UNKNOWN_FIELD_VALUE);
        assert!(body.get("entity_structure").is_none());
        assert_eq!(body["name"], Value::Null);
        let keys: Vec<&String> = body.as_object().expect("object").keys().collect();
        assert_eq!(keys[..3], ["id", "name", "description"], "order kept");
    }

    #[test]
    fn a_list_is_walked_breadth_first_into_its_first_item() {
        let mut body = json!({"icps": [icp(), icp()], "page": 1, "page_size": 20, "total": 2});
        let applied = apply(Drift::all(), spec(), "icp_list", 200, Some(&mut body));
        assert_eq!(
            kinds(&applied),
            [
                (DriftKind::UnknownField, "/drift_unknown_field"),
                (DriftKind::DroppedOptionalField, "/icps/0/entity_structure"),
                (DriftKind::NullRequiredField, "/page"),
            ]
        );
        assert!(body["icps"][1].get("entity_structure").is_some());
    }

    #[test]
    fn a_property_changed_by_one_kind_is_not_picked_by_a_later_one() {
        let schema = json!({
            "type": "object",
            "required": ["status", "name"],
            "properties": {
                "status": {"$ref": "#/components/schemas/CsvProcessingStatus"},
                "meta": {"type": "object", "properties": {"note": {"type": "string"}}},
                "name": {"type": "string"}
            }
        });
        let body = json!({"status": "pending", "meta": {"note": "n"}, "name": "x"});
        let targets = Targets::find(Drift::all(), spec(), &schema, &body);
        assert_eq!(targets.enum_value.as_deref(), Some("/status"));
        let dropped = targets.dropped.as_ref().map(|(_, _, p)| p.as_str());
        assert_eq!(dropped, Some("/meta"));
        assert_eq!(
            targets.nulled.as_deref(),
            Some("/name"),
            "not /status again"
        );
        let targets = Targets::find(
            Drift::only(&[DriftKind::NullRequiredField]),
            spec(),
            &schema,
            &body,
        );
        assert_eq!(
            targets.nulled.as_deref(),
            Some("/status"),
            "alone, the first"
        );
    }

    #[test]
    fn an_enum_gets_an_unknown_value_and_a_create_answers_201() {
        let mut body = json!({
            "file_id": "f1",
            "name": "companies.csv",
            "s3_uri": "s3://bucket/f1",
            "content_type": "text/csv",
            "size_bytes": 10,
            "csv_metadata": {},
            "processing_status": "pending"
        });
        let drift = Drift::only(&[DriftKind::UnknownEnumValue, DriftKind::CreatedStatus]);
        let applied = apply(drift, spec(), "files_upload", 200, Some(&mut body));
        assert_eq!(
            kinds(&applied),
            [
                (DriftKind::UnknownEnumValue, "/processing_status"),
                (DriftKind::CreatedStatus, ""),
            ]
        );
        assert_eq!(applied.status, 201);
        assert_eq!(body["processing_status"], Drift::UNKNOWN_ENUM_VALUE);
        let issues = spec()
            .check_response(
                "files_upload",
                200,
                &serde_json::to_vec(&body).expect("json"),
            )
            .expect_err("an unknown enum value");
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!(
            (issues[0].kind.as_str(), issues[0].path()),
            ("enum", "processing_status".to_owned())
        );
    }

    #[test]
    fn a_taken_place_is_not_picked_again() {
        assert!(!is_free(&["/a".into()], "/a"));
        assert!(!is_free(&["/a".into()], "/a/b"));
        assert!(!is_free(&["/a/b".into()], "/a"));
        assert!(is_free(&["/a".into()], "/ab"));
        assert_eq!(escape("a/b~c"), "a~1b~0c");
    }

    #[test]
    fn a_free_form_answer_does_not_drift() {
        let mut body = json!({"id": "r1", "status": "RUNNING", "name": "x"});
        let applied = apply(Drift::all(), spec(), "run_retrieve", 200, Some(&mut body));
        assert_eq!(kinds(&applied), []);
        assert!(!applied.body_changed);
        assert_eq!(body.get(Drift::UNKNOWN_FIELD), None);
        let mut empty = None::<&mut Value>;
        let applied = apply(Drift::all(), spec(), "icp_create", 200, empty.take());
        assert_eq!(kinds(&applied), [(DriftKind::CreatedStatus, "")]);
        assert!(!applied.body_changed);
    }
}
