//! When a re-encoded value is "equivalent" to the JSON it was decoded from:
//! the rule for absent, null and default fields, stated and tested.
//!
//! The generated types (typify) decode and re-encode fields as follows, and
//! the comparison [`canonical`] applies to both sides follows the same rule:
//!
//! 1. A **required** field keeps its value; a required nullable field keeps
//!    `null` (`deserialize_with = Option::deserialize`: absence is an error).
//! 2. An **optional** field that is `null` decodes to `None` and re-encodes
//!    as **absent** (`skip_serializing_if = "Option::is_none"`); absent stays
//!    absent.
//! 3. An optional field with a spec **default**: absent decodes to the
//!    default; it re-encodes either as the default, present (`#[serde(default
//!    = ..)]` on a plain field), or as absent (an empty-collection default,
//!    skipped when empty). Both mean the default to the server, so a present
//!    default equals absence.
//! 4. An optional, non-nullable **array or free-form object** re-encodes an
//!    empty value as absent (`skip_serializing_if = "Vec::is_empty"` /
//!    `"Map::is_empty"`); absent decodes to empty.
//! 5. Scalars compare by meaning: a `date-time` as the instant it denotes (a
//!    `+02:00` offset re-encodes as UTC `Z`, fractions are normalized), a
//!    `number` as its `f64` value (`3` re-encodes as `3.0`).
//!
//! Everything else must come back exactly, including unknown enum values
//! and union members (which the open types keep as they came) and the keys
//! of free-form objects.

use chrono::{DateTime, SecondsFormat};
use linkt_conformance::spec::{self, resolve};
use linkt_spec::schema::{self, Discriminator};
use serde_json::{Map, Value};

/// `value` rewritten by the rule above for `schema`: optional nulls,
/// defaults and empty collections removed, date-times and numbers
/// normalized.
pub(crate) fn canonical(document: &Value, schema: &Value, value: &Value) -> Value {
    canonical_at(document, schema, value, 0)
}

fn canonical_at(document: &Value, schema: &Value, value: &Value, depth: usize) -> Value {
    if depth > 64 || value.is_null() {
        return value.clone();
    }
    let (schema, _) = spec::unwrap(document, schema);

    if let Some(alternatives) = schema::alternatives(schema) {
        // A discriminated union: canonicalize by the member the tag selects.
        if let Some(member) = discriminated_member(document, schema, value) {
            return canonical_at(document, member, value, depth + 1);
        }
        // Otherwise the first alternative whose primitive type fits.
        let fitting = alternatives
            .iter()
            .find(|alt| fits_type(spec::unwrap(document, alt).0, value));
        return match fitting {
            Some(alt) => canonical_at(document, alt, value, depth + 1),
            None => value.clone(),
        };
    }

    match value {
        Value::String(text)
            if schema.get("format").and_then(Value::as_str) == Some("date-time") =>
        {
            match DateTime::parse_from_rfc3339(text) {
                Ok(instant) => Value::String(
                    instant
                        .with_timezone(&chrono::Utc)
                        .to_rfc3339_opts(SecondsFormat::Nanos, true),
                ),
                Err(_) => value.clone(),
            }
        }
        Value::Number(number) if schema.get("type").and_then(Value::as_str) == Some("number") => {
            number.as_f64().map_or_else(|| value.clone(), Value::from)
        }
        Value::Array(items) => {
            let item_schema = schema.get("items").cloned().unwrap_or(Value::Bool(true));
            Value::Array(
                items
                    .iter()
                    .map(|item| canonical_at(document, &item_schema, item, depth + 1))
                    .collect(),
            )
        }
        Value::Object(object) => Value::Object(canonical_object(document, schema, object, depth)),
        _ => value.clone(),
    }
}

