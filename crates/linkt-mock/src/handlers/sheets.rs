//! `/v1/sheet`: create, list, get, update and delete sheets (one per ICP and
//! entity type).

use linkt::types;
use serde_json::{Value, json};

use super::{
    Call, Failure, Key, Outcome, Reply, bad_request, find, find_mut, json, sort_and_page, to_json,
};
use crate::store::{Sheet, Store};

fn sheet_view(sheet: &Sheet) -> Result<types::Sheet, Failure> {
    let Value::Object(entity_schema) = sheet.schema() else {
        return Err(Failure::Message(
            500,
            "sheet schema is not an object".into(),
        ));
    };
    Ok(built!(types::Sheet {
        id: sheet.id.clone(),
        name: sheet.name.clone(),
        description: sheet.description.clone(),
        icp_id: sheet.icp_id.clone(),
        entity_type: Some(sheet.entity_type.clone()),
        entity_schema,
        created_at: sheet.created_at,
        updated_at: sheet.updated_at,
    }))
}

pub(super) fn sheet_create(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let icp_id = call.b_str("icp_id").unwrap_or_default().to_owned();
    let entity_type = call.b_str("entity_type").unwrap_or_default().to_owned();
    let icp = find(&store.icps, call.org, &icp_id, "ICP")?;
    if !icp.targets.iter().any(|t| t.entity_type == entity_type) {
        let targeted: Vec<&str> = icp.targets.iter().map(|t| t.entity_type.as_str()).collect();
        return Err(bad_request(format!(
            "entity type `{entity_type}` is not a target of ICP {icp_id} (its targets: {})",
            targeted.join(", ")
        )));
    }
    if store
        .sheets
        .values()
        .any(|s| s.icp_id == icp_id && s.entity_type == entity_type)
    {
        return Err(bad_request(format!(
            "ICP {icp_id} already has a `{entity_type}` sheet; an ICP has one sheet per entity type"
        )));
    }
    let id = store.new_id(call.now);
    let sheet = Sheet {
        org: call.org,
        id: id.clone(),
        icp_id,
        name: call.b_str("name").unwrap_or_default().to_owned(),
        description: call.b_str("description").unwrap_or_default().to_owned(),
        entity_type,
        custom: Vec::new(),
        hidden: Vec::new(),
        generated: 0,
        created_at: call.now,
        updated_at: call.now,
    };
    let view = sheet_view(&sheet)?;
    store.sheets.insert(id, sheet);
    json(&view)
}

pub(super) fn sheet_retrieve(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    json(&sheet_view(find(
        &store.sheets,
        call.org,
        call.path("sheet_id"),
        "sheet",
    )?)?)
}

pub(super) fn sheet_update(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let icp_id = call.b_str("icp_id").map(str::to_owned);
    let name = call.b_str("name").map(str::to_owned);
    let description = call.b_str("description").map(str::to_owned);
    let sheet = find_mut(&mut store.sheets, call.org, call.path("sheet_id"), "sheet")?;
    if icp_id.as_ref().is_some_and(|id| *id != sheet.icp_id) {
        return Err(bad_request("the ICP of a sheet cannot be changed"));
    }
    if let Some(name) = name {
        sheet.name = name;
    }
    if let Some(description) = description {
        sheet.description = description;
    }
    sheet.updated_at = call.now;
    Ok(Reply::Empty)
}

pub(super) fn sheet_list(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let icp_id = call.q_str("icp_id");
    let entity_type = call.q_str("entity_type");
    let items: Vec<&Sheet> = store
        .sheets
        .values()
        .filter(|s| s.org == call.org)
        .filter(|s| icp_id.is_none_or(|i| s.icp_id == i))
        .filter(|s| entity_type.is_none_or(|t| s.entity_type == t))
        .collect();
    let (page_items, total, page, size) = sort_and_page(
        items,
        call,
        &[
            ("created_at", |s, _| Key::Time(s.created_at)),
            ("updated_at", |s, _| Key::Time(s.updated_at)),
            ("name", |s, _| Key::Text(s.name.to_lowercase())),
        ],
        |s| s.id.as_str(),
    )?;
    let mut sheets = Vec::new();
    for sheet in page_items {
        let Value::Object(mut object) = to_json(&sheet_view(sheet)?)? else {
            continue;
        };
        let count = store
            .entities
            .values()
            .filter(|e| e.sheet_id == sheet.id)
            .count();
        object.insert("entity_count".into(), json!(count));
        sheets.push(object);
    }
    json(&built!(types::SheetListResponse {
        sheets,
        page,
        page_size: size,
        total,
    }))
}

pub(super) fn sheet_delete(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let id = find(&store.sheets, call.org, call.path("sheet_id"), "sheet")?
        .id
        .clone();
    store.delete_sheet(&id);
    Ok(Reply::Empty)
}
