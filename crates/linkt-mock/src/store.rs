//! The in-memory world: every record of every organization, and the run
//! simulation that changes it as simulated time passes.
//!
//! A run is planned completely when it is created: a list of steps, each
//! with the simulated instants it starts and ends at. Its status is a pure
//! function of the time asked about ([`Run::status_at`]); the entities and
//! signals its steps produce are written by [`Store::sync`], which the
//! server calls with the current simulated time before handling every
//! request. So a read always sees the world as of "now", and nothing
//! depends on when (in wall-clock terms) requests arrive.
//!
//! What does not belong here: HTTP, validation, and response shapes.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::data::{self, CustomField, Subject};

/// A simulated instant.
pub(crate) type Time = DateTime<Utc>;

/// How long simulated work takes. All durations are simulated time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// How long a new run stays `SCHEDULED`.
    pub scheduled: Duration,
    /// How long it then stays `PENDING`.
    pub pending: Duration,
    /// How long each queue entry (a company found, a row ingested, a signal
    /// checked) takes while the run is `RUNNING`; entities appear one by
    /// one at this pace.
    pub per_item: Duration,
    /// How long a run stays `RUNNING` after its last item.
    pub finalize: Duration,
    /// How long an uploaded file stays `pending`, then `processing`.
    pub file_pending: Duration,
    /// How long an uploaded file stays `processing` before it is
    /// `completed` (or `failed`).
    pub file_processing: Duration,
}

impl Default for Timing {
    /// 2 s scheduled, 3 s pending, 10 s per item, 2 s to finish; files are
    /// pending 1 s and processing 1 s.
    fn default() -> Self {
        Timing {
            scheduled: Duration::from_secs(2),
            pending: Duration::from_secs(3),
            per_item: Duration::from_secs(10),
            finalize: Duration::from_secs(2),
            file_pending: Duration::from_secs(1),
            file_processing: Duration::from_secs(1),
        }
    }
}

pub(crate) fn add(t: Time, d: Duration) -> Time {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| t.checked_add_signed(d))
        .unwrap_or(t)
}

pub(crate) fn mul(d: Duration, n: usize) -> Duration {
    d.saturating_mul(u32::try_from(n).unwrap_or(u32::MAX))
}

#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub(crate) entity_type: String,
    pub(crate) description: String,
    pub(crate) root: bool,
    pub(crate) desired_count: Option<u64>,
}

#[derive(Clone, Debug)]
pub(crate) struct Icp {
    pub(crate) org: usize,
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) description: String,
    /// `discovery` or `monitoring` (from an undocumented `mode` body key).
    pub(crate) mode: String,
    pub(crate) targets: Vec<Target>,
    pub(crate) created_at: Time,
    pub(crate) updated_at: Time,
}

impl Icp {
    /// The root target: the one marked root, else the first.
    pub(crate) fn root(&self) -> Option<&Target> {
        self.targets
            .iter()
            .find(|t| t.root)
            .or(self.targets.first())
    }

