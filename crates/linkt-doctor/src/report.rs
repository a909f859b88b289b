//! The drift report: findings counted by operation, pointer and rule, the
//! optional properties never sent, the headers seen, what the tour could
//! not do; rendered as Markdown.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};

use serde_json::Value;

/// Whether a finding would break the client as it is generated today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Impact {
    /// The client decodes the response anyway (an unknown field is
    /// ignored, an unknown enum value or union member is kept as
    /// `Unknown`, any success status is a success): the spec should learn
    /// it, nothing fails today.
    Additive,
    /// A call of the client fails on this response (a required field
    /// missing or null, a value of another type or format).
    Breaking,
}

impl fmt::Display for Impact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Impact::Additive => "additive",
            Impact::Breaking => "breaking",
        })
    }
}

/// What a finding says the spec should change, in the vocabulary of the
/// change report of `cargo xtask generate` (`Rule::name`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// A property the schema does not list.
    ResponsePropertyAdded,
    /// A required property was absent.
    ResponsePropertyBecameOptional,
    /// A property that may not be null was null.
    ResponsePropertyBecameNullable,
    /// A value of another JSON type than the schema's.
    ResponsePropertyTypeChanged,
    /// A string enum value the spec does not list.
    EnumValueAdded,
    /// A union tag the spec does not list.
    UnionVariantAdded,
    /// A value outside a format, pattern, length or bound of the schema.
    ConstraintRelaxed,
    /// A success status the operation does not document.
    ResponseSuccessStatusAdded,
    /// A content type the status does not document.
    ResponseMediaTypeAdded,
    /// A body where the status documents none.
    ResponseBodyAdded,
    /// No body where the status documents one.
    ResponseBodyRemoved,
    /// A body that is not what the content type says (not JSON, not text).
    ResponseBodyTypeChanged,
}

impl Rule {
    /// Every rule.
    pub const ALL: [Rule; 12] = [
        Rule::ResponsePropertyAdded,
        Rule::ResponsePropertyBecameOptional,
        Rule::ResponsePropertyBecameNullable,
        Rule::ResponsePropertyTypeChanged,
        Rule::EnumValueAdded,
        Rule::UnionVariantAdded,
        Rule::ConstraintRelaxed,
        Rule::ResponseSuccessStatusAdded,
        Rule::ResponseMediaTypeAdded,
        Rule::ResponseBodyAdded,
        Rule::ResponseBodyRemoved,
        Rule::ResponseBodyTypeChanged,
    ];

