//! Checking one response against the spec.
//!
//! The status, content type and body shape are checked here; the body is
//! validated by `linkt_mock::spec`, the same strict validator `linkt-mock`
//! checks its own responses with (unknown fields, missing required fields,
//! nulls, enum values and union tags, formats and patterns). Each problem
//! becomes a [`Seen`] finding in the vocabulary of the generator's change
//! report ([`Rule`]).
//!
//! The walk in [`Coverage`] reports properties no schema lists (the
//! validator, as pydantic does, lets them pass unless a schema forbids
//! them), and records, per component schema, which optional properties the
//! server sent at all: a property never sent in any object of its schema is
//! how a field the server stopped sending shows.

use std::collections::{BTreeMap, HashMap};

use linkt_mock::spec::{Issue, Loc, Spec};
use linkt_spec::schema::{Discriminator, alternatives, resolve_ref};
use serde_json::Value;

use crate::http::Observed;
use crate::report::Rule;

/// A problem found in one response, before counting and redaction.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Seen {
    pub(crate) rule: Rule,
    /// RFC 6901 pointer into the body; empty for the status, content type
    /// or the body as a whole.
    pub(crate) pointer: String,
    pub(crate) expected: String,
    /// What was there: a value (`None` for an absent one).
    pub(crate) value: Option<Value>,
    /// The component schema the pointer's parent object is, if known.
    pub(crate) schema: Option<String>,
}

/// The documented responses of the operations, by client method name.
pub(crate) struct Checker {
    spec: &'static Spec,
    operations: HashMap<String, &'static Value>,
}

impl std::fmt::Debug for Checker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checker")
            .field("operations", &self.operations.len())
            .finish()
    }
}

impl Checker {
    pub(crate) fn new(spec: &'static Spec) -> Checker {
        let mut operations = HashMap::new();
        if let Some(paths) = spec.document().get("paths").and_then(Value::as_object) {
            for item in paths.values().filter_map(Value::as_object) {
                for operation in item.values() {
                    if let Some(name) = operation.get("x-linkt-name").and_then(Value::as_str) {
                        operations.insert(name.to_owned(), operation);
                    }
                }
            }
        }
        Checker { spec, operations }
    }

