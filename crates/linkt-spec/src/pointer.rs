//! RFC 6901 JSON pointers as plain strings.
//!
//! Pointers are built while walking a document, so that every error can say
//! where it is. Only the building and the lookup of local references live
//! here; nothing here knows about OpenAPI.

use serde_json::Value;

/// Escapes one reference token (`~` → `~0`, `/` → `~1`).
pub(crate) fn escape(token: &str) -> std::borrow::Cow<'_, str> {
    if token.contains(['~', '/']) {
        token.replace('~', "~0").replace('/', "~1").into()
    } else {
        token.into()
    }
}

/// The pointer to `token` inside the value at `parent`.
pub(crate) fn child(parent: &str, token: &str) -> String {
    format!("{parent}/{}", escape(token))
}

/// Looks up a local reference (`#/components/schemas/Foo`) in `doc`.
///
/// Returns `None` for references that are not local (do not start with
/// `#`), for fragments that are not valid JSON pointers and for pointers
/// that lead nowhere. Percent-encoding in the fragment is decoded.
pub(crate) fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    let fragment = reference.strip_prefix('#')?;
    let pointer = percent_decode(fragment)?;
    if !pointer.is_empty() && !pointer.starts_with('/') {
        return None;
    }
    doc.pointer(&pointer)
}

/// Decodes `%XX` escapes, as URI fragments may carry them.
fn percent_decode(text: &str) -> Option<String> {
    if !text.contains('%') {
        return Some(text.to_owned());
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escapes_tokens() {
        assert_eq!(child("/paths", "/items/{id}"), "/paths/~1items~1{id}");
        assert_eq!(child("", "a~b"), "/a~0b");
    }

    #[test]
    fn resolves_local_references() {
        let doc = json!({"components": {"schemas": {"A B": {"type": "string"}}}});
        assert_eq!(
            resolve(&doc, "#/components/schemas/A%20B"),
            Some(&json!({"type": "string"}))
        );
        assert_eq!(resolve(&doc, "#/components/schemas/C"), None);
        assert_eq!(resolve(&doc, "other.json#/a"), None);
        assert_eq!(resolve(&doc, "#"), Some(&doc));
    }
}
