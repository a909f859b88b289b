//! `/v1/sheet/schema`: a sheet's schema and its custom fields (`GET`, `PUT`
//! and `DELETE /v1/sheet/schema/{sheet_id}`), the default schemas
//! (`GET /v1/sheet/schema/default`) and the field definitions
//! (`GET /v1/sheet/schema/field`).

use linkt::types;
use serde_json::{Map, Value, json};

use super::{Call, Outcome, Reply, bad_request, conform, find, find_mut};
use crate::data::{self, CustomField};
use crate::store::Store;

pub(super) fn schema_add_fields(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let definitions = call
        .body
        .get("fields")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let sheet = find_mut(&mut store.sheets, call.org, call.path("sheet_id"), "sheet")?;
    let mut added: Vec<CustomField> = Vec::new();
    for definition in &definitions {
        let field = data::custom_field(definition).map_err(bad_request)?;
        let taken = data::default_fields(&sheet.entity_type)
            .iter()
            .any(|(n, _)| *n == field.name)
            || sheet.custom.iter().any(|c| c.name == field.name)
            || added.iter().any(|c| c.name == field.name);
        if taken {
            return Err(bad_request(format!(
                "field `{}` already exists in the sheet schema",
                field.name
            )));
        }
        added.push(field);
    }
    for field in added {
        sheet.hidden.retain(|h| *h != field.name);
        sheet.custom.push(field);
    }
    sheet.updated_at = call.now;
    Ok(Reply::Empty)
}

pub(super) fn schema_delete_fields(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let names: Vec<String> = call
        .body
        .get("fields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    let sheet = find_mut(&mut store.sheets, call.org, call.path("sheet_id"), "sheet")?;
    for name in &names {
        if data::default_fields(&sheet.entity_type)
            .iter()
            .any(|(n, _)| n == name)
        {
            return Err(bad_request(format!(
                "`{name}` is a default field and cannot be removed"
            )));
        }
        if !sheet.custom.iter().any(|c| c.name == *name) {
            return Err(bad_request(format!(
                "the sheet has no custom field named `{name}`"
            )));
        }
    }
    sheet.custom.retain(|c| !names.contains(&c.name));
    for name in names {
        if !sheet.hidden.contains(&name) {
            sheet.hidden.push(name);
        }
    }
    sheet.updated_at = call.now;
    Ok(Reply::Empty)
}

pub(super) fn schema_get(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let sheet = find(&store.sheets, call.org, call.path("sheet_id"), "sheet")?;
    conform::<types::SchemaGetResponse>(sheet.schema()).map(Reply::Json)
}

pub(super) fn schema_get_default() -> Outcome {
    let mut schemas = Map::new();
    for ty in data::DEFAULT_SCHEMA_TYPES {
        schemas.insert(ty.into(), data::sheet_schema(ty, &[]));
    }
    conform::<types::SchemaGetDefaultResponse>(json!({"schemas": schemas})).map(Reply::Json)
}

pub(super) fn schema_field_definitions() -> Outcome {
    conform::<types::SchemaGetFieldDefinitionsResponse>(
        json!({"fields": data::field_definitions()}),
    )
    .map(Reply::Json)
}