    pub(crate) fn spec(&self) -> &'static Spec {
        self.spec
    }

    /// The documented `(status, media type, schema)` of `operation`'s
    /// responses; a status without content has neither.
    fn responses(&self, operation: &str) -> Vec<(u16, Option<String>, Option<&'static Value>)> {
        let Some(responses) = self
            .operations
            .get(operation)
            .and_then(|op| op.get("responses"))
            .and_then(Value::as_object)
        else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (status, response) in responses {
            let Ok(status) = status.parse::<u16>() else {
                continue;
            };
            match response.get("content").and_then(Value::as_object) {
                Some(content) if !content.is_empty() => {
                    for (media, body) in content {
                        out.push((status, Some(media.clone()), body.get("schema")));
                    }
                }
                _ => out.push((status, None, None)),
            }
        }
        out
    }

    /// Checks a success response of `operation`; `coverage` learns which
    /// optional properties its body holds. Error responses are not checked
    /// here: the tour lists them as errors.
    pub(crate) fn check(
        &self,
        operation: &str,
        observed: &Observed,
        coverage: &mut Coverage,
    ) -> Vec<Seen> {
        let mut out = Vec::new();
        let responses = self.responses(operation);
        let status = observed.status;
        let mut documented: Vec<_> = responses.iter().filter(|r| r.0 == status).collect();
        if documented.is_empty() {
            // An undocumented success status: the body is checked against
            // the documented success response, as the client decodes it.
            let fallback: Vec<_> = responses
                .iter()
                .filter(|r| (200..300).contains(&r.0))
                .collect();
            let expected = fallback
                .iter()
                .map(|r| r.0.to_string())
                .collect::<Vec<_>>()
                .join(" or ");
            out.push(Seen {
                rule: Rule::ResponseSuccessStatusAdded,
                pointer: String::new(),
                expected: format!("status {expected}"),
                value: Some(Value::from(status)),
                schema: None,
            });
            documented = fallback;
        }
        let Some(first) = documented.first() else {
            return out;
        };
        let media = observed.content_type.as_deref();
        let with_body = documented.iter().any(|r| r.1.is_some());
        if !with_body {
            if !observed.body.is_empty() {
                out.push(Seen {
                    rule: Rule::ResponseBodyAdded,
                    pointer: String::new(),
                    expected: "no body".into(),
                    value: Some(Value::String(format!(
                        "{} bytes of {}",
                        observed.body.len(),
                        media.unwrap_or("unknown content")
                    ))),
                    schema: None,
                });
            }
            return out;
        }
        let chosen = documented
            .iter()
            .find(|r| r.1.as_deref() == media)
            .unwrap_or(first);
        let documented_media = chosen.1.clone().unwrap_or_default();
        if media != Some(documented_media.as_str()) {
            out.push(Seen {
                rule: Rule::ResponseMediaTypeAdded,
                pointer: String::new(),
                expected: format!("content type {documented_media}"),
                value: Some(media.map_or(Value::Null, |m| Value::String(m.to_owned()))),
                schema: None,
            });
        }
        if observed.body.is_empty() {
            out.push(Seen {
                rule: Rule::ResponseBodyRemoved,
                pointer: String::new(),
                expected: format!("a {documented_media} body"),
                value: None,
                schema: None,
            });
            return out;
        }
        if !documented_media.contains("json") {
            // CSV and other text: checked for being text only.
            if std::str::from_utf8(&observed.body).is_err() {
                out.push(Seen {
                    rule: Rule::ResponseBodyTypeChanged,
                    pointer: String::new(),
                    expected: "UTF-8 text".into(),
                    value: Some(Value::String("bytes that are not UTF-8".into())),
                    schema: None,
                });
            }
            return out;
        }
        let value: Value = match serde_json::from_slice(&observed.body) {
            Ok(value) => value,
            Err(err) => {
                out.push(Seen {
                    rule: Rule::ResponseBodyTypeChanged,
                    pointer: String::new(),
                    expected: "a JSON body".into(),
                    value: Some(Value::String(format!("not JSON ({err})"))),
                    schema: None,
                });
                return out;
            }
        };
        let Some(schema) = chosen.2 else {
            return out;
        };
        let document = self.spec.document();
        coverage.observe(document, schema, &value, None, &mut String::new(), &mut out);
        for issue in self.spec.check_value(schema, &value) {
            let seen = seen_of(document, schema, &value, &issue);
            // Reported by the walk already, where a schema forbids extras.
            if !out.contains(&seen) {
                out.push(seen);
            }
        }
        out
    }
}

/// The finding an issue of the validator is.
fn seen_of(document: &Value, schema: &Value, body: &Value, issue: &Issue) -> Seen {
    let (pointer, path) = pointer_of(body, &issue.loc);
    let value = value_at(body, &path);
    let kind = issue.kind.as_str();
    let rule = match kind {
        "extra_forbidden" => Rule::ResponsePropertyAdded,
        "missing" => Rule::ResponsePropertyBecameOptional,
        // A `$ref`ed enum and an inline one: both open enums in the client.
        "enum" | "literal_error" => Rule::EnumValueAdded,
        "union_tag_invalid" => Rule::UnionVariantAdded,
        "string_too_short"
        | "string_too_long"
        | "string_pattern_mismatch"
        | "datetime_parsing"
        | "uuid_parsing"
        | "too_short"
        | "too_long"
        | "greater_than"
        | "greater_than_equal"
        | "less_than"
        | "less_than_equal" => Rule::ConstraintRelaxed,
        _ if issue.input.is_null() && value.is_some_and(Value::is_null) => {
            Rule::ResponsePropertyBecameNullable
        }
        _ => Rule::ResponsePropertyTypeChanged,
    };
    let expected = match rule {
        Rule::ResponsePropertyAdded => "no such property".to_owned(),
        Rule::ResponsePropertyBecameOptional => "a required property".to_owned(),
        Rule::ResponsePropertyBecameNullable => format!("not null ({})", issue.msg),
        _ => issue.msg.clone(),
    };
    Seen {
        rule,
        value: if rule == Rule::ResponsePropertyBecameOptional {
            None
        } else {
            value.cloned()
        },
        schema: component_of_parent(document, schema, body, &path),
        pointer,
        expected,
    }
}

