//! What each of the 46 operations does, given a request that already passed
//! authentication, rate limiting and schema validation.
//!
//! Every handler is a synchronous function of the store, the caller's
//! organization, the simulated time and the validated input; it returns a
//! [`Reply`] or a [`Failure`] carrying the status and FastAPI `detail`.
//! Response bodies are built from (or checked against) the generated
//! `linkt::types`, so the real client can always decode them.
//!
//! What does not belong here: HTTP plumbing, authentication, rate limits,
//! fault injection (see `server.rs`) and validation (see `spec.rs`).

use std::collections::{BTreeMap, HashMap};

use linkt::types;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::data::{self, CustomField};
use crate::faults::{Faults, RunFault};
use crate::spec::Issue;
use crate::store::{
    self, Action, Entity, File, Icp, Parsed, Run, Schedule, Sheet, SignalSubject, Step, Stop,
    Store, Target, Task, Time, Timing,
};

/// A successful response.
#[derive(Debug)]
pub(crate) enum Reply {
    Json(Value),
    Empty,
    Csv(String),
}

/// A failed request: status and FastAPI `detail`.
#[derive(Debug)]
pub(crate) enum Failure {
    Message(u16, String),
    Invalid(Vec<Issue>),
}

type Outcome = Result<Reply, Failure>;

fn bad_request(detail: impl Into<String>) -> Failure {
    Failure::Message(400, detail.into())
}

fn not_found(what: &str) -> Failure {
    Failure::Message(404, format!("{what} not found"))
}

/// An uploaded file part.
#[derive(Debug)]
pub(crate) struct Upload {
    pub(crate) file_name: String,
    pub(crate) content_type: Option<String>,
    pub(crate) bytes: bytes::Bytes,
}

/// Server settings the handlers read.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) timing: Timing,
    pub(crate) num_results: u64,
}

/// One validated request.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub(crate) org: usize,
    pub(crate) now: Time,
    pub(crate) path: &'a [(String, String)],
    pub(crate) query: Map<String, Value>,
    pub(crate) body: Value,
    pub(crate) upload: Option<Upload>,
    pub(crate) faults: &'a Faults,
    pub(crate) settings: &'a Settings,
}

