//! The tours: which calls are made, in which order, with which ids.
//!
//! **Read-only tour** (every `GET` operation of the client, nothing else):
//! 1. each paged list, first page (`page=1`, `page_size` of the tour), its
//!    first item's id kept for the retrieve below its path (the list
//!    `/v1/icp` gives the `icp_id` of `/v1/icp/{icp_id}`);
//! 2. each list again with the id filters the spec documents for it and
//!    the tour has ids for (`/v1/sheet?icp_id=…`; `entity_ids` gets the one
//!    `entity_id` found), and once each the unpaged reads (counts, the
//!    export, of that one entity, the default schema and field
//!    definitions);
//! 3. each operation with path parameters, with the ids found; one without
//!    an id to use is skipped, and the report says why.
//!
//! **Write tour** (opt in): an ICP, a company sheet, a custom field, a
//! search task and a weekly schedule are created, read, updated (the field
//! added then removed), then deleted newest first. Nothing that starts a
//! run or spends credits is called. A failing step stops the steps that
//! follow, and what was created is deleted still; what could not be
//! deleted is an error of the report.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use linkt_auth::{Config, Environment};
use linkt_backoff::Plan;
use serde_json::{Value, json};

use crate::Error;
use crate::check::{Checker, Coverage, Seen};
use crate::http::{Http, Observed, Sleep, tokio_sleep};
use crate::report::{Call, Finding, NeverSent, Problem, Report, excerpt};

/// The most requests the read-only tour sends (a `429` retried counts
/// twice). Today's spec needs 30: 9 first pages, 6 lists filtered by the
/// ids found, 4 unpaged reads, 11 operations on one item.
pub const MAX_READ_CALLS: usize = 48;

/// The most requests the write tour sends, its clean-up included. Today it
/// sends 19: four resources created, read, updated and deleted, and a
/// custom field added, read and removed.
pub const MAX_WRITE_CALLS: usize = 32;

/// The page size of the lists (1–100).
pub const DEFAULT_PAGE_SIZE: u32 = 5;

/// What the names of the write tour's resources start with, so that anyone
/// can tell what left them.
pub const WRITE_TOUR_PREFIX: &str = "linkt-doctor write tour";

/// Configures a [`Tour`].
#[derive(Clone)]
#[must_use]
pub struct TourBuilder {
    plan: Plan,
    write: bool,
    production_writes: bool,
    show_entity_data: bool,
    page_size: u32,
    sleep: Sleep,
}

impl std::fmt::Debug for TourBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TourBuilder")
            .field("plan", &self.plan)
            .field("write", &self.write)
            .field("production_writes", &self.production_writes)
            .field("show_entity_data", &self.show_entity_data)
            .field("page_size", &self.page_size)
            .finish_non_exhaustive()
    }
}

impl Default for TourBuilder {
    fn default() -> Self {
        TourBuilder {
            plan: Plan::Free,
            write: false,
            production_writes: false,
            show_entity_data: false,
            page_size: DEFAULT_PAGE_SIZE,
            sleep: tokio_sleep(),
        }
    }
}

impl TourBuilder {
    /// The plan of the key, which paces the tour (default [`Plan::Free`],
    /// the slowest).
    pub fn plan(mut self, plan: Plan) -> Self {
        self.plan = plan;
        self
    }

    /// Also run the write tour (default off).
    pub fn write(mut self, on: bool) -> Self {
        self.write = on;
        self
    }

    /// Allow the write tour against production (`https://api.linkt.ai`),
    /// where it is refused by default.
    pub fn allow_production_writes(mut self, allow: bool) -> Self {
        self.production_writes = allow;
        self
    }

    /// Show values inside entity `data` in the report (default: redacted,
    /// as they may be personal data).
    pub fn show_entity_data(mut self, show: bool) -> Self {
        self.show_entity_data = show;
        self
    }