/// A segment of a path into a body.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// The RFC 6901 pointer an issue's location names in `body`, and its
/// steps. The validator's locations name the tag of a discriminated union
/// as a segment, as pydantic does; such a segment is not in the body and
/// is left out (the last segment, a missing property's name, is kept).
fn pointer_of(body: &Value, loc: &[Loc]) -> (String, Vec<Step>) {
    let mut pointer = String::new();
    let mut steps = Vec::new();
    let mut current = Some(body);
    for (n, segment) in loc.iter().enumerate() {
        let last = n + 1 == loc.len();
        match segment {
            Loc::Key(key) => {
                let next = current.and_then(|v| v.as_object()).and_then(|o| o.get(key));
                if next.is_none() && !last {
                    continue;
                }
                push_token(&mut pointer, key);
                steps.push(Step::Key(key.clone()));
                current = next;
            }
            Loc::Index(index) => {
                pointer.push('/');
                pointer.push_str(&index.to_string());
                steps.push(Step::Index(*index));
                current = current.and_then(|v| v.get(*index));
            }
        }
    }
    (pointer, steps)
}

fn value_at<'a>(body: &'a Value, path: &[Step]) -> Option<&'a Value> {
    path.iter().try_fold(body, |value, step| match step {
        Step::Key(key) => value.get(key),
        Step::Index(index) => value.get(*index),
    })
}

const COMPONENTS: &str = "#/components/schemas/";

/// Follows `$ref`s, `allOf`s of one member and the alternative of a union
/// that fits `value`; returns the schema and the component last entered.
fn settle<'a>(
    document: &'a Value,
    mut schema: &'a Value,
    value: Option<&Value>,
    mut component: Option<&'a str>,
) -> (&'a Value, Option<&'a str>) {
    for _ in 0..32 {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            component = reference.strip_prefix(COMPONENTS).or(component);
            match resolve_ref(document, reference) {
                Some(target) => schema = target,
                None => break,
            }
            continue;
        }
        if let Some([only]) = schema
            .get("allOf")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            schema = only;
            continue;
        }
        if let Some(alternatives) = alternatives(schema) {
            match pick(document, schema, alternatives, value) {
                Some(next) => {
                    schema = next;
                    continue;
                }
                None => break,
            }
        }
        break;
    }
    (schema, component)
}

/// The alternative of a union `value` is: by the discriminator's tag, else
/// the first whose JSON type fits (an object: the one knowing most keys).
fn pick<'a>(
    document: &'a Value,
    union: &'a Value,
    alternatives: &'a [Value],
    value: Option<&Value>,
) -> Option<&'a Value> {
    let value = value?;
    if let Some(discriminator) = Discriminator::of(union)
        && let Some(target) = value
            .get(discriminator.property)
            .and_then(Value::as_str)
            .and_then(|tag| discriminator.target(tag))
    {
        return alternatives
            .iter()
            .find(|alt| alt.get("$ref").and_then(Value::as_str) == Some(target));
    }
    let fits = |alt: &'a Value| -> Option<usize> {
        let (target, _) = settle(document, alt, None, None);
        let ty = target.get("type").and_then(Value::as_str);
        let properties = target.get("properties").and_then(Value::as_object);
        match value {
            Value::Null => (ty == Some("null")).then_some(0),
            Value::Object(object) if ty == Some("object") || properties.is_some() => {
                Some(properties.map_or(0, |p| object.keys().filter(|k| p.contains_key(*k)).count()))
            }
            Value::Array(_) => (ty == Some("array")).then_some(0),
            Value::String(_) => (ty == Some("string") || target.get("enum").is_some()).then_some(0),
            Value::Number(_) => matches!(ty, Some("integer" | "number")).then_some(0),
            Value::Bool(_) => (ty == Some("boolean")).then_some(0),
            Value::Object(_) => None,
        }
    };
    let mut best: Option<(usize, &Value)> = None;
    for alt in alternatives {
        if let Some(score) = fits(alt)
            && best.is_none_or(|(b, _)| score > b)
        {
            best = Some((score, alt));
        }
    }
    best.map(|(_, alt)| alt)
}

