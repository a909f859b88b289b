//! Integration tests for `linkt-error` (one binary, a module per area).
#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

mod decode;
mod excerpt;
mod one_line;
mod progenitor;
mod redact;
mod status;
mod transport;

use http::{HeaderMap, HeaderName, HeaderValue};

/// Builds a header map from `(name, value)` pairs.
pub(crate) fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(name, value)| {
            (
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            )
        })
        .collect()
}