    /// The rule's name in the generator's change report, e.g.
    /// `response-property-added`.
    pub const fn name(self) -> &'static str {
        match self {
            Rule::ResponsePropertyAdded => "response-property-added",
            Rule::ResponsePropertyBecameOptional => "response-property-became-optional",
            Rule::ResponsePropertyBecameNullable => "response-property-became-nullable",
            Rule::ResponsePropertyTypeChanged => "response-property-type-changed",
            Rule::EnumValueAdded => "enum-value-added",
            Rule::UnionVariantAdded => "union-variant-added",
            Rule::ConstraintRelaxed => "constraint-relaxed",
            Rule::ResponseSuccessStatusAdded => "response-success-status-added",
            Rule::ResponseMediaTypeAdded => "response-media-type-added",
            Rule::ResponseBodyAdded => "response-body-added",
            Rule::ResponseBodyRemoved => "response-body-removed",
            Rule::ResponseBodyTypeChanged => "response-body-type-changed",
        }
    }

    /// What the drift does to the client as generated from today's spec.
    pub const fn impact(self) -> Impact {
        match self {
            Rule::ResponsePropertyAdded
            | Rule::EnumValueAdded
            | Rule::UnionVariantAdded
            | Rule::ResponseSuccessStatusAdded
            | Rule::ResponseMediaTypeAdded
            | Rule::ResponseBodyAdded => Impact::Additive,
            Rule::ResponsePropertyBecameOptional
            | Rule::ResponsePropertyBecameNullable
            | Rule::ResponsePropertyTypeChanged
            | Rule::ConstraintRelaxed
            | Rule::ResponseBodyRemoved
            | Rule::ResponseBodyTypeChanged => Impact::Breaking,
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One way the server's responses differ from the spec, counted over the
/// tour.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Finding {
    /// The operation (client method name), e.g. `icp_retrieve`.
    pub operation: String,
    /// The status of the first response it was seen in.
    pub status: u16,
    /// RFC 6901 pointer into the first body it was seen in (empty for the
    /// status, content type or body as a whole).
    pub pointer: String,
    /// The suggested spec change, as a change-report rule.
    pub rule: Rule,
    /// The component schema of the object holding the pointer, if known.
    pub schema: Option<String>,
    /// What the spec says.
    pub expected: String,
    /// What the server sent: a bounded excerpt, redacted where it is
    /// entity data or could be the key.
    pub seen: String,
    /// Responses it was seen in (array elements count once each).
    pub count: u32,
}

impl Finding {
    /// [`Rule::impact`] of its rule.
    pub fn impact(&self) -> Impact {
        self.rule.impact()
    }

    /// The spec change that would resolve it, in words.
    pub fn suggestion(&self) -> String {
        let property = self.pointer.rsplit('/').next().unwrap_or_default();
        let at = match &self.schema {
            Some(schema) => format!("`{schema}.{property}`"),
            None => format!("`{}` of `{}`", self.pointer, self.operation),
        };
        match self.rule {
            Rule::ResponsePropertyAdded => format!(
                "add optional property `{property}` to {}",
                self.schema.as_deref().map_or_else(
                    || format!("the response of `{}`", self.operation),
                    |s| format!("`{s}`")
                )
            ),
            Rule::ResponsePropertyBecameOptional => {
                format!("make {at} optional (drop it from `required`)")
            }
            Rule::ResponsePropertyBecameNullable => format!("make {at} nullable"),
            Rule::ResponsePropertyTypeChanged => format!("change the type of {at}"),
            Rule::EnumValueAdded => format!("add {} to the enum of {at}", self.seen),
            Rule::UnionVariantAdded => format!("add the union member tagged {} at {at}", self.seen),
            Rule::ConstraintRelaxed => format!("relax the constraint of {at}"),
            Rule::ResponseSuccessStatusAdded => {
                format!("document status {} for `{}`", self.seen, self.operation)
            }
            Rule::ResponseMediaTypeAdded => format!(
                "document content type {} for status {} of `{}`",
                self.seen, self.status, self.operation
            ),
            Rule::ResponseBodyAdded => format!(
                "document the body of status {} of `{}`",
                self.status, self.operation
            ),
            Rule::ResponseBodyRemoved => format!(
                "document status {} of `{}` without a body",
                self.status, self.operation
            ),
            Rule::ResponseBodyTypeChanged => format!(
                "document the content of status {} of `{}`",
                self.status, self.operation
            ),
        }
    }
}

/// An optional property no response of the tour held.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NeverSent {
    /// The component schema.
    pub schema: String,
    /// The property.
    pub property: String,
    /// Objects of the schema the tour saw without it.
    pub objects: u32,
}

/// A response header whose name says it is about rate limits or request
/// ids, as the server sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HeaderSeen {
    /// The header name, lower case.
    pub name: String,
    /// Responses that carried it.
    pub responses: u32,
    /// Whether the client reads it (`ResponseExt::request_id`, the rate
    /// limit of `linkt-backoff`, `Retry-After`).
    pub read_by_client: bool,
}

/// The header names the client reads.
pub const HEADERS_READ_BY_CLIENT: &[&str] = &[
    "x-request-id",
    "retry-after",
    "retry-after-ms",
    "ratelimit",
    "ratelimit-policy",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
];

/// One call of the tour.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Call {
    /// The operation.
    pub operation: String,
    /// `GET /v1/icp?page=1&page_size=5`, ids included, no key.
    pub request: String,
    /// The status, or `None` when no response came.
    pub status: Option<u16>,
    /// `429`s waited out before this response.
    pub rate_limited: u32,
}

/// Something the tour did not do or that failed: an operation skipped for
/// want of an id, an error status, a network failure, a resource the write
/// tour could not delete.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Problem {
    /// The operation.
    pub operation: String,
    /// What happened.
    pub message: String,
    /// Whether it makes the tour incomplete (an error, a failure, a
    /// resource left behind) rather than a skip explained by the account's
    /// data.
    pub incomplete: bool,
}

/// How a tour ended, from best to worst; [`Outcome::exit_code`] is what
/// `linkt doctor` and `cargo xtask conformance --live` exit with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Every response matched the spec.
    NoDrift,
    /// Drift the client tolerates only.
    AdditiveDrift,
    /// Drift that breaks the client.
    BreakingDrift,
    /// The tour could not finish (errors, failures, resources left
    /// behind); findings so far are in the report.
    Incomplete,
}

impl Outcome {
    /// `0` for no or additive drift, `1` for breaking drift, `2` for an
    /// incomplete tour.
    pub const fn exit_code(self) -> u8 {
        match self {
            Outcome::NoDrift | Outcome::AdditiveDrift => 0,
            Outcome::BreakingDrift => 1,
            Outcome::Incomplete => 2,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::NoDrift => "no drift",
            Outcome::AdditiveDrift => "additive drift only",
            Outcome::BreakingDrift => "breaking drift",
            Outcome::Incomplete => "incomplete tour",
        })
    }
}

