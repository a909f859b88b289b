//! `/v1/icp`: create, list, get, update and delete ICPs (ideal customer
//! profiles), and `GET /v1/icp/{icp_id}/active_runs`.

use linkt::types;
use serde_json::Value;

use super::{Call, Failure, Key, Outcome, Reply, bad_request, find, find_mut, json, sort_and_page};
use crate::store::{Icp, Store, Target};

fn targets_from(body: &Value) -> Result<Vec<Target>, Failure> {
    let targets: Vec<Target> = body
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| Target {
            entity_type: t
                .get("entity_type")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            description: t
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            root: t.get("root").and_then(Value::as_bool).unwrap_or(false),
            desired_count: t.get("desired_count").and_then(Value::as_u64),
        })
        .collect();
    if targets.is_empty() {
        return Err(bad_request("an ICP needs at least one entity target"));
    }
    if targets.iter().filter(|t| t.root).count() > 1 {
        return Err(bad_request("only one entity target may be the root"));
    }
    let mut types: Vec<&str> = targets.iter().map(|t| t.entity_type.as_str()).collect();
    types.sort_unstable();
    if types.windows(2).any(|w| w[0] == w[1]) {
        return Err(bad_request("each entity type may be targeted only once"));
    }
    Ok(targets)
}

fn icp_view(icp: &Icp) -> types::IcpResponse {
    let is_root = |t: &Target| t.root;
    built!(types::IcpResponse {
        id: icp.id.clone(),
        name: icp.name.clone(),
        description: icp.description.clone(),
        entity_targets: icp
            .targets
            .iter()
            .map(|t| built!(types::IcpEntityTarget {
                description: t.description.clone(),
                desired_count: t.desired_count.and_then(|n| i64::try_from(n).ok()),
                entity_type: t.entity_type.clone(),
                root: is_root(t),
            }))
            .collect::<Vec<_>>(),
        entity_structure: Some(
            icp.targets
                .iter()
                .map(|t| built!(types::IcpEntityStructure {
                    desired_count: t.desired_count.and_then(|n| i64::try_from(n).ok()),
                    entity_type: t.entity_type.clone(),
                    root: is_root(t),
                }))
                .collect::<Vec<_>>(),
        ),
        schema_version: Some(2),
        created_at: icp.created_at,
        updated_at: icp.updated_at,
    })
}

pub(super) fn icp_create(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let targets = targets_from(call.body.get("entity_targets").unwrap_or(&Value::Null))?;
    let id = store.new_id(call.now);
    let icp = Icp {
        org: call.org,
        id: id.clone(),
        name: call.b_str("name").unwrap_or_default().to_owned(),
        description: call.b_str("description").unwrap_or_default().to_owned(),
        mode: match call.b_str("mode") {
            Some("monitoring") => "monitoring".into(),
            _ => "discovery".into(),
        },
        targets,
        created_at: call.now,
        updated_at: call.now,
    };
    let view = icp_view(&icp);
    store.icps.insert(id, icp);
    json(&view)
}

pub(super) fn icp_retrieve(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    json(&icp_view(find(
        &store.icps,
        call.org,
        call.path("icp_id"),
        "ICP",
    )?))
}

pub(super) fn icp_update(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let targets = match call.body.get("entity_targets") {
        Some(Value::Null) | None => None,
        Some(v) => Some(targets_from(v)?),
    };
    let name = call.b_str("name").map(str::to_owned);
    let description = call.b_str("description").map(str::to_owned);
    let icp = find_mut(&mut store.icps, call.org, call.path("icp_id"), "ICP")?;
    if let Some(name) = name {
        icp.name = name;
    }
    if let Some(description) = description {
        icp.description = description;
    }
    if let Some(targets) = targets {
        icp.targets = targets;
    }
    icp.updated_at = call.now;
    json(&icp_view(icp))
}

pub(super) fn icp_list(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let mode = call.q_str("mode");
    let items: Vec<&Icp> = store
        .icps
        .values()
        .filter(|i| i.org == call.org && mode.is_none_or(|m| i.mode == m))
        .collect();
    let (page_items, total, page, size) = sort_and_page(
        items,
        call,
        &[
            ("created_at", |i, _| Key::Time(i.created_at)),
            ("updated_at", |i, _| Key::Time(i.updated_at)),
            ("name", |i, _| Key::Text(i.name.to_lowercase())),
        ],
        |i| i.id.as_str(),
    )?;
    json(&built!(types::IcpListResponse {
        icps: page_items.into_iter().map(icp_view).collect::<Vec<_>>(),
        page,
        page_size: size,
        total,
    }))
}

pub(super) fn icp_delete(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let id = find(&store.icps, call.org, call.path("icp_id"), "ICP")?
        .id
        .clone();
    store.delete_icp(&id, call.now);
    Ok(Reply::Empty)
}

pub(super) fn icp_get_active_runs(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let id = find(&store.icps, call.org, call.path("icp_id"), "ICP")?
        .id
        .clone();
    let runs = store
        .runs
        .values()
        .filter(|r| r.org == call.org && r.icp_id.as_deref() == Some(id.as_str()))
        .filter(|r| matches!(r.status_at(call.now), "RUNNING" | "SCHEDULED" | "PENDING"))
        .map(|r| {
            built!(types::ActiveRun {
                agent_type: r.agent_type.clone(),
                created_at: Some(r.created_at),
                id: r.id.clone(),
                task_type: r.task_type.clone(),
            })
        })
        .collect::<Vec<_>>();
    json(&built!(types::IcpGetActiveRunsResponse { runs }))
}
