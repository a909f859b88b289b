//! Rendering the JSON path of a decode failure.
//!
//! `serde_path_to_error` records where a failed decode was; this module
//! writes its [`Path`] the way [`Error::decode_path`](crate::Error::decode_path)
//! shows it: `.` for the root, `.icps[0].created_at`, `["odd key"]`. Keys
//! are bounded, so a path stays short whatever the body holds.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde_path_to_error::{Path, Segment};

/// Longest key kept, in bytes; longer keys are cut with `…`.
const MAX_KEY: usize = 64;

/// The path `path` names. A segment `serde_path_to_error` could not name
/// (a non-string key, a value buffered by an untagged union) ends the path
/// there: what follows it would be ambiguous.
pub(crate) fn render(path: &Path) -> String {
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => {
                let _ = write!(out, "[{index}]");
            }
            Segment::Map { key } | Segment::Enum { variant: key } => push_key(&mut out, key),
            Segment::Unknown => break,
        }
    }
    if out.is_empty() {
        out.push('.');
    }
    out
}

/// Appends `.key` for identifier-like keys and `["key"]` otherwise.
fn push_key(path: &mut String, key: &str) {
    let key: Cow<'_, str> = if key.len() > MAX_KEY {
        let end = (0..=MAX_KEY)
            .rev()
            .find(|&i| key.is_char_boundary(i))
            .unwrap_or(0);
        Cow::Owned(format!("{}…", key.get(..end).unwrap_or_default()))
    } else {
        Cow::Borrowed(key)
    };
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$' || c == '@');
    if plain {
        path.push('.');
        path.push_str(&key);
    } else {
        path.push('[');
        // A `str` serializes infallibly; fall back to the raw key anyway.
        match serde_json::to_string(&*key) {
            Ok(quoted) => path.push_str(&quoted),
            Err(_) => path.push_str(&key),
        }
        path.push(']');
    }
}
