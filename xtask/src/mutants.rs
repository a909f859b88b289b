//! `cargo xtask mutants`: mutation testing of the hand-written crates.
//!
//! * `cargo xtask mutants [--crate NAME] [--in-diff REV] [--jobs N]` runs the
//!   pinned cargo-mutants ([`TOOL_VERSION`], installed when missing) on each
//!   crate of [`CRATES`] (or only `NAME`), one crate at a time, each mutant
//!   tested by the tests of its own crate only (`.cargo/mutants.toml`:
//!   `test_workspace = false`). In `linkt`, only the hand-written modules
//!   ([`LINKT_MODULES`]) are mutated, never `generated.rs`.
//! * `--in-diff REV` mutates only the lines changed since the merge base of
//!   `REV` and `HEAD` (the working tree included): the check a change to
//!   these crates runs before it lands.
//! * `--file GLOB` (repeatable) mutates only the matching files of the
//!   crates, to re-check a few files after adding tests.
//! * `cargo xtask mutants --tool-version` prints the pinned version.
//!
//! At the end it prints a table per crate (caught, missed, timeouts,
//! unviable, score = caught / (caught + missed)) and the missed mutants, and
//! fails when a crate scores below [`MIN_SCORE`] (a full run) or when any
//! mutant of the diff is missed (`--in-diff`).
//!
//! Each crate's report stays in `target/mutants/<crate>/mutants.out`; the
//! builds share `target/mutants/build`, so dependencies are compiled once.
//! The settings of the tool itself (exclusions, each with its reason) are in
//! `.cargo/mutants.toml`, which cargo-mutants reads; this module only chooses
//! the packages and files and reads the outcomes.

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;

use crate::codegen;
use crate::tools::{self, cargo, git};

/// The cargo-mutants release the command runs (and installs when missing).
pub(crate) const TOOL_VERSION: &str = "27.1.0";

/// The crates mutated by a run without `--crate`, in report order.
pub(crate) const CRATES: &[&str] = &["linkt-auth", "linkt-backoff", "linkt-error", "linkt"];

/// The hand-written modules of `crates/linkt`; everything else there
/// (`generated.rs`, `lib.rs`'s re-exports) is not mutated.
pub(crate) const LINKT_MODULES: &[&str] = &[
    "hooks.rs",
    "client.rs",
    "support.rs",
    "paginate.rs",
    "wait.rs",
    "upload.rs",
    "open.rs",
];

/// The lowest score, in percent, a full run accepts for a crate.
pub(crate) const MIN_SCORE: f64 = 95.0;

/// The directory of the reports and the shared build, below the workspace's
/// target directory.
const TARGET_SUBDIR: &str = "mutants";

/// cargo-mutants' exit codes that still mean a complete run: all caught (0),
/// some missed (2), some timed out (3).
const COMPLETED: &[i32] = &[0, 2, 3];

/// Runs `cargo xtask mutants` with the arguments after `mutants`.
pub(crate) fn run(args: &[&str]) -> Result<()> {
    let mut options = Options {
        crates: Vec::new(),
        in_diff: None,
        files: Vec::new(),
        jobs: 1,
    };
    let mut rest = args.iter();
    while let Some(&arg) = rest.next() {
        match (arg, rest.as_slice().first()) {
            ("--tool-version", _) if args.len() == 1 => {
                return writeln!(std::io::stdout(), "{TOOL_VERSION}").context("writing to stdout");
            }
            ("--crate", Some(&name)) => {
                ensure!(
                    CRATES.contains(&name),
                    "`--crate {name}`: expected one of {}",
                    CRATES.join(", ")
                );
                if !options.crates.contains(&name) {
                    options.crates.push(name);
                }
                rest.next();
            }
            ("--file", Some(&glob)) => {
                options.files.push(glob);
                rest.next();
            }
            ("--in-diff", Some(&rev)) => {
                options.in_diff = Some(rev);
                rest.next();
            }
            ("--jobs", Some(&jobs)) => {
                options.jobs = jobs
                    .parse()
                    .ok()
                    .filter(|&jobs: &u32| jobs > 0)
                    .with_context(|| format!("`--jobs {jobs}`: expected a positive number"))?;
                rest.next();
            }
            _ => bail!(
                "unrecognized arguments to `mutants`: {}\n\
                 usage: cargo xtask mutants [--crate NAME]... [--in-diff REV] [--file GLOB]... \
                 [--jobs N] | --tool-version",
                args.join(" ")
            ),
        }
    }
    if options.crates.is_empty() {
        options.crates = CRATES.to_vec();
    }
    mutate(&options)
}

