//! Presenting a [`ChangeReport`]: a compact text form for the terminal and
//! Markdown for a CHANGELOG entry or a pull request.
//!
//! Both list breaking changes first and keep the report's order, so equal
//! reports render to equal bytes. Nothing here decides a verdict.

use std::fmt::Write as _;

use super::model::{Change, ChangeReport, Group, Verdict};

/// `1 breaking, 2 not breaking`.
fn counts(report: &ChangeReport) -> String {
    format!(
        "{} breaking, {} not breaking",
        report.breaking(),
        report.not_breaking()
    )
}

/// One line per change, grouped under `breaking:` and `not breaking:`.
pub(crate) fn text(report: &ChangeReport) -> String {
    if report.is_empty() {
        return "no API changes\n".to_owned();
    }
    let mut out = format!("API changes: {}\n", counts(report));
    for verdict in [Verdict::Breaking, Verdict::NotBreaking] {
        let changes = by_verdict(report, verdict);
        if changes.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{verdict}:");
        for change in changes {
            let _ = write!(
                out,
                "  {:<38} {}: {}",
                change.rule.id(),
                change.location,
                change.message
            );
            if change.wire != change.rust {
                let _ = write!(out, " [wire: {}, Rust: {}]", change.wire, change.rust);
            }
            if let Some(note) = change
                .rust_note
                .as_ref()
                .filter(|_| change.rust == Verdict::Breaking)
            {
                let _ = write!(out, "; Rust: {note}");
            }
            out.push('\n');
        }
    }
    out.replace('`', "")
}

/// A `## API changes` section: a summary line, then breaking changes and the
/// rest, each split into operations and schemas, one table row per change.
pub(crate) fn markdown(report: &ChangeReport) -> String {
    let mut out = String::from("## API changes\n\n");
    if report.is_empty() {
        out.push_str("No API changes.\n");
        return out;
    }
    let _ = writeln!(
        out,
        "**{} breaking**, {} not breaking. Wire: clients already deployed, talking to the new \
         server. Rust: code written against the previous generated client.",
        report.breaking(),
        report.not_breaking()
    );
    for (verdict, heading) in [
        (Verdict::Breaking, "Breaking changes"),
        (Verdict::NotBreaking, "Not breaking"),
    ] {
        let changes = by_verdict(report, verdict);
        if changes.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n### {heading}");
        for (kind, title) in [(false, "Operations"), (true, "Schemas")] {
            let rows: Vec<&&Change> = changes
                .iter()
                .filter(|c| matches!(c.location.group, Group::Component { .. }) == kind)
                .collect();
            if rows.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n#### {title}\n");
            out.push_str("| Where | Rule | Change | Wire | Rust |\n|---|---|---|---|---|\n");
            for change in rows {
                let rust = match &change.rust_note {
                    Some(note) => format!("{}: {note}", change.rust),
                    None => change.rust.to_string(),
                };
                let _ = writeln!(
                    out,
                    "| {} | `{}` | {} | {} | {} |",
                    cell(&where_(change)),
                    change.rule.id(),
                    cell(&change.message),
                    change.wire,
                    cell(&rust)
                );
            }
        }
    }
    out
}

fn by_verdict(report: &ChangeReport, verdict: Verdict) -> Vec<&Change> {
    match verdict {
        Verdict::Breaking => report.breaking_changes().collect(),
        Verdict::NotBreaking => report.compatible_changes().collect(),
    }
}

fn where_(change: &Change) -> String {
    let location = &change.location;
    match &location.group {
        Group::Operation { name, .. } => {
            let mut out = format!("`{}`", location.group.title());
            if let Some(name) = name {
                let _ = write!(out, " (`{name}`)");
            }
            if !location.detail.is_empty() {
                let _ = write!(out, " {}", location.detail);
            }
            out
        }
        Group::Component { usage, .. } => format!("`{location}` (used in {})", usage.describe()),
    }
}

/// Escapes what would end a table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