    /// The page size of the lists, 1–100 (default [`DEFAULT_PAGE_SIZE`]).
    pub fn page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size;
        self
    }

    /// Replace how the tour waits for the plan and for a `429`'s
    /// `Retry-After` (default `tokio::time::sleep`), e.g. to record the
    /// waits in a test instead of waiting.
    pub fn sleep_with<F, Fut>(mut self, sleep: F) -> Self
    where
        F: Fn(Duration) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.sleep = Arc::new(move |wait| Box::pin(sleep(wait)));
        self
    }

    /// A tour of the server `config` names, with its key.
    ///
    /// # Errors
    ///
    /// [`Error::ProductionWrite`] for a write tour against production
    /// without [`allow_production_writes`](Self::allow_production_writes),
    /// [`Error::PageSize`] for a page size outside 1–100, and
    /// [`Error::Client`] or [`Error::Spec`] when the HTTP client or the
    /// embedded spec cannot be set up.
    pub fn build(self, config: &Config) -> Result<Tour, Error> {
        if !(1..=100).contains(&self.page_size) {
            return Err(Error::PageSize(self.page_size));
        }
        if self.write && !self.production_writes && is_production(config) {
            return Err(Error::ProductionWrite(config.base_url().to_owned()));
        }
        let spec = linkt_mock::spec::Spec::load().map_err(|err| Error::Spec(err.to_string()))?;
        let budget = MAX_READ_CALLS + if self.write { MAX_WRITE_CALLS } else { 0 };
        Ok(Tour {
            http: Http::new(config, self.plan, budget, self.sleep)?,
            checker: Checker::new(spec),
            write: self.write,
            show_entity_data: self.show_entity_data,
            page_size: self.page_size,
        })
    }
}

/// Whether `config` points at production.
fn is_production(config: &Config) -> bool {
    config.environment() == Some(Environment::Production)
        || config.base_url().trim_end_matches('/') == Environment::Production.base_url()
}

/// A tour of a server: see the [module docs](self).
#[derive(Debug)]
pub struct Tour {
    http: Http,
    checker: Checker,
    write: bool,
    show_entity_data: bool,
    page_size: u32,
}

/// A query or path parameter of an operation.
#[derive(Debug, Clone)]
struct Param {
    name: String,
    location: String,
    required: bool,
    schema: Value,
}

/// What one tour has seen so far.
#[derive(Debug, Default)]
struct Log {
    findings: Vec<Finding>,
    /// Index into `findings` by operation, pointer with indices starred,
    /// rule.
    index: HashMap<(String, String, crate::Rule), usize>,
    coverage: Coverage,
    headers: BTreeMap<String, u32>,
    calls: Vec<Call>,
    problems: Vec<Problem>,
    /// The key was refused (`401`): every later call would be too, so none
    /// is made.
    unauthorized: bool,
}

impl Tour {
    /// A builder with the defaults: read-only, Free plan pacing, entity
    /// data redacted, pages of [`DEFAULT_PAGE_SIZE`].
    pub fn builder() -> TourBuilder {
        TourBuilder::default()
    }

    /// Runs the tour (the read-only tour, then the write tour if asked)
    /// and reports what it found. Never fails: what went wrong is in the
    /// report's [`problems`](Report::problems).
    pub async fn run(&self) -> Report {
        let mut log = Log::default();
        self.read_tour(&mut log).await;
        if self.write && !log.unauthorized {
            self.write_tour(&mut log).await;
        }
        let mut findings = log.findings;
        findings.sort_by(|a, b| {
            (b.impact(), &a.operation, &a.pointer, a.rule).cmp(&(
                a.impact(),
                &b.operation,
                &b.pointer,
                b.rule,
            ))
        });
        Report {
            base_url: self.http.base_url().to_owned(),
            write_tour: self.write,
            findings,
            never_sent: log
                .coverage
                .never_sent()
                .into_iter()
                .map(|(schema, property, objects)| NeverSent {
                    schema,
                    property,
                    objects,
                })
                .collect(),
            headers: log.headers,
            calls: log.calls,
            problems: log.problems,
            read_only_operations: read_only_operations()
                .iter()
                .map(|op| op.name.to_owned())
                .collect(),
        }
    }

