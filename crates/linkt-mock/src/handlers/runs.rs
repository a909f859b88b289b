//! `/v1/run`: create, list, get and delete runs, `POST /v1/run/{run_id}/cancel`
//! and `GET /v1/run/{run_id}/queue`; also how every run starts (task
//! executions included).

use std::collections::BTreeMap;

use linkt::types;
use serde_json::{Map, Value, json};

use super::{Call, Key, Outcome, Reply, bad_request, find, find_mut, json, sort_and_page};
use crate::faults::RunFault;
use crate::store::{self, Action, Run, Step, Stop, Store, Task, Time};

fn rfc3339(t: Time) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn run_view(run: &Run, now: Time) -> Map<String, Value> {
    let status = run.status_at(now);
    let mut input = Map::new();
    input.insert("parameters".into(), Value::Object(run.parameters.clone()));
    if let Some(icp) = &run.icp_id {
        input.insert("icp_id".into(), json!(icp));
    }
    let error = match (&run.stop, status) {
        (Some(stop), "FAILED" | "CRASHED" | "CANCELED") => {
            stop.error.clone().map_or(Value::Null, Value::String)
        }
        _ => Value::Null,
    };
    let output = if status == "COMPLETED" {
        let found = run.entities_created.len() as f64;
        let signals = run.signals_created.len() as f64;
        let updated = run.entities_updated.len() as f64;
        json!({
            "version": "1.0",
            "credits": {
                "total_credits": found + signals + updated,
                "breakdown": {"entities": found, "signals": signals, "enrichment": updated}
            },
            "resources": {
                "entities_created": run.entities_created,
                "entities_updated": run.entities_updated,
                "signals_created": run.signals_created
            },
            "run_time": (run.done_at - run.created_at).num_seconds(),
        })
    } else {
        Value::Null
    };
    let mut doc = Map::new();
    doc.insert("id".into(), json!(run.id));
    doc.insert("task_id".into(), json!(run.task_id));
    doc.insert("icp_id".into(), json!(run.icp_id));
    doc.insert("task_type".into(), json!(run.task_type));
    doc.insert("agent_id".into(), json!(run.agent_id));
    doc.insert("agent_type".into(), json!(run.agent_type));
    doc.insert("flow_run_id".into(), json!(run.flow_run_id));
    doc.insert("status".into(), json!(status));
    doc.insert("input".into(), Value::Object(input));
    doc.insert("output".into(), output);
    doc.insert("error".into(), error);
    doc.insert("created_at".into(), json!(rfc3339(run.created_at)));
    doc.insert("updated_at".into(), json!(rfc3339(run.updated_at(now))));
    doc
}

/// Creates a run starting now with these steps; a run fault armed on the
/// server makes it stop halfway.
#[allow(clippy::too_many_arguments, reason = "the fields of a new run")]
pub(super) fn start_run(
    store: &mut Store,
    call: &Call<'_>,
    task: Option<&Task>,
    icp_id: Option<String>,
    agent_id: Option<String>,
    agent_type: &str,
    parameters: Map<String, Value>,
    planned: Vec<(String, Action)>,
) -> String {
    let timing = &call.settings.timing;
    let now = call.now;
    let pending_at = store::add(now, timing.scheduled);
    let running_at = store::add(pending_at, timing.pending);
    let work = store::mul(timing.per_item, planned.len());
    let done_at = store::add(store::add(running_at, work), timing.finalize);
    let steps: Vec<Step> = planned
        .into_iter()
        .enumerate()
        .map(|(i, (name, action))| {
            let start = store::add(running_at, store::mul(timing.per_item, i));
            Step {
                name,
                start,
                end: store::add(start, timing.per_item),
                action,
            }
        })
        .collect();
    let stop = call.faults.take_run().map(|fault| {
        let total = done_at - running_at;
        let at = running_at + total / 2;
        match fault {
            RunFault::Failed(message) => Stop {
                at,
                status: "FAILED",
                error: Some(message),
            },
            RunFault::Crashed => Stop {
                at,
                status: "CRASHED",
                error: Some("the flow run crashed".into()),
            },
        }
    });
    let id = store.new_id(now);
    let flow_run_id = store.new_uuid();
    let count = steps.len();
    store.runs.insert(
        id.clone(),
        Run {
            org: call.org,
            id: id.clone(),
            task_id: task.map(|t| t.id.clone()),
            icp_id,
            task_type: task.map(Task::task_type),
            agent_id,
            agent_type: agent_type.into(),
            flow_run_id,
            parameters,
            created_at: now,
            pending_at,
            running_at,
            done_at,
            steps,
            cursor: 0,
            stop,
            step_entities: vec![None; count],
            entities_created: Vec::new(),
            entities_updated: Vec::new(),
            signals_created: Vec::new(),
        },
    );
    id
}

pub(super) fn run_create(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let icp_id = call.b_str("icp_id").map(str::to_owned);
    if let Some(id) = &icp_id {
        find(&store.icps, call.org, id, "ICP")?;
    }
    let agent_id = call.b_str("agent_id").map(str::to_owned);
    let parameters = call
        .body
        .get("parameters")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let id = start_run(
        store,
        call,
        None,
        icp_id,
        agent_id,
        "play",
        parameters,
        Vec::new(),
    );
    let run = find(&store.runs, call.org, &id, "run")?;
    Ok(Reply::Json(Value::Object(run_view(run, call.now))))
}

pub(super) fn run_retrieve(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let run = find(&store.runs, call.org, call.path("run_id"), "run")?;
    Ok(Reply::Json(Value::Object(run_view(run, call.now))))
}