impl Call<'_> {
    fn path(&self, name: &str) -> &str {
        self.path
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    fn q_str(&self, key: &str) -> Option<&str> {
        self.query.get(key).and_then(Value::as_str)
    }

    fn q_int(&self, key: &str) -> Option<i64> {
        self.query.get(key).and_then(Value::as_i64)
    }

    fn q_bool(&self, key: &str) -> bool {
        self.query
            .get(key)
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// A list parameter; comma-joined values (as the official SDKs send
    /// them) are split too.
    fn q_list(&self, key: &str) -> Vec<String> {
        self.query
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .flat_map(|s| s.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    fn b_str(&self, key: &str) -> Option<&str> {
        self.body.get(key).and_then(Value::as_str)
    }

    /// `Some(None)` for an explicit null, `None` when absent.
    fn b_opt_str(&self, key: &str) -> Option<Option<String>> {
        self.body.get(key).map(|v| v.as_str().map(str::to_owned))
    }
}

/// Serializes a value of a generated type.
fn to_json<T: Serialize>(value: &T) -> Result<Value, Failure> {
    serde_json::to_value(value)
        .map_err(|e| Failure::Message(500, format!("serializing the response: {e}")))
}

/// Checks that the client's type `T` decodes `value`, and returns it as is
/// (keeping its key order).
fn conform<T: DeserializeOwned>(value: Value) -> Result<Value, Failure> {
    match serde_json::from_value::<T>(value.clone()) {
        Ok(_) => Ok(value),
        Err(e) => Err(Failure::Message(
            500,
            format!(
                "response does not decode as {}: {e}",
                std::any::type_name::<T>()
            ),
        )),
    }
}

fn json<T: Serialize>(value: &T) -> Outcome {
    to_json(value).map(Reply::Json)
}

/// Dispatches to the handler of `operation`.
pub(crate) fn handle(operation: &str, store: &mut Store, call: &mut Call<'_>) -> Outcome {
    match operation {
        "icp_create" => icp_create(store, call),
        "icp_retrieve" => icp_retrieve(store, call),
        "icp_update" => icp_update(store, call),
        "icp_list" => icp_list(store, call),
        "icp_delete" => icp_delete(store, call),
        "icp_get_active_runs" => icp_get_active_runs(store, call),
        "sheet_create" => sheet_create(store, call),
        "sheet_retrieve" => sheet_retrieve(store, call),
        "sheet_update" => sheet_update(store, call),
        "sheet_list" => sheet_list(store, call),
        "sheet_delete" => sheet_delete(store, call),
        "sheet_schema_add_fields" => schema_add_fields(store, call),
        "sheet_schema_delete_fields" => schema_delete_fields(store, call),
        "sheet_schema_get" => schema_get(store, call),
        "sheet_schema_get_default" => schema_get_default(),
        "sheet_schema_get_field_definitions" => schema_field_definitions(),
        "entity_retrieve" => entity_retrieve(store, call),
        "entity_update" => entity_update(store, call),
        "entity_list" => entity_list(store, call),
        "entity_delete" => entity_delete(store, call),
        "entity_bulk_update_status" => entity_bulk_update_status(store, call),
        "entity_export" => entity_export(store, call),
        "entity_get_counts" => entity_get_counts(store, call),
        "entity_search" => entity_search(store, call),
        "task_create" => task_create(store, call),
        "task_retrieve" => task_retrieve(store, call),
        "task_update" => task_update(store, call),
        "task_list" => task_list(store, call),
        "task_delete" => task_delete(store, call),
        "task_execute" => task_execute(store, call),
        "signal_retrieve" => signal_retrieve(store, call),
        "signal_list" => signal_list(store, call),
        "run_create" => run_create(store, call),
        "run_retrieve" => run_retrieve(store, call),
        "run_list" => run_list(store, call),
        "run_delete" => run_delete(store, call),
        "run_cancel" => run_cancel(store, call),
        "run_get_queue" => run_get_queue(store, call),
        "schedule_create" => schedule_create(store, call),
        "schedule_retrieve" => schedule_retrieve(store, call),
        "schedule_update" => schedule_update(store, call),
        "schedule_list" => schedule_list(store, call),
        "schedule_delete" => schedule_delete(store, call),
        "files_retrieve" => files_retrieve(store, call),
        "files_list" => files_list(store, call),
        "files_upload" => files_upload(store, call),
        other => Err(Failure::Message(
            501,
            format!("operation `{other}` is not implemented"),
        )),
    }
}

/// Builds a generated response type from all its fields with `linkt::build!`
/// (the generated structs are `#[non_exhaustive]`). Every field is given, so
/// the builder cannot fail; a required field the generated type gained and
/// the mock does not set yet is a bug of the mock, and the first response
/// that needs it names the type and the field.
macro_rules! built {
    ($($ty:ident)::+ { $($body:tt)* }) => {
        linkt::build!($($ty)::+ { $($body)* }).unwrap_or_else(|err| {
            panic!("linkt-mock sets every field of {}: {err}", stringify!($($ty)::+))
        })
    };
}

// ---------------------------------------------------------------------------
// Lookups, sorting and pagination

trait Owned {
    fn org(&self) -> usize;
}

macro_rules! owned {
    ($($t:ty),*) => { $(impl Owned for $t { fn org(&self) -> usize { self.org } })* };
}
owned!(Icp, Sheet, Entity, Task, Run, Schedule, File, store::Signal);

/// A record of the caller's organization; another organization's records
/// do not exist for the caller (404).
fn find<'a, T: Owned>(
    map: &'a BTreeMap<String, T>,
    org: usize,
    id: &str,
    what: &str,
) -> Result<&'a T, Failure> {
    map.get(id)
        .filter(|r| r.org() == org)
        .ok_or_else(|| not_found(what))
}

fn find_mut<'a, T: Owned>(
    map: &'a mut BTreeMap<String, T>,
    org: usize,
    id: &str,
    what: &str,
) -> Result<&'a mut T, Failure> {
    map.get_mut(id)
        .filter(|r| r.org() == org)
        .ok_or_else(|| not_found(what))
}

#[derive(Clone, Debug, PartialEq, PartialOrd)]
enum Key {
    Num(f64),
    Text(String),
    Time(Time),
}

type KeyFn<T> = fn(&T, Time) -> Key;