fn canonical_object(
    document: &Value,
    schema: &Value,
    object: &Map<String, Value>,
    depth: usize,
) -> Map<String, Value> {
    let properties = schema.get("properties").and_then(Value::as_object);
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let additional = schema.get("additionalProperties");
    let mut out = Map::new();
    for (key, value) in object {
        let property = properties.and_then(|p| p.get(key));
        let Some(property) = property else {
            // A typed map (`additionalProperties: {schema}`) or a free-form
            // object: values by their schema, keys as they are.
            let canonical = match additional {
                Some(extra @ Value::Object(_)) => canonical_at(document, extra, value, depth + 1),
                _ => value.clone(),
            };
            out.insert(key.clone(), canonical);
            continue;
        };
        let canonical = canonical_at(document, property, value, depth + 1);
        if !required.contains(&key.as_str()) && is_implied(document, property, &canonical) {
            continue;
        }
        out.insert(key.clone(), canonical);
    }
    out
}

/// Whether an optional field's value means the same as its absence: `null`
/// (rule 2), the default (rule 3) or an empty array or object of a
/// non-nullable field (rule 4).
fn is_implied(document: &Value, property: &Value, value: &Value) -> bool {
    if value.is_null() {
        return true;
    }
    if let Some(default) = default_of(document, property)
        && canonical(document, property, &default) == *value
    {
        return true;
    }
    let (schema, nullable) = spec::unwrap(document, property);
    let empty = match value {
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty() && schema.get("properties").is_none(),
        _ => false,
    };
    empty && !nullable
}

/// The `default` of a property, looked up through its wrappers.
fn default_of(document: &Value, property: &Value) -> Option<Value> {
    let mut schema = property;
    for _ in 0..16 {
        if let Some(default) = schema.get("default") {
            return Some(default.clone());
        }
        if schema.get("$ref").is_some() {
            schema = resolve(document, schema);
            continue;
        }
        match schema.get("allOf").and_then(Value::as_array) {
            Some(parts) if parts.len() == 1 => schema = &parts[0],
            _ => return None,
        }
    }
    None
}

/// For a `oneOf` with a `discriminator`, the member schema the value's tag
/// selects.
pub(crate) fn discriminated_member<'a>(
    document: &'a Value,
    schema: &'a Value,
    value: &Value,
) -> Option<&'a Value> {
    let union = Discriminator::of(schema)?;
    let tag = value.get(union.property)?.as_str()?;
    schema::resolve_ref(document, union.target(tag)?)
}

fn fits_type(schema: &Value, value: &Value) -> bool {
    match schema.get("type").and_then(Value::as_str) {
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        Some("array") => value.is_array(),
        Some("object") => value.is_object(),
        _ => true,
    }
}

mod tests {
    //! The rule on real generated types.

    use linkt::types::{
        ActiveRun, BulkUpdateStatusRequest, CreateScheduleRequest, CreateTaskRequest,
        EntityBulkUpdateStatusResponse,
    };
    use serde::Serialize;
    use serde::de::DeserializeOwned;
    use serde_json::{Value, json};

    use super::canonical;
    use crate::document;

    fn reencode<T: DeserializeOwned + Serialize>(input: Value) -> Value {
        let decoded: T = serde_json::from_value(input).expect("decodes");
        serde_json::to_value(decoded).expect("encodes")
    }

    fn component(name: &str) -> Value {
        json!({ "$ref": format!("#/components/schemas/{name}") })
    }

    fn assert_equivalent(name: &str, input: &Value, output: &Value) {
        let doc = document();
        assert_eq!(
            canonical(doc, &component(name), input),
            canonical(doc, &component(name), output),
            "{name}: {input} vs {output}"
        );
    }

    #[test]
    fn a_required_nullable_field_keeps_null_and_cannot_be_absent() {
        let input = json!({ "entity_ids": ["507f1f77bcf86cd799439011"], "status": null });
        let output = reencode::<BulkUpdateStatusRequest>(input.clone());
        assert_eq!(output["status"], Value::Null, "{output}");
        assert_equivalent("BulkUpdateStatusRequest", &input, &output);

        let absent = json!({ "entity_ids": ["507f1f77bcf86cd799439011"] });
        let err = serde_json::from_value::<BulkUpdateStatusRequest>(absent).expect_err("required");
        assert!(err.to_string().contains("missing field `status`"), "{err}");
    }