    /// The first target that is not the root.
    pub(crate) fn child(&self) -> Option<&Target> {
        let root = self.root()?;
        self.targets
            .iter()
            .find(|t| !std::ptr::eq(*t, root) && t.entity_type != root.entity_type)
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Sheet {
    pub(crate) org: usize,
    pub(crate) id: String,
    pub(crate) icp_id: String,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) entity_type: String,
    pub(crate) custom: Vec<CustomField>,
    /// Custom fields removed from the schema: their stored values are hidden.
    pub(crate) hidden: Vec<String>,
    /// How many names of this type were handed out in this sheet.
    pub(crate) generated: usize,
    pub(crate) created_at: Time,
    pub(crate) updated_at: Time,
}

impl Sheet {
    pub(crate) fn schema(&self) -> Value {
        data::sheet_schema(&self.entity_type, &self.custom)
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Entity {
    pub(crate) org: usize,
    pub(crate) id: String,
    pub(crate) sheet_id: String,
    pub(crate) icp_id: String,
    pub(crate) entity_type: String,
    pub(crate) parent_id: Option<String>,
    pub(crate) data: Map<String, Value>,
    pub(crate) status: Option<String>,
    pub(crate) comments: Option<String>,
    pub(crate) external_id: Option<String>,
    pub(crate) external_source: Option<String>,
    pub(crate) created_at: Time,
    pub(crate) updated_at: Time,
}

impl Entity {
    /// The entity's name, from `data.name`.
    pub(crate) fn name(&self) -> String {
        self.data.get("name").map(data::cell).unwrap_or_default()
    }

    /// What makes two entities duplicates: same type, same name.
    pub(crate) fn dedup_key(&self) -> (String, String) {
        (self.entity_type.clone(), self.name().trim().to_lowercase())
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Task {
    pub(crate) org: usize,
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) flow_name: String,
    pub(crate) deployment_name: String,
    pub(crate) icp_id: Option<String>,
    pub(crate) prompt: Option<String>,
    /// The stored configuration, in response form (defaults filled, `type` set).
    pub(crate) config: Option<Value>,
    pub(crate) created_at: Time,
    pub(crate) updated_at: Time,
}

impl Task {
    /// The workflow kind: the config's `type`, else derived from `flow_name`.
    pub(crate) fn kind(&self) -> String {
        self.config
            .as_ref()
            .and_then(|c| c.get("type"))
            .and_then(Value::as_str)
            .map_or_else(|| self.flow_name.clone(), str::to_owned)
    }

    /// `task_type` of its runs: `search`, `ingest`, `profile` or `signal`.
    pub(crate) fn task_type(&self) -> String {
        let kind = self.kind();
        match kind.as_str() {
            k if k.starts_with("signal") => "signal".into(),
            k if k.starts_with("ingest") => "ingest".into(),
            _ => kind,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Schedule {
    pub(crate) org: usize,
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) task_id: String,
    pub(crate) icp_id: String,
    pub(crate) cron: String,
    pub(crate) status: String,
    pub(crate) parameters: Map<String, Value>,
    pub(crate) created_at: Time,
    pub(crate) updated_at: Time,
}

#[derive(Clone, Debug)]
pub(crate) enum Parsed {
    Csv(data::Csv),
    Failed(String),
}

#[derive(Clone, Debug)]
pub(crate) struct File {
    pub(crate) org: usize,
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) content_type: String,
    pub(crate) size: u64,
    pub(crate) original_file_type: Option<String>,
    pub(crate) parsed: Parsed,
    pub(crate) processing_at: Time,
    pub(crate) done_at: Time,
}

impl File {
    /// `pending`, `processing`, `completed` or `failed` at `now`.
    pub(crate) fn status_at(&self, now: Time) -> &'static str {
        if now < self.processing_at {
            "pending"
        } else if now < self.done_at {
            "processing"
        } else if matches!(self.parsed, Parsed::Failed(_)) {
            "failed"
        } else {
            "completed"
        }
    }

    /// `csv_metadata` once processing is over.
    pub(crate) fn metadata_at(&self, now: Time) -> Map<String, Value> {
        if now < self.done_at {
            return Map::new();
        }
        match &self.parsed {
            Parsed::Csv(csv) => {
                let preview: Vec<Value> = csv
                    .rows
                    .iter()
                    .take(5)
                    .map(|row| {
                        let object: Map<String, Value> = csv
                            .columns
                            .iter()
                            .zip(row.iter().map(String::as_str).chain(std::iter::repeat("")))
                            .map(|(c, v)| (c.clone(), json!(v)))
                            .collect();
                        Value::Object(object)
                    })
                    .collect();
                let mut meta = Map::new();
                meta.insert("row_count".into(), json!(csv.rows.len()));
                meta.insert("columns".into(), json!(csv.columns));
                meta.insert("preview_rows".into(), Value::Array(preview));
                meta.insert("encoding".into(), json!(csv.encoding));
                meta
            }
            Parsed::Failed(reason) => {
                let mut meta = Map::new();
                meta.insert("error".into(), json!(reason));
                meta
            }
        }
    }

    /// The rows as objects keyed by column, if the file parsed.
    pub(crate) fn records(&self) -> Vec<Map<String, Value>> {
        match &self.parsed {
            Parsed::Csv(csv) => csv
                .rows
                .iter()
                .map(|row| {
                    csv.columns
                        .iter()
                        .zip(row.iter().map(String::as_str).chain(std::iter::repeat("")))
                        .map(|(c, v)| (c.clone(), json!(v)))
                        .collect()
                })
                .collect(),
            Parsed::Failed(_) => Vec::new(),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Signal {
    pub(crate) org: usize,
    pub(crate) id: String,
    pub(crate) icp_id: String,
    pub(crate) entity_ids: Vec<String>,
    pub(crate) signal_type: String,
    pub(crate) display: String,
    pub(crate) summary: String,
    pub(crate) strength: String,
    pub(crate) score: f64,
    pub(crate) references: Vec<String>,
    pub(crate) metadata: Map<String, Value>,
    pub(crate) created_at: Time,
}

/// Who a signal step is about.
#[derive(Clone, Debug)]
pub(crate) enum SignalSubject {
    /// An existing entity.
    Existing(String),
    /// A new entity, created in this sheet if there is one.
    Create {
        sheet_id: Option<String>,
        entity_type: String,
        row: Map<String, Value>,
    },
}

/// What a step does when it completes.
#[derive(Clone, Debug)]
pub(crate) enum Action {
    /// A root entity found by a search, with `children` per parent.
    Root {
        sheet_id: String,
        entity_type: String,
        index: usize,
        children: Option<(String, String, u64)>,
    },
    /// An entity from a CSV row.
    Row {
        sheet_id: String,
        entity_type: String,
        row: Map<String, Value>,
    },
    /// A candidate rejected with a reason.
    Discard(String),
    /// An enrichment pass over an existing entity.
    Profile(String),
    /// A detected signal.
    Signal {
        subject: SignalSubject,
        signal_type: String,
        display: String,
        ordinal: usize,
    },
}

#[derive(Clone, Debug)]
pub(crate) struct Step {
    pub(crate) name: String,
    pub(crate) start: Time,
    pub(crate) end: Time,
    pub(crate) action: Action,
}

#[derive(Clone, Debug)]
pub(crate) struct Stop {
    pub(crate) at: Time,
    pub(crate) status: &'static str,
    pub(crate) error: Option<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct Run {
    pub(crate) org: usize,
    pub(crate) id: String,
    pub(crate) task_id: Option<String>,
    pub(crate) icp_id: Option<String>,
    pub(crate) task_type: Option<String>,
    pub(crate) agent_id: Option<String>,
    pub(crate) agent_type: String,
    pub(crate) flow_run_id: String,
    pub(crate) parameters: Map<String, Value>,
    pub(crate) created_at: Time,
    pub(crate) pending_at: Time,
    pub(crate) running_at: Time,
    pub(crate) done_at: Time,
    pub(crate) steps: Vec<Step>,
    pub(crate) cursor: usize,
    pub(crate) stop: Option<Stop>,
    pub(crate) step_entities: Vec<Option<String>>,
    pub(crate) entities_created: Vec<String>,
    pub(crate) entities_updated: Vec<String>,
    pub(crate) signals_created: Vec<String>,
}

/// One queue entry of a run at some instant.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct QueueEntry {
    /// `queued`, `processing`, `completed` or `discarded`.
    pub(crate) state: &'static str,
    /// Every state so far, with when it was entered.
    pub(crate) history: Vec<(&'static str, Time)>,
    /// Why the entry was discarded.
    pub(crate) reason: Option<String>,
}

/// Terminal run statuses.
pub(crate) fn is_terminal(status: &str) -> bool {
    matches!(status, "COMPLETED" | "FAILED" | "CANCELED" | "CRASHED")
}

impl Run {
    pub(crate) fn status_at(&self, now: Time) -> &'static str {
        if let Some(stop) = &self.stop
            && now >= stop.at
        {
            return stop.status;
        }
        if now < self.pending_at {
            "SCHEDULED"
        } else if now < self.running_at {
            "PENDING"
        } else if now < self.done_at {
            "RUNNING"
        } else {
            "COMPLETED"
        }
    }

    /// The last state change at or before `now`.
    pub(crate) fn updated_at(&self, now: Time) -> Time {
        let mut instants = vec![
            self.created_at,
            self.pending_at,
            self.running_at,
            self.done_at,
        ];
        instants.extend(self.steps.iter().map(|s| s.end));
        let limit = self.stop.as_ref().map_or(now, |s| s.at.min(now));
        if let Some(stop) = &self.stop
            && stop.at <= now
        {
            instants.push(stop.at);
        }
        instants
            .into_iter()
            .filter(|t| *t <= limit)
            .max()
            .unwrap_or(self.created_at)
    }

    /// State of queue entry `index` at `now`, with its history; `None`
    /// before the entry is queued.
    pub(crate) fn entry_at(&self, index: usize, now: Time) -> Option<QueueEntry> {
        let step = self.steps.get(index)?;
        let queued_at = self.running_at;
        let stop = self.stop.as_ref().filter(|s| s.at < step.end);
        if now < queued_at || stop.is_some_and(|s| s.at < queued_at) {
            return None;
        }
        let mut history = vec![("queued", queued_at)];
        if let Some(stop) = stop {
            if step.start <= stop.at {
                history.push(("processing", step.start));
            }
            if now >= stop.at {
                history.retain(|(_, t)| *t <= now);
                history.push(("discarded", stop.at));
                let reason = match stop.status {
                    "CANCELED" => "run canceled",
                    _ => "run failed",
                };
                return Some(QueueEntry {
                    state: "discarded",
                    history,
                    reason: Some(reason.into()),
                });
            }
        } else {
            history.push(("processing", step.start));
            let final_state = if matches!(step.action, Action::Discard(_)) {
                "discarded"
            } else {
                "completed"
            };
            history.push((final_state, step.end));
        }
        history.retain(|(_, t)| *t <= now);
        let (state, _) = *history.last()?;
        let reason = match (&step.action, state) {
            (Action::Discard(reason), "discarded") => Some(reason.clone()),
            _ => None,
        };
        Some(QueueEntry {
            state,
            history,
            reason,
        })
    }
}

/// Every record of every organization.
#[derive(Debug, Default)]
pub(crate) struct Store {
    seq: u64,
    pub(crate) icps: BTreeMap<String, Icp>,
    pub(crate) sheets: BTreeMap<String, Sheet>,
    pub(crate) entities: BTreeMap<String, Entity>,
    pub(crate) tasks: BTreeMap<String, Task>,
    pub(crate) runs: BTreeMap<String, Run>,
    pub(crate) schedules: BTreeMap<String, Schedule>,
    pub(crate) files: BTreeMap<String, File>,
    pub(crate) signals: BTreeMap<String, Signal>,
}

impl Store {
    /// A new ObjectId-shaped id: creation seconds, then a sequence number,
    /// so ids sort in creation order.
    pub(crate) fn new_id(&mut self, now: Time) -> String {
        self.seq += 1;
        let secs = u32::try_from(now.timestamp().max(0)).unwrap_or(u32::MAX);
        format!("{secs:08x}{:016x}", self.seq)
    }

    /// A UUID-shaped id for Prefect flow runs.
    pub(crate) fn new_uuid(&mut self) -> String {
        self.seq += 1;
        let n = self.seq;
        format!("6c1b7a3e-0000-4000-8000-{n:012x}")
    }

    /// Writes everything every run produced up to `now`, in time order.
    pub(crate) fn sync(&mut self, now: Time) {
        let mut due: Vec<(Time, String, usize)> = Vec::new();
        for run in self.runs.values() {
            let limit = run.stop.as_ref().map_or(now, |s| s.at.min(now));
            for (i, step) in run.steps.iter().enumerate().skip(run.cursor) {
                if step.end > limit {
                    break;
                }
                due.push((step.end, run.id.clone(), i));
            }
        }
        due.sort();
        for (_, run_id, index) in due {
            self.apply(&run_id, index);
            if let Some(run) = self.runs.get_mut(&run_id) {
                run.cursor = index + 1;
            }
        }
    }

    fn apply(&mut self, run_id: &str, index: usize) {
        let Some(run) = self.runs.get(run_id) else {
            return;
        };
        let step = run.steps[index].clone();
        let (org, icp_id) = (run.org, run.icp_id.clone().unwrap_or_default());
        let at = step.end;
        let mut created = Vec::new();
        let mut updated = Vec::new();
        let mut signals = Vec::new();
        let mut main_entity = None;
        match &step.action {
            Action::Root {
                sheet_id,
                entity_type,
                index: name_index,
                children,
            } => {
                let Some(id) = self.create_entity(
                    at,
                    sheet_id,
                    entity_type,
                    &step.name,
                    *name_index,
                    None,
                    Map::new(),
                ) else {
                    return;
                };
                created.push(id.clone());
                if let Some((child_sheet, child_type, count)) = children {
                    for _ in 0..*count {
                        let Some(sheet) = self.sheets.get_mut(child_sheet) else {
                            break;
                        };
                        let child_index = sheet.generated;
                        sheet.generated += 1;
                        let name = data::generated_name(child_type, child_index);
                        let parent = Some((id.clone(), step.name.clone()));
                        if let Some(child) = self.create_entity(
                            at,
                            child_sheet,
                            child_type,
                            &name,
                            child_index,
                            parent,
                            Map::new(),
                        ) {
                            created.push(child);
                        }
                    }
                }
                main_entity = Some(id);
            }
            Action::Row {
                sheet_id,
                entity_type,
                row,
            } => {
                let index = self.sheets.get(sheet_id).map_or(0, |s| s.generated);
                if let Some(sheet) = self.sheets.get_mut(sheet_id) {
                    sheet.generated += 1;
                }
                if let Some(id) = self.create_entity(
                    at,
                    sheet_id,
                    entity_type,
                    &step.name,
                    index,
                    None,
                    row.clone(),
                ) {
                    created.push(id.clone());
                    main_entity = Some(id);
                }
            }
            Action::Discard(_) => {}
            Action::Profile(entity_id) => {
                if self.enrich_entity(entity_id, at) {
                    updated.push(entity_id.clone());
                }
                main_entity = Some(entity_id.clone());
            }
            Action::Signal {
                subject,
                signal_type,
                display,
                ordinal,
            } => {
                let entity_id = match subject {
                    SignalSubject::Existing(id) => {
                        self.entities.contains_key(id).then(|| id.clone())
                    }
                    SignalSubject::Create {
                        sheet_id: Some(sheet_id),
                        entity_type,
                        row,
                    } => {
                        let index = self.sheets.get(sheet_id).map_or(0, |s| s.generated);
                        if let Some(sheet) = self.sheets.get_mut(sheet_id) {
                            sheet.generated += 1;
                        }
                        let id = self.create_entity(
                            at,
                            sheet_id,
                            entity_type,
                            &step.name,
                            index,
                            None,
                            row.clone(),
                        );
                        created.extend(id.clone());
                        id
                    }
                    SignalSubject::Create { sheet_id: None, .. } => None,
                };
                let id = self.new_id(at);
                let strengths = [("strong", 0.9), ("moderate", 0.6), ("weak", 0.3)];
                let (strength, score) = strengths[ordinal % strengths.len()];
                let run = self.runs.get(run_id);
                let mut metadata = Map::new();
                metadata.insert("run_id".into(), json!(run_id));
                if let Some(task_id) = run.and_then(|r| r.task_id.clone()) {
                    metadata.insert("task_id".into(), json!(task_id));
                }
                self.signals.insert(
                    id.clone(),
                    Signal {
                        org,
                        id: id.clone(),
                        icp_id: icp_id.clone(),
                        entity_ids: entity_id.iter().cloned().collect(),
                        signal_type: signal_type.clone(),
                        display: display.clone(),
                        summary: format!("{}: {} detected", step.name, display),
                        strength: strength.into(),
                        score,
                        references: vec![format!("https://news.example.com/signals/{id}")],
                        metadata,
                        created_at: at,
                    },
                );
                signals.push(id);
                main_entity = entity_id;
            }
        }
        if let Some(run) = self.runs.get_mut(run_id) {
            run.step_entities[index] = main_entity;
            run.entities_created.extend(created);
            run.entities_updated.extend(updated);
            run.signals_created.extend(signals);
        }
    }

    /// Creates a generated entity in a sheet; `None` if the sheet is gone.
    #[allow(clippy::too_many_arguments, reason = "one internal constructor")]
    fn create_entity(
        &mut self,
        at: Time,
        sheet_id: &str,
        entity_type: &str,
        name: &str,
        index: usize,
        parent: Option<(String, String)>,
        row: Map<String, Value>,
    ) -> Option<String> {
        let sheet = self.sheets.get(sheet_id)?;
        let (org, icp_id, custom) = (sheet.org, sheet.icp_id.clone(), sheet.custom.clone());
        let subject = Subject {
            entity_type,
            name,
            index,
            parent: parent.as_ref().map(|(_, n)| n.as_str()),
        };
        let mut data = data::entity_data(&subject, &custom, at);
        let source = format!("https://{}.example.com/about", data::slug(name));
        let mut external_id = None;
        let mut external_source = None;
        for (column, value) in row {
            let text = data::cell(&value);
            match column.as_str() {
                "external_id" if !text.is_empty() => external_id = Some(text),
                "external_source" if !text.is_empty() => external_source = Some(text),
                _ if text.is_empty() => {}
                _ => {
                    let key = data::slug(&column).replace('-', "_");
                    let key = if key.is_empty() { column.clone() } else { key };
                    data.insert(key, data::attribute(json!(text), &source, at));
                }
            }
        }
        if let Some(n) = data.get_mut("name") {
            *n = data::attribute(json!(name), &source, at);
        }
        if external_id.is_some() && external_source.is_none() {
            external_source = Some("salesforce".into());
        }
        let id = self.new_id(at);
        self.entities.insert(
            id.clone(),
            Entity {
                org,
                id: id.clone(),
                sheet_id: sheet_id.to_owned(),
                icp_id,
                entity_type: entity_type.to_owned(),
                parent_id: parent.map(|(p, _)| p),
                data,
                status: Some("new".into()),
                comments: None,
                external_id,
                external_source,
                created_at: at,
                updated_at: at,
            },
        );
        Some(id)
    }

    /// Fills missing custom fields of an entity; whether anything changed.
    fn enrich_entity(&mut self, entity_id: &str, at: Time) -> bool {
        let Some(entity) = self.entities.get(entity_id) else {
            return false;
        };
        let Some(sheet) = self.sheets.get(&entity.sheet_id) else {
            return false;
        };
        let custom = sheet.custom.clone();
        let Some(entity) = self.entities.get_mut(entity_id) else {
            return false;
        };
        let name = entity.name();
        let subject = Subject {
            entity_type: &entity.entity_type.clone(),
            name: &name,
            index: 0,
            parent: None,
        };
        let mut changed = data::enrich(&mut entity.data, &subject, &custom, at);
        let summary = format!("{name}: profile written by linkt-mock");
        entity.data.insert(
            "profile".into(),
            data::attribute(json!(summary), "https://linkt-mock.example.com", at),
        );
        changed = changed || entity.data.contains_key("profile");
        entity.updated_at = at;
        changed
    }

    /// Deletes a sheet and its entities.
    pub(crate) fn delete_sheet(&mut self, sheet_id: &str) {
        self.sheets.remove(sheet_id);
        self.entities.retain(|_, e| e.sheet_id != sheet_id);
    }

    /// Deletes an ICP and everything that belongs to it; its active runs
    /// are canceled.
    pub(crate) fn delete_icp(&mut self, icp_id: &str, now: Time) {
        self.icps.remove(icp_id);
        let sheets: Vec<String> = self
            .sheets
            .values()
            .filter(|s| s.icp_id == icp_id)
            .map(|s| s.id.clone())
            .collect();
        for sheet in sheets {
            self.delete_sheet(&sheet);
        }
        self.entities.retain(|_, e| e.icp_id != icp_id);
        self.schedules.retain(|_, s| s.icp_id != icp_id);
        self.tasks
            .retain(|_, t| t.icp_id.as_deref() != Some(icp_id));
        self.signals.retain(|_, s| s.icp_id != icp_id);
        for run in self.runs.values_mut() {
            if run.icp_id.as_deref() == Some(icp_id) && !is_terminal(run.status_at(now)) {
                run.stop = Some(Stop {
                    at: now,
                    status: "CANCELED",
                    error: Some("the ICP was deleted".into()),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2025-01-06T09:00:00Z plus `secs`.
    fn t(secs: i64) -> Time {
        use chrono::TimeZone as _;
        let start = chrono::Utc
            .with_ymd_and_hms(2025, 1, 6, 9, 0, 0)
            .single()
            .expect("a valid instant");
        start + chrono::Duration::seconds(secs)
    }

    fn run(steps: usize, stop: Option<Stop>) -> Run {
        Run {
            org: 0,
            id: "r".into(),
            task_id: None,
            icp_id: None,
            task_type: None,
            agent_id: None,
            agent_type: "task".into(),
            flow_run_id: String::new(),
            parameters: Map::new(),
            created_at: t(0),
            pending_at: t(2),
            running_at: t(5),
            done_at: t(5 + 10 * steps as i64 + 2),
            steps: (0..steps)
                .map(|i| Step {
                    name: format!("s{i}"),
                    start: t(5 + 10 * i as i64),
                    end: t(15 + 10 * i as i64),
                    action: Action::Discard("no".into()),
                })
                .collect(),
            cursor: 0,
            stop,
            step_entities: vec![None; steps],
            entities_created: Vec::new(),
            entities_updated: Vec::new(),
            signals_created: Vec::new(),
        }
    }

    #[test]
    fn status_follows_the_timeline() {
        let r = run(2, None);
        let states: Vec<_> = [0, 1, 2, 4, 5, 20, 26, 27, 1000]
            .iter()
            .map(|s| r.status_at(t(*s)))
            .collect();
        assert_eq!(
            states,
            [
                "SCHEDULED",
                "SCHEDULED",
                "PENDING",
                "PENDING",
                "RUNNING",
                "RUNNING",
                "RUNNING",
                "COMPLETED",
                "COMPLETED"
            ]
        );
        assert_eq!(r.updated_at(t(20)), t(15));
    }

    #[test]
    fn a_stop_wins_from_its_instant_on() {
        let r = run(
            3,
            Some(Stop {
                at: t(20),
                status: "CANCELED",
                error: None,
            }),
        );
        assert_eq!(r.status_at(t(19)), "RUNNING");
        assert_eq!(r.status_at(t(20)), "CANCELED");
        assert_eq!(r.status_at(t(1000)), "CANCELED");
        let first = r.entry_at(0, t(100)).expect("first entry");
        assert_eq!(
            (first.state, first.reason.as_deref()),
            ("discarded", Some("no"))
        );
        let second = r.entry_at(1, t(100)).expect("second entry");
        assert_eq!(
            (second.state, second.reason.as_deref()),
            ("discarded", Some("run canceled"))
        );
        let states: Vec<_> = second.history.iter().map(|(s, _)| *s).collect();
        assert_eq!(states, ["queued", "processing", "discarded"]);
        assert!(r.entry_at(0, t(4)).is_none());
    }

    #[test]
    fn ids_sort_in_creation_order() {
        let mut store = Store::default();
        let a = store.new_id(t(0));
        let b = store.new_id(t(0));
        let c = store.new_id(t(100));
        assert!(a < b && b < c);
        assert_eq!(a.len(), 24);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
