//! `/v1/entity`: get, update, list and delete entities, bulk status updates
//! (`PATCH /v1/entity/status/bulk`), counts, search and CSV export.

use std::collections::{BTreeMap, HashMap};

use linkt::types;
use serde_json::{Map, Value};

use super::{Call, Failure, Outcome, Reply, bad_request, find, json, not_found, sort_and_page};
use crate::data;
use crate::store::{Entity, Icp, Store, Time};

/// Cross-ICP duplicate groups of one organization: same type and name in
/// different ICPs; the earliest entity is the primary.
struct Duplicates<'a> {
    groups: HashMap<(String, String), Vec<&'a Entity>>,
    icps: &'a BTreeMap<String, Icp>,
}

impl<'a> Duplicates<'a> {
    fn of(store: &'a Store, org: usize) -> Self {
        let mut groups: HashMap<(String, String), Vec<&Entity>> = HashMap::new();
        for e in store.entities.values().filter(|e| e.org == org) {
            groups.entry(e.dedup_key()).or_default().push(e);
        }
        Duplicates {
            groups,
            icps: &store.icps,
        }
    }

    /// (primary, duplicates in other ICPs) of the entity's group.
    fn group(&self, e: &Entity) -> Option<(&'a Entity, Vec<&'a Entity>)> {
        let members = self.groups.get(&e.dedup_key())?;
        let primary = *members.first()?;
        let dups: Vec<&Entity> = members
            .iter()
            .copied()
            .filter(|m| m.icp_id != primary.icp_id)
            .collect();
        (!dups.is_empty() && (e.id == primary.id || dups.iter().any(|d| d.id == e.id)))
            .then_some((primary, dups))
    }

    fn is_hidden_duplicate(&self, e: &Entity) -> bool {
        self.group(e).is_some_and(|(primary, _)| primary.id != e.id)
    }

    fn info(&self, e: &Entity) -> Option<types::DuplicateInfo> {
        let (primary, dups) = self.group(e)?;
        let icp_name = |id: &str| {
            self.icps
                .get(id)
                .map_or_else(String::new, |i| i.name.clone())
        };
        if primary.id == e.id {
            let mut icps: Vec<types::DuplicateIcp> = Vec::new();
            for d in &dups {
                if !icps.iter().any(|i| i.icp_id == d.icp_id) {
                    icps.push(built!(types::DuplicateIcp {
                        icp_id: d.icp_id.clone(),
                        icp_name: icp_name(&d.icp_id),
                    }));
                }
            }
            Some(built!(types::DuplicateInfo {
                is_duplicate: false,
                is_primary: true,
                duplicate_count: i64::try_from(dups.len()).ok(),
                duplicate_entity_ids: Some(dups.iter().map(|d| d.id.clone()).collect::<Vec<_>>()),
                duplicate_icps: Some(icps),
                primary_entity_id: None,
                primary_icp_name: None,
            }))
        } else {
            Some(built!(types::DuplicateInfo {
                is_duplicate: true,
                is_primary: false,
                duplicate_count: None,
                duplicate_entity_ids: None,
                duplicate_icps: None,
                primary_entity_id: Some(primary.id.clone()),
                primary_icp_name: Some(icp_name(&primary.icp_id)),
            }))
        }
    }
}

