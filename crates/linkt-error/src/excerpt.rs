//! Bounded, char-boundary-safe text excerpts of response bodies.
//!
//! Only the functions that turn arbitrary bytes into short printable text
//! live here; deciding *which* text to show is the job of `body`.

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
