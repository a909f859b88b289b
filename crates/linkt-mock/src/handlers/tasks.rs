//! `/v1/task`: create, list, get, update and delete tasks, and
//! `POST /v1/task/{task_id}/execute`, which plans what the run will do.

use linkt::types;
use serde_json::{Map, Value, json};

use super::runs::start_run;
use super::{
    Call, Failure, Key, Outcome, Reply, bad_request, conform, find, find_mut, json, sort_and_page,
};
use crate::data;
use crate::store::{self, Action, File, Sheet, SignalSubject, Store, Task};

/// The `type` of a task configuration: its tag, or the variant its keys
/// point to when the tag is missing.
fn config_type(config: &Map<String, Value>) -> &'static str {
    if let Some(tag) = config.get("type").and_then(Value::as_str) {
        return match tag {
            "ingest" => "ingest",
            "ingest-ondemand" => "ingest-ondemand",
            "profile" => "profile",
            "signal-topic" => "signal-topic",
            "signal-csv" => "signal-csv",
            "signal-sheet" => "signal-sheet",
            _ => "search",
        };
    }
    let has = |k: &str| config.contains_key(k);
    if has("topic_criteria") {
        "signal-topic"
    } else if has("source_icp_id") {
        "signal-sheet"
    } else if has("file_id") && has("signal_types") {
        "signal-csv"
    } else if has("file_id") && (has("ignored_fields") || has("new_custom_fields")) {
        "ingest-ondemand"
    } else if has("file_id") {
        "ingest"
    } else if has("prompt") {
        "profile"
    } else {
        "search"
    }
}

/// The stored (response) form of a request configuration: tag set and
/// server defaults filled in.
fn stored_config(config: &Value) -> Option<Value> {
    let mut c = config.as_object()?.clone();
    let ty = config_type(&c);
    c.insert("type".into(), json!(ty));
    let mut default = |k: &str, v: Value| {
        c.entry(k.to_owned()).or_insert(v);
    };
    match ty {
        "search" => {
            default("desired_contact_count", json!(1));
            default("user_feedback", json!(""));
        }
        "signal-topic" | "signal-sheet" | "signal-csv" => {
            default("entity_type", json!("company"));
            default("monitoring_frequency", json!("weekly"));
            if ty == "signal-csv" {
                default("primary_column", json!("name"));
            }
        }
        _ => {}
    }
    Some(Value::Object(c))
}

fn task_view(task: &Task) -> Result<types::TaskResponse, Failure> {
    let task_config = match &task.config {
        None => None,
        Some(c) => Some(
            serde_json::from_value::<types::TaskResponseTaskConfig>(c.clone()).map_err(|e| {
                Failure::Message(500, format!("stored task config does not decode: {e}"))
            })?,
        ),
    };
    Ok(built!(types::TaskResponse {
        id: task.id.clone(),
        name: task.name.clone(),
        description: task.description.clone(),
        flow_name: task.flow_name.clone(),
        deployment_name: task.deployment_name.clone(),
        icp_id: task.icp_id.clone(),
        prompt: task.prompt.clone(),
        task_config,
        created_at: task.created_at,
        updated_at: task.updated_at,
    }))
}

pub(super) fn task_create(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let icp_id = call.b_str("icp_id").map(str::to_owned);
    if let Some(icp_id) = &icp_id {
        find(&store.icps, call.org, icp_id, "ICP")?;
    }
    let config = call
        .body
        .get("task_config")
        .filter(|v| v.is_object())
        .and_then(stored_config);
    let id = store.new_id(call.now);
    let task = Task {
        org: call.org,
        id: id.clone(),
        name: call.b_str("name").unwrap_or_default().to_owned(),
        description: call.b_str("description").unwrap_or_default().to_owned(),
        flow_name: call.b_str("flow_name").unwrap_or_default().to_owned(),
        deployment_name: call.b_str("deployment_name").unwrap_or_default().to_owned(),
        icp_id,
        prompt: call.b_str("prompt").map(str::to_owned),
        config,
        created_at: call.now,
        updated_at: call.now,
    };
    let view = task_view(&task)?;
    store.tasks.insert(id, task);
    json(&view)
}

pub(super) fn task_retrieve(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    json(&task_view(find(
        &store.tasks,
        call.org,
        call.path("task_id"),
        "task",
    )?)?)
}

