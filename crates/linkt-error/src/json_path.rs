//! Locating a `serde_json` error in the JSON document it came from.
//!
//! `serde_json::Error` only reports a line and a column. This module turns
//! that position back into a path such as `.icps[0].created_at` by scanning
//! the body up to the error with a small tokenizer that tracks object keys
//! and array indices. It is bounded (linear in the scanned prefix, fixed
//! maximum depth and key length) and never panics, whatever the input.
//! It does not validate JSON; the scan is best effort on broken documents.

use std::fmt::Write as _;

/// Deepest nesting tracked (serde_json's own recursion limit is 128).
const MAX_DEPTH: usize = 128;
/// Longest key kept, in bytes; longer keys are cut with `…`.
const MAX_KEY: usize = 64;

/// Converts serde_json's 1-based `line` and `column` (bytes consumed on that
/// line) into a byte offset into `body`, clamped to its length.
pub(crate) fn offset_of(body: &[u8], line: usize, column: usize) -> usize {
    if line <= 1 {
        return column.min(body.len());
    }
    let mut seen = 1;
    for (index, byte) in body.iter().enumerate() {
        if *byte == b'\n' {
            seen += 1;
            if seen == line {
                return index
                    .saturating_add(1)
                    .saturating_add(column)
                    .min(body.len());
            }
        }
    }
    body.len()
}

/// Moves `offset` back over trailing whitespace and one `,`, `}` or `]`, if
/// that is what was consumed last; otherwise returns `offset` unchanged.
pub(crate) fn before_closing(body: &[u8], offset: usize) -> usize {
    let end = offset.min(body.len());
    let consumed = body.get(..end).unwrap_or(body);
    let trimmed = consumed
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    match consumed.get(trimmed.wrapping_sub(1)) {
        Some(b',' | b'}' | b']') if trimmed > 0 => trimmed - 1,
        _ => end,
    }
}

#[derive(Debug)]
enum Frame {
    Object { key: Option<String> },
    Array { index: u64 },
}

/// The path of the value being read when `offset` bytes of `body` had been
/// consumed: `.` for the root, `.icps[0].created_at`, `.["odd key"]`.
pub(crate) fn path_at(body: &[u8], offset: usize) -> String {
    let end = offset.min(body.len());
    let input = body.get(..end).unwrap_or(body);
    let mut stack: Vec<Frame> = Vec::new();
    // Frames deeper than MAX_DEPTH are counted, not stored.
    let mut overflow: usize = 0;
    let mut i = 0;
    while let Some(&byte) = input.get(i) {
        match byte {
            b'{' | b'[' => {
                if stack.len() < MAX_DEPTH {
                    stack.push(if byte == b'{' {
                        Frame::Object { key: None }
                    } else {
                        Frame::Array { index: 0 }
                    });
                } else {
                    overflow += 1;
                }
                i += 1;
            }
            b'}' | b']' => {
                if overflow > 0 {
                    overflow -= 1;
                } else {
                    stack.pop();
                }
                i += 1;
            }
            b',' => {
                if overflow == 0 {
                    match stack.last_mut() {
                        Some(Frame::Object { key }) => *key = None,
                        Some(Frame::Array { index }) => *index = index.saturating_add(1),
                        None => {}
                    }
                }
                i += 1;
            }
            b'"' => {
                let (text, next) = scan_string(input, i + 1);
                if overflow == 0
                    && let Some(Frame::Object { key }) = stack.last_mut()
                    && key.is_none()
                {
                    *key = Some(text);
                }
                i = next;
            }
            _ => i += 1,
        }
    }

    let mut path = String::new();
    for frame in &stack {
        match frame {
            Frame::Object { key: Some(key) } => push_key(&mut path, key),
            Frame::Object { key: None } => {}
            Frame::Array { index } => {
                let _ = write!(path, "[{index}]");
            }
        }
    }
    if overflow > 0 {
        path.push('…');
    }
    if path.is_empty() {
        path.push('.');
    }
    path
}

/// Reads a string body starting after its opening quote; returns the
/// (bounded, unescaped as far as simple escapes go) text and the index after
/// the closing quote (or the end of input).
fn scan_string(input: &[u8], start: usize) -> (String, usize) {
    let mut raw: Vec<u8> = Vec::new();
    let mut i = start;
    let mut truncated = false;
    while let Some(&byte) = input.get(i) {
        match byte {
            b'"' => {
                i += 1;
                break;
            }
            b'\\' => {
                let escaped = input.get(i + 1).copied();
                let out = match escaped {
                    Some(b'n') => b'\n',
                    Some(b't') => b'\t',
                    Some(b'r') => b'\r',
                    Some(b'b') => 0x08,
                    Some(b'f') => 0x0c,
                    Some(b'u') => b'?',
                    Some(other) => other,
                    None => b'\\',
                };
                push_bounded(&mut raw, out, &mut truncated);
                i += if escaped == Some(b'u') { 6 } else { 2 };
            }
            _ => {
                push_bounded(&mut raw, byte, &mut truncated);
                i += 1;
            }
        }
    }
    let mut text = String::from_utf8_lossy(&raw).into_owned();
    if truncated {
        // `raw` may end inside a character: drop a trailing replacement.
        if text.ends_with(char::REPLACEMENT_CHARACTER) {
            text.pop();
        }
        text.push('…');
    }
    (text, i)
}

fn push_bounded(raw: &mut Vec<u8>, byte: u8, truncated: &mut bool) {
    if raw.len() < MAX_KEY {
        raw.push(byte);
    } else {
        *truncated = true;
    }
}

/// Appends `.key` for identifier-like keys and `["key"]` otherwise.
fn push_key(path: &mut String, key: &str) {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$' || c == '@');
    if plain {
        path.push('.');
        path.push_str(key);
    } else {
        path.push('[');
        // A `String` serializes infallibly; fall back to the raw key anyway.
        match serde_json::to_string(key) {
            Ok(quoted) => path.push_str(&quoted),
            Err(_) => path.push_str(key),
        }
        path.push(']');
    }
}