/// Sorts by `sort_by` (default `created_at`) in `order` (default `1`,
/// ascending; ties broken by id in the same direction), then cuts the page.
/// Returns the page, the total, the page number and the page size.
fn sort_and_page<T>(
    mut items: Vec<T>,
    call: &Call<'_>,
    keys: &[(&str, KeyFn<T>)],
    id: fn(&T) -> &str,
) -> Result<(Vec<T>, i64, i64, i64), Failure> {
    if keys.is_empty() {
        items.sort_by(|a, b| id(a).cmp(id(b)));
    } else {
        let sort_by = call.q_str("sort_by").unwrap_or("created_at");
        let Some((_, key)) = keys.iter().find(|(name, _)| *name == sort_by) else {
            let known: Vec<&str> = keys.iter().map(|(n, _)| *n).collect();
            return Err(bad_request(format!(
                "cannot sort by `{sort_by}`; use one of: {}",
                known.join(", ")
            )));
        };
        let descending = call.q_int("order").is_some_and(|o| o < 0);
        let now = call.now;
        items.sort_by(|a, b| {
            let ordering = key(a, now)
                .partial_cmp(&key(b, now))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| id(a).cmp(id(b)));
            if descending {
                ordering.reverse()
            } else {
                ordering
            }
        });
    }
    let page = call.q_int("page").unwrap_or(1).max(1);
    let size = call.q_int("page_size").unwrap_or(20).max(1);
    let total = i64::try_from(items.len()).unwrap_or(i64::MAX);
    let skip = usize::try_from((page - 1).saturating_mul(size)).unwrap_or(usize::MAX);
    let take = usize::try_from(size).unwrap_or(usize::MAX);
    let items = items.into_iter().skip(skip).take(take).collect();
    Ok((items, total, page, size))
}

// ---------------------------------------------------------------------------
// ICP

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