/// The component schema the object holding the last step of `path` is.
fn component_of_parent(
    document: &Value,
    schema: &Value,
    body: &Value,
    path: &[Step],
) -> Option<String> {
    let parent = path.len().saturating_sub(1);
    let mut value = Some(body);
    let (mut schema, mut component) = settle(document, schema, value, None);
    for step in &path[..parent] {
        let next = match step {
            Step::Key(key) => schema
                .get("properties")
                .and_then(|p| p.get(key))
                .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object())),
            Step::Index(_) => schema.get("items"),
        }?;
        value = value.and_then(|v| match step {
            Step::Key(key) => v.get(key),
            Step::Index(index) => v.get(*index),
        });
        (schema, component) = settle(document, next, value, component);
    }
    component.map(str::to_owned)
}

/// Per component schema and optional property: in how many objects of that
/// schema the tour saw the property, of how many objects.
#[derive(Debug, Clone, Default)]
pub(crate) struct Coverage {
    seen: BTreeMap<(String, String), (u32, u32)>,
}

/// How many elements of one array are walked (the validator checks all).
const ELEMENTS_WALKED: usize = 25;

/// Appends `/token`, escaped as RFC 6901 says.
fn push_token(pointer: &mut String, token: &str) {
    pointer.push('/');
    pointer.push_str(&token.replace('~', "~0").replace('/', "~1"));
}

