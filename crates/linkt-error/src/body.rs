//! Reading an error response body: FastAPI shapes, plain text and HTML.
//!
//! This module extracts the message, error code, `detail` value and
//! validation issues from a body. It does not look at the status or the
//! headers; `error` combines the two.

use serde_json::{Map, Value};

use crate::excerpt::{BODY_EXCERPT_LIMIT, MESSAGE_LIMIT, bound, excerpt, one_line};
use crate::validation::{ValidationIssue, parse_list, summary};

/// What a body said, as far as it could be understood.
#[derive(Debug, Default)]
pub(crate) struct ParsedBody {
    /// The server's message, if the body held one.
    pub(crate) message: Option<String>,
    /// An error code string from a `code`/`error` field.
    pub(crate) code: Option<String>,
    /// The `detail` value of a JSON body, whatever its shape.
    pub(crate) detail: Option<Value>,
    /// Issues of a FastAPI validation list.
    pub(crate) validation: Vec<ValidationIssue>,
    /// A bounded excerpt of the raw body (absent for an empty body).
    pub(crate) excerpt: Option<String>,
}

pub(crate) fn parse(body: &[u8]) -> ParsedBody {
    let excerpt = excerpt(body, BODY_EXCERPT_LIMIT);
    if excerpt.is_none() {
        return ParsedBody::default();
    }
    let mut parsed = match serde_json::from_slice::<Value>(body) {
        Ok(value) => from_json(value),
        Err(_) => ParsedBody {
            message: text_message(body),
            ..ParsedBody::default()
        },
    };
    parsed.excerpt = excerpt;
    parsed
}

fn from_json(value: Value) -> ParsedBody {
    let Value::Object(mut object) = value else {
        // A bare string is a message; any other JSON value is shown as is.
        return ParsedBody {
            message: Some(match value {
                Value::String(text) => bound(text, MESSAGE_LIMIT),
                other => bound(other.to_string(), MESSAGE_LIMIT),
            }),
            ..ParsedBody::default()
        };
    };

    let detail = object.remove("detail");
    let mut parsed = ParsedBody {
        code: code_of(&object),
        ..ParsedBody::default()
    };
    match &detail {
        Some(Value::String(text)) => parsed.message = Some(bound(text.clone(), MESSAGE_LIMIT)),
        Some(Value::Array(items)) => match parse_list(items) {
            Some(issues) => {
                parsed.message = summary(&issues);
                parsed.validation = issues;
            }
            None => parsed.message = Some(compact(&Value::Array(items.clone()))),
        },
        Some(Value::Object(inner)) => {
            parsed.message =
                Some(message_of(inner).unwrap_or_else(|| compact(&Value::Object(inner.clone()))));
            if parsed.code.is_none() {
                parsed.code = code_of(inner);
            }
        }
        Some(Value::Null) | None => {
            parsed.message = message_of(&object)
                .or_else(|| (!object.is_empty()).then(|| compact(&Value::Object(object.clone()))));
        }
        Some(other) => parsed.message = Some(compact(other)),
    }
    parsed.detail = detail;
    parsed
}

/// A `message`, `msg` or `error` string field (in that order).
fn message_of(object: &Map<String, Value>) -> Option<String> {
    ["message", "msg", "error", "title"]
        .iter()
        .find_map(|name| object.get(*name)?.as_str())
        .map(|text| bound(text.to_owned(), MESSAGE_LIMIT))
}

/// A `code` string field, else an `error` field that looks like a code
/// (`rate_limit_exceeded`), not a sentence.
fn code_of(object: &Map<String, Value>) -> Option<String> {
    if let Some(code) = object.get("code").and_then(Value::as_str)
        && !code.trim().is_empty()
    {
        return Some(bound(code.trim().to_owned(), 64));
    }
    object
        .get("error")
        .and_then(Value::as_str)
        .filter(|text| looks_like_code(text))
        .map(str::to_owned)
}

fn looks_like_code(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.' || b == b'-'
        })
}

fn compact(value: &Value) -> String {
    bound(value.to_string(), MESSAGE_LIMIT)
}

/// A one-line message for a non-JSON body: an HTML page's `<title>` if it
/// has one, otherwise the start of the text.
fn text_message(body: &[u8]) -> Option<String> {
    let head = excerpt(body, 4096)?;
    if head.starts_with('<')
        && let Some(title) = html_title(&head)
    {
        return Some(title);
    }
    let line = one_line(&head);
    let line = line.strip_suffix('…').map(str::trim_end).unwrap_or(&line);
    (!line.is_empty()).then(|| bound(line.to_owned(), 200))
}

fn html_title(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + lower.get(open..)?.find('>')? + 1;
    let end = start + lower.get(start..)?.find("</title")?;
    let title = one_line(html.get(start..end)?);
    (!title.is_empty()).then(|| bound(title, 200))
}
