//! `/v1/schedule`: create, list, get, update and delete schedules.

use linkt::types;
use serde_json::{Value, json};

use super::{Call, Failure, Key, Outcome, Reply, bad_request, find, find_mut, json, sort_and_page};
use crate::data;
use crate::spec::Issue;
use crate::store::{Schedule, Store, Task};

fn schedule_view(s: &Schedule) -> types::ScheduleResponse {
    built!(types::ScheduleResponse {
        id: s.id.clone(),
        name: s.name.clone(),
        description: s.description.clone(),
        task_id: s.task_id.clone(),
        icp_id: s.icp_id.clone(),
        cron_expression: s.cron.clone(),
        status: s.status.clone(),
        parameters: s.parameters.clone(),
        created_at: s.created_at,
        updated_at: s.updated_at,
    })
}

/// Validates a cron expression: a 422 for a bad pattern, a 400 when a
/// signal task monitors at another frequency.
fn check_cron(cron: &str, task: &Task) -> Result<(), Failure> {
    let frequency = data::cron_frequency(cron).map_err(|msg| {
        Failure::Invalid(vec![Issue::new(
            &["body".into(), "cron_expression".into()],
            "value_error",
            format!("Value error, {msg}"),
            &json!(cron),
            Some(json!({"error": msg})),
        )])
    })?;
    let monitoring = task
        .config
        .as_ref()
        .filter(|_| task.kind().starts_with("signal"))
        .and_then(|c| c.get("monitoring_frequency"))
        .and_then(Value::as_str);
    if let Some(monitoring) = monitoring
        && monitoring != frequency.as_str()
    {
        return Err(bad_request(format!(
            "cron expression `{cron}` is {} but task {} monitors {monitoring}",
            frequency.as_str(),
            task.id
        )));
    }
    Ok(())
}

pub(super) fn schedule_create(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let task_id = call.b_str("task_id").unwrap_or_default().to_owned();
    let icp_id = call.b_str("icp_id").unwrap_or_default().to_owned();
    let cron = call.b_str("cron_expression").unwrap_or_default().to_owned();
    let task = find(&store.tasks, call.org, &task_id, "task")?;
    check_cron(&cron, task)?;
    find(&store.icps, call.org, &icp_id, "ICP")?;
    let id = store.new_id(call.now);
    let schedule = Schedule {
        org: call.org,
        id: id.clone(),
        name: call.b_str("name").unwrap_or_default().to_owned(),
        description: call.b_str("description").map(str::to_owned),
        task_id,
        icp_id,
        cron,
        status: "active".into(),
        parameters: call
            .body
            .get("parameters")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
        created_at: call.now,
        updated_at: call.now,
    };
    let view = schedule_view(&schedule);
    store.schedules.insert(id, schedule);
    json(&view)
}

pub(super) fn schedule_retrieve(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    json(&schedule_view(find(
        &store.schedules,
        call.org,
        call.path("schedule_id"),
        "schedule",
    )?))
}

pub(super) fn schedule_update(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let id = call.path("schedule_id").to_owned();
    let task_id = find(&store.schedules, call.org, &id, "schedule")?
        .task_id
        .clone();
    if let Some(cron) = call.b_str("cron_expression") {
        let task = find(&store.tasks, call.org, &task_id, "task")?;
        check_cron(cron, task)?;
    }
    let schedule = find_mut(&mut store.schedules, call.org, &id, "schedule")?;
    if let Some(v) = call.b_str("name") {
        v.clone_into(&mut schedule.name);
    }
    if let Some(v) = call.b_opt_str("description") {
        schedule.description = v;
    }
    if let Some(v) = call.b_str("cron_expression") {
        v.clone_into(&mut schedule.cron);
    }
    if let Some(v) = call.b_str("status") {
        v.clone_into(&mut schedule.status);
    }
    if let Some(v) = call.body.get("parameters").and_then(Value::as_object) {
        schedule.parameters = v.clone();
    }
    schedule.updated_at = call.now;
    json(&schedule_view(schedule))
}

pub(super) fn schedule_list(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let items: Vec<&Schedule> = store
        .schedules
        .values()
        .filter(|s| s.org == call.org)
        .filter(|s| call.q_str("task_id").is_none_or(|t| s.task_id == t))
        .filter(|s| call.q_str("icp_id").is_none_or(|t| s.icp_id == t))
        .filter(|s| call.q_str("status").is_none_or(|t| s.status == t))
        .collect();
    let (page_items, total, page, size) = sort_and_page(
        items,
        call,
        &[
            ("created_at", |s, _| Key::Time(s.created_at)),
            ("updated_at", |s, _| Key::Time(s.updated_at)),
            ("name", |s, _| Key::Text(s.name.to_lowercase())),
            ("status", |s, _| Key::Text(s.status.clone())),
        ],
        |s| s.id.as_str(),
    )?;
    json(&built!(types::ScheduleListResponse {
        schedules: page_items
            .into_iter()
            .map(schedule_view)
            .collect::<Vec<_>>(),
        page,
        page_size: size,
        total,
    }))
}

pub(super) fn schedule_delete(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let id = find(
        &store.schedules,
        call.org,
        call.path("schedule_id"),
        "schedule",
    )?
    .id
    .clone();
    store.schedules.remove(&id);
    Ok(Reply::Empty)
}