/// What a tour found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub(crate) base_url: String,
    pub(crate) write_tour: bool,
    pub(crate) findings: Vec<Finding>,
    pub(crate) never_sent: Vec<NeverSent>,
    pub(crate) headers: BTreeMap<String, u32>,
    pub(crate) calls: Vec<Call>,
    pub(crate) problems: Vec<Problem>,
    pub(crate) read_only_operations: Vec<String>,
}

impl Report {
    /// The findings, breaking first, then by operation and pointer.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// Optional properties never sent.
    pub fn never_sent(&self) -> &[NeverSent] {
        &self.never_sent
    }

    /// Rate-limit and request-id headers seen, by name.
    pub fn headers(&self) -> Vec<HeaderSeen> {
        self.headers
            .iter()
            .map(|(name, responses)| HeaderSeen {
                name: name.clone(),
                responses: *responses,
                read_by_client: HEADERS_READ_BY_CLIENT.contains(&name.as_str()),
            })
            .collect()
    }

    /// Every call, in order.
    pub fn calls(&self) -> &[Call] {
        &self.calls
    }

    /// Skips, errors and failures.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// The operations that got a response, each once, sorted.
    pub fn operations_touched(&self) -> BTreeSet<&str> {
        self.calls
            .iter()
            .filter(|call| call.status.is_some())
            .map(|call| call.operation.as_str())
            .collect()
    }

    /// How the tour ended.
    pub fn outcome(&self) -> Outcome {
        if self.problems.iter().any(|p| p.incomplete) {
            Outcome::Incomplete
        } else if self.findings.iter().any(|f| f.impact() == Impact::Breaking) {
            Outcome::BreakingDrift
        } else if self.findings.is_empty() {
            Outcome::NoDrift
        } else {
            Outcome::AdditiveDrift
        }
    }

    /// One line: outcome, findings, calls, coverage, skips and errors.
    pub fn summary(&self) -> String {
        let breaking = self
            .findings
            .iter()
            .filter(|f| f.impact() == Impact::Breaking)
            .count();
        let touched = self.operations_touched();
        let read_touched = self
            .read_only_operations
            .iter()
            .filter(|op| touched.contains(op.as_str()))
            .count();
        let errors = self.problems.iter().filter(|p| p.incomplete).count();
        format!(
            "{}: {} finding(s), {breaking} breaking; {} call(s); {read_touched} of {} read-only operations; {} skipped, {errors} error(s)",
            self.outcome(),
            self.findings.len(),
            self.calls.len(),
            self.read_only_operations.len(),
            self.problems.len() - errors,
        )
    }

    /// The report as Markdown.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# Linkt API drift report\n");
        let _ = writeln!(out, "- Server: {}", self.base_url);
        let _ = writeln!(
            out,
            "- Tour: read-only{}",
            if self.write_tour { " and write" } else { "" }
        );
        let _ = writeln!(out, "- Outcome: **{}**", self.outcome());
        let _ = writeln!(out, "- {}\n", self.summary());

        let _ = writeln!(out, "## Findings\n");
        if self.findings.is_empty() {
            let _ = writeln!(out, "None: every response matched the spec.\n");
        } else {
            let _ = writeln!(
                out,
                "| impact | operation | status | pointer | rule | expected | seen | count | suggested spec change |"
            );
            let _ = writeln!(out, "|---|---|---|---|---|---|---|---:|---|");
            for f in &self.findings {
                let pointer = if f.pointer.is_empty() {
                    "(the response)".to_owned()
                } else {
                    format!("`{}`", cell(&f.pointer))
                };
                let _ = writeln!(
                    out,
                    "| {} | `{}` | {} | {pointer} | {} | {} | {} | {} | {} |",
                    f.impact(),
                    f.operation,
                    f.status,
                    f.rule,
                    cell(&f.expected),
                    cell(&f.seen),
                    f.count,
                    cell(&f.suggestion()),
                );
            }
            let _ = writeln!(out);
        }

        let _ = writeln!(out, "## Optional properties never sent\n");
        if self.never_sent.is_empty() {
            let _ = writeln!(out, "None.\n");
        } else {
            let _ = writeln!(
                out,
                "A property here may have been dropped by the server, or the tour's data may not have needed it.\n"
            );
            let _ = writeln!(out, "| schema | property | objects seen |");
            let _ = writeln!(out, "|---|---|---:|");
            for n in &self.never_sent {
                let _ = writeln!(out, "| `{}` | `{}` | {} |", n.schema, n.property, n.objects);
            }
            let _ = writeln!(out);
        }

