//! Replacing a secret the caller knows (the API key) in server text.
//!
//! A server may echo what it was sent, the key included, in its error
//! message. This module finds a given secret in strings, JSON values,
//! header values and raw bodies and replaces it with [`REDACTED`]; the
//! `Error` and [`ResponseRecord`] methods built on it decide *where* to
//! look. It knows nothing of where the secret comes from.

use serde_json::{Map, Value};

use crate::context::ResponseRecord;
use crate::excerpt::{CUT_MARKER, bound};

/// What replaces each occurrence of a redacted secret.
pub(crate) const REDACTED: &str = "[redacted]";

/// Secrets shorter than this many bytes are not redacted: replacing every
/// occurrence of a short string would mangle ordinary text.
pub(crate) const MIN_SECRET_LEN: usize = 8;

/// Shortest start of a secret redacted where a bound cut the text (just
/// before the `…` marker).
const MIN_CUT_PREFIX: usize = 4;

/// A secret in the forms it is looked for: the exact text, and the text as
/// it appears inside a JSON string when that differs (a `"`, `\` or control
/// character in the secret).
pub(crate) struct Secret<'a> {
    raw: &'a str,
    json: Option<String>,
}

impl<'a> Secret<'a> {
    /// `None` for a secret shorter than [`MIN_SECRET_LEN`] bytes.
    pub(crate) fn new(raw: &'a str) -> Option<Secret<'a>> {
        if raw.len() < MIN_SECRET_LEN {
            return None;
        }
        let json = serde_json::to_string(raw)
            .ok()
            .and_then(|quoted| Some(quoted.get(1..quoted.len().checked_sub(1)?)?.to_owned()))
            .filter(|escaped| escaped != raw);
        Some(Secret { raw, json })
    }

    fn forms(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.raw).chain(self.json.as_deref())
    }

    /// Replaces every occurrence, and a start of the secret (at least
    /// [`MIN_CUT_PREFIX`] bytes) that ends the text just before a `…` cut
    /// marker (that replacement does not make the text longer). Returns
    /// whether anything changed.
    pub(crate) fn redact_str(&self, text: &mut String) -> bool {
        let mut changed = false;
        for form in self.forms() {
            if text.contains(form) {
                *text = text.replace(form, REDACTED);
                changed = true;
            }
        }
        if let Some(head) = text.strip_suffix(CUT_MARKER) {
            for form in self.forms() {
                let cut = (MIN_CUT_PREFIX..form.len())
                    .rev()
                    .filter(|&n| form.is_char_boundary(n))
                    .find(|&n| form.get(..n).is_some_and(|start| head.ends_with(start)));
                if let Some(n) = cut {
                    // Never longer than before: the bound that cut it holds.
                    let before = text.len();
                    let room = before.saturating_sub(REDACTED.len() + CUT_MARKER.len_utf8());
                    let mut keep = (head.len() - n).min(room);
                    while !text.is_char_boundary(keep) {
                        keep -= 1;
                    }
                    text.truncate(keep);
                    text.push_str(REDACTED);
                    text.push(CUT_MARKER);
                    changed = true;
                    break;
                }
            }
        }
        changed
    }

    /// Redacts every string of a JSON value, object keys included.
    pub(crate) fn redact_value(&self, value: &mut Value) {
        match value {
            Value::String(text) => {
                self.redact_str(text);
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.redact_value(item)),
            Value::Object(object) => {
                if object
                    .keys()
                    .any(|key| self.forms().any(|f| key.contains(f)))
                {
                    let old = std::mem::take(object);
                    *object = old
                        .into_iter()
                        .map(|(mut key, value)| {
                            self.redact_str(&mut key);
                            (key, value)
                        })
                        .collect::<Map<String, Value>>();
                }
                object.values_mut().for_each(|item| self.redact_value(item));
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// The bytes with every occurrence replaced, or `None` when there was
    /// none.
    pub(crate) fn redact_bytes(&self, bytes: &[u8]) -> Option<Vec<u8>> {
        let mut current: Option<Vec<u8>> = None;
        for form in self.forms() {
            let source = current.as_deref().unwrap_or(bytes);
            if let Some(replaced) = replace_bytes(source, form.as_bytes(), REDACTED.as_bytes()) {
                current = Some(replaced);
            }
        }
        current
    }
}

/// Bounds `text` to `limit` bytes like [`bound`], and moves a cut that
/// falls inside a [`REDACTED`] marker to before it.
pub(crate) fn bound_redacted(text: &mut String, limit: usize) {
    if text.len() <= limit {
        return;
    }
    *text = bound(std::mem::take(text), limit);
    let Some(head) = text.strip_suffix(CUT_MARKER) else {
        return;
    };
    let partial = (1..REDACTED.len())
        .rev()
        .find(|&k| REDACTED.get(..k).is_some_and(|start| head.ends_with(start)));
    if let Some(k) = partial {
        let keep = head.len() - k;
        text.truncate(keep);
        text.push(CUT_MARKER);
    }
}

fn replace_bytes(haystack: &[u8], needle: &[u8], with: &[u8]) -> Option<Vec<u8>> {
    let find = |from: usize| {
        haystack
            .get(from..)?
            .windows(needle.len())
            .position(|window| window == needle)
            .map(|at| from + at)
    };
    let mut at = find(0)?;
    let mut out = Vec::with_capacity(haystack.len());
    let mut start = 0;
    loop {
        out.extend_from_slice(haystack.get(start..at)?);
        out.extend_from_slice(with);
        start = at + needle.len();
        match find(start) {
            Some(next) => at = next,
            None => break,
        }
    }
    out.extend_from_slice(haystack.get(start..)?);
    Some(out)
}

impl ResponseRecord {
    /// Replaces every occurrence of `secret` in the recorded body with
    /// `[redacted]`, before the body is read into an error: exact bytes,
    /// and the secret as written inside a JSON string when that differs.
    ///
    /// The client calls it with the API key, so that a server that
    /// echoes the key puts it in no part of the resulting
    /// [`Error`](crate::Error) read from this body (message, `detail`,
    /// validation issues, code, excerpt). The response headers are not part
    /// of the record; see [`Error::redact`](crate::Error::redact).
    ///
    /// A secret shorter than 8 bytes is left alone (replacing a short string
    /// everywhere would mangle ordinary text). Other spellings (percent-,
    /// base64- or `\u`-escaped) are not looked for.
    ///
    /// ```
    /// use linkt_error::ResponseRecord;
    ///
    /// let mut record = ResponseRecord {
    ///     operation_id: "icp_list",
    ///     attempts: 1,
    ///     body: r#"{"detail":"invalid key lk_live_0123456789"}"#.into(),
    /// };
    /// record.redact("lk_live_0123456789");
    /// assert_eq!(&record.body[..], br#"{"detail":"invalid key [redacted]"}"#);
    /// ```
    pub fn redact(&mut self, secret: &str) {
        if let Some(secret) = Secret::new(secret)
            && let Some(body) = secret.redact_bytes(&self.body)
        {
            self.body = body.into();
        }
    }
}
