//! `linkt quickstart`: the documented search workflow, end to end.
//!
//! 1. an ICP with a company target (the root) and a person target;
//! 2. a company sheet and a person sheet;
//! 3. custom fields on the company sheet;
//! 4. a search task, executed;
//! 5. waiting for the run, with its progress on stderr;
//! 6. the entities found, on stdout.
//!
//! Steps are reported on stderr, results on stdout, so `linkt quickstart -o
//! json > entities.json` keeps only the entities.

use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use clap::{Arg, ArgMatches, Command};
use futures::TryStreamExt as _;
use linkt::{Client, Paginate as _, RunOutcome, types};
use serde_json::{Value, json};

use crate::output::{Format, print_line};
use crate::progress::{RunProgress, clock};
use crate::render;
use crate::session::Session;

/// The `quickstart` subcommand.
pub(crate) fn command() -> Command {
    Command::new("quickstart")
        .about(
            "Run the quickstart: ICP, sheets, custom fields, a search task, its run, the entities",
        )
        .long_about(
            "Run the documented quickstart end to end: create an ICP (companies and their \
             sales leaders), a company and a person sheet, custom fields, and a search task; \
             execute the task, wait for its run, and print the entities found.\n\n\
             Creates real resources when run against the API. With --mock it runs against an \
             embedded mock server whose simulated clock moves on while the command waits, so \
             it finishes in seconds.",
        )
        .arg(
            Arg::new("results")
                .long("results")
                .value_name("N")
                .value_parser(clap::value_parser!(u64).range(1..=100))
                .default_value("5")
                .help("Number of companies to find"),
        )
        .arg(
            Arg::new("timeout")
                .long("timeout")
                .value_name("SECONDS")
                .value_parser(clap::value_parser!(u64).range(1..))
                .default_value("3600")
                .help("Give up waiting for the run after this long (the run is then cancelled)"),
        )
}

