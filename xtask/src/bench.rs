//! `cargo xtask bench [--smoke] [ARGS…]`: the benchmark report.
//!
//! 1. Runs the `linkt-bench` binary in release (`cargo run --release -p
//!    linkt-bench`), which prints the client-vs-floor table; `--smoke` and any
//!    other arguments are passed on to it (see `crates/linkt-bench`).
//! 2. Times `cargo xtask generate` (the whole pipeline, in check mode, so
//!    nothing is written) and reports the size of the generated code.
//! 3. Unless `--smoke`: times a clean `cargo build -p linkt --release` in a
//!    throwaway target directory (`target/bench-clean-build`, removed before
//!    and after), so the development cache is left alone.
//!
//! Nothing here passes or fails on a number: the report is for people.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::codegen;

/// Generated files whose size is reported.
const GENERATED: &[&str] = &[
    "crates/linkt/src/generated.rs",
    "crates/linkt-httpmock/src/generated.rs",
    "crates/linkt-cli/src/generated.rs",
];

/// Throwaway target directory of the clean build, under the workspace root.
const CLEAN_TARGET: &str = "target/bench-clean-build";

/// Runs the benchmark report; `args` are passed on to `linkt-bench`.
pub(crate) fn run(args: &[&str]) -> Result<()> {
    let root = codegen::workspace_root();
    let smoke = args.contains(&"--smoke");
    let status = crate::tools::cargo()
        .current_dir(&root)
        .args(["run", "--release", "--quiet", "-p", "linkt-bench", "--"])
        .args(args)
        .status()
        .context("running cargo run -p linkt-bench")?;
    if !status.success() {
        bail!("linkt-bench failed ({status})");
    }

    let mut out = String::new();
    let _ = writeln!(out);
    let _ = writeln!(out, "| build and generation | result |");
    let _ = writeln!(out, "|---|---:|");

    let started = Instant::now();
    let generation = match codegen::generate(codegen::Mode::Check) {
        Ok(report) => format!(
            "{} ({} operations)",
            seconds(report.elapsed),
            report.operations
        ),
        Err(err) => format!("{} (check failed: {err:#})", seconds(started.elapsed())),
    };
    let _ = writeln!(
        out,
        "| `cargo xtask generate` (whole pipeline, check mode) | {generation} |"
    );
    for rel in GENERATED {
        let Ok(text) = std::fs::read_to_string(root.join(rel)) else {
            continue;
        };
        let _ = writeln!(
            out,
            "| size of `{rel}` | {} lines, {} bytes |",
            text.lines().count(),
            text.len()
        );
    }

    if smoke {
        let _ = writeln!(
            out,
            "| clean `cargo build -p linkt --release` | skipped (--smoke) |"
        );
    } else {
        let elapsed = clean_build(&root)?;
        let _ = writeln!(
            out,
            "| clean `cargo build -p linkt --release` (all dependencies, fresh target dir) | {} |",
            seconds(elapsed)
        );
    }
    if let Some(rustc) = rustc_version() {
        let _ = writeln!(out, "\ntoolchain: {rustc}");
    }

    std::io::stdout()
        .lock()
        .write_all(out.as_bytes())
        .context("writing the report")?;
    Ok(())
}

/// Times `cargo build -p linkt --release` into a fresh, throwaway target dir.
fn clean_build(root: &Path) -> Result<Duration> {
    let target = root.join(CLEAN_TARGET);
    remove(&target)?;
    eprintln!("timing a clean `cargo build -p linkt --release` in {CLEAN_TARGET} …");
    let started = Instant::now();
    let status = crate::tools::cargo()
        .current_dir(root)
        .args(["build", "--release", "--quiet", "--locked", "-p", "linkt"])
        .arg("--target-dir")
        .arg(&target)
        .status()
        .context("running cargo build -p linkt --release")?;
    let elapsed = started.elapsed();
    remove(&target)?;
    if !status.success() {
        bail!("the clean build failed ({status})");
    }
    Ok(elapsed)
}

fn remove(dir: &Path) -> Result<()> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(err).with_context(|| format!("removing {}", dir.display())),
    }
}

fn rustc_version() -> Option<String> {
    let output = Command::new("rustc").arg("-V").output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    Some(text.trim().to_owned())
}

fn seconds(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}
