//! FastAPI request-validation issues (`422 Unprocessable Entity`).
//!
//! FastAPI reports a failed request validation as
//! `{"detail": [{"loc": [...], "msg": "...", "type": "...", "input": ..., "ctx": {...}}]}`.
//! This module holds the typed form of one list entry and its lenient
//! parser; mapping statuses and picking messages happens in `body`.

use std::fmt;

use serde_json::Value;

use crate::excerpt::{Escaped, MESSAGE_LIMIT, bound};

/// Longest key of a location kept, in bytes; longer keys are cut with `…`.
const KEY_LIMIT: usize = 128;
/// Most characters of a message `Display` of an issue shows.
const DISPLAY_MSG_CHARS: usize = 300;
/// Most characters of a location `Display` of an issue shows.
const DISPLAY_PATH_CHARS: usize = 200;

/// One segment of a [`ValidationIssue::loc`]: an object key or an array
/// index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LocSegment {
    /// An object key or a location name (`"body"`, `"query"`, a field name).
    Key(String),
    /// An array index.
    Index(u64),
}

impl fmt::Display for LocSegment {
    /// The key with control characters escaped (as in
    /// [`crate::Error`]'s `Display`), or the index.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocSegment::Key(key) => Escaped::new(key, KEY_LIMIT).fmt(f),
            LocSegment::Index(index) => write!(f, "{index}"),
        }
    }
}

/// One entry of a FastAPI validation error list.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ValidationIssue {
    /// Where the problem is, e.g. `["body", "entity_targets", 0, "description"]`.
    pub loc: Vec<LocSegment>,
    /// Human-readable message, e.g. `Field required`.
    pub msg: String,
    /// Machine-readable pydantic error type (the `type` field), e.g. `missing`.
    pub error_type: String,
    /// The offending input as echoed by the server (pydantic v2), if any.
    pub input: Option<Value>,
    /// Extra context such as limits (pydantic `ctx`), if any.
    pub ctx: Option<Value>,
}

impl ValidationIssue {
    /// The location rendered as a path: `body.entity_targets[0].description`.
    pub fn path(&self) -> String {
        let mut path = String::new();
        for segment in &self.loc {
            match segment {
                LocSegment::Key(key) => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                }
                LocSegment::Index(index) => {
                    path.push('[');
                    path.push_str(&index.to_string());
                    path.push(']');
                }
            }
        }
        path
    }

    /// Parses one list entry. Returns `None` unless it is an object with a
    /// string `msg`; a missing `loc` or `type` is tolerated.
    pub(crate) fn from_value(value: &Value) -> Option<ValidationIssue> {
        let object = value.as_object()?;
        let msg = bound(object.get("msg")?.as_str()?.to_owned(), MESSAGE_LIMIT);
        let loc = match object.get("loc") {
            Some(Value::Array(items)) => items.iter().map(segment).collect(),
            Some(other @ (Value::String(_) | Value::Number(_))) => vec![segment(other)],
            _ => Vec::new(),
        };
        let error_type = object
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let error_type = bound(error_type.to_owned(), MESSAGE_LIMIT);
        Some(ValidationIssue {
            loc,
            msg,
            error_type,
            input: object.get("input").cloned(),
            ctx: object.get("ctx").cloned(),
        })
    }
}

impl fmt::Display for ValidationIssue {
    /// `body.name: Field required`, or just the message without a location.
    ///
    /// One line: control characters and bidirectional controls in the
    /// location and the message are escaped as in [`crate::Error`]'s
    /// `Display`, and each is bounded (200 characters of the location, 300
    /// of the message, a cut marked with `…`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path();
        let msg = Escaped::new(&self.msg, DISPLAY_MSG_CHARS);
        if path.is_empty() {
            msg.fmt(f)
        } else {
            write!(f, "{}: {msg}", Escaped::new(&path, DISPLAY_PATH_CHARS))
        }
    }
}

impl ValidationIssue {
    /// `body.name: Field required` with the server's text as sent (for
    /// [`crate::Error::message`]).
    fn raw_line(&self) -> String {
        let path = self.path();
        if path.is_empty() {
            self.msg.clone()
        } else {
            format!("{path}: {}", self.msg)
        }
    }
}

fn segment(value: &Value) -> LocSegment {
    match value {
        Value::String(key) => LocSegment::Key(bound(key.clone(), KEY_LIMIT)),
        Value::Number(number) => match number.as_u64() {
            Some(index) => LocSegment::Index(index),
            None => LocSegment::Key(number.to_string()),
        },
        other => LocSegment::Key(bound(other.to_string(), 64)),
    }
}

/// Parses a `detail` list; `None` unless every entry is an issue.
pub(crate) fn parse_list(items: &[Value]) -> Option<Vec<ValidationIssue>> {
    if items.is_empty() {
        return None;
    }
    items.iter().map(ValidationIssue::from_value).collect()
}

/// `body.name: Field required (and 2 more)`.
pub(crate) fn summary(issues: &[ValidationIssue]) -> Option<String> {
    let first = issues.first()?;
    let text = match issues.len() {
        1 => first.raw_line(),
        n => format!("{} (and {} more)", first.raw_line(), n - 1),
    };
    Some(bound(text, MESSAGE_LIMIT))
}