    #[test]
    fn an_optional_null_field_re_encodes_as_absent() {
        let input = json!({ "id": "r1", "agent_type": "task", "task_type": null });
        let output = reencode::<ActiveRun>(input.clone());
        assert!(output.get("task_type").is_none(), "{output}");
        assert_ne!(input, output, "not byte-equal");
        assert_equivalent("ActiveRun", &input, &output);

        let absent = json!({ "id": "r1", "agent_type": "task" });
        assert_eq!(reencode::<ActiveRun>(absent.clone()), absent);
    }

    #[test]
    fn an_absent_default_re_encodes_as_the_default_or_stays_absent() {
        // A plain field with a default: filled in.
        let input = json!({ "entity_ids": ["507f1f77bcf86cd799439011"], "status": "new" });
        let output = reencode::<BulkUpdateStatusRequest>(input.clone());
        assert_eq!(output["propagate_to_family"], json!(true), "{output}");
        assert_eq!(output["propagate_to_duplicates"], json!(true), "{output}");
        assert_equivalent("BulkUpdateStatusRequest", &input, &output);

        // A default inside a union member is filled in too.
        let tagged = json!({
            "name": "n", "description": "d", "flow_name": "search", "deployment_name": "main",
            "task_config": { "type": "search", "desired_contact_count": 2 }
        });
        let output = reencode::<CreateTaskRequest>(tagged.clone());
        assert_eq!(
            output["task_config"]["user_feedback"],
            json!(""),
            "{output}"
        );
        assert_equivalent("CreateTaskRequest", &tagged, &output);

        // An empty-object default is skipped when encoding: an explicit `{}`
        // comes back absent.
        let schedule = json!({
            "name": "n", "task_id": "507f1f77bcf86cd799439013",
            "icp_id": "507f1f77bcf86cd799439011", "cron_expression": "0 9 * * 1",
            "parameters": {}
        });
        let output = reencode::<CreateScheduleRequest>(schedule.clone());
        assert!(output.get("parameters").is_none(), "{output}");
        assert_equivalent("CreateScheduleRequest", &schedule, &output);
    }

    #[test]
    fn an_empty_optional_collection_re_encodes_as_absent() {
        let input = json!({ "updated_count": 2, "failed_ids": [] });
        let output = reencode::<EntityBulkUpdateStatusResponse>(input.clone());
        assert_eq!(output, json!({ "updated_count": 2 }));
        assert_equivalent("EntityBulkUpdateStatusResponse", &input, &output);

        // A non-empty one comes back as it was.
        let input = json!({ "updated_count": 1, "failed_ids": ["x"] });
        assert_eq!(
            reencode::<EntityBulkUpdateStatusResponse>(input.clone()),
            input
        );
    }

    #[test]
    fn date_times_and_numbers_compare_by_meaning() {
        let doc = document();
        let schema = json!({ "type": "string", "format": "date-time" });
        assert_eq!(
            canonical(doc, &schema, &json!("2025-01-05T14:00:00+02:00")),
            canonical(doc, &schema, &json!("2025-01-05T12:00:00.000Z"))
        );
        assert_ne!(
            canonical(doc, &schema, &json!("2025-01-05T12:00:00Z")),
            canonical(doc, &schema, &json!("2025-01-05T12:00:01Z"))
        );
        let number = json!({ "type": "number" });
        assert_eq!(
            canonical(doc, &number, &json!(3)),
            canonical(doc, &number, &json!(3.0))
        );
        let integer = json!({ "type": "integer" });
        assert_ne!(
            canonical(doc, &integer, &json!(3)),
            canonical(doc, &integer, &json!(3.0))
        );
    }

    #[test]
    fn a_changed_or_missing_required_value_is_not_equivalent() {
        let doc = document();
        let schema = component("ActiveRun");
        let input = json!({ "id": "r1", "agent_type": "task" });
        assert_ne!(
            canonical(doc, &schema, &input),
            canonical(doc, &schema, &json!({ "id": "r1", "agent_type": "play" }))
        );
        assert_ne!(
            canonical(doc, &schema, &input),
            canonical(doc, &schema, &json!({ "id": "r1" }))
        );
    }
}
