//! `linkt doctor`: checks the server against the spec this client was
//! generated from (`linkt-doctor`), prints a summary, writes the drift
//! report, and exits `0` (no or additive drift), `1` (breaking drift) or
//! `2` (the tour could not finish).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Arg, ArgAction, ArgMatches, Command};
use linkt::{ApiKey, Plan};
use linkt_doctor::Tour;
use linkt_mock::{Drift, DriftKind};

use crate::output::print_line;
use crate::session::{ENV_API_KEY, ENV_BASE_URL};

/// The `doctor` subcommand.
pub(crate) fn command() -> Command {
    Command::new("doctor")
        .about("Check the API against the spec this client was generated from (a drift report)")
        .long_about(
            "Check the API against the spec this client was generated from.\n\n\
             Tours every read-only operation (lists, counts, export, schema reads and a \
             retrieve of an item of each list), validates every response strictly against \
             the spec, and reports each difference with its operation, JSON pointer, what \
             the spec says and what the server sent, and the spec change that would resolve \
             it. Nothing is created, changed or deleted, and no run is started, unless \
             --write is given.\n\n\
             Exit status: 0 for no drift or additive drift only (the client copes), 1 for \
             drift that breaks the client, 2 when the tour could not finish.",
        )
        .arg(
            Arg::new("write")
                .long("write")
                .action(ArgAction::SetTrue)
                .help(
                    "Also run the write tour: create, read, update and delete an ICP, a sheet, \
                     a custom field, a task and a schedule (refused against production \
                     without --i-know)",
                ),
        )
        .arg(
            Arg::new("i-know")
                .long("i-know")
                .action(ArgAction::SetTrue)
                .requires("write")
                .help("Allow the write tour against production"),
        )
        .arg(
            Arg::new("plan")
                .long("plan")
                .value_name("PLAN")
                .value_parser(["free", "pro"])
                .default_value("free")
                .help("The key's plan, which paces the tour"),
        )
        .arg(
            Arg::new("report")
                .long("report")
                .value_name("FILE")
                .value_parser(clap::value_parser!(PathBuf))
                .help("Write the drift report (Markdown) to FILE [default: stdout]"),
        )
        .arg(
            Arg::new("show-entity-data")
                .long("show-entity-data")
                .action(ArgAction::SetTrue)
                .help("Show values inside entity `data` in the report (redacted by default)"),
        )
        .arg(
            Arg::new("mock-drift")
                .long("mock-drift")
                .value_name("KINDS")
                .help(
                    "With --mock: make the embedded mock drift (`all` or a comma-separated list \
                     of unknown-field, unknown-enum-value, dropped-optional-field, \
                     null-required-field, created-status)",
                ),
        )
}

/// Runs the tour; the exit status says how it ended.
pub(crate) async fn run(matches: &ArgMatches) -> anyhow::Result<ExitCode> {
    let plan = match matches.get_one::<String>("plan").map(String::as_str) {
        Some("pro") => Plan::Pro,
        _ => Plan::Free,
    };
    // The embedded mock must live until the tour is done.
    let mut mock = None;
    let drift = matches
        .get_one::<String>("mock-drift")
        .map(|kinds| parse_drift(kinds))
        .transpose()?;
    let config = if matches.get_flag("mock") {
        let server = linkt_mock::MockServer::builder()
            .drift(drift.unwrap_or_default())
            .start()
            .await
            .context("starting the embedded mock server")?;
        let config = linkt_auth_config(server.api_key(), "--mock", Some(server.base_url()), true)?;
        mock = Some(server);
        config
    } else {
        anyhow::ensure!(drift.is_none(), "--mock-drift needs --mock");
        let (key, source) = match matches.get_one::<String>("api-key") {
            Some(key) => (key.clone(), "--api-key"),
            None => match std::env::var(ENV_API_KEY) {
                Ok(key) if !key.trim().is_empty() => (key, ENV_API_KEY),
                _ => anyhow::bail!(
                    "missing API key: set {ENV_API_KEY} or pass --api-key (or try --mock)"
                ),
            },
        };
        let base_url = matches
            .get_one::<String>("base-url")
            .cloned()
            .or_else(|| std::env::var(ENV_BASE_URL).ok());
        linkt_auth_config(&key, source, base_url.as_deref(), false)?
    };
    let tour = Tour::builder()
        .plan(plan)
        .write(matches.get_flag("write"))
        .allow_production_writes(matches.get_flag("i-know"))
        .show_entity_data(matches.get_flag("show-entity-data"))
        .build(&config)?;
    let report = tour.run().await;
    let markdown = report.to_markdown();
    match matches.get_one::<PathBuf>("report") {
        Some(path) => std::fs::write(path, &markdown)
            .with_context(|| format!("writing the report to {}", path.display()))?,
        None => print_line(markdown.trim_end()),
    }
    eprintln!("linkt doctor: {}", report.summary());
    drop(mock);
    Ok(ExitCode::from(report.outcome().exit_code()))
}

/// `all`, or kinds by their kebab-case names, comma-separated.
fn parse_drift(kinds: &str) -> anyhow::Result<Drift> {
    if kinds.trim() == "all" {
        return Ok(Drift::all());
    }
    let kinds = kinds
        .split(',')
        .map(|name| {
            DriftKind::from_name(name.trim()).ok_or_else(|| {
                let known: Vec<&str> = DriftKind::ALL.iter().map(|k| k.name()).collect();
                anyhow::anyhow!(
                    "--mock-drift: unknown drift kind `{}`; expected `all` or {}",
                    name.trim(),
                    known.join(", ")
                )
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Drift::only(&kinds))
}

/// The tour's configuration: the key (from `source`), the base URL if
/// given, else `LINKT_ENVIRONMENT`, else production.
fn linkt_auth_config(
    key: &str,
    source: &str,
    base_url: Option<&str>,
    insecure: bool,
) -> anyhow::Result<linkt_doctor::Config> {
    let key = ApiKey::new(key).map_err(|err| anyhow::anyhow!("{source}: {err}"))?;
    let mut builder = linkt_doctor::Config::builder()
        .api_key(key)
        .allow_insecure_http(insecure);
    if let Some(url) = base_url {
        builder = builder.base_url(url);
    }
    Ok(builder.build_with_env()?)
}
