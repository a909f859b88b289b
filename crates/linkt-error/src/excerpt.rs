//! Bounded, char-boundary-safe text excerpts of response bodies, and the
//! escaping that makes server text safe to print.
//!
//! Only the functions that turn arbitrary bytes into short printable text
//! live here; deciding *which* text to show is the job of `body` and
//! `error`.

use std::fmt;
use std::fmt::Write as _;

/// Marker appended to an excerpt that was cut.
pub(crate) const CUT_MARKER: char = '…';

/// Maximum length in bytes of [`crate::Error::body_excerpt`] (marker
/// included).
pub const BODY_EXCERPT_LIMIT: usize = 512;

/// Maximum length in bytes of [`crate::Error::message`] (marker included).
pub const MESSAGE_LIMIT: usize = 1024;

/// Decodes at most `limit` bytes of `body` as UTF-8 text (invalid sequences
/// become U+FFFD), trims surrounding whitespace, and cuts the result on a
/// char boundary so that, marker included, it is at most `limit` bytes long.
/// Returns `None` when nothing but whitespace remains.
pub(crate) fn excerpt(body: &[u8], limit: usize) -> Option<String> {
    let limit = limit.max(CUT_MARKER.len_utf8());
    let end = body.len().min(limit);
    let prefix = body.get(..end).unwrap_or(body);
    let mut cut = end < body.len();

    let mut text = String::with_capacity(end);
    let mut chunks = prefix.utf8_chunks().peekable();
    while let Some(chunk) = chunks.next() {
        text.push_str(chunk.valid());
        if !chunk.invalid().is_empty() {
            // An incomplete sequence at the very end of a cut prefix is a
            // character we split, not invalid data.
            if chunks.peek().is_none() && cut {
                break;
            }
            text.push(char::REPLACEMENT_CHARACTER);
        }
    }

    let trimmed = text.trim();
    if trimmed.is_empty() {
        return None;
    }
    let mut text = if trimmed.len() == text.len() {
        text
    } else {
        trimmed.to_owned()
    };
    if text.len() > limit {
        cut = true;
    }
    if cut {
        truncate_on_char_boundary(&mut text, limit - CUT_MARKER.len_utf8());
        let kept = text.trim_end().len();
        text.truncate(kept);
        text.push(CUT_MARKER);
    }
    Some(text)
}

/// Bounds an owned string to `limit` bytes (marker included), cutting on a
/// char boundary.
pub(crate) fn bound(mut text: String, limit: usize) -> String {
    let limit = limit.max(CUT_MARKER.len_utf8());
    if text.len() > limit {
        truncate_on_char_boundary(&mut text, limit - CUT_MARKER.len_utf8());
        text.push(CUT_MARKER);
    }
    text
}

/// Collapses runs of whitespace (including newlines) into single spaces so
/// the text fits on one line.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn truncate_on_char_boundary(text: &mut String, max: usize) {
    if text.len() <= max {
        return;
    }
    let mut end = max;
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
}

/// Server text written escaped and bounded, for `Display`.
///
/// Every character a terminal would act on rather than show is written as
/// an escape, the way `{:?}` writes it: `\t`, `\n`, `\r`, and `\u{..}` for
/// the other C0 controls, DEL, the C1 controls, the bidirectional controls
/// (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069) and the line and
/// paragraph separators (U+2028, U+2029). Everything else, a backslash
/// included, is written as is, so the output is one line with no control
/// character. At most `max_chars` characters are written, escapes counted
/// as written and never split; when the text does not fit, what fits is
/// followed by `…`.
pub(crate) struct Escaped<'a> {
    text: &'a str,
    max_chars: usize,
}

impl<'a> Escaped<'a> {
    pub(crate) const fn new(text: &'a str, max_chars: usize) -> Escaped<'a> {
        Escaped { text, max_chars }
    }
}

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut written = 0;
        let mut buf = String::new();
        for c in self.text.chars() {
            buf.clear();
            push_escaped(&mut buf, c);
            let len = buf.chars().count();
            if written + len > self.max_chars {
                return f.write_char(CUT_MARKER);
            }
            f.write_str(&buf)?;
            written += len;
        }
        Ok(())
    }
}

/// Whether `c` is written as an escape by [`Escaped`].
pub(crate) fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\t' => out.push_str("\\t"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        c if needs_escape(c) => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
        c => out.push(c),
    }
}
