//! Requests as the mock server received them: recording, and rendering them
//! into snapshot text with the key redacted and volatile parts masked.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use httpmock::prelude::HttpMockRequest;
use regex::Regex;

use crate::KEY;

/// One request as received.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) method: String,
    pub(crate) path: String,
    /// Decoded query pairs, in the order sent.
    pub(crate) query: Vec<(String, String)>,
    /// Header names lower case, in the order received.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Recorded {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Records every request an httpmock `is_true` matcher sees.
#[derive(Clone, Default)]
pub(crate) struct Recorder(Arc<Mutex<Vec<Recorded>>>);

impl Recorder {
    /// A matcher that records the request and accepts it.
    pub(crate) fn matcher(&self) -> impl Fn(&HttpMockRequest) -> bool + Send + Sync + 'static {
        let requests = self.0.clone();
        move |request: &HttpMockRequest| {
            let uri = request.uri();
            let recorded = Recorded {
                method: request.method_str().to_owned(),
                path: uri.path().to_owned(),
                query: request.query_params(),
                headers: request
                    .headers_vec()
                    .iter()
                    .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
                    .collect(),
                body: request.body_vec(),
            };
            requests.lock().expect("recorder").push(recorded);
            true
        }
    }

    /// The requests recorded so far.
    pub(crate) fn take(&self) -> Vec<Recorded> {
        std::mem::take(&mut *self.0.lock().expect("recorder"))
    }
}

/// Renders a request for a snapshot: method and path, sorted query pairs,
/// headers (the key as `<redacted>`, the user agent's version and the
/// multipart boundary masked, `host` left out), and the body as pretty JSON
/// with sorted keys or a description of the multipart parts.
///
/// Panics when the request lacks the key or a well-formed user agent, so a
/// snapshot can never hide their absence.
pub(crate) fn render(request: &Recorded) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} {}", request.method, request.path);

    let mut query = request.query.clone();
    query.sort();
    if query.is_empty() {
        let _ = writeln!(out, "query: (none)");
    } else {
        let _ = writeln!(out, "query:");
        for (name, value) in &query {
            let _ = writeln!(out, "  {name} = {value}");
        }
    }

    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .filter(|(name, _)| name != "host")
        .map(|(name, value)| (name.clone(), mask_header(name, value)))
        .collect();
    headers.sort();
    let _ = writeln!(out, "headers:");
    for (name, value) in &headers {
        let _ = writeln!(out, "  {name}: {value}");
    }

    let content_type = request.header("content-type").unwrap_or("");
    if request.body.is_empty() {
        let _ = writeln!(out, "body: (none)");
    } else if content_type.starts_with("application/json") {
        let value: serde_json::Value =
            serde_json::from_slice(&request.body).expect("the JSON body parses");
        let _ = writeln!(out, "body:");
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&sorted(value)).expect("JSON renders")
        );
    } else if content_type.starts_with("multipart/form-data") {
        let _ = writeln!(out, "body: multipart/form-data");
        for part in multipart_parts(content_type, &request.body) {
            let show = |field: &Option<String>| {
                field
                    .as_deref()
                    .map_or("(none)".to_owned(), |v| format!("{v:?}"))
            };
            let _ = writeln!(
                out,
                "  part name={} filename={} content-type={} size={} bytes",
                show(&part.name),
                show(&part.filename),
                show(&part.content_type),
                part.size
            );
        }
    } else {
        let _ = writeln!(
            out,
            "body: {} bytes of {content_type:?}",
            request.body.len()
        );
    }
    assert!(!out.contains(KEY), "the API key leaked into a snapshot");
    out
}

/// `value` with the keys of every object in sorted order: key order means
/// nothing in JSON, and maps (`HashMap` fields) serialize in varying order.
fn sorted(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.into_iter().collect();
            entries.sort_by(|(a, _), (b, _)| a.cmp(b));
            serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(sorted).collect())
        }
        other => other,
    }
}

fn mask_header(name: &str, value: &str) -> String {
    match name {
        "x-api-key" => {
            assert_eq!(value, KEY, "the request carries the client's key");
            "<redacted>".to_owned()
        }
        "user-agent" => {
            let re = Regex::new(r"^linkt-rust/\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$").expect("regex");
            assert!(re.is_match(value), "user agent `{value}`");
            "linkt-rust/<version>".to_owned()
        }
        "content-type" if value.starts_with("multipart/form-data") => {
            let re = Regex::new(r"boundary=[^;]+").expect("regex");
            assert!(re.is_match(value), "multipart without a boundary: {value}");
            re.replace(value, "boundary=<boundary>").into_owned()
        }
        "content-length" if value.parse::<u64>().is_err() => {
            panic!("content-length `{value}` is not a number")
        }
        _ => value.to_owned(),
    }
}

/// One part of a multipart body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    pub(crate) name: Option<String>,
    pub(crate) filename: Option<String>,
    pub(crate) content_type: Option<String>,
    pub(crate) size: usize,
}

/// The parts of a `multipart/form-data` body. Panics on a malformed body.
pub(crate) fn multipart_parts(content_type: &str, body: &[u8]) -> Vec<Part> {
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .expect("a boundary")
        .trim_matches('"');
    let delimiter = format!("--{boundary}");
    let text = body;
    let mut parts = Vec::new();
    let positions: Vec<usize> = find_all(text, delimiter.as_bytes());
    assert!(positions.len() >= 2, "a multipart body with parts");
    for window in positions.windows(2) {
        let start = window[0] + delimiter.len();
        let chunk = &text[start..window[1]];
        let chunk = chunk.strip_prefix(b"\r\n").expect("CRLF after a delimiter");
        let chunk = chunk
            .strip_suffix(b"\r\n")
            .expect("CRLF before a delimiter");
        let split = find_all(chunk, b"\r\n\r\n")
            .first()
            .copied()
            .expect("part headers end with an empty line");
        let head = String::from_utf8_lossy(&chunk[..split]).into_owned();
        let content = &chunk[split + 4..];
        let mut part = Part {
            name: None,
            filename: None,
            content_type: None,
            size: content.len(),
        };
        for line in head.split("\r\n") {
            let (name, value) = line.split_once(':').expect("a part header");
            match name.trim().to_ascii_lowercase().as_str() {
                "content-disposition" => {
                    for param in value.split(';').skip(1) {
                        if let Some((key, val)) = param.trim().split_once('=') {
                            let val = val.trim_matches('"').to_owned();
                            match key {
                                "name" => part.name = Some(val),
                                "filename" => part.filename = Some(val),
                                _ => {}
                            }
                        }
                    }
                }
                "content-type" => part.content_type = Some(value.trim().to_owned()),
                _ => {}
            }
        }
        parts.push(part);
    }
    let last = positions.last().copied().unwrap_or(0) + delimiter.len();
    assert!(
        text[last..].starts_with(b"--"),
        "the body ends with the closing delimiter"
    );
    parts
}

fn find_all(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return Vec::new();
    }
    (0..=haystack.len() - needle.len())
        .filter(|&i| &haystack[i..i + needle.len()] == needle)
        .collect()
}