/// The entity's data as readers see it: removed custom fields are hidden,
/// and `fields` (when given) keeps only those keys.
fn visible_data(store: &Store, e: &Entity, fields: Option<&[String]>) -> Map<String, Value> {
    let hidden = store
        .sheets
        .get(&e.sheet_id)
        .map(|s| s.hidden.as_slice())
        .unwrap_or_default();
    e.data
        .iter()
        .filter(|(k, _)| !hidden.contains(k))
        .filter(|(k, _)| fields.is_none_or(|f| f.contains(k)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn entity_view(
    store: &Store,
    dups: &Duplicates<'_>,
    e: &Entity,
    fields: Option<&[String]>,
) -> Result<types::EntityResponse, Failure> {
    let status = match e.status.as_deref() {
        None => None,
        Some(s) => Some(
            s.parse::<types::EntityResponseStatus>()
                .map_err(|err| Failure::Message(500, err.to_string()))?,
        ),
    };
    Ok(built!(types::EntityResponse {
        id: e.id.clone(),
        sheet_id: e.sheet_id.clone(),
        sheet_name: store
            .sheets
            .get(&e.sheet_id)
            .map_or_else(String::new, |s| s.name.clone()),
        icp_id: e.icp_id.clone(),
        entity_type: e.entity_type.clone(),
        parent_id: e.parent_id.clone(),
        data: visible_data(store, e, fields),
        status,
        comments: e.comments.clone(),
        duplicate_info: dups.info(e),
        external_id: e.external_id.clone(),
        external_source: e.external_source.clone(),
        created_at: e.created_at,
        updated_at: e.updated_at,
    }))
}

const STATUSES: [&str; 4] = ["new", "reviewed", "passed", "contacted"];

/// The filters shared by entity list, search, counts and export.
#[derive(Debug, Default)]
struct EntityFilter {
    icp_ids: Vec<String>,
    sheet_id: Option<String>,
    entity_type: Option<String>,
    statuses: Vec<String>,
    hide_duplicates: bool,
    external: Option<(String, String)>,
    ids: Vec<String>,
}

impl EntityFilter {
    fn from_call(call: &Call<'_>) -> Result<Self, Failure> {
        let statuses = call.q_list("status");
        for s in &statuses {
            if s != "null" && !STATUSES.contains(&s.as_str()) {
                return Err(bad_request(format!(
                    "invalid status filter `{s}`; use new, reviewed, passed, contacted or null"
                )));
            }
        }
        Ok(EntityFilter {
            icp_ids: call.q_list("icp_id"),
            sheet_id: call.q_str("sheet_id").map(str::to_owned),
            entity_type: call.q_str("entity_type").map(str::to_owned),
            statuses,
            hide_duplicates: call.q_bool("hide_duplicates"),
            external: call.q_str("external_id").map(|id| {
                (
                    id.to_owned(),
                    call.q_str("external_source")
                        .unwrap_or("salesforce")
                        .to_owned(),
                )
            }),
            ids: call.q_list("entity_ids"),
        })
    }

    fn select<'a>(&self, store: &'a Store, dups: &Duplicates<'_>, org: usize) -> Vec<&'a Entity> {
        store
            .entities
            .values()
            .filter(|e| e.org == org)
            .filter(|e| self.icp_ids.is_empty() || self.icp_ids.contains(&e.icp_id))
            .filter(|e| self.sheet_id.as_ref().is_none_or(|s| *s == e.sheet_id))
            .filter(|e| {
                self.entity_type
                    .as_ref()
                    .is_none_or(|t| *t == e.entity_type)
            })
            .filter(|e| {
                self.statuses.is_empty()
                    || self.statuses.iter().any(|s| match e.status.as_deref() {
                        None => s == "null",
                        Some(st) => s == st,
                    })
            })
            .filter(|e| {
                self.external.as_ref().is_none_or(|(id, source)| {
                    e.external_id.as_deref() == Some(id.as_str())
                        && e.external_source.as_deref().unwrap_or("salesforce") == source
                })
            })
            .filter(|e| self.ids.is_empty() || self.ids.contains(&e.id))
            .filter(|e| !self.hide_duplicates || !dups.is_hidden_duplicate(e))
            .collect()
    }
}

fn fields_param(call: &Call<'_>) -> Option<Vec<String>> {
    call.q_str("fields").map(|f| {
        f.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    })
}

pub(super) fn entity_retrieve(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let e = find(&store.entities, call.org, call.path("entity_id"), "entity")?;
    let dups = Duplicates::of(store, call.org);
    json(&entity_view(store, &dups, e, None)?)
}

/// A review change: `None` leaves a field alone, `Some(None)` clears it.
#[derive(Debug)]
struct Review {
    status: Option<Option<String>>,
    comments: Option<Option<String>>,
    family: bool,
    duplicates: bool,
}

/// Sets status and/or comments on an entity and, as asked, its family
/// (parent and children) and its duplicates. Returns the ids changed.
fn apply_review(
    store: &mut Store,
    org: usize,
    id: &str,
    review: &Review,
    now: Time,
) -> Vec<String> {
    let Review {
        status,
        comments,
        family,
        duplicates,
    } = review;
    let (family, duplicates) = (*family, *duplicates);
    let Some(e) = store.entities.get(id).filter(|e| e.org == org) else {
        return Vec::new();
    };
    let mut targets = vec![e.id.clone()];
    if family {
        targets.extend(
            e.parent_id
                .iter()
                .filter(|p| store.entities.contains_key(*p))
                .cloned(),
        );
        targets.extend(
            store
                .entities
                .values()
                .filter(|c| c.parent_id.as_deref() == Some(id))
                .map(|c| c.id.clone()),
        );
    }
    if duplicates {
        let key = e.dedup_key();
        targets.extend(
            store
                .entities
                .values()
                .filter(|d| {
                    d.org == org && d.id != e.id && d.dedup_key() == key && d.icp_id != e.icp_id
                })
                .map(|d| d.id.clone()),
        );
    }
    targets.sort();
    targets.dedup();
    for target in &targets {
        if let Some(t) = store.entities.get_mut(target) {
            if let Some(status) = &status {
                t.status = status.clone();
            }
            if let Some(comments) = &comments {
                t.comments = comments.clone();
            }
            t.updated_at = now;
        }
    }
    targets
}

pub(super) fn entity_update(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let id = find(&store.entities, call.org, call.path("entity_id"), "entity")?
        .id
        .clone();
    let status = call.b_opt_str("status");
    let comments = call.b_opt_str("comments");
    let family = call
        .body
        .get("propagate_to_family")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let duplicates = call
        .body
        .get("propagate_to_duplicates")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let review = Review {
        status,
        comments,
        family,
        duplicates,
    };
    apply_review(store, call.org, &id, &review, call.now);
    let dups = Duplicates::of(store, call.org);
    let e = find(&store.entities, call.org, &id, "entity")?;
    json(&entity_view(store, &dups, e, None)?)
}

pub(super) fn entity_list(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let filter = EntityFilter::from_call(call)?;
    let dups = Duplicates::of(store, call.org);
    let items = filter.select(store, &dups, call.org);
    let (page_items, total, page, size) = sort_and_page(items, call, &[], |e| e.id.as_str())?;
    let fields = fields_param(call);
    let entities = page_items
        .into_iter()
        .map(|e| entity_view(store, &dups, e, fields.as_deref()))
        .collect::<Result<Vec<_>, _>>()?;
    json(&built!(types::EntityListResponse {
        entities,
        page,
        page_size: size,
        total,
    }))
}

pub(super) fn entity_delete(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let id = find(&store.entities, call.org, call.path("entity_id"), "entity")?
        .id
        .clone();
    store.entities.remove(&id);
    Ok(Reply::Empty)
}

pub(super) fn entity_bulk_update_status(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let status = call.b_str("status").map(str::to_owned);
    if let Some(s) = &status
        && !STATUSES.contains(&s.as_str())
    {
        return Err(bad_request(format!(
            "invalid status `{s}`; use new, reviewed, passed, contacted or null"
        )));
    }
    let family = call
        .body
        .get("propagate_to_family")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let duplicates = call
        .body
        .get("propagate_to_duplicates")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let ids: Vec<String> = call
        .body
        .get("entity_ids")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    let mut updated = 0_i64;
    let mut failed_ids = Vec::new();
    for id in ids {
        let well_formed = id.len() == 24 && id.chars().all(|c| c.is_ascii_hexdigit());
        let exists = store.entities.get(&id).is_some_and(|e| e.org == call.org);
        if !well_formed || !exists {
            failed_ids.push(id);
            continue;
        }
        let review = Review {
            status: Some(status.clone()),
            comments: None,
            family,
            duplicates,
        };
        apply_review(store, call.org, &id, &review, call.now);
        updated += 1;
    }
    json(&built!(types::EntityBulkUpdateStatusResponse {
        updated_count: updated,
        failed_ids,
    }))
}

pub(super) fn entity_get_counts(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let filter = EntityFilter::from_call(call)?;
    let dups = Duplicates::of(store, call.org);
    let items = filter.select(store, &dups, call.org);
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    for e in &items {
        *counts.entry(e.entity_type.clone()).or_default() += 1;
    }
    json(&built!(types::EntityGetCountsResponse {
        total: i64::try_from(items.len()).unwrap_or(i64::MAX),
        counts,
    }))
}

pub(super) fn entity_search(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let q = call.q_str("q").unwrap_or_default().to_owned();
    let words: Vec<String> = q.split_whitespace().map(str::to_lowercase).collect();
    let filter = EntityFilter::from_call(call)?;
    let dups = Duplicates::of(store, call.org);
    let mut scored: Vec<(usize, &Entity)> = filter
        .select(store, &dups, call.org)
        .into_iter()
        .filter_map(|e| {
            let name = e.name().to_lowercase();
            let text: String = visible_data(store, e, None)
                .values()
                .map(|v| data::cell(v).to_lowercase())
                .collect::<Vec<_>>()
                .join(" ");
            let score: usize = words
                .iter()
                .map(|w| {
                    if name.contains(w.as_str()) {
                        3
                    } else if text.contains(w.as_str()) {
                        1
                    } else {
                        0
                    }
                })
                .sum();
            (score > 0).then_some((score, e))
        })
        .collect();
    scored.sort_by(|(sa, a), (sb, b)| sb.cmp(sa).then_with(|| a.id.cmp(&b.id)));
    let page = call.q_int("page").unwrap_or(1).max(1);
    let size = call.q_int("page_size").unwrap_or(20).max(1);
    let total = i64::try_from(scored.len()).unwrap_or(i64::MAX);
    let skip = usize::try_from((page - 1).saturating_mul(size)).unwrap_or(usize::MAX);
    let entities = scored
        .into_iter()
        .skip(skip)
        .take(usize::try_from(size).unwrap_or(usize::MAX))
        .map(|(_, e)| entity_view(store, &dups, e, None))
        .collect::<Result<Vec<_>, _>>()?;
    json(&built!(types::EntitySearchResponse {
        entities,
        page,
        page_size: size,
        query: q,
        total,
    }))
}

/// Columns of the data of these entities, in first-seen (schema) order.
fn data_columns(store: &Store, entities: &[&Entity]) -> Vec<String> {
    let mut columns: Vec<String> = Vec::new();
    for e in entities {
        for key in visible_data(store, e, None).keys() {
            if !columns.contains(key) {
                columns.push(key.clone());
            }
        }
    }
    columns
}

fn data_cells(store: &Store, e: &Entity, columns: &[String]) -> Vec<String> {
    let data = visible_data(store, e, None);
    columns
        .iter()
        .map(|c| data.get(c).map(data::cell).unwrap_or_default())
        .collect()
}

fn meta_cells(e: &Entity) -> Vec<String> {
    vec![
        e.status.clone().unwrap_or_default(),
        e.created_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        e.updated_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    ]
}

pub(super) fn entity_export(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let mut filter = EntityFilter::from_call(call)?;
    let combined = call.q_str("format") == Some("combined");
    for icp_id in &filter.icp_ids {
        find(&store.icps, call.org, icp_id, "ICP")?;
    }
    if let Some(sheet_id) = &filter.sheet_id {
        find(&store.sheets, call.org, sheet_id, "sheet")?;
    }
    let dups = Duplicates::of(store, call.org);
    let mut out = String::new();
    if combined {
        let [icp_id] = filter.icp_ids.as_slice() else {
            return Err(bad_request("format=combined requires exactly one icp_id"));
        };
        let icp = find(&store.icps, call.org, icp_id, "ICP")?;
        let root_type = icp
            .root()
            .map(|t| t.entity_type.clone())
            .unwrap_or_default();
        let child_type = icp.child().map(|t| t.entity_type.clone());
        filter.entity_type = None;
        let selected = filter.select(store, &dups, call.org);
        let parents: Vec<&Entity> = selected
            .iter()
            .copied()
            .filter(|e| e.entity_type == root_type)
            .collect();
        let children: Vec<&Entity> = selected
            .iter()
            .copied()
            .filter(|e| Some(&e.entity_type) == child_type.as_ref())
            .collect();
        if parents.is_empty() && children.is_empty() {
            return Err(not_found("entities"));
        }
        let parent_columns = data_columns(store, &parents);
        let child_columns = data_columns(store, &children);
        let child_label = child_type.clone().unwrap_or_else(|| "child".into());
        let mut header: Vec<String> = child_columns
            .iter()
            .map(|c| data::combined_header(&child_label, c))
            .collect();
        header.extend(
            parent_columns
                .iter()
                .map(|c| data::combined_header(&root_type, c)),
        );
        header.extend(["status", "created_at", "updated_at"].map(String::from));
        out.push_str(&data::csv_line(&header));
        for parent in &parents {
            let mine: Vec<&&Entity> = children
                .iter()
                .filter(|c| c.parent_id.as_deref() == Some(parent.id.as_str()))
                .collect();
            if mine.is_empty() {
                let mut row = vec![String::new(); child_columns.len()];
                row.extend(data_cells(store, parent, &parent_columns));
                row.extend(meta_cells(parent));
                out.push_str(&data::csv_line(&row));
            }
            for child in mine {
                let mut row = data_cells(store, child, &child_columns);
                row.extend(data_cells(store, parent, &parent_columns));
                row.extend(meta_cells(child));
                out.push_str(&data::csv_line(&row));
            }
        }
    } else {
        let selected = filter.select(store, &dups, call.org);
        if selected.is_empty() {
            return Err(not_found("entities"));
        }
        let columns = data_columns(store, &selected);
        let mut header = columns.clone();
        header.extend(["status", "created_at", "updated_at"].map(String::from));
        out.push_str(&data::csv_line(&header));
        for e in selected {
            let mut row = data_cells(store, e, &columns);
            row.extend(meta_cells(e));
            out.push_str(&data::csv_line(&row));
        }
    }
    Ok(Reply::Csv(out))
}