    /// The plan pacing the tour.
    pub fn plan(&self) -> Plan {
        self.http.plan()
    }

    fn params(&self, operation: &str) -> Vec<Param> {
        self.checker
            .spec()
            .document()
            .get("paths")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|paths| paths.values())
            .filter_map(Value::as_object)
            .flat_map(|item| item.values())
            .find(|op| op.get("x-linkt-name").and_then(Value::as_str) == Some(operation))
            .and_then(|op| op.get("parameters"))
            .and_then(Value::as_array)
            .map(|params| {
                params
                    .iter()
                    .filter_map(|p| {
                        Some(Param {
                            name: p.get("name")?.as_str()?.to_owned(),
                            location: p.get("in")?.as_str()?.to_owned(),
                            required: p.get("required").and_then(Value::as_bool) == Some(true),
                            schema: p.get("schema").cloned().unwrap_or(Value::Null),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    async fn read_tour(&self, log: &mut Log) {
        let reads = read_only_operations();
        let (lists, items): (Vec<&linkt::Operation>, Vec<&linkt::Operation>) =
            reads.iter().copied().partition(|op| !op.path.contains('{'));
        let mut found: BTreeMap<String, String> = BTreeMap::new();

        // 1. First pages; ids for the retrieves below each list's path.
        for op in &lists {
            if log.unauthorized {
                return;
            }
            let params = self.params(op.name);
            if !params.iter().any(|p| p.name == "page") {
                continue;
            }
            let query = self.base_query(&params, &found);
            let Some(value) = self.call(log, op, op.path.to_owned(), &query, None).await else {
                continue;
            };
            if let Some(id_name) = id_below(op.path, &reads)
                && let Some(id) = first_item_id(&value, &id_name)
            {
                found.entry(id_name).or_insert(id);
            }
        }

        // 2. Filters by the ids found, and the unpaged reads.
        for op in &lists {
            if log.unauthorized {
                return;
            }
            let params = self.params(op.name);
            let paged = params.iter().any(|p| p.name == "page");
            let filters: Vec<(String, String)> = params
                .iter()
                .filter(|p| p.location == "query" && !p.required)
                .filter_map(|p| {
                    // `entity_ids` takes the one `entity_id` found: the
                    // export of one entity stays small.
                    let id = found
                        .get(&p.name)
                        .or_else(|| found.get(&format!("{}_id", p.name.strip_suffix("_ids")?)))?;
                    Some((p.name.clone(), id.clone()))
                })
                .collect();
            if paged && filters.is_empty() {
                continue;
            }
            if let Some((_, needed)) = NEEDS.iter().find(|(name, _)| *name == op.name)
                && !found.contains_key(*needed)
            {
                log.problems.push(Problem {
                    operation: op.name.to_owned(),
                    message: format!("no {needed} found: there is nothing to read"),
                    incomplete: false,
                });
                continue;
            }
            let mut query = self.base_query(&params, &found);
            query.extend(filters);
            self.call(log, op, op.path.to_owned(), &query, None).await;
        }

        // 3. Operations on one item.
        for op in &items {
            if log.unauthorized {
                return;
            }
            let params = self.params(op.name);
            let missing: Vec<&str> = params
                .iter()
                .filter(|p| p.location == "path" && !found.contains_key(&p.name))
                .map(|p| p.name.as_str())
                .collect();
            if !missing.is_empty() {
                log.problems.push(Problem {
                    operation: op.name.to_owned(),
                    message: format!(
                        "no {} found (the lists of this account returned none)",
                        missing.join(", ")
                    ),
                    incomplete: false,
                });
                continue;
            }
            // An id the server listed that would change the path (`..`)
            // is refused as the client refuses it, and not sent.
            let Some(path) = filled(log, op, |name| found.get(name).map(String::as_str)) else {
                continue;
            };
            let query = self.base_query(&params, &found);
            self.call(log, op, path, &query, None).await;
        }
    }

    /// Paging and required query parameters: `page=1`, the page size (or
    /// `limit`), an id found for a required id, else the schema's example.
    fn base_query(
        &self,
        params: &[Param],
        found: &BTreeMap<String, String>,
    ) -> Vec<(String, String)> {
        let mut query = Vec::new();
        for p in params.iter().filter(|p| p.location == "query") {
            let value = match p.name.as_str() {
                "page" => Some("1".to_owned()),
                "page_size" | "limit" => Some(self.page_size.to_string()),
                _ if p.required => found
                    .get(&p.name)
                    .cloned()
                    .or_else(|| Some(example_of(&p.schema))),
                _ => None,
            };
            if let Some(value) = value {
                query.push((p.name.clone(), value));
            }
        }
        query
    }

    async fn write_tour(&self, log: &mut Log) {
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let name = format!("{WRITE_TOUR_PREFIX} {stamp}");
        // (delete operation, path) of what was created, oldest first.
        let mut created: Vec<(&'static str, String)> = Vec::new();
        self.write_steps(log, &name, &mut created).await;
        while let Some((operation, path)) = created.pop() {
            let answer = match operation_named(log, operation) {
                Some(op) => self.call_on(log, op, path.clone(), &[], None, false).await,
                None => None,
            };
            if answer.is_none() {
                log.problems.push(Problem {
                    operation: operation.to_owned(),
                    message: format!("left behind: {path} could not be deleted"),
                    incomplete: true,
                });
            }
        }
    }

    /// The write steps; stops at the first that fails.
    async fn write_steps(
        &self,
        log: &mut Log,
        name: &str,
        created: &mut Vec<(&'static str, String)>,
    ) -> Option<()> {
        const NOTE: &str = "Created and deleted by the write tour of linkt-doctor";
        let icp = self
            .crud(
                log,
                &ICP,
                created,
                json!({
                    "name": name,
                    "description": NOTE,
                    "entity_targets": [
                        {"entity_type": "company", "root": true, "description": "Companies"},
                        {"entity_type": "person", "desired_count": 1, "description": "Their CEO"}
                    ]
                }),
            )
            .await?;
        let sheet = self
            .crud(
                log,
                &SHEET,
                created,
                json!({
                    "name": name,
                    "description": NOTE,
                    "icp_id": icp,
                    "entity_type": "company"
                }),
            )
            .await?;
        let schema_op = operation_named(log, "sheet_schema_get")?;
        let schema_path = filled(log, schema_op, |_| Some(sheet.as_str()))?;
        let field = json!({
            "name": "linkt_doctor_check",
            "field_type": "string",
            "description": NOTE
        });
        self.step(
            log,
            "sheet_schema_add_fields",
            &schema_path,
            Some(&json!({"fields": [field]})),
        )
        .await?;
        self.step(log, "sheet_schema_get", &schema_path, None)
            .await?;
        self.step(
            log,
            "sheet_schema_delete_fields",
            &schema_path,
            Some(&json!({
                "fields": ["linkt_doctor_check"]
            })),
        )
        .await?;
        let task = self
            .crud(log, &TASK, created, json!({
                "name": name,
                "description": format!("{NOTE}; never executed"),
                "flow_name": "search",
                "deployment_name": "main",
                "icp_id": icp,
                "task_config": {"type": "search", "desired_contact_count": 1, "user_feedback": ""}
            }))
            .await?;
        self.crud(
            log,
            &SCHEDULE,
            created,
            json!({
                "name": name,
                "task_id": task,
                "icp_id": icp,
                "cron_expression": "0 9 * * 1",
                "parameters": {}
            }),
        )
        .await?;
        Some(())
    }

    /// Creates a resource from `body` (its deletion queued), reads it and
    /// updates it; its id.
    async fn crud(
        &self,
        log: &mut Log,
        resource: &Crud,
        created: &mut Vec<(&'static str, String)>,
        body: Value,
    ) -> Option<String> {
        let value = self
            .step(log, resource.create, resource.collection, Some(&body))
            .await?;
        let Some(id) = value.get("id").and_then(Value::as_str) else {
            log.problems.push(Problem {
                operation: resource.create.to_owned(),
                message: "the response has no `id`: what it created cannot be deleted".into(),
                incomplete: true,
            });
            return None;
        };
        let retrieve = operation_named(log, resource.retrieve)?;
        let path = filled(log, retrieve, |_| Some(id))?;
        created.push((resource.delete, path.clone()));
        self.step(log, resource.retrieve, &path, None).await?;
        let (field, value) = resource.change;
        self.step(log, resource.update, &path, Some(&json!({ field: value })))
            .await?;
        Some(id.to_owned())
    }

    async fn step(
        &self,
        log: &mut Log,
        operation: &'static str,
        path: &str,
        body: Option<&Value>,
    ) -> Option<Value> {
        let op = operation_named(log, operation)?;
        self.call_on(log, op, path.to_owned(), &[], body, true)
            .await
    }

    async fn call(
        &self,
        log: &mut Log,
        op: &linkt::Operation,
        path: String,
        query: &[(String, String)],
        body: Option<&Value>,
    ) -> Option<Value> {
        self.call_on(log, op, path, query, body, true).await
    }

    /// Makes one call, checks and records it. `Some` body (or `Null` for
    /// an empty one) for a success, `None` otherwise (recorded as a
    /// problem).
    async fn call_on(
        &self,
        log: &mut Log,
        op: &linkt::Operation,
        path: String,
        query: &[(String, String)],
        body: Option<&Value>,
        budgeted: bool,
    ) -> Option<Value> {
        if log.unauthorized {
            return None;
        }
        let mut request = format!("{} {path}", op.method);
        for (n, (name, value)) in query.iter().enumerate() {
            request.push(if n == 0 { '?' } else { '&' });
            request.push_str(name);
            request.push('=');
            request.push_str(value);
        }
        let result = self
            .http
            .send(op.method, &path, query, body, budgeted)
            .await;
        let observed = match result {
            Ok(observed) => observed,
            Err(failure) => {
                log.calls.push(Call {
                    operation: op.name.to_owned(),
                    request,
                    status: None,
                    rate_limited: 0,
                });
                log.problems.push(Problem {
                    operation: op.name.to_owned(),
                    message: failure.to_string(),
                    incomplete: true,
                });
                return None;
            }
        };
        log.calls.push(Call {
            operation: op.name.to_owned(),
            request,
            status: Some(observed.status),
            rate_limited: observed.rate_limited,
        });
        for name in observed.headers.keys() {
            let name = name.as_str();
            if ["ratelimit", "rate-limit", "retry-after", "request-id"]
                .iter()
                .any(|part| name.contains(part))
            {
                *log.headers.entry(name.to_owned()).or_default() += 1;
            }
        }
        if !(200..300).contains(&observed.status) {
            let hint = if observed.status == 401 {
                log.unauthorized = true;
                " (the key was refused: the tour stops here)"
            } else {
                ""
            };
            log.problems.push(Problem {
                operation: op.name.to_owned(),
                message: format!(
                    "status {}: {}{hint}",
                    observed.status,
                    self.http.redact(&error_detail(&observed))
                ),
                incomplete: true,
            });
            return None;
        }
        for seen in self.checker.check(op.name, &observed, &mut log.coverage) {
            self.record(log, op.name, observed.status, seen);
        }
        if observed.body.is_empty() {
            return Some(Value::Null);
        }
        Some(serde_json::from_slice(&observed.body).unwrap_or(Value::Null))
    }

    fn record(&self, log: &mut Log, operation: &str, status: u16, seen: Seen) {
        let starred = seen
            .pointer
            .split('/')
            .map(|s| if s.parse::<usize>().is_ok() { "*" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let key = (operation.to_owned(), starred, seen.rule);
        if let Some(&at) = log.index.get(&key) {
            log.findings[at].count += 1;
            return;
        }
        let entity_data = operation.starts_with("entity")
            && seen.pointer.split('/').any(|segment| segment == "data");
        let shown = if entity_data && !self.show_entity_data {
            "(entity data, redacted)".to_owned()
        } else {
            self.http.redact(&excerpt(seen.value.as_ref()))
        };
        log.index.insert(key, log.findings.len());
        log.findings.push(Finding {
            operation: operation.to_owned(),
            status,
            pointer: seen.pointer,
            rule: seen.rule,
            schema: seen.schema,
            expected: seen.expected,
            seen: shown,
            count: 1,
        });
    }
}

/// The operations of one resource the write tour creates, reads, updates
/// (one field, `change`) and deletes.
struct Crud {
    collection: &'static str,
    create: &'static str,
    retrieve: &'static str,
    update: &'static str,
    delete: &'static str,
    change: (&'static str, &'static str),
}

const UPDATED: &str = "Updated by the write tour of linkt-doctor";

/// The `Crud` of the client's `<name>_create`, `<name>_retrieve`,
/// `<name>_update` and `<name>_delete` (a test checks that they exist).
macro_rules! crud {
    ($name:literal, $collection:literal, $change:expr) => {
        Crud {
            collection: $collection,
            create: concat!($name, "_create"),
            retrieve: concat!($name, "_retrieve"),
            update: concat!($name, "_update"),
            delete: concat!($name, "_delete"),
            change: $change,
        }
    };
}

const ICP: Crud = crud!("icp", "/v1/icp", ("description", UPDATED));
const SHEET: Crud = crud!("sheet", "/v1/sheet", ("description", UPDATED));
const TASK: Crud = crud!("task", "/v1/task", ("description", UPDATED));
/// A schedule is paused as soon as it exists.
const SCHEDULE: Crud = crud!("schedule", "/v1/schedule", ("status", "paused"));

/// Reads without path parameters that answer `404` when the account has
/// nothing for them, with the id whose absence says so: an export of no
/// entities is "entities not found".
const NEEDS: &[(&str, &str)] = &[("entity_export", "entity_id")];

/// The client's read-only operations: every `GET`.
pub fn read_only_operations() -> Vec<&'static linkt::Operation> {
    linkt::OPERATIONS
        .iter()
        .filter(|op| op.method == "GET")
        .collect()
}

/// `op`'s path with its parameters from `value_of`, as the client fills
/// it ([`linkt::Operation::path_with`]); a value it refuses (the server
/// listed an id such as `..`) is an error of the tour.
fn filled<'v>(
    log: &mut Log,
    op: &linkt::Operation,
    value_of: impl Fn(&str) -> Option<&'v str>,
) -> Option<String> {
    match op.path_with(value_of) {
        Ok(path) => Some(path),
        Err(err) => {
            log.problems.push(Problem {
                operation: op.name.to_owned(),
                message: format!("not called: {err}"),
                incomplete: true,
            });
            None
        }
    }
}

/// The client's operation `name`; an error of the tour if it has none (a
/// test checks that every name the write tour uses exists).
fn operation_named(log: &mut Log, name: &str) -> Option<&'static linkt::Operation> {
    let found = linkt::OPERATIONS.iter().find(|op| op.name == name);
    if found.is_none() {
        log.problems.push(Problem {
            operation: name.to_owned(),
            message: "the client has no such operation".to_owned(),
            incomplete: true,
        });
    }
    found
}

/// The path parameter of the retrieve right below `list_path`
/// (`/v1/icp` → `icp_id` of `/v1/icp/{icp_id}`).
fn id_below(list_path: &str, reads: &[&linkt::Operation]) -> Option<String> {
    reads.iter().find_map(|op| {
        let rest = op.path.strip_prefix(list_path)?.strip_prefix("/{")?;
        let name = rest.strip_suffix('}')?;
        (!name.contains('/')).then(|| name.to_owned())
    })
}

/// The id of the first object of the first array in a list body: its `id`,
/// or the property named as the path parameter (`file_id`).
fn first_item_id(body: &Value, id_name: &str) -> Option<String> {
    body.as_object()?
        .values()
        .filter_map(Value::as_array)
        .find_map(|items| {
            let first = items.first()?;
            first
                .get("id")
                .or_else(|| first.get(id_name))?
                .as_str()
                .map(str::to_owned)
        })
}

/// A value for a required parameter: the schema's first example or enum
/// value, else `a` (a string) or `1` (a number).
fn example_of(schema: &Value) -> String {
    let first = schema
        .get("examples")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
        .or_else(|| schema.get("example"))
        .or_else(|| {
            schema
                .get("enum")
                .and_then(Value::as_array)
                .and_then(|e| e.first())
        });
    match (first, schema.get("type").and_then(Value::as_str)) {
        (Some(Value::String(s)), _) => s.clone(),
        (Some(other), _) => other.to_string(),
        (None, Some("integer" | "number")) => "1".to_owned(),
        (None, _) => "a".to_owned(),
    }
}

/// The `detail` of an error body, bounded; else the status line's reason.
fn error_detail(observed: &Observed) -> String {
    let detail = serde_json::from_slice::<Value>(&observed.body)
        .ok()
        .and_then(|v| v.get("detail").cloned());
    match detail {
        Some(Value::String(s)) => excerpt(Some(&Value::String(s))),
        Some(other) => excerpt(Some(&other)),
        None => format!("{} bytes, no `detail`", observed.body.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_paged_list_names_the_id_of_the_item_below_it() {
        let reads = read_only_operations();
        let mut pairs: Vec<(&str, String)> = reads
            .iter()
            .filter(|op| !op.path.contains('{'))
            .filter_map(|op| Some((op.name, id_below(op.path, &reads)?)))
            .collect();
        pairs.sort();
        assert_eq!(
            pairs,
            [
                ("entity_list", "entity_id".to_owned()),
                ("files_list", "file_id".to_owned()),
                ("icp_list", "icp_id".to_owned()),
                ("run_list", "run_id".to_owned()),
                ("schedule_list", "schedule_id".to_owned()),
                ("sheet_list", "sheet_id".to_owned()),
                ("signal_list", "signal_id".to_owned()),
                ("task_list", "task_id".to_owned()),
            ]
        );
    }

    #[test]
    fn every_operation_of_the_write_tour_exists_with_its_method() {
        let mut log = Log::default();
        let methods = ["POST", "GET", "PUT|PATCH", "DELETE"];
        for crud in [&ICP, &SHEET, &TASK, &SCHEDULE] {
            let names = [crud.create, crud.retrieve, crud.update, crud.delete];
            for (name, method) in names.iter().zip(methods) {
                let op = operation_named(&mut log, name).expect("exists");
                assert!(
                    method.split('|').any(|m| m == op.method),
                    "{name}: {}",
                    op.method
                );
                assert!(op.path.starts_with(crud.collection), "{name}: {}", op.path);
            }
        }
        for name in [
            "sheet_schema_add_fields",
            "sheet_schema_get",
            "sheet_schema_delete_fields",
        ] {
            assert!(operation_named(&mut log, name).is_some());
        }
        assert_eq!(log.problems, []);
        assert!(operation_named(&mut log, "icp_teleport").is_none());
        assert!(log.problems[0].incomplete);
    }

    #[test]
    fn an_id_that_would_change_the_path_is_not_called() {
        let mut log = Log::default();
        let op = operation_named(&mut log, "icp_retrieve").expect("exists");
        assert_eq!(
            filled(&mut log, op, |_| Some("a/b")).as_deref(),
            Some("/v1/icp/a%2Fb")
        );
        assert_eq!(filled(&mut log, op, |_| Some("%2e%2E")), None);
        assert_eq!(log.problems.len(), 1);
        assert!(log.problems[0].incomplete);
        assert!(
            log.problems[0]
                .message
                .contains("`icp_id` may not be `%2e%2E`"),
            "{:?}",
            log.problems
        );
    }

    #[test]
    fn examples_fill_required_parameters() {
        assert_eq!(
            example_of(&json!({"type": "string", "examples": ["acme"]})),
            "acme"
        );
        assert_eq!(
            example_of(&json!({"type": "string", "enum": ["csv", "json"]})),
            "csv"
        );
        assert_eq!(example_of(&json!({"type": "integer"})), "1");
        assert_eq!(example_of(&json!({"type": "string"})), "a");
    }

    #[test]
    fn the_first_item_of_the_first_list_gives_the_id() {
        let body = json!({"total": 2, "icps": [{"id": "a"}, {"id": "b"}]});
        assert_eq!(first_item_id(&body, "icp_id").as_deref(), Some("a"));
        let files = json!({"files": [{"file_id": "f"}]});
        assert_eq!(first_item_id(&files, "file_id").as_deref(), Some("f"));
        assert_eq!(first_item_id(&json!({"icps": []}), "icp_id"), None);
        assert_eq!(first_item_id(&json!([{"id": "a"}]), "icp_id"), None);
    }

    #[test]
    fn the_write_tour_is_refused_against_production_unless_allowed() {
        let key = linkt_auth::ApiKey::new("sk-doctor-secret").expect("key");
        let production = Config::new(key.clone());
        let err = Tour::builder()
            .write(true)
            .build(&production)
            .expect_err("refused");
        assert!(matches!(err, Error::ProductionWrite(_)), "{err}");
        assert!(err.to_string().contains("api.linkt.ai"), "{err}");
        assert!(!err.to_string().contains("sk-doctor-secret"));
        Tour::builder()
            .write(true)
            .allow_production_writes(true)
            .build(&production)
            .expect("allowed when asked");
        Tour::builder()
            .build(&production)
            .expect("reading is allowed");
        let staging = Config::builder()
            .api_key(key)
            .environment(Environment::Staging)
            .build()
            .expect("staging");
        Tour::builder()
            .write(true)
            .build(&staging)
            .expect("staging");
    }

    #[test]
    fn entity_data_and_the_key_never_reach_the_report() {
        let key = "sk-doctor-secret-1234";
        let config = Config::builder()
            .api_key(linkt_auth::ApiKey::new(key).expect("key"))
            .base_url("http://127.0.0.1:9")
            .allow_insecure_http(true)
            .build()
            .expect("config");
        let seen = |pointer: &str, value: Value| Seen {
            rule: crate::Rule::ResponsePropertyTypeChanged,
            pointer: pointer.to_owned(),
            expected: "Input should be a valid string".to_owned(),
            value: Some(value),
            schema: Some("EntityResponse".to_owned()),
        };
        for (show, want) in [
            (false, "(entity data, redacted)"),
            (true, "\"jane@example.com\""),
        ] {
            let tour = Tour::builder()
                .show_entity_data(show)
                .build(&config)
                .expect("tour");
            let mut log = Log::default();
            tour.record(
                &mut log,
                "entity_retrieve",
                200,
                seen("/data/email", json!("jane@example.com")),
            );
            tour.record(
                &mut log,
                "entity_list",
                200,
                seen("/entities/3/name", json!(format!("echo {key}"))),
            );
            tour.record(
                &mut log,
                "entity_list",
                200,
                seen("/entities/4/name", json!(1)),
            );
            assert_eq!(log.findings[0].seen, want);
            assert_eq!(log.findings[1].seen, "\"echo <redacted>\"");
            // The same place in another element of the list is counted,
            // not listed again.
            assert_eq!((log.findings.len(), log.findings[1].count), (2, 2));
        }
    }

    #[test]
    fn a_page_size_outside_the_api_bounds_is_refused() {
        let config = Config::new(linkt_auth::ApiKey::new("k").expect("key"));
        for bad in [0, 101] {
            let err = Tour::builder()
                .page_size(bad)
                .build(&config)
                .expect_err("bad");
            assert!(matches!(err, Error::PageSize(n) if n == bad), "{err}");
        }
    }
}