fn icp_create(store: &mut Store, call: &mut Call<'_>) -> Outcome {
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

fn icp_retrieve(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    json(&icp_view(find(
        &store.icps,
        call.org,
        call.path("icp_id"),
        "ICP",
    )?))
}

fn icp_update(store: &mut Store, call: &mut Call<'_>) -> Outcome {
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

fn icp_list(store: &mut Store, call: &mut Call<'_>) -> Outcome {
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

fn icp_delete(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let id = find(&store.icps, call.org, call.path("icp_id"), "ICP")?
        .id
        .clone();
    store.delete_icp(&id, call.now);
    Ok(Reply::Empty)
}

fn icp_get_active_runs(store: &mut Store, call: &mut Call<'_>) -> Outcome {
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

// ---------------------------------------------------------------------------
// Sheets and schemas

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

fn sheet_create(store: &mut Store, call: &mut Call<'_>) -> Outcome {
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

fn sheet_retrieve(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    json(&sheet_view(find(
        &store.sheets,
        call.org,
        call.path("sheet_id"),
        "sheet",
    )?)?)
}

fn sheet_update(store: &mut Store, call: &mut Call<'_>) -> Outcome {
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

fn sheet_list(store: &mut Store, call: &mut Call<'_>) -> Outcome {
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

fn sheet_delete(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let id = find(&store.sheets, call.org, call.path("sheet_id"), "sheet")?
        .id
        .clone();
    store.delete_sheet(&id);
    Ok(Reply::Empty)
}

fn schema_add_fields(store: &mut Store, call: &mut Call<'_>) -> Outcome {
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

fn schema_delete_fields(store: &mut Store, call: &mut Call<'_>) -> Outcome {
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

fn schema_get(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let sheet = find(&store.sheets, call.org, call.path("sheet_id"), "sheet")?;
    conform::<types::SchemaGetResponse>(sheet.schema()).map(Reply::Json)
}

fn schema_get_default() -> Outcome {
    let mut schemas = Map::new();
    for ty in data::DEFAULT_SCHEMA_TYPES {
        schemas.insert(ty.into(), data::sheet_schema(ty, &[]));
    }
    conform::<types::SchemaGetDefaultResponse>(json!({"schemas": schemas})).map(Reply::Json)
}

fn schema_field_definitions() -> Outcome {
    conform::<types::SchemaGetFieldDefinitionsResponse>(
        json!({"fields": data::field_definitions()}),
    )
    .map(Reply::Json)
}

// ---------------------------------------------------------------------------
// Entities

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

fn entity_retrieve(store: &mut Store, call: &mut Call<'_>) -> Outcome {
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

fn entity_update(store: &mut Store, call: &mut Call<'_>) -> Outcome {
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

fn entity_list(store: &mut Store, call: &mut Call<'_>) -> Outcome {
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

fn entity_delete(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let id = find(&store.entities, call.org, call.path("entity_id"), "entity")?
        .id
        .clone();
    store.entities.remove(&id);
    Ok(Reply::Empty)
}

fn entity_bulk_update_status(store: &mut Store, call: &mut Call<'_>) -> Outcome {
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

fn entity_get_counts(store: &mut Store, call: &mut Call<'_>) -> Outcome {
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

fn entity_search(store: &mut Store, call: &mut Call<'_>) -> Outcome {
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

fn entity_export(store: &mut Store, call: &mut Call<'_>) -> Outcome {
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

// ---------------------------------------------------------------------------
// Tasks and execution

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

fn task_create(store: &mut Store, call: &mut Call<'_>) -> Outcome {
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

fn task_retrieve(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    json(&task_view(find(
        &store.tasks,
        call.org,
        call.path("task_id"),
        "task",
    )?)?)
}

fn task_update(store: &mut Store, call: &mut Call<'_>) -> Outcome {
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

fn task_list(store: &mut Store, call: &mut Call<'_>) -> Outcome {
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

fn task_delete(store: &mut Store, call: &mut Call<'_>) -> Outcome {
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

/// Creates a run starting now with these steps; a run fault armed on the
/// server makes it stop halfway.
#[allow(clippy::too_many_arguments, reason = "the fields of a new run")]
fn start_run(
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

fn task_execute(store: &mut Store, call: &mut Call<'_>) -> Outcome {
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

// ---------------------------------------------------------------------------
// Runs

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

fn run_create(store: &mut Store, call: &mut Call<'_>) -> Outcome {
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

fn run_retrieve(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let run = find(&store.runs, call.org, call.path("run_id"), "run")?;
    Ok(Reply::Json(Value::Object(run_view(run, call.now))))
}

fn parse_time(call: &Call<'_>, key: &str) -> Option<Time> {
    call.q_str(key)
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
}

fn run_list(store: &mut Store, call: &mut Call<'_>) -> Outcome {
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

fn run_delete(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let id = find(&store.runs, call.org, call.path("run_id"), "run")?
        .id
        .clone();
    store.runs.remove(&id);
    Ok(Reply::Empty)
}

fn run_cancel(store: &mut Store, call: &mut Call<'_>) -> Outcome {
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

fn run_get_queue(store: &mut Store, call: &mut Call<'_>) -> Outcome {
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

// ---------------------------------------------------------------------------
// Signals

fn signal_view(s: &store::Signal) -> types::SignalResponse {
    built!(types::SignalResponse {
        id: s.id.clone(),
        icp_id: s.icp_id.clone(),
        entity_ids: s.entity_ids.clone(),
        signal_type: Some(s.signal_type.clone()),
        signal_display_name: Some(s.display.clone()),
        summary: s.summary.clone(),
        strength: Some(s.strength.clone()),
        score: Some(s.score),
        references: s.references.clone(),
        metadata: Some(s.metadata.clone()),
        created_at: s.created_at,
    })
}

fn signal_retrieve(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    json(&signal_view(find(
        &store.signals,
        call.org,
        call.path("signal_id"),
        "signal",
    )?))
}

fn signal_list(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let external: Option<Vec<String>> = call.q_str("external_id").map(|id| {
        let source = call.q_str("external_source").unwrap_or("salesforce");
        store
            .entities
            .values()
            .filter(|e| e.org == call.org && e.external_id.as_deref() == Some(id))
            .filter(|e| e.external_source.as_deref().unwrap_or("salesforce") == source)
            .map(|e| e.id.clone())
            .collect()
    });
    let since = call
        .q_int("days")
        .map(|d| call.now - chrono::Duration::days(d));
    let term = call.q_str("search_term").map(str::to_lowercase);
    let items: Vec<&store::Signal> = store
        .signals
        .values()
        .filter(|s| s.org == call.org)
        .filter(|s| call.q_str("icp_id").is_none_or(|i| s.icp_id == i))
        .filter(|s| {
            call.q_str("entity_id")
                .is_none_or(|e| s.entity_ids.iter().any(|x| x == e))
        })
        .filter(|s| {
            external
                .as_ref()
                .is_none_or(|ids| s.entity_ids.iter().any(|x| ids.contains(x)))
        })
        .filter(|s| call.q_str("signal_type").is_none_or(|t| s.signal_type == t))
        .filter(|s| call.q_str("strength").is_none_or(|t| s.strength == t))
        .filter(|s| {
            term.as_ref().is_none_or(|t| {
                s.summary.to_lowercase().contains(t.as_str())
                    || s.signal_type.to_lowercase().contains(t.as_str())
            })
        })
        .filter(|s| since.is_none_or(|t| s.created_at >= t))
        .collect();
    let (page_items, total, page, size) = sort_and_page(
        items,
        call,
        &[
            ("created_at", |s, _| Key::Time(s.created_at)),
            ("updated_at", |s, _| Key::Time(s.created_at)),
            ("signal_type", |s, _| Key::Text(s.signal_type.clone())),
            ("strength", |s, _| Key::Text(s.strength.clone())),
            ("score", |s, _| Key::Num(s.score)),
        ],
        |s| s.id.as_str(),
    )?;
    json(&built!(types::SignalListResponse {
        signals: page_items.into_iter().map(signal_view).collect::<Vec<_>>(),
        page,
        page_size: size,
        total,
    }))
}

// ---------------------------------------------------------------------------
// Schedules

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

fn schedule_create(store: &mut Store, call: &mut Call<'_>) -> Outcome {
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

fn schedule_retrieve(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    json(&schedule_view(find(
        &store.schedules,
        call.org,
        call.path("schedule_id"),
        "schedule",
    )?))
}

fn schedule_update(store: &mut Store, call: &mut Call<'_>) -> Outcome {
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

fn schedule_list(store: &mut Store, call: &mut Call<'_>) -> Outcome {
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

fn schedule_delete(store: &mut Store, call: &mut Call<'_>) -> Outcome {
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

// ---------------------------------------------------------------------------
// Files

fn processing_status(file: &File, now: Time) -> types::CsvProcessingStatus {
    match file.status_at(now) {
        "pending" => types::CsvProcessingStatus::Pending,
        "processing" => types::CsvProcessingStatus::Processing,
        "failed" => types::CsvProcessingStatus::Failed,
        _ => types::CsvProcessingStatus::Completed,
    }
}

fn s3_uri(file: &File) -> String {
    format!("s3://linkt-mock/org-{}/{}/{}", file.org, file.id, file.name)
}

fn files_upload(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let Some(upload) = call.upload.take() else {
        return Err(Failure::Invalid(vec![Issue::new(
            &["body".into(), "file".into()],
            "missing",
            "Field required",
            &Value::Null,
            None,
        )]));
    };
    let lower = upload.file_name.to_lowercase();
    let is_excel = lower.ends_with(".xlsx")
        || lower.ends_with(".xls")
        || upload
            .content_type
            .as_deref()
            .is_some_and(|c| c.contains("spreadsheet") || c.contains("ms-excel"));
    let (parsed, original_file_type) = if is_excel {
        let kind = if lower.ends_with(".xls") {
            "xls"
        } else {
            "xlsx"
        };
        (
            Parsed::Failed("linkt-mock cannot convert Excel workbooks; upload a CSV file".into()),
            Some(kind.to_owned()),
        )
    } else {
        match data::parse_csv(&upload.bytes) {
            Ok(csv) => (Parsed::Csv(csv), None),
            Err(reason) => (Parsed::Failed(reason), None),
        }
    };
    let timing = &call.settings.timing;
    let processing_at = store::add(call.now, timing.file_pending);
    let id = store.new_id(call.now);
    let file = File {
        org: call.org,
        id: id.clone(),
        name: upload.file_name,
        content_type: if is_excel {
            "text/csv".into()
        } else {
            upload.content_type.unwrap_or_else(|| "text/csv".into())
        },
        size: upload.bytes.len() as u64,
        original_file_type,
        parsed,
        processing_at,
        done_at: store::add(processing_at, timing.file_processing),
    };
    let view = built!(types::FileUploadResponse {
        file_id: file.id.clone(),
        name: file.name.clone(),
        s3_uri: s3_uri(&file),
        content_type: file.content_type.clone(),
        size_bytes: i64::try_from(file.size).unwrap_or(i64::MAX),
        csv_metadata: file.metadata_at(call.now),
        processing_status: processing_status(&file, call.now),
        original_file_type: file.original_file_type.clone(),
    });
    store.files.insert(id, file);
    json(&view)
}

fn files_retrieve(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let file = find(&store.files, call.org, call.path("file_id"), "file")?;
    json(&built!(types::FileRetrieveResponse {
        file_id: file.id.clone(),
        name: file.name.clone(),
        s3_uri: s3_uri(file),
        content_type: file.content_type.clone(),
        size_bytes: i64::try_from(file.size).unwrap_or(i64::MAX),
        csv_metadata: file.metadata_at(call.now),
        processing_status: Some(processing_status(file, call.now)),
        original_file_type: file.original_file_type.clone(),
    }))
}

fn files_list(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let items: Vec<&File> = store.files.values().filter(|f| f.org == call.org).collect();
    let (page_items, total, page, size) = sort_and_page(items, call, &[], |f| f.id.as_str())?;
    json(&built!(types::FileListResponse {
        files: page_items
            .into_iter()
            .map(|f| built!(types::FileSummary {
                file_id: f.id.clone(),
                name: f.name.clone(),
                size_bytes: i64::try_from(f.size).unwrap_or(i64::MAX),
            }))
            .collect::<Vec<_>>(),
        page,
        page_size: size,
        total,
    }))
}