struct Options<'a> {
    crates: Vec<&'a str>,
    in_diff: Option<&'a str>,
    /// Only these files (globs), when given.
    files: Vec<&'a str>,
    jobs: u32,
}

/// The counts of one crate's run.
#[derive(Debug, Default, PartialEq)]
struct Tally {
    caught: u64,
    missed: u64,
    timeouts: u64,
    unviable: u64,
}

impl Tally {
    /// caught / (caught + missed), in percent; `None` when nothing was
    /// caught or missed.
    fn score(&self) -> Option<f64> {
        let judged = self.caught + self.missed;
        (judged > 0).then(|| self.caught as f64 * 100.0 / judged as f64)
    }
}

/// What one crate's run found.
struct Report {
    name: String,
    tally: Tally,
    missed: Vec<String>,
    elapsed: std::time::Duration,
}

fn mutate(options: &Options<'_>) -> Result<()> {
    let started = Instant::now();
    let root = codegen::workspace_root();
    ensure_tool()?;
    let out_root = target_dir(&root);
    fs::create_dir_all(&out_root).with_context(|| format!("creating {}", out_root.display()))?;

    let diff = match options.in_diff {
        Some(rev) => Some(write_diff(&root, rev, &out_root)?),
        None => None,
    };

    let mut reports = Vec::new();
    for &name in &options.crates {
        eprintln!("== cargo mutants on {name}");
        let crate_started = Instant::now();
        let output = out_root.join(name);
        // A report of an earlier run must not be read as this run's.
        let previous = output.join("mutants.out");
        if previous.exists() {
            fs::remove_dir_all(&previous)
                .with_context(|| format!("removing {}", previous.display()))?;
        }
        let mut cmd = cargo_mutants(&root, &out_root, name, &output, options);
        if let Some(diff) = &diff {
            cmd.arg("--in-diff").arg(diff);
        }
        let status = cmd.status().context("running cargo-mutants")?;
        ensure!(
            status.code().is_some_and(|code| COMPLETED.contains(&code)),
            "cargo-mutants did not complete on {name} ({status}; see above)"
        );
        let outcomes = previous.join("outcomes.json");
        let (tally, missed) = if outcomes.exists() {
            let text = fs::read_to_string(&outcomes)
                .with_context(|| format!("reading {}", outcomes.display()))?;
            read_outcomes(&text).with_context(|| format!("in {}", outcomes.display()))?
        } else {
            // cargo-mutants writes no report when the diff (or the files
            // named) holds none of the crate's mutants.
            ensure!(
                diff.is_some() || !options.files.is_empty(),
                "cargo-mutants wrote no {}",
                outcomes.display()
            );
            (Tally::default(), Vec::new())
        };
        reports.push(Report {
            name: name.to_owned(),
            tally,
            missed,
            elapsed: crate_started.elapsed(),
        });
    }

    eprint!("{}", render(&reports));
    eprintln!("done ({:.1?})", started.elapsed());
    let failing: Vec<&str> = reports
        .iter()
        .filter(|report| match (diff.is_some(), report.tally.score()) {
            (true, _) => report.tally.missed > 0,
            (false, Some(score)) => score < MIN_SCORE,
            (false, None) => false,
        })
        .map(|report| report.name.as_str())
        .collect();
    ensure!(
        failing.is_empty(),
        "{}: {}.\n\
         Add a test of the behaviour each missed mutant changes (next to the crate's tests), \
         or, for a mutant that cannot change behaviour, an exclusion with its reason in \
         .cargo/mutants.toml",
        if diff.is_some() {
            "mutants of the diff survived in"
        } else {
            "mutation score below the minimum in"
        },
        failing.join(", ")
    );
    Ok(())
}