pub(super) fn task_update(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    if let Some(icp_id) = call.b_str("icp_id") {
        find(&store.icps, call.org, icp_id, "ICP")?;
    }
    let task = find_mut(&mut store.tasks, call.org, call.path("task_id"), "task")?;
    let body = call.body.as_object().cloned().unwrap_or_default();
    for (key, value) in body {
        let text = value.as_str().map(str::to_owned);
        match (key.as_str(), text) {
            ("name", Some(v)) => task.name = v,
            ("description", Some(v)) => task.description = v,
            ("deployment_name", Some(v)) => task.deployment_name = v,
            ("icp_id", v) => task.icp_id = v,
            ("prompt", v) => task.prompt = v,
            ("task_config", _) => task.config = stored_config(&value),
            _ => {}
        }
    }
    task.updated_at = call.now;
    Ok(Reply::Empty)
}

pub(super) fn task_list(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let flow = call.q_str("flow_name");
    let items: Vec<&Task> = store
        .tasks
        .values()
        .filter(|t| t.org == call.org && flow.is_none_or(|f| t.flow_name == f))
        .collect();
    let (page_items, total, page, size) = sort_and_page(
        items,
        call,
        &[
            ("created_at", |t, _| Key::Time(t.created_at)),
            ("updated_at", |t, _| Key::Time(t.updated_at)),
            ("name", |t, _| Key::Text(t.name.to_lowercase())),
            ("flow_name", |t, _| Key::Text(t.flow_name.clone())),
        ],
        |t| t.id.as_str(),
    )?;
    json(&built!(types::TaskListResponse {
        tasks: page_items
            .into_iter()
            .map(task_view)
            .collect::<Result<Vec<_>, _>>()?,
        page,
        page_size: size,
        total,
    }))
}

pub(super) fn task_delete(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let id = find(&store.tasks, call.org, call.path("task_id"), "task")?
        .id
        .clone();
    let active: Vec<&str> = store
        .runs
        .values()
        .filter(|r| {
            r.task_id.as_deref() == Some(id.as_str()) && !store::is_terminal(r.status_at(call.now))
        })
        .map(|r| r.id.as_str())
        .collect();
    if !active.is_empty() {
        return Err(Failure::Message(
            409,
            format!(
                "task {id} has runs that have not finished ({}); cancel them or wait before deleting it",
                active.join(", ")
            ),
        ));
    }
    store.tasks.remove(&id);
    store.schedules.retain(|_, s| s.task_id != id);
    Ok(Reply::Empty)
}

fn sheet_of<'a>(store: &'a Store, icp_id: &str, entity_type: &str) -> Result<&'a Sheet, Failure> {
    store
        .sheets
        .values()
        .find(|s| s.icp_id == icp_id && s.entity_type == entity_type)
        .ok_or_else(|| {
            bad_request(format!(
                "ICP {icp_id} has no `{entity_type}` sheet; create one with POST /v1/sheet before executing"
            ))
        })
}