impl Coverage {
    /// Walks `value` along `schema`: counts the optional properties of each
    /// component object, and reports each property no schema lists
    /// ([`Rule::ResponsePropertyAdded`]; the validator, like pydantic,
    /// ignores them unless a schema says `additionalProperties: false`).
    fn observe(
        &mut self,
        document: &Value,
        schema: &Value,
        value: &Value,
        component: Option<&str>,
        pointer: &mut String,
        out: &mut Vec<Seen>,
    ) {
        if pointer.matches('/').count() > 32 {
            return;
        }
        let (schema, component) = settle(document, schema, Some(value), component);
        match value {
            Value::Object(object) => {
                let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
                    return;
                };
                let required: Vec<&str> = schema
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                for (name, property) in properties {
                    if let Some(component) = component
                        && !required.contains(&name.as_str())
                    {
                        let entry = self
                            .seen
                            .entry((component.to_owned(), name.clone()))
                            .or_default();
                        entry.1 += 1;
                        if object.contains_key(name) {
                            entry.0 += 1;
                        }
                    }
                    if let Some(inner) = object.get(name) {
                        let len = pointer.len();
                        push_token(pointer, name);
                        self.observe(document, property, inner, component, pointer, out);
                        pointer.truncate(len);
                    }
                }
                let open = schema
                    .get("additionalProperties")
                    .is_some_and(|extra| extra != &Value::Bool(false));
                if !open {
                    for (name, inner) in object {
                        if properties.contains_key(name) {
                            continue;
                        }
                        let len = pointer.len();
                        push_token(pointer, name);
                        out.push(Seen {
                            rule: Rule::ResponsePropertyAdded,
                            pointer: pointer.clone(),
                            expected: "no such property".to_owned(),
                            value: Some(inner.clone()),
                            schema: component.map(str::to_owned),
                        });
                        pointer.truncate(len);
                    }
                }
            }
            Value::Array(items) => {
                if let Some(item_schema) = schema.get("items") {
                    for (index, item) in items.iter().enumerate().take(ELEMENTS_WALKED) {
                        let len = pointer.len();
                        pointer.push('/');
                        pointer.push_str(&index.to_string());
                        self.observe(document, item_schema, item, component, pointer, out);
                        pointer.truncate(len);
                    }
                }
            }
            _ => {}
        }
    }

    /// `(schema, property, objects seen)` of each optional property never
    /// present in an object of its schema.
    pub(crate) fn never_sent(&self) -> Vec<(String, String, u32)> {
        self.seen
            .iter()
            .filter(|(_, (present, _))| *present == 0)
            .map(|((schema, property), (_, objects))| (schema.clone(), property.clone(), *objects))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn checker() -> Checker {
        Checker::new(Spec::load().expect("spec"))
    }

    fn observed(status: u16, content_type: Option<&str>, body: &Value) -> Observed {
        Observed {
            status,
            content_type: content_type.map(str::to_owned),
            headers: Default::default(),
            body: if body.is_null() {
                Vec::new()
            } else {
                body.to_string().into_bytes()
            },
            rate_limited: 0,
        }
    }

    fn icp() -> Value {
        json!({
            "id": "507f1f77bcf86cd799439011",
            "name": "n",
            "description": "d",
            "entity_targets": [{"entity_type": "company", "description": "x", "root": true}],
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z"
        })
    }

    #[test]
    fn a_documented_body_has_no_findings() {
        let mut coverage = Coverage::default();
        let found = checker().check(
            "icp_retrieve",
            &observed(200, Some("application/json"), &icp()),
            &mut coverage,
        );
        assert_eq!(found, Vec::new());
        assert_eq!(
            coverage.never_sent(),
            [
                ("IcpEntityTarget".to_owned(), "desired_count".to_owned(), 1),
                ("IcpResponse".to_owned(), "entity_structure".to_owned(), 1),
                ("IcpResponse".to_owned(), "schema_version".to_owned(), 1),
            ]
        );
    }

    #[test]
    fn each_kind_of_problem_has_its_rule_pointer_and_schema() {
        let mut body = icp();
        body["extra"] = json!(1);
        body["entity_targets"][0]["extra"] = json!({"deep": true});
        body["name"] = Value::Null;
        body.as_object_mut().expect("object").remove("description");
        body["created_at"] = json!("yesterday");
        let mut coverage = Coverage::default();
        let found = checker().check(
            "icp_retrieve",
            &observed(201, Some("text/plain"), &body),
            &mut coverage,
        );
        let mut got: Vec<(Rule, &str, Option<&str>)> = found
            .iter()
            .map(|s| (s.rule, s.pointer.as_str(), s.schema.as_deref()))
            .collect();
        got.sort();
        let mut want = vec![
            (Rule::ResponseSuccessStatusAdded, "", None),
            (Rule::ResponseMediaTypeAdded, "", None),
            (Rule::ResponsePropertyAdded, "/extra", Some("IcpResponse")),
            (
                Rule::ResponsePropertyAdded,
                "/entity_targets/0/extra",
                Some("IcpEntityTarget"),
            ),
            (
                Rule::ResponsePropertyBecameNullable,
                "/name",
                Some("IcpResponse"),
            ),
            (
                Rule::ResponsePropertyBecameOptional,
                "/description",
                Some("IcpResponse"),
            ),
            (Rule::ConstraintRelaxed, "/created_at", Some("IcpResponse")),
        ];
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn an_enum_value_the_spec_does_not_list_is_additive() {
        let body = json!({
            "file_id": "f", "name": "a.csv", "s3_uri": "s3://b/a.csv",
            "content_type": "text/csv", "size_bytes": 3,
            "processing_status": "queued_for_review"
        });
        let found = checker().check(
            "files_retrieve",
            &observed(200, Some("application/json"), &body),
            &mut Coverage::default(),
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rule, Rule::EnumValueAdded);
        assert_eq!(found[0].pointer, "/processing_status");
        assert_eq!(found[0].value, Some(json!("queued_for_review")));
        assert_eq!(found[0].schema.as_deref(), Some("FileRetrieveResponse"));
    }

    #[test]
    fn bodies_where_none_or_one_is_documented() {
        let checker = checker();
        let mut coverage = Coverage::default();
        let found = checker.check(
            "icp_delete",
            &observed(204, Some("application/json"), &json!({"ok": true})),
            &mut coverage,
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rule, Rule::ResponseBodyAdded);
        let found = checker.check(
            "icp_retrieve",
            &observed(200, Some("application/json"), &Value::Null),
            &mut coverage,
        );
        assert_eq!(found[0].rule, Rule::ResponseBodyRemoved);
        let mut not_json = observed(200, Some("application/json"), &Value::Null);
        not_json.body = b"<html>".to_vec();
        let found = checker.check("icp_retrieve", &not_json, &mut coverage);
        assert_eq!(found[0].rule, Rule::ResponseBodyTypeChanged);
    }

    #[test]
    fn a_union_tag_segment_is_not_part_of_the_pointer() {
        let body = json!({"a": {"x": 1}});
        let loc = [
            Loc::Key("a".into()),
            Loc::Key("search".into()),
            Loc::Key("y".into()),
        ];
        assert_eq!(pointer_of(&body, &loc).0, "/a/y");
        let loc = [Loc::Key("a/b~".into()), Loc::Index(3)];
        assert_eq!(pointer_of(&json!({"a/b~": []}), &loc).0, "/a~1b~0/3");
    }
}