fn parse_time(call: &Call<'_>, key: &str) -> Option<Time> {
    call.q_str(key)
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
}

pub(super) fn run_list(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let now = call.now;
    let eq = |want: Option<&str>, have: Option<&str>| want.is_none_or(|w| Some(w) == have);
    let (created_after, created_before) = (
        parse_time(call, "created_after"),
        parse_time(call, "created_before"),
    );
    let (updated_after, updated_before) = (
        parse_time(call, "updated_after"),
        parse_time(call, "updated_before"),
    );
    let items: Vec<&Run> = store
        .runs
        .values()
        .filter(|r| r.org == call.org)
        .filter(|r| eq(call.q_str("task_id"), r.task_id.as_deref()))
        .filter(|r| eq(call.q_str("icp_id"), r.icp_id.as_deref()))
        .filter(|r| eq(call.q_str("agent_id"), r.agent_id.as_deref()))
        .filter(|r| eq(call.q_str("agent_type"), Some(r.agent_type.as_str())))
        .filter(|r| eq(call.q_str("task_type"), r.task_type.as_deref()))
        .filter(|r| eq(call.q_str("status"), Some(r.status_at(now))))
        .filter(|r| created_after.is_none_or(|t| r.created_at > t))
        .filter(|r| created_before.is_none_or(|t| r.created_at < t))
        .filter(|r| updated_after.is_none_or(|t| r.updated_at(now) > t))
        .filter(|r| updated_before.is_none_or(|t| r.updated_at(now) < t))
        .collect();
    let (page_items, total, page, size) = sort_and_page(
        items,
        call,
        &[
            ("created_at", |r, _| Key::Time(r.created_at)),
            ("updated_at", |r, now| Key::Time(r.updated_at(now))),
            ("agent_type", |r, _| Key::Text(r.agent_type.clone())),
            ("status", |r, now| Key::Text(r.status_at(now).to_owned())),
        ],
        |r| r.id.as_str(),
    )?;
    json(&built!(types::RunListResponse {
        runs: page_items
            .into_iter()
            .map(|r| run_view(r, now))
            .collect::<Vec<_>>(),
        page,
        page_size: size,
        total,
    }))
}

pub(super) fn run_delete(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let id = find(&store.runs, call.org, call.path("run_id"), "run")?
        .id
        .clone();
    store.runs.remove(&id);
    Ok(Reply::Empty)
}

pub(super) fn run_cancel(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let now = call.now;
    let run = find_mut(&mut store.runs, call.org, call.path("run_id"), "run")?;
    if !store::is_terminal(run.status_at(now)) {
        run.stop = Some(Stop {
            at: now,
            status: "CANCELED",
            error: Some("canceled by request".into()),
        });
    }
    Ok(Reply::Empty)
}

pub(super) fn run_get_queue(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let run = find(&store.runs, call.org, call.path("run_id"), "run")?;
    let now = call.now;
    let include_history = call.q_bool("include_history");
    let wanted_state = call.q_str("state");
    if let Some(s) = wanted_state
        && !["queued", "processing", "completed", "discarded"].contains(&s)
    {
        return Err(bad_request(format!(
            "invalid state `{s}`; use queued, processing, completed or discarded"
        )));
    }
    let offset = call.q_int("offset").unwrap_or(0).max(0);
    let limit = call.q_int("limit").unwrap_or(100).max(1);
    let mut counts: BTreeMap<&str, i64> = ["queued", "processing", "completed", "discarded"]
        .into_iter()
        .map(|s| (s, 0))
        .collect();
    let mut entries = Vec::new();
    for (i, step) in run.steps.iter().enumerate() {
        let Some(store::QueueEntry {
            state,
            history,
            reason,
        }) = run.entry_at(i, now)
        else {
            continue;
        };
        *counts.entry(state).or_default() += 1;
        let current = matches!(state, "queued" | "processing");
        if !(include_history || current) || wanted_state.is_some_and(|w| w != state) {
            continue;
        }
        let mut entry = Map::new();
        entry.insert("name".into(), json!(step.name));
        entry.insert("state".into(), json!(state));
        entry.insert(
            "state_history".into(),
            Value::Array(
                history
                    .iter()
                    .map(|(s, t)| json!({"state": s, "timestamp": rfc3339(*t)}))
                    .collect(),
            ),
        );
        entry.insert("reason".into(), json!(reason));
        entry.insert(
            "justification".into(),
            json!((state == "completed").then_some("Matches the ICP criteria")),
        );
        entry.insert(
            "stage_metadata".into(),
            json!({"stage": if current { "research" } else { "done" }}),
        );
        entry.insert(
            "entity_id".into(),
            json!(run.step_entities.get(i).cloned().flatten()),
        );
        entries.push(entry);
    }
    let all = counts.values().sum::<i64>();
    let entities: Vec<Map<String, Value>> = entries
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .collect();
    let mut stats = Map::new();
    stats.insert("total_entries".into(), json!(all));
    for (state, n) in &counts {
        stats.insert((*state).to_owned(), json!(n));
    }
    json(&built!(types::RunGetQueueResponse {
        total: i64::try_from(entities.len()).unwrap_or(i64::MAX),
        entities,
        include_history: Some(include_history),
        limit,
        offset,
        queue_data_available: Some(true),
        queue_data_message: None,
        state_counts: Some(
            counts
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect::<BTreeMap<_, _>>()
        ),
        stats,
    }))
}