fn ready_file<'a>(store: &'a Store, call: &Call<'_>, config: &Value) -> Result<&'a File, Failure> {
    let file_id = config
        .get("file_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let file = find(&store.files, call.org, file_id, "file")?;
    match file.status_at(call.now) {
        "completed" => Ok(file),
        "failed" => Err(bad_request(format!(
            "file {file_id} could not be processed"
        ))),
        _ => Err(bad_request(format!(
            "file {file_id} is still being processed; wait until its processing_status is `completed`"
        ))),
    }
}

fn row_name(row: &Map<String, Value>, column: &str) -> String {
    row.get(column)
        .map(data::cell)
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// Most results one run produces.
const MAX_RESULTS: u64 = 1000;
/// Most children per parent a search finds.
const MAX_CHILDREN: u64 = 100;

/// What a run will do: its steps, before timing.
fn plan(
    store: &mut Store,
    call: &Call<'_>,
    task: &Task,
    icp_id: Option<&str>,
) -> Result<Vec<(String, Action)>, Failure> {
    let kind = task.kind();
    let config = task.config.clone().unwrap_or_else(|| json!({}));
    let num_results = match call
        .body
        .get("parameters")
        .and_then(|p| p.get("num_results"))
    {
        None | Some(Value::Null) => call.settings.num_results,
        Some(v) => v
            .as_u64()
            .filter(|n| (1..=MAX_RESULTS).contains(n))
            .ok_or_else(|| {
                bad_request(format!(
                    "parameters.num_results must be an integer from 1 to {MAX_RESULTS}"
                ))
            })?,
    };
    let need_icp = || -> Result<String, Failure> {
        let id = icp_id.ok_or_else(|| {
            bad_request("this task needs an ICP: give icp_id in the body or on the task")
        })?;
        find(&store.icps, call.org, id, "ICP").map(|i| i.id.clone())
    };
    let mut steps = Vec::new();
    match kind.as_str() {
        "search" => {
            let icp_id = need_icp()?;
            let icp = find(&store.icps, call.org, &icp_id, "ICP")?.clone();
            let root = icp
                .root()
                .ok_or_else(|| bad_request("the ICP has no entity targets"))?;
            let root_sheet = sheet_of(store, &icp_id, &root.entity_type)?.id.clone();
            let children = match icp.child() {
                None => None,
                Some(child) => {
                    let sheet = sheet_of(store, &icp_id, &child.entity_type)?.id.clone();
                    let per_parent = config
                        .get("desired_contact_count")
                        .and_then(Value::as_u64)
                        .or(child.desired_count)
                        .unwrap_or(2);
                    if per_parent > MAX_CHILDREN {
                        return Err(bad_request(format!(
                            "at most {MAX_CHILDREN} {} per {} can be found",
                            child.entity_type, root.entity_type
                        )));
                    }
                    Some((sheet, child.entity_type.clone(), per_parent))
                }
            };
            let lookup = config
                .get("company_input")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let wanted = if lookup.is_some() { 1 } else { num_results };
            let reasons = [
                "Does not match the ICP criteria",
                "Duplicate of an entity already in the sheet",
                "Not enough public information",
            ];
            let mut found = 0;
            let mut candidate = 0;
            while found < wanted {
                let Some(sheet) = store.sheets.get_mut(&root_sheet) else {
                    break;
                };
                let index = sheet.generated;
                sheet.generated += 1;
                let name = match &lookup {
                    Some(name) => name.clone(),
                    None => data::generated_name(&root.entity_type, index),
                };
                if candidate % 5 == 4 && lookup.is_none() {
                    steps.push((
                        name,
                        Action::Discard(reasons[(candidate / 5) % reasons.len()].into()),
                    ));
                } else {
                    steps.push((
                        name,
                        Action::Root {
                            sheet_id: root_sheet.clone(),
                            entity_type: root.entity_type.clone(),
                            index,
                            children: children.clone(),
                        },
                    ));
                    found += 1;
                }
                candidate += 1;
            }
        }
        "ingest" | "ingest-ondemand" => {
            let icp_id = need_icp()?;
            if config.get("file_id").is_none() {
                return Err(bad_request(
                    "an ingest task needs a task_config with file_id",
                ));
            }
            let file = ready_file(store, call, &config)?;
            let records = file.records();
            let columns: Vec<String> = records
                .first()
                .map(|r| r.keys().cloned().collect())
                .unwrap_or_default();
            let primary = config
                .get("primary_column")
                .and_then(Value::as_str)
                .unwrap_or("name")
                .to_owned();
            if !records.is_empty() && !columns.contains(&primary) {
                return Err(bad_request(format!(
                    "primary_column `{primary}` is not a column of the file (columns: {})",
                    columns.join(", ")
                )));
            }
            let entity_type = config
                .get("csv_entity_type")
                .and_then(Value::as_str)
                .unwrap_or("company")
                .to_owned();
            let sheet_id = sheet_of(store, &icp_id, &entity_type)?.id.clone();
            if kind == "ingest-ondemand" {
                let new_fields = config
                    .get("new_custom_fields")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                if let Some(sheet) = store.sheets.get_mut(&sheet_id) {
                    for f in new_fields {
                        let Some(name) = f.get("name").and_then(Value::as_str) else {
                            continue;
                        };
                        if sheet.custom.iter().any(|c| c.name == name)
                            || data::default_fields(&entity_type)
                                .iter()
                                .any(|(n, _)| *n == name)
                        {
                            continue;
                        }
                        let definition = json!({"name": name, "field_type": "string", "description": f.get("description")});
                        let field = data::custom_field(&definition).map_err(bad_request)?;
                        sheet.hidden.retain(|h| *h != field.name);
                        sheet.custom.push(field);
                    }
                }
            }
            for row in records {
                let name = row_name(&row, &primary);
                if name.is_empty() {
                    steps.push((
                        format!("row without {primary}"),
                        Action::Discard(format!("empty `{primary}`")),
                    ));
                } else {
                    steps.push((
                        name,
                        Action::Row {
                            sheet_id: sheet_id.clone(),
                            entity_type: entity_type.clone(),
                            row,
                        },
                    ));
                }
            }
        }
        "profile" | "ingest-prompt" => {
            let icp_id = need_icp()?;
            for e in store.entities.values().filter(|e| e.icp_id == icp_id) {
                steps.push((e.name(), Action::Profile(e.id.clone())));
            }
        }
        "signal-topic" | "signal-sheet" | "signal-csv" | "signal" => {
            let icp_id = need_icp()?;
            let signal_types: Vec<(String, String)> = config
                .get("signal_types")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|s| {
                    (
                        s.get("type")
                            .and_then(Value::as_str)
                            .unwrap_or("other")
                            .to_owned(),
                        s.get("display")
                            .and_then(Value::as_str)
                            .unwrap_or("Signal")
                            .to_owned(),
                    )
                })
                .collect();
            let signal_types = if signal_types.is_empty() {
                vec![("other".to_owned(), "Signal".to_owned())]
            } else {
                signal_types
            };
            let entity_type = config
                .get("entity_type")
                .and_then(Value::as_str)
                .unwrap_or("company")
                .to_owned();
            let sheet = store
                .sheets
                .values()
                .find(|s| s.icp_id == icp_id && s.entity_type == entity_type)
                .map(|s| s.id.clone());
            let mut subjects: Vec<(String, SignalSubject)> = Vec::new();
            match kind.as_str() {
                "signal-sheet" => {
                    let source = config
                        .get("source_icp_id")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    find(&store.icps, call.org, source, "source ICP")?;
                    let wanted_status = status_filter(config.get("entity_filters"));
                    for e in store.entities.values() {
                        if e.icp_id == source
                            && e.entity_type == entity_type
                            && wanted_status.as_ref().is_none_or(|w| {
                                w.iter().any(|s| Some(s.as_str()) == e.status.as_deref())
                            })
                        {
                            subjects.push((e.name(), SignalSubject::Existing(e.id.clone())));
                        }
                    }
                }
                "signal-csv" => {
                    let file = ready_file(store, call, &config)?;
                    let primary = config
                        .get("primary_column")
                        .and_then(Value::as_str)
                        .unwrap_or("name");
                    for row in file.records() {
                        let name = row_name(&row, primary);
                        if !name.is_empty() {
                            subjects.push((
                                name,
                                SignalSubject::Create {
                                    sheet_id: sheet.clone(),
                                    entity_type: entity_type.clone(),
                                    row,
                                },
                            ));
                        }
                    }
                }
                _ => {
                    for _ in 0..num_results {
                        let index = match &sheet {
                            Some(id) => match store.sheets.get_mut(id) {
                                Some(s) => {
                                    s.generated += 1;
                                    s.generated - 1
                                }
                                None => 0,
                            },
                            None => subjects.len(),
                        };
                        subjects.push((
                            data::generated_name(&entity_type, index),
                            SignalSubject::Create {
                                sheet_id: sheet.clone(),
                                entity_type: entity_type.clone(),
                                row: Map::new(),
                            },
                        ));
                    }
                }
            }
            for (ordinal, (name, subject)) in subjects.into_iter().enumerate() {
                let (signal_type, display) = signal_types[ordinal % signal_types.len()].clone();
                steps.push((
                    name,
                    Action::Signal {
                        subject,
                        signal_type,
                        display,
                        ordinal,
                    },
                ));
            }
        }
        _ => {}
    }
    Ok(steps)
}

/// The statuses of an `entity_filters` like `{"status": {"$in": [...]}}` or
/// `{"status": "new"}`; `None` when it does not filter on status.
fn status_filter(filters: Option<&Value>) -> Option<Vec<String>> {
    let status = filters?.get("status")?;
    match status {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Object(o) => o.get("$in").and_then(Value::as_array).map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        }),
        _ => None,
    }
}

pub(super) fn task_execute(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let task = find(&store.tasks, call.org, call.path("task_id"), "task")?.clone();
    let icp_id = call
        .b_str("icp_id")
        .map(str::to_owned)
        .or_else(|| task.icp_id.clone());
    if let Some(id) = &icp_id {
        find(&store.icps, call.org, id, "ICP")?;
    }
    let planned = plan(store, call, &task, icp_id.as_deref())?;
    let parameters = call
        .body
        .get("parameters")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let id = start_run(
        store,
        call,
        Some(&task),
        icp_id,
        None,
        "task",
        parameters,
        planned,
    );
    let run = find(&store.runs, call.org, &id, "run")?;
    let body = json!({
        "run_id": run.id,
        "flow_run_id": run.flow_run_id,
        "status": run.status_at(call.now),
    });
    conform::<types::TaskExecuteResponse>(body).map(Reply::Json)
}