/// Runs the quickstart and prints the entities in `format`.
pub(crate) async fn run(
    session: &Session,
    matches: &ArgMatches,
    format: Format,
) -> anyhow::Result<()> {
    let client = session.client();
    let results = matches.get_one::<u64>("results").copied().unwrap_or(5);
    let timeout = Duration::from_secs(matches.get_one::<u64>("timeout").copied().unwrap_or(3600));
    if session.mock().is_some() {
        step("Using the embedded mock server (simulated time)");
    }

    let icp: types::CreateIcpRequest = typed(json!({
        "name": "Quickstart: B2B SaaS companies",
        "description": "Mid-market B2B SaaS companies and their sales leaders",
        "entity_targets": [
            {
                "entity_type": "company",
                "root": true,
                "description": "## Criteria\n- B2B SaaS companies\n- 100-500 employees\n\
                                - Headquarters in the United States\n\n\
                                ## Enrichment Fields\n- funding_stage: Latest funding stage\n\
                                - tech_stack: Key technologies used"
            },
            {
                "entity_type": "person",
                "root": false,
                "desired_count": 1,
                "description": "## Criteria\n- VP of Sales, CRO or Head of Revenue"
            }
        ]
    }))?;
    let icp = client.icp_create().body(icp).send().await?;
    step(&format!("Created ICP {} ({})", icp.id, icp.name));

    let mut company_sheet = String::new();
    for (entity_type, name) in [("company", "Companies"), ("person", "Sales leaders")] {
        let sheet: types::CreateSheetRequest = typed(json!({
            "name": format!("Quickstart: {name}"),
            "description": format!("{name} found by the quickstart search"),
            "icp_id": icp.id,
            "entity_type": entity_type
        }))?;
        let sheet = client.sheet_create().body(sheet).send().await?;
        let id = sheet.into_inner().id;
        step(&format!("Created {entity_type} sheet {id}"));
        if entity_type == "company" {
            company_sheet = id;
        }
    }

    let fields: types::AddCustomFieldsRequest = typed(json!({
        "fields": [
            {
                "name": "funding_stage",
                "field_type": "enum",
                "description": "Latest funding stage",
                "enum_values": ["seed", "series_a", "series_b", "growth"]
            },
            {
                "name": "tech_stack",
                "field_type": "array",
                "description": "Key technologies used",
                "array_items": { "type": "string" }
            }
        ]
    }))?;
    client
        .sheet_schema_add_fields()
        .sheet_id(company_sheet.as_str())
        .body(fields)
        .send()
        .await?;
    step("Added custom fields funding_stage and tech_stack to the company sheet");

    let task: types::CreateTaskRequest = typed(json!({
        "name": "Quickstart search",
        "description": "Find B2B SaaS companies and one sales leader each",
        "flow_name": "search",
        "deployment_name": "main",
        "icp_id": icp.id,
        "task_config": { "type": "search", "desired_contact_count": 1, "user_feedback": "" }
    }))?;
    let task = client.task_create().body(task).send().await?;
    step(&format!("Created search task {}", task.id));

    let execute: types::ExecuteTaskRequest = typed(json!({
        "icp_id": icp.id,
        "parameters": { "num_results": results }
    }))?;
    step(&format!(
        "Executing the task (looking for {results} companies)"
    ));
    let display = Arc::new(Mutex::new(RunProgress::stderr()));
    let shown = display.clone();
    let outcome = client
        .execute_and_wait(
            client
                .task_execute()
                .task_id(task.id.as_str())
                .body(execute),
        )
        .poll_interval(Duration::from_secs(1))
        .max_poll_interval(Duration::from_secs(10))
        .deadline(timeout)
        .cancel_on_deadline(true)
        .queue_counts(true)
        .on_progress(move |progress| {
            if let Ok(mut display) = shown.lock() {
                display.update(progress);
            }
        })
        .await;
    if let Ok(mut display) = display.lock() {
        display.finish();
    }
    let run = match outcome? {
        RunOutcome::Completed(run) => run,
        RunOutcome::Failed { status, error, run } => anyhow::bail!(
            "run {} ended {status}: {}",
            run.id,
            error.unwrap_or_else(|| "no error message".to_owned())
        ),
        RunOutcome::Cancelled(run) => anyhow::bail!("run {} was cancelled", run.id),
        RunOutcome::TimedOut {
            last_status, run, ..
        } => anyhow::bail!(
            "run {} still {last_status} after {}; it was asked to cancel",
            run.id,
            clock(timeout)
        ),
        other => anyhow::bail!("run ended unexpectedly: {other:?}"),
    };
    step(&format!("Run {} completed", run.id));

    let entities = entities_of(client, &icp.id).await?;
    match format {
        Format::Json => print_line(&serde_json::to_string_pretty(&entities)?),
        Format::Table => print_line(&report(&entities)),
    }
    Ok(())
}

/// A request body from JSON, checked against its type before anything is sent.
fn typed<T: serde::de::DeserializeOwned>(value: Value) -> anyhow::Result<T> {
    serde_json::from_value(value).context("building a request body")
}

fn step(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// Every entity of the ICP, companies first.
async fn entities_of(client: &Client, icp_id: &str) -> anyhow::Result<Vec<types::EntityResponse>> {
    let mut entities: Vec<types::EntityResponse> = client
        .entity_list()
        .icp_id(vec![icp_id.to_owned()])
        .page_size(100)
        .stream()
        .try_collect()
        .await?;
    entities.sort_by_key(|e| e.entity_type != "company");
    Ok(entities)
}

/// The entities as text: each company, then the people found there.
fn report(entities: &[types::EntityResponse]) -> String {
    let attribute =
        |entity: &types::EntityResponse, field: &str| render::cell(entity.data.get(field));
    let companies: Vec<_> = entities.iter().filter(|e| e.parent_id.is_none()).collect();
    let people = entities.len() - companies.len();
    let mut header = vec![format!(
        "Found {} companies and {people} people:",
        companies.len()
    )];
    let columns = ["NAME", "TITLE / WEBSITE", "FUNDING STAGE", "ID"].map(str::to_owned);
    let mut rows = Vec::new();
    for company in &companies {
        rows.push(vec![
            attribute(company, "name"),
            attribute(company, "website"),
            attribute(company, "funding_stage"),
            company.id.clone(),
        ]);
        for person in entities
            .iter()
            .filter(|e| e.parent_id.as_deref() == Some(company.id.as_str()))
        {
            rows.push(vec![
                format!("  {}", attribute(person, "name")),
                attribute(person, "title"),
                String::new(),
                person.id.clone(),
            ]);
        }
    }
    header.push(render::aligned(&columns, &rows));
    header.join("\n")
}
