//! What each of the 46 operations does, given a request that already passed
//! authentication, rate limiting and schema validation.
//!
//! Every handler is a synchronous function of the store, the caller's
//! organization, the simulated time and the validated input; it returns a
//! [`Reply`] or a [`Failure`] carrying the status and FastAPI `detail`.
//! Response bodies are built from (or checked against) the generated
//! `linkt::types`, so the real client can always decode them.
//!
//! This module holds what every handler shares: the validated request
//! ([`Call`]) and its accessors, replies and failures, the routing table from
//! operation name to handler ([`handle`]), lookups scoped to the caller's
//! organization, and sorting and pagination. The handlers live in a module
//! per resource, named after it: `icps`, `sheets`, `schema` (a sheet's schema
//! and custom fields), `entities`, `tasks` (task execution too), `runs`,
//! `signals`, `schedules` and `files`.
//!
//! What does not belong here: HTTP plumbing, authentication, rate limits,
//! fault injection (see `server.rs`) and validation (see `spec.rs`).

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::faults::Faults;
use crate::spec::Issue;
use crate::store::{self, Entity, File, Icp, Run, Schedule, Sheet, Store, Task, Time, Timing};

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

// The handler modules come after `built!`, which they use.
mod entities;
mod files;
mod icps;
mod runs;
mod schedules;
mod schema;
mod sheets;
mod signals;
mod tasks;

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
        "icp_create" => icps::icp_create(store, call),
        "icp_retrieve" => icps::icp_retrieve(store, call),
        "icp_update" => icps::icp_update(store, call),
        "icp_list" => icps::icp_list(store, call),
        "icp_delete" => icps::icp_delete(store, call),
        "icp_get_active_runs" => icps::icp_get_active_runs(store, call),
        "sheet_create" => sheets::sheet_create(store, call),
        "sheet_retrieve" => sheets::sheet_retrieve(store, call),
        "sheet_update" => sheets::sheet_update(store, call),
        "sheet_list" => sheets::sheet_list(store, call),
        "sheet_delete" => sheets::sheet_delete(store, call),
        "sheet_schema_add_fields" => schema::schema_add_fields(store, call),
        "sheet_schema_delete_fields" => schema::schema_delete_fields(store, call),
        "sheet_schema_get" => schema::schema_get(store, call),
        "sheet_schema_get_default" => schema::schema_get_default(),
        "sheet_schema_get_field_definitions" => schema::schema_field_definitions(),
        "entity_retrieve" => entities::entity_retrieve(store, call),
        "entity_update" => entities::entity_update(store, call),
        "entity_list" => entities::entity_list(store, call),
        "entity_delete" => entities::entity_delete(store, call),
        "entity_bulk_update_status" => entities::entity_bulk_update_status(store, call),
        "entity_export" => entities::entity_export(store, call),
        "entity_get_counts" => entities::entity_get_counts(store, call),
        "entity_search" => entities::entity_search(store, call),
        "task_create" => tasks::task_create(store, call),
        "task_retrieve" => tasks::task_retrieve(store, call),
        "task_update" => tasks::task_update(store, call),
        "task_list" => tasks::task_list(store, call),
        "task_delete" => tasks::task_delete(store, call),
        "task_execute" => tasks::task_execute(store, call),
        "signal_retrieve" => signals::signal_retrieve(store, call),
        "signal_list" => signals::signal_list(store, call),
        "run_create" => runs::run_create(store, call),
        "run_retrieve" => runs::run_retrieve(store, call),
        "run_list" => runs::run_list(store, call),
        "run_delete" => runs::run_delete(store, call),
        "run_cancel" => runs::run_cancel(store, call),
        "run_get_queue" => runs::run_get_queue(store, call),
        "schedule_create" => schedules::schedule_create(store, call),
        "schedule_retrieve" => schedules::schedule_retrieve(store, call),
        "schedule_update" => schedules::schedule_update(store, call),
        "schedule_list" => schedules::schedule_list(store, call),
        "schedule_delete" => schedules::schedule_delete(store, call),
        "files_retrieve" => files::files_retrieve(store, call),
        "files_list" => files::files_list(store, call),
        "files_upload" => files::files_upload(store, call),
        other => Err(Failure::Message(
            501,
            format!("operation `{other}` is not implemented"),
        )),
    }
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