/// `cargo mutants` for one crate: its own tests, the `linkt` crate limited to
/// its hand-written modules (or the files asked for), the report in `output`.
fn cargo_mutants(
    root: &Path,
    out_root: &Path,
    name: &str,
    output: &Path,
    options: &Options<'_>,
) -> Command {
    let mut cmd = cargo();
    cmd.current_dir(root)
        .arg("mutants")
        .arg("--package")
        .arg(name)
        .arg("--output")
        .arg(output)
        .arg("--jobs")
        .arg(options.jobs.to_string())
        .arg("--no-shuffle")
        // Every scratch copy builds in one directory, so dependencies are
        // compiled once for all crates and runs.
        .env("CARGO_TARGET_DIR", out_root.join("build"));
    if !options.files.is_empty() {
        // `generated.rs` stays excluded by `.cargo/mutants.toml` whatever is asked.
        for glob in &options.files {
            cmd.arg("--file").arg(glob);
        }
    } else if name == "linkt" {
        for module in LINKT_MODULES {
            cmd.arg("--file").arg(format!("crates/linkt/src/{module}"));
        }
    }
    cmd
}

/// Writes the diff from the merge base of `rev` and `HEAD` to the working
/// tree (the crates only) for `--in-diff`; returns its path.
fn write_diff(root: &Path, rev: &str, out_root: &Path) -> Result<PathBuf> {
    let base = git(root)
        .args(["merge-base", rev, "HEAD"])
        .output()
        .context("running git merge-base")?;
    ensure!(
        base.status.success(),
        "`--in-diff {rev}`: no merge base with HEAD ({})",
        String::from_utf8_lossy(&base.stderr).trim()
    );
    let base = String::from_utf8_lossy(&base.stdout).trim().to_owned();
    let diff = git(root)
        .args(["diff", "--no-color", "--no-ext-diff", &base, "--", "crates"])
        .output()
        .context("running git diff")?;
    ensure!(
        diff.status.success(),
        "git diff {base} failed: {}",
        String::from_utf8_lossy(&diff.stderr).trim()
    );
    let path = out_root.join("in-diff.patch");
    fs::write(&path, &diff.stdout).with_context(|| format!("writing {}", path.display()))?;
    eprintln!(
        "mutating the lines changed since {rev} (merge base {base}): {} bytes of diff",
        diff.stdout.len()
    );
    Ok(path)
}

/// The counts and missed mutants of cargo-mutants' `outcomes.json`.
fn read_outcomes(text: &str) -> Result<(Tally, Vec<String>)> {
    let value: Value = serde_json::from_str(text).context("parsing")?;
    let count = |field: &str| {
        value
            .get(field)
            .and_then(Value::as_u64)
            .with_context(|| format!("no count `{field}`"))
    };
    let tally = Tally {
        caught: count("caught")?,
        missed: count("missed")?,
        timeouts: count("timeout")?,
        unviable: count("unviable")?,
    };
    let missed = value
        .get("outcomes")
        .and_then(Value::as_array)
        .context("no `outcomes` list")?
        .iter()
        .filter(|outcome| outcome.get("summary").and_then(Value::as_str) == Some("MissedMutant"))
        .map(describe_mutant)
        .collect();
    Ok((tally, missed))
}

/// A mutant's name as cargo-mutants gives it (`file:line:col: replace …`).
fn describe_mutant(outcome: &Value) -> String {
    outcome
        .pointer("/scenario/Mutant/name")
        .and_then(Value::as_str)
        .unwrap_or("(unnamed mutant)")
        .to_owned()
}

/// The score table and the missed mutants of every crate.
fn render(reports: &[Report]) -> String {
    let mut out = String::from("\nmutation testing (each crate by its own tests)\n");
    let _ = writeln!(
        out,
        "{:<14} {:>7} {:>7} {:>9} {:>9} {:>7} {:>9}",
        "crate", "caught", "missed", "timeouts", "unviable", "score", "time"
    );
    for report in reports {
        let Tally {
            caught,
            missed,
            timeouts,
            unviable,
        } = report.tally;
        let score = report
            .tally
            .score()
            .map_or_else(|| "-".to_owned(), |score| format!("{score:.1}%"));
        let _ = writeln!(
            out,
            "{:<14} {caught:>7} {missed:>7} {timeouts:>9} {unviable:>9} {score:>7} {:>8.0}s",
            report.name,
            report.elapsed.as_secs_f64()
        );
    }
    for report in reports.iter().filter(|report| !report.missed.is_empty()) {
        let _ = writeln!(out, "\nmissed in {}:", report.name);
        for mutant in &report.missed {
            let _ = writeln!(out, "  {mutant}");
        }
    }
    out
}

