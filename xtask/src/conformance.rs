//! `cargo xtask conformance`: the coverage gate of the conformance suite.
//!
//! Prepares the spec exactly as `generate` does (through `linkt-spec`), runs
//! the coverage check of `linkt-conformance` against its case and component
//! tables and the committed request snapshots, prints the table, and fails
//! naming every operation or component schema that is not covered. The tests
//! themselves run under `cargo test`; this command needs no generated code.
//!
//! `cargo xtask conformance --live` is the same check against a server:
//! `linkt doctor` (crate `linkt-doctor`), run from the workspace, with its
//! exit status.

use std::io::Write as _;

use anyhow::{Context, Result, bail};

use crate::codegen::workspace_root;

/// `linkt doctor ARGS`: the drift report of the live API (or, with
/// `--mock`, of the embedded mock); exits with the tour's status.
pub(crate) fn live(args: &[&str]) -> Result<()> {
    let mut command =
        std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(workspace_root()).args([
        "run",
        "--quiet",
        "--locked",
        "--package",
        "linkt-cli",
        "--bin",
        "linkt",
        "--",
    ]);
    // `--mock` is a global option of `linkt`; the rest belong to `doctor`.
    let (global, doctor): (Vec<&str>, Vec<&str>) = args.iter().partition(|a| **a == "--mock");
    command.args(global).arg("doctor").args(doctor);
    let status = command.status().context("running `linkt doctor`")?;
    match status.code() {
        Some(0) => Ok(()),
        Some(code) => std::process::exit(code),
        None => bail!("`linkt doctor` was stopped ({status})"),
    }
}

/// Prints the coverage table; fails when anything is not covered.
pub(crate) fn run() -> Result<()> {
    let root = workspace_root();
    let prepared = linkt_spec::prepare(
        &root.join(linkt_conformance::SPEC_FILE),
        Some(&root.join(linkt_conformance::OVERLAY_FILE)),
    )
    .context("preparing the spec")?;
    let snapshots = root
        .join("tests/conformance")
        .join(linkt_conformance::SNAPSHOT_DIR);
    let coverage = linkt_conformance::coverage(
        &prepared.document,
        linkt_conformance::CASES,
        linkt_conformance::COMPONENTS,
        &snapshots,
    );
    std::io::stdout()
        .write_all(coverage.render().as_bytes())
        .context("writing the table")?;
    if !coverage.is_complete() {
        bail!(
            "{} conformance problem(s); add the missing cases and snapshots in tests/conformance",
            coverage.problems.len()
        );
    }
    Ok(())
}