        let _ = writeln!(out, "## Rate-limit and request-id headers\n");
        let headers = self.headers();
        if headers.is_empty() {
            let _ = writeln!(
                out,
                "None seen: the client paces by the plan alone and has no request id to report.\n"
            );
        } else {
            let _ = writeln!(out, "| header | responses | read by the client |");
            let _ = writeln!(out, "|---|---:|---|");
            for h in &headers {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} |",
                    h.name,
                    h.responses,
                    if h.read_by_client { "yes" } else { "no" }
                );
            }
            let _ = writeln!(out);
        }

        let _ = writeln!(out, "## Problems\n");
        if self.problems.is_empty() {
            let _ = writeln!(out, "None.\n");
        } else {
            for p in &self.problems {
                let _ = writeln!(
                    out,
                    "- {}`{}`: {}",
                    if p.incomplete {
                        "**error** "
                    } else {
                        "skipped "
                    },
                    p.operation,
                    p.message
                );
            }
            let _ = writeln!(out);
        }

        let _ = writeln!(out, "## Calls\n");
        for call in &self.calls {
            let status = call
                .status
                .map_or_else(|| "no response".to_owned(), |s| s.to_string());
            let limited = if call.rate_limited > 0 {
                format!(" (after {} × 429)", call.rate_limited)
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "- `{}` {} → {status}{limited}",
                call.operation,
                cell(&call.request)
            );
        }
        out
    }
}

/// A table cell: no line breaks, `|` escaped.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// The longest excerpt of a value shown, in characters.
pub(crate) const EXCERPT_CHARS: usize = 60;

/// A bounded, one-line excerpt of `value`.
pub(crate) fn excerpt(value: Option<&Value>) -> String {
    let Some(value) = value else {
        return "(absent)".to_owned();
    };
    let text = value.to_string();
    if text.chars().count() <= EXCERPT_CHARS {
        text
    } else {
        let cut: String = text.chars().take(EXCERPT_CHARS).collect();
        format!("{cut}… ({} bytes)", text.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn excerpts_are_bounded_on_character_boundaries() {
        assert_eq!(excerpt(Some(&json!("ok"))), "\"ok\"");
        assert_eq!(excerpt(None), "(absent)");
        let long = excerpt(Some(&json!("é".repeat(100))));
        assert!(long.starts_with(&format!("\"{}", "é".repeat(59))), "{long}");
        assert!(long.ends_with("… (202 bytes)"), "{long}");
    }

    #[test]
    fn rule_names_are_unique_and_kebab_case() {
        let names: BTreeSet<&str> = Rule::ALL.iter().map(|r| r.name()).collect();
        assert_eq!(names.len(), Rule::ALL.len());
        assert!(
            names
                .iter()
                .all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        );
    }

    #[test]
    fn the_outcome_is_the_worst_of_the_report() {
        let finding = |rule| Finding {
            operation: "icp_list".into(),
            status: 200,
            pointer: "/x".into(),
            rule,
            schema: None,
            expected: String::new(),
            seen: String::new(),
            count: 1,
        };
        let mut report = Report::default();
        assert_eq!(report.outcome(), Outcome::NoDrift);
        report.findings.push(finding(Rule::ResponsePropertyAdded));
        assert_eq!(report.outcome(), Outcome::AdditiveDrift);
        assert_eq!(report.outcome().exit_code(), 0);
        report
            .findings
            .push(finding(Rule::ResponsePropertyBecameNullable));
        assert_eq!(report.outcome(), Outcome::BreakingDrift);
        assert_eq!(report.outcome().exit_code(), 1);
        report.problems.push(Problem {
            operation: "icp_list".into(),
            message: "no icp_id".into(),
            incomplete: false,
        });
        assert_eq!(report.outcome(), Outcome::BreakingDrift);
        report.problems[0].incomplete = true;
        assert_eq!(report.outcome().exit_code(), 2);
    }

    #[test]
    fn markdown_cells_cannot_break_the_table() {
        let mut report = Report::default();
        report.findings.push(Finding {
            operation: "icp_list".into(),
            status: 200,
            pointer: "/a|b".into(),
            rule: Rule::ResponsePropertyAdded,
            schema: Some("IcpResponse".into()),
            expected: "no such property".into(),
            seen: "\"x|\ny\"".into(),
            count: 2,
        });
        let markdown = report.to_markdown();
        let row = markdown
            .lines()
            .find(|l| l.starts_with("| additive"))
            .expect("row");
        assert_eq!(row.matches(" | ").count(), 8, "{row}");
        assert!(
            row.contains("add optional property `a\\|b` to `IcpResponse`"),
            "{row}"
        );
    }
}