/// Installs the pinned cargo-mutants unless `cargo mutants --version` is it.
fn ensure_tool() -> Result<()> {
    let wanted = format!("cargo-mutants {TOOL_VERSION}");
    let found = cargo()
        .args(["mutants", "--version"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned());
    if found.as_deref() == Some(wanted.as_str()) {
        return Ok(());
    }
    eprintln!(
        "installing {wanted} (found: {})",
        found.as_deref().unwrap_or("none")
    );
    let status = cargo()
        .args(["install", "--locked", "cargo-mutants", "--version"])
        .arg(TOOL_VERSION)
        .status()
        .context("running cargo install")?;
    ensure!(
        status.success(),
        "`cargo install --locked cargo-mutants --version {TOOL_VERSION}` failed ({status})"
    );
    Ok(())
}

/// `target/mutants` below the workspace's target directory.
fn target_dir(root: &Path) -> PathBuf {
    tools::target_subdir(root, TARGET_SUBDIR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_counted_and_missed_mutants_named() {
        let text = r#"{
            "outcomes": [
                {"scenario": "Baseline", "summary": "Success"},
                {"scenario": {"Mutant": {"name": "crates/a/src/lib.rs:7:12: replace || with && in f",
                    "file": "crates/a/src/lib.rs"}},
                 "summary": "MissedMutant"},
                {"scenario": {"Mutant": {"name": "crates/a/src/lib.rs:9:5: replace g -> bool with true",
                    "file": "crates/a/src/lib.rs"}},
                 "summary": "CaughtMutant"}
            ],
            "total_mutants": 2, "missed": 1, "caught": 1, "timeout": 0, "unviable": 0, "success": 1
        }"#;
        let (tally, missed) = read_outcomes(text).expect("parses");
        assert_eq!(
            tally,
            Tally {
                caught: 1,
                missed: 1,
                timeouts: 0,
                unviable: 0
            }
        );
        assert_eq!(
            missed,
            ["crates/a/src/lib.rs:7:12: replace || with && in f"]
        );
        assert!(read_outcomes(r#"{"outcomes": []}"#).is_err());
    }

    #[test]
    fn the_score_counts_caught_and_missed_only() {
        let tally = Tally {
            caught: 19,
            missed: 1,
            timeouts: 5,
            unviable: 40,
        };
        assert_eq!(tally.score(), Some(95.0));
        assert_eq!(Tally::default().score(), None);
        let table = render(&[Report {
            name: "linkt-auth".to_owned(),
            tally,
            missed: vec!["crates/linkt-auth/src/config.rs:1:1: m".to_owned()],
            elapsed: std::time::Duration::from_secs(3),
        }]);
        assert!(
            table.contains("linkt-auth          19       1         5        40   95.0%"),
            "{table}"
        );
        assert!(table.contains("missed in linkt-auth:\n  crates/linkt-auth/src/config.rs:1:1: m"));
    }

    #[test]
    fn every_mutated_crate_and_module_exists() {
        let root = codegen::workspace_root();
        for name in CRATES {
            assert!(
                root.join(format!("crates/{name}/Cargo.toml")).is_file(),
                "{name}"
            );
        }
        for module in LINKT_MODULES {
            assert!(
                root.join(format!("crates/linkt/src/{module}")).is_file(),
                "{module}"
            );
        }
        assert!(!LINKT_MODULES.contains(&"generated.rs"));
    }

    #[test]
    fn the_config_tests_each_crate_by_its_own_tests() {
        let config = fs::read_to_string(codegen::workspace_root().join(".cargo/mutants.toml"))
            .expect("config");
        assert!(config.contains("test_workspace = false"), "{config}");
        assert!(
            config.contains("\"crates/linkt/src/generated.rs\""),
            "{config}"
        );
    }

    #[test]
    fn unknown_arguments_and_crates_are_refused() {
        assert!(run(&["--crate", "linkt-spec"]).is_err());
        assert!(run(&["--crate"]).is_err());
        assert!(run(&["--jobs", "0"]).is_err());
        assert!(run(&["--frobnicate"]).is_err());
    }
}
