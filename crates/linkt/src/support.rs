//! What the generated `send` methods call in place of `progenitor-client`'s
//! request-path helpers.
//!
//! `cargo xtask generate` rewrites progenitor's output to call these (see
//! `xtask/src/request_path.rs`). Each one does what the helper it replaces
//! does, with the same errors, minus a copy:
//!
//! * [`ToPathSegment`] percent-encodes a path parameter straight into the
//!   URL being formatted, with `progenitor_client::encode_path`'s character
//!   set plus `\`, instead of through two intermediate `String`s. It first
//!   refuses a value that would not be one path segment of its own (see
//!   below), which `encode_path` lets through;
//! * [`json`], [`empty`] and [`stream`] make the [`ResponseValue`] of an
//!   [`Answer`], the 2xx response `Client::call` returned, moving its headers
//!   instead of cloning them from a response that is dropped right after;
//!   [`json`] decodes the body `Client::call` already read, and a body that
//!   does not decode is an [`ErrorKind::Decode`] error naming the operation
//!   and the attempts, with the key redacted from what it quotes;
//! * [`invalid_request`] and [`unbuilt`] turn a failure before sending (a
//!   parameter that failed its conversion or check, a request reqwest could
//!   not build) into an [`ErrorKind::InvalidRequest`] naming the operation;
//! * [`IntegerArg`] lets a `page` or `page_size` setter take any integer.
//!
//! # Bodies are read within a limit
//!
//! [`read_body`] reads a body chunk by chunk and stops at a limit, checking
//! `Content-Length` first when there is one, so a call never holds much more
//! than the limit in memory however long the body is. It is the only reader
//! of a body the client buffers: `Client::call` reads a JSON success body
//! with it inside each attempt (so a body that breaks off can be retried)
//! and hands it over in the [`Answer`]; a failure body is read with it too.
//! A 2xx body over the limit is [`ErrorKind::BodyTooLarge`], one cut off a
//! connection error. [`stream`] reads nothing: the CSV export has no limit.
//!
//! # A path parameter is one segment
//!
//! Percent-encoding `/` keeps an id from adding segments, but two kinds of
//! value change the path's shape anyway, because the URL parser rewrites the
//! path after the value is in it:
//!
//! * an empty value, `.` and `..` (dot segments: `DELETE /v1/icp/..` is
//!   resolved to `DELETE /v1/`). The WHATWG URL rules also read `%2e` as a
//!   dot, so `%2e`, `.%2e`, `%2e.` and `%2e%2e`, in any case, are dot
//!   segments too. This encoding turns their `%` into `%25`, which defuses
//!   them here, but a server or proxy that decodes the path twice would see
//!   a dot segment, and no Linkt id looks like one. All of these are refused
//!   with an error naming the parameter, before anything is sent: the
//!   generated code returns it through [`invalid_request`], as an
//!   [`ErrorKind::InvalidRequest`] naming the operation too.
//! * `\`, which the URL parser reads as `/` in an `http(s)` URL. It is
//!   percent-encoded (`%5C`), the one byte this set adds to `encode_path`'s.
//!
//! Every other value is accepted and becomes exactly one segment, which
//! percent-decodes to the value.
//!
//! The tests below check each helper against the one it replaces, and the
//! segments against the URL parser reqwest uses.
//!
//! [`ErrorKind::InvalidRequest`]: linkt_error::ErrorKind::InvalidRequest
//! [`ErrorKind::BodyTooLarge`]: linkt_error::ErrorKind::BodyTooLarge
//! [`ErrorKind::Decode`]: linkt_error::ErrorKind::Decode

use std::fmt;
use std::future::Future;

use bytes::Bytes;
use http::HeaderValue;
use linkt_backoff::TransportFailure;
use linkt_error::{BodyShortfall, CallContext};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use progenitor_client::{ByteStream, OperationInfo, ResponseValue};
use serde::de::DeserializeOwned;

use crate::Error;

/// The printable ASCII bytes a path segment percent-encodes, besides
/// controls: `progenitor_client`'s set, and `\` (a separator to the URL
/// parser).
const ENCODED_PUNCTUATION: &[u8] = b" \"#<>?`{}/%\\";

/// Controls, [`ENCODED_PUNCTUATION`] and (by `utf8_percent_encode`) every
/// non-ASCII byte are encoded.
const PATH_SET: &AsciiSet = &{
    let mut set = CONTROLS.add(ENCODED_PUNCTUATION[0]);
    let mut i = 1;
    while i < ENCODED_PUNCTUATION.len() {
        set = set.add(ENCODED_PUNCTUATION[i]);
        i += 1;
    }
    set
};

/// `KEPT[b]` is true for each byte `b` that [`PATH_SET`] leaves as it is: a
/// table lookup per byte for the common case of nothing to encode.
const KEPT: [bool; 256] = {
    let mut kept = [false; 256];
    let mut b = 0x20; // controls are 0x00-0x1f and 0x7f; non-ASCII is encoded
    while b < 0x7f {
        kept[b] = true;
        b += 1;
    }
    let mut i = 0;
    while i < ENCODED_PUNCTUATION.len() {
        kept[ENCODED_PUNCTUATION[i] as usize] = false;
        i += 1;
    }
    kept
};

/// A path parameter, displayed percent-encoded as one path segment.
///
/// Built by [`ToPathSegment::to_path_segment`], which checks the value first.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PathSegment<'a, T: ?Sized>(&'a T);

/// `value.to_path_segment("name")` in place of
/// `encode_path(&value.to_string())`.
///
/// Implemented for every `Display` type, as `ToString` is, so a method call
/// resolves to the same `Display` impl that `to_string()` did (through
/// `Deref` for the generated string newtypes).
pub(crate) trait ToPathSegment {
    /// This value as one percent-encoded path segment, or, when it would
    /// change the path's shape (empty, or a dot segment), the message of the
    /// error that refuses it, naming the parameter `name`.
    fn to_path_segment(&self, name: &str) -> Result<PathSegment<'_, Self>, String>;
}

impl<T: fmt::Display + ?Sized> ToPathSegment for T {
    fn to_path_segment(&self, name: &str) -> Result<PathSegment<'_, Self>, String> {
        let mut head = Head::default();
        // `Head` never fails; an error is the value's own and is reported by
        // the formatting of the URL, as it was for `to_string()`.
        let _ = fmt::write(&mut head, format_args!("{self}"));
        match head.value() {
            Some(b"") => Err(format!(
                "path parameter `{name}` may not be empty (an empty segment would change the path)"
            )),
            Some(value) if is_dot_segment(value) => Err(format!(
                "path parameter `{name}` may not be `{}` (a dot segment would change the path)",
                String::from_utf8_lossy(value)
            )),
            _ => Ok(PathSegment(self)),
        }
    }
}

/// The longest spelling of a dot segment: `%2e%2e`.
const LONGEST_DOT_SEGMENT: usize = 6;

/// What a value displays as, when it is short enough to be a dot segment:
/// the check formats the value without allocating.
#[derive(Default)]
struct Head {
    len: usize,
    bytes: [u8; LONGEST_DOT_SEGMENT],
}

impl Head {
    /// The whole value, if it is at most [`LONGEST_DOT_SEGMENT`] bytes.
    fn value(&self) -> Option<&[u8]> {
        self.bytes.get(..self.len)
    }
}

impl fmt::Write for Head {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if let Some(room) = self.bytes.get_mut(self.len..) {
            let n = room.len().min(s.len());
            room[..n].copy_from_slice(&s.as_bytes()[..n]);
        }
        self.len = self.len.saturating_add(s.len());
        Ok(())
    }
}

/// Whether `value` is `.` or `..`, each dot possibly spelled `%2e` or `%2E`:
/// what the WHATWG URL parser treats as a dot segment.
fn is_dot_segment(value: &[u8]) -> bool {
    let dot = |s: &[u8]| s == b"." || s.eq_ignore_ascii_case(b"%2e");
    dot(value) || (1..value.len()).any(|i| dot(&value[..i]) && dot(&value[i..]))
}

impl<T: fmt::Display + ?Sized> fmt::Display for PathSegment<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        /// Encodes whatever is written through it. The set maps each byte on
        /// its own, so encoding the value chunk by chunk, as `Display` writes
        /// it, gives what encoding it whole would.
        struct Encode<'a, 'b>(&'a mut fmt::Formatter<'b>);

        impl fmt::Write for Encode<'_, '_> {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                // Ids are plain ASCII: one pass to find that out, one write.
                if s.bytes().all(|b| KEPT[usize::from(b)]) {
                    return self.0.write_str(s);
                }
                utf8_percent_encode(s, PATH_SET).try_for_each(|part| self.0.write_str(part))
            }
        }

        fmt::write(&mut Encode(f), format_args!("{}", self.0))
    }
}

impl crate::Operation {
    /// This operation's path with its parameters filled in by `value_of`,
    /// each one percent-encoded segment as the client's own calls encode it
    /// (`/v1/icp/{icp_id}` → `/v1/icp/507f1f77bcf86cd799439011`), for a
    /// request made outside the typed builders.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidRequest`](crate::ErrorKind::InvalidRequest),
    /// naming the operation and the parameter, for a parameter `value_of`
    /// has no value for, or a value that would change the path's shape (an
    /// empty one, or a dot segment such as `..` or `%2e`), as the typed
    /// builders refuse it.
    ///
    /// ```
    /// let op = linkt::Operation::find("sheet_schema_get").expect("an operation");
    /// let path = op.path_with(|name| (name == "sheet_id").then_some("a b")).expect("valid");
    /// assert_eq!(path, "/v1/sheet/schema/a%20b");
    /// assert!(op.path_with(|_| Some("..")).is_err());
    /// ```
    pub fn path_with<'v>(
        &self,
        value_of: impl Fn(&str) -> Option<&'v str>,
    ) -> Result<String, Error> {
        let refuse = |message: String| Error::invalid_request(message, &call_context(self.name, 0));
        let mut path = String::with_capacity(self.path.len() + 24);
        let mut rest = self.path;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}').map(|end| open + end) else {
                break;
            };
            let name = &rest[open + 1..close];
            let value = value_of(name)
                .ok_or_else(|| refuse(format!("path parameter `{name}` has no value")))?;
            let segment = value.to_path_segment(name).map_err(refuse)?;
            path.push_str(&rest[..open]);
            // Writing to a `String` cannot fail.
            let _ = fmt::write(&mut path, format_args!("{segment}"));
            rest = &rest[close + 1..];
        }
        path.push_str(rest);
        Ok(path)
    }
}

/// What [`read_body`] does with a body over its limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OverLimit {
    /// Keep nothing: a success body over the limit fails the call (refused
    /// on its `Content-Length` before anything is read).
    Refuse,
    /// Keep the first `limit` bytes: a failure body's start has the message.
    KeepStart,
}

/// A body read by [`read_body`]: all of it, or what was read and why the
/// rest was not.
#[derive(Debug)]
pub(crate) struct ReadBody {
    pub(crate) body: Bytes,
    pub(crate) shortfall: Option<BodyShortfall>,
}

/// Reads `response`'s body, at most `limit` bytes of it.
///
/// A `Content-Length` over the limit is refused before reading with
/// [`OverLimit::Refuse`]; otherwise chunks are read until the end or the
/// limit. A body of one chunk is kept as it came (no copy); more chunks go
/// into one buffer, sized from `Content-Length` when there is one and
/// otherwise grown by doubling up to the limit, so the buffer never holds
/// more than `limit` bytes and its capacity never exceeds
/// `max(limit, 2 × len)`. A read error (the connection closed or reset
/// before the end, a timeout) ends the read with
/// [`BodyShortfall::CutOff`] and keeps what was read.
pub(crate) async fn read_body(
    response: &mut reqwest::Response,
    limit: usize,
    over: OverLimit,
) -> ReadBody {
    let limit_u64 = u64::try_from(limit).unwrap_or(u64::MAX);
    let declared = response.content_length();
    if over == OverLimit::Refuse && declared.is_some_and(|len| len > limit_u64) {
        return ReadBody {
            body: Bytes::new(),
            shortfall: Some(BodyShortfall::OverLimit { limit: limit_u64 }),
        };
    }
    let capacity = declared.map_or(0, |len| usize::try_from(len).unwrap_or(limit).min(limit));
    let mut first: Option<Bytes> = None;
    let mut buffer: Vec<u8> = Vec::new();
    let mut shortfall = None;
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(err) => {
                let read = first.as_ref().map_or(buffer.len(), Bytes::len);
                let failure = if err.is_timeout() {
                    TransportFailure::Timeout
                } else {
                    TransportFailure::ConnectionLost
                };
                shortfall = Some(BodyShortfall::CutOff {
                    read: u64::try_from(read).unwrap_or(u64::MAX),
                    failure,
                });
                break;
            }
        };
        let read = first.as_ref().map_or(buffer.len(), Bytes::len);
        let room = limit - read;
        let over_limit = chunk.len() > room;
        if over_limit && over == OverLimit::Refuse {
            return ReadBody {
                body: Bytes::new(),
                shortfall: Some(BodyShortfall::OverLimit { limit: limit_u64 }),
            };
        }
        let chunk = if over_limit {
            chunk.slice(..room)
        } else {
            chunk
        };
        if first.is_none() && buffer.is_empty() {
            first = Some(chunk);
        } else if !chunk.is_empty() {
            if let Some(first) = first.take() {
                buffer = Vec::with_capacity(capacity.max(first.len() + chunk.len()));
                buffer.extend_from_slice(&first);
            }
            extend_within(&mut buffer, &chunk, limit);
        }
        if over_limit {
            shortfall = Some(BodyShortfall::OverLimit { limit: limit_u64 });
            break;
        }
    }
    let body = first.unwrap_or_else(|| Bytes::from(buffer));
    ReadBody { body, shortfall }
}

/// Appends `bytes` to `buffer`, doubling its capacity when it is full but
/// never past `limit` (the caller keeps `buffer` within the limit).
fn extend_within(buffer: &mut Vec<u8>, bytes: &[u8], limit: usize) {
    let needed = buffer.len() + bytes.len();
    if needed > buffer.capacity() {
        let target = needed.max(buffer.capacity().saturating_mul(2).min(limit));
        buffer.reserve_exact(target - buffer.len());
    }
    buffer.extend_from_slice(bytes);
}

/// What a `send` decodes from a 2xx response, which tells `Client::call`
/// whether to read the body (within the limit, inside each attempt).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expect {
    /// A JSON body, decoded by [`json`].
    Json,
    /// No body ([`empty`]).
    Empty,
    /// A body streamed to the caller ([`stream`]), unread and unlimited.
    Stream,
}

/// The 2xx response `Client::call` returns to a `send`, with what it knows
/// of the call.
pub(crate) struct Answer<'a> {
    pub(crate) response: reqwest::Response,
    /// With [`Expect::Json`], the whole body, read within the limit.
    pub(crate) body: Option<Bytes>,
    pub(crate) operation_id: &'static str,
    pub(crate) attempts: u32,
    /// The client's key, redacted from a decode error's excerpt.
    pub(crate) key: &'a HeaderValue,
}

impl Answer<'_> {
    fn context(&self) -> CallContext {
        call_context(self.operation_id, self.attempts)
    }
}

/// What an error of a call of `operation_id` says of it, after `attempts`
/// attempts (0: nothing was sent): the operation, its method and path
/// template (from [`crate::OPERATIONS`]) and the attempts.
pub(crate) fn call_context(operation_id: &'static str, attempts: u32) -> CallContext {
    let context = CallContext::new()
        .with_operation_id(operation_id)
        .with_attempts(attempts);
    match crate::Operation::find(operation_id) {
        Some(op) => context.with_method(op.method).with_path_template(op.path),
        None => context,
    }
}

/// A JSON response: `ResponseValue::from_response` without the header copy,
/// decoding the body `Client::call` read. A body that does not decode is an
/// `ErrorKind::Decode` error with the JSON path, an excerpt (the key
/// redacted), the operation and the attempts; an answer without a body
/// (never made by `Client::call` for a JSON call) decodes as an empty one.
///
/// Not an `async fn`, whose future would keep a second copy of the answer
/// it takes by value.
pub(crate) fn json<T: DeserializeOwned>(
    mut answer: Answer<'_>,
) -> impl Future<Output = Result<ResponseValue<T>, Error>> {
    let status = answer.response.status();
    let headers = std::mem::take(answer.response.headers_mut());
    let body = answer.body.take().unwrap_or_default();
    // The success path is one `serde_json::from_slice`; only a failure pays
    // for a second decode that finds the JSON path (`Error::decode_as`).
    let decoded = serde_json::from_slice(&body).map_err(|err| {
        let mut error = Error::decode_as::<T>(err, &body, &answer.context());
        if let Ok(key) = answer.key.to_str() {
            error.redact(key);
        }
        error
    });
    std::future::ready(decoded.map(|inner| ResponseValue::new(inner, status, headers)))
}

/// A response without a body: `ResponseValue::empty` without the header copy.
pub(crate) fn empty(mut answer: Answer<'_>) -> ResponseValue<()> {
    let status = answer.response.status();
    let headers = std::mem::take(answer.response.headers_mut());
    ResponseValue::new((), status, headers)
}

/// A streamed body: `ResponseValue::stream` without the header copy. Not
/// limited.
pub(crate) fn stream(mut answer: Answer<'_>) -> ResponseValue<ByteStream> {
    let status = answer.response.status();
    let headers = std::mem::take(answer.response.headers_mut());
    let body = ByteStream::new(Box::pin(answer.response.bytes_stream()));
    ResponseValue::new(body, status, headers)
}

/// The base URL a client was built with, parsed once, from which
/// [`endpoint`] makes each call's URL.
#[derive(Clone, Debug)]
pub(crate) struct BaseUrl {
    /// The base URL as the generated `Client` holds it (`baseurl`).
    text: String,
    /// It parsed, when it has no query or fragment (which a path could not
    /// simply be appended to).
    parsed: Option<reqwest::Url>,
}

impl BaseUrl {
    pub(crate) fn new(text: &str) -> Self {
        let parsed = reqwest::Url::parse(text).ok().filter(|url| {
            url.query().is_none() && url.fragment().is_none() && !url.cannot_be_a_base()
        });
        Self {
            text: text.to_owned(),
            parsed,
        }
    }
}

/// The URL of a call: `path` (which starts with `/`, its parameters already
/// percent-encoded by [`ToPathSegment`]) appended to the client's base URL,
/// as `format!("{}{path}", client.baseurl)` parsed would give, without
/// parsing the scheme and host again on every call. A client whose
/// `baseurl` is not the one its state was built with (made with
/// `Client::new_with_client` from another client's state), or whose base
/// URL has a query, gets the URL parsed from that text instead.
pub(crate) fn endpoint(
    client: &crate::Client,
    info: &OperationInfo,
    path: fmt::Arguments<'_>,
) -> Result<reqwest::Url, Error> {
    let base = &client.inner.base_url;
    match &base.parsed {
        Some(parsed) if client.baseurl == base.text => {
            let mut url = parsed.clone();
            let stem = parsed.path().trim_end_matches('/');
            let mut full = String::with_capacity(stem.len() + 64);
            full.push_str(stem);
            // Writing into a `String` fails only if a `Display` impl does.
            fmt::write(&mut full, path).map_err(|_| {
                invalid_request(info)("a path parameter failed to format".to_owned())
            })?;
            url.set_path(&full);
            Ok(url)
        }
        _ => {
            let text = format!("{}{path}", client.baseurl);
            reqwest::Url::parse(&text)
                .map_err(|err| invalid_request(info)(format!("invalid URL: {err}")))
        }
    }
}

/// `Error::InvalidRequest` of progenitor, for a failure before sending: a
/// parameter or body that did not convert, a path parameter refused by
/// [`ToPathSegment`]. The error names the operation.
pub(crate) fn invalid_request(info: &OperationInfo) -> impl FnOnce(String) -> Error + '_ {
    move |message| Error::invalid_request(message, &call_context(info.operation_id, 0))
}

/// A request reqwest could not build (a body that does not serialize, say),
/// as an error naming the operation.
pub(crate) fn unbuilt(info: &OperationInfo) -> impl FnOnce(reqwest::Error) -> Error + '_ {
    move |err| Error::from_transport(err, &call_context(info.operation_id, 0))
}

/// An integer argument of a setter whose parameter has a minimum of 1
/// (`page`, `page_size`): every integer type, so `.page(2)` needs no suffix.
///
/// A value that does not fit, `0` or a negative one, is kept as the
/// setter's error and returned by `send` as
/// [`ErrorKind::InvalidRequest`](crate::ErrorKind::InvalidRequest), before
/// anything is sent. Sealed: implemented here for the integer types and
/// `NonZeroU64`.
pub trait IntegerArg<T>: sealed::Sealed {
    /// This value as a `T`, when it is one.
    #[doc(hidden)]
    fn into_integer(self) -> Result<T, std::num::TryFromIntError>;
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! integer_arg {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl IntegerArg<std::num::NonZeroU64> for $t {
            #[allow(clippy::useless_conversion, reason = "one body for every type")]
            fn into_integer(self) -> Result<std::num::NonZeroU64, std::num::TryFromIntError> {
                std::num::NonZeroU64::try_from(u64::try_from(self)?)
            }
        }
    )*};
}

integer_arg!(
    i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize
);

impl sealed::Sealed for std::num::NonZeroU64 {}
impl IntegerArg<std::num::NonZeroU64> for std::num::NonZeroU64 {
    fn into_integer(self) -> Result<std::num::NonZeroU64, std::num::TryFromIntError> {
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use futures::TryStreamExt as _;
    use proptest::prelude::*;

    /// A value whose `Display` writes its parts in separate calls, as
    /// formatting a compound value does.
    struct Chunked(Vec<String>);

    impl fmt::Display for Chunked {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.0.iter().try_for_each(|part| f.write_str(part))
        }
    }

    /// What `progenitor_client::encode_path` gives, with `\` encoded too.
    fn progenitor_encoding(value: &str) -> String {
        progenitor_client::encode_path(value).replace('\\', "%5C")
    }

    /// `value` as a path segment, for a value that is one.
    fn segment(value: &str) -> String {
        value
            .to_path_segment("id")
            .expect("a value that is one segment")
            .to_string()
    }

    /// The values that would change the path's shape, listed rather than
    /// computed, lower-cased.
    const REFUSED: [&str; 7] = ["", ".", "..", "%2e", ".%2e", "%2e.", "%2e%2e"];

    /// A dot segment: one or two dots, each `.`, `%2e` or `%2E`.
    fn dot_segment() -> impl Strategy<Value = String> {
        proptest::collection::vec(prop_oneof![Just("."), Just("%2e"), Just("%2E")], 1..=2)
            .prop_map(|dots| dots.concat())
    }

    /// Checks that `value` went into a URL as exactly one segment that
    /// decodes back to it, as reqwest's URL parser reads it.
    fn assert_one_segment(value: &str) -> Result<(), TestCaseError> {
        let encoded = segment(value);
        prop_assert!(
            !encoded.contains('/') && !encoded.contains('\\'),
            "{encoded}"
        );
        let url = reqwest::Url::parse(&format!("http://127.0.0.1/v1/icp/{encoded}/active_runs"))
            .map_err(|e| TestCaseError::fail(format!("{encoded}: {e}")))?;
        let segments: Vec<&str> = url.path_segments().into_iter().flatten().collect();
        prop_assert_eq!(&segments, &["v1", "icp", encoded.as_str(), "active_runs"]);
        let decoded = percent_encoding::percent_decode_str(segments[2]).decode_utf8_lossy();
        prop_assert_eq!(decoded.as_ref(), value);
        Ok(())
    }

    proptest! {
        #[test]
        fn a_path_segment_is_encoded_as_progenitor_encodes_it(value in any::<String>()) {
            prop_assert_eq!(PathSegment(value.as_str()).to_string(), progenitor_encoding(&value));
        }

        #[test]
        fn an_ascii_path_segment_is_encoded_as_progenitor_encodes_it(value in "[\\x00-\\x7f]{0,40}") {
            // Controls, punctuation and the bytes next to the encoded ones.
            prop_assert_eq!(PathSegment(value.as_str()).to_string(), progenitor_encoding(&value));
        }

        #[test]
        fn an_id_is_left_as_it_is(value in "[0-9A-Za-z_.~:@!$&'()*+,;=-]{1,40}") {
            prop_assume!(value != "." && value != "..");
            prop_assert_eq!(segment(&value), value.clone());
            prop_assert_eq!(progenitor_client::encode_path(&value), value);
        }

        #[test]
        fn encoding_a_value_in_chunks_is_encoding_it_whole(
            parts in proptest::collection::vec(any::<String>(), 0..6)
        ) {
            let whole = parts.concat();
            prop_assert_eq!(
                PathSegment(&Chunked(parts)).to_string(),
                progenitor_encoding(&whole)
            );
        }

        #[test]
        fn a_dot_segment_in_any_spelling_is_refused_naming_the_parameter(value in dot_segment()) {
            let err = value.to_path_segment("icp_id").expect_err("a dot segment");
            prop_assert_eq!(
                err,
                format!("path parameter `icp_id` may not be `{value}` (a dot segment would change the path)")
            );
        }

        #[test]
        fn a_dot_segment_written_in_chunks_is_refused(value in dot_segment(), cut in 0usize..7) {
            let cut = cut.min(value.len());
            let chunked = Chunked(vec![value[..cut].to_owned(), value[cut..].to_owned()]);
            prop_assert!(chunked.to_path_segment("icp_id").is_err());
        }

        #[test]
        fn any_other_value_is_one_segment(value in any::<String>()) {
            prop_assume!(!REFUSED.contains(&value.to_ascii_lowercase().as_str()));
            assert_one_segment(&value)?;
        }

        #[test]
        fn any_other_value_of_dots_percents_and_separators_is_one_segment(
            value in "[.%2eE/\\\\ ?#a]{0,8}"
        ) {
            if REFUSED.contains(&value.to_ascii_lowercase().as_str()) {
                prop_assert!(value.to_path_segment("id").is_err(), "{value:?} was accepted");
            } else {
                assert_one_segment(&value)?;
            }
        }
    }

    /// The shape of the generated pattern-checked path parameters: a string
    /// newtype with `Deref` and no `Display`.
    struct Newtype(String);

    impl std::ops::Deref for Newtype {
        type Target = String;

        fn deref(&self) -> &String {
            &self.0
        }
    }

    #[test]
    fn a_string_newtype_is_encoded_through_deref_as_to_string_formats_it() {
        let id = Newtype("65f0/a b".to_owned());
        let encoded = id
            .to_path_segment("run_id")
            .expect("one segment")
            .to_string();
        assert_eq!(encoded, progenitor_client::encode_path(&id.to_string()));
        assert_eq!(encoded, "65f0%2Fa%20b");
        let dots = Newtype("..".to_owned());
        assert!(dots.to_path_segment("run_id").is_err());
    }

    #[test]
    fn reserved_and_non_ascii_characters_are_escaped() {
        assert_eq!(
            PathSegment("a/b c%d?e#f{g}\\h").to_string(),
            "a%2Fb%20c%25d%3Fe%23f%7Bg%7D%5Ch"
        );
        assert_eq!(PathSegment("é").to_string(), "%C3%A9");
        assert_eq!(
            PathSegment("a\x00\t\n\x1f\x7f~").to_string(),
            "a%00%09%0A%1F%7F~",
            "controls, DEL included"
        );
        // DEL among bytes that are all kept as they are.
        assert_eq!(PathSegment("a\x7fb").to_string(), "a%7Fb");
        assert_eq!(PathSegment(&42_u32).to_string(), "42");
    }

    #[test]
    fn an_operations_path_is_filled_as_its_builder_fills_it() {
        let op = crate::Operation::find("run_get_queue").expect("an operation");
        let path = op
            .path_with(|name| (name == "run_id").then_some("r/1 é"))
            .expect("valid");
        assert_eq!(path, format!("/v1/run/{}/queue", segment("r/1 é")));
        let list = crate::Operation::find("icp_list").expect("an operation");
        assert_eq!(list.path_with(|_| None).expect("no parameters"), "/v1/icp");
        for (value, says) in [
            (None, "path parameter `run_id` has no value"),
            (Some(""), "may not be empty"),
            (Some("%2E."), "may not be `%2E.`"),
        ] {
            let err = op.path_with(|_| value).expect_err("refused");
            assert_eq!(err.kind(), crate::ErrorKind::InvalidRequest);
            assert_eq!(err.operation_id(), Some("run_get_queue"));
            assert!(err.to_string().contains(says), "{err}");
        }
    }

    #[test]
    fn empty_and_dot_values_are_refused_and_longer_dots_are_not() {
        assert_eq!(
            "".to_path_segment("entity_id").map(|s| s.to_string()),
            Err("path parameter `entity_id` may not be empty (an empty segment would change the path)".to_owned())
        );
        for refused in [".", "..", "%2e", "%2E", ".%2e", "%2E.", "%2e%2E", "%2E%2E"] {
            assert!(refused.to_path_segment("icp_id").is_err(), "{refused}");
        }
        for kept in [
            "...",
            "%2e%2e%2e",
            ". .",
            "a..",
            "..a",
            "%2f",
            "%2e%2",
            "%252e",
            " .",
        ] {
            assert_one_segment(kept).expect(kept);
        }
        assert_eq!(segment("%2e%2e%2e"), "%252e%252e%252e");
    }

    fn response(status: u16, body: &'static str) -> reqwest::Response {
        let response = http::Response::builder()
            .status(status)
            .header("x-request-id", "req_1")
            .header("content-type", "application/json")
            .body(body)
            .expect("a valid response");
        reqwest::Response::from(response)
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(future)
    }

    static KEY: HeaderValue = HeaderValue::from_static("lk_test_0123456789");

    fn answer(status: u16, body: &'static str) -> Answer<'static> {
        Answer {
            response: response(status, ""),
            body: Some(Bytes::from_static(body.as_bytes())),
            operation_id: "icp_retrieve",
            attempts: 2,
            key: &KEY,
        }
    }

    #[test]
    fn json_keeps_the_status_and_headers_and_decodes_the_body() {
        let value: ResponseValue<serde_json::Value> =
            block_on(json(answer(201, r#"{"id":"icp_1"}"#))).expect("a valid body");
        assert_eq!(value.status(), 201);
        assert_eq!(value.headers()["x-request-id"], "req_1");
        assert_eq!(value.headers().len(), 2);
        assert_eq!(value.into_inner(), serde_json::json!({"id": "icp_1"}));
    }

    #[test]
    fn json_reports_an_invalid_body_with_the_call_and_without_the_key() {
        let err = block_on(json::<Vec<u32>>(answer(
            200,
            r#"[1, "lk_test_0123456789"]"#,
        )))
        .expect_err("not a list of numbers");
        assert_eq!(err.kind(), linkt_error::ErrorKind::Decode);
        assert_eq!(err.operation_id(), Some("icp_retrieve"));
        assert_eq!(err.attempts(), Some(2));
        assert_eq!(err.decode_path(), Some("[1]"));
        let shown = format!("{err} {err:?} {:?}", err.body_excerpt());
        assert!(!shown.contains("lk_test_0123456789"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
    }

    #[test]
    fn errors_before_sending_name_the_operation() {
        let info = OperationInfo {
            operation_id: "icp_delete",
        };
        let err = invalid_request(&info)("path parameter `icp_id` may not be `..`".to_owned());
        assert_eq!(err.kind(), linkt_error::ErrorKind::InvalidRequest);
        assert_eq!(err.operation_id(), Some("icp_delete"));
        assert!(err.to_string().contains("may not be `..`"), "{err}");
    }

    fn client_at(base: &str) -> crate::Client {
        crate::Client::builder()
            .api_key(linkt_auth::ApiKey::new("lk_test_0123456789").expect("a valid key"))
            .base_url(base)
            .allow_insecure_http(true)
            .build()
            .expect("a client")
    }

    /// Clients at a base URL with and without a path stem, built once.
    static CLIENTS: std::sync::LazyLock<Vec<crate::Client>> = std::sync::LazyLock::new(|| {
        ["http://127.0.0.1:8080", "https://api.linkt.ai"]
            .into_iter()
            .flat_map(|host| {
                ["", "/api", "/api/v2"].map(|stem| client_at(&format!("{host}{stem}")))
            })
            .collect()
    });

    proptest! {
        #[test]
        fn an_endpoint_is_the_url_the_formatted_text_parses_to(
            value in any::<String>().prop_filter("one segment", |v| v.to_path_segment("id").is_ok()),
        ) {
            let info = OperationInfo { operation_id: "icp_retrieve" };
            for client in CLIENTS.iter() {
                let segment = value.to_path_segment("id").expect("one segment");
                let ours = endpoint(client, &info, format_args!("/v1/icp/{segment}"))
                    .expect("a URL");
                let theirs = reqwest::Url::parse(&format!("{}/v1/icp/{segment}", client.baseurl))
                    .expect("a URL");
                prop_assert_eq!(ours, theirs);
            }
        }
    }

    #[test]
    fn an_endpoint_is_parsed_from_the_text_when_the_base_differs() {
        let info = OperationInfo {
            operation_id: "icp_list",
        };
        // A client whose base URL text is not its state's: the text wins.
        let built = client_at("http://127.0.0.1:8080");
        let other = crate::Client::new_with_client(
            "http://127.0.0.1:9090/stem",
            built.client.clone(),
            built.inner.clone(),
        );
        let url = endpoint(&other, &info, format_args!("/v1/icp")).expect("a URL");
        assert_eq!(url.as_str(), "http://127.0.0.1:9090/stem/v1/icp");
        let broken = crate::Client::new_with_client("not a url", built.client.clone(), built.inner);
        let err = endpoint(&broken, &info, format_args!("/v1/icp")).expect_err("no URL");
        assert_eq!(err.kind(), linkt_error::ErrorKind::InvalidRequest);
        assert_eq!(err.operation_id(), Some("icp_list"));
    }

    #[test]
    fn an_integer_argument_of_any_type_converts_when_it_is_positive() {
        use std::num::NonZeroU64;
        let two = NonZeroU64::new(2).expect("not zero");
        assert_eq!(2_i32.into_integer(), Ok(two));
        assert_eq!(2_u8.into_integer(), Ok(two));
        assert_eq!(2_usize.into_integer(), Ok(two));
        assert_eq!(2_i128.into_integer(), Ok(two));
        assert_eq!(two.into_integer(), Ok(two));
        assert!(IntegerArg::<NonZeroU64>::into_integer(0_i32).is_err());
        assert!(IntegerArg::<NonZeroU64>::into_integer(-1_i64).is_err());
        assert!(IntegerArg::<NonZeroU64>::into_integer(u128::MAX).is_err());
    }

    /// A response whose body arrives in `chunks`, of unknown length.
    fn chunked(chunks: &[&'static [u8]]) -> reqwest::Response {
        let chunks: Vec<Result<Bytes, std::io::Error>> =
            chunks.iter().map(|c| Ok(Bytes::from_static(c))).collect();
        let body = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
        reqwest::Response::from(http::Response::new(body))
    }

    #[test]
    fn a_body_of_one_chunk_is_kept_without_a_copy() {
        let body = Bytes::from_static(b"{\"id\":\"icp_1\"}");
        let mut response =
            reqwest::Response::from(http::Response::new(reqwest::Body::from(body.clone())));
        let read = block_on(read_body(&mut response, 1024, OverLimit::Refuse));
        assert_eq!(read.shortfall, None);
        assert_eq!(read.body, body);
        assert_eq!(read.body.as_ptr(), body.as_ptr());
    }

    #[test]
    fn chunks_are_read_into_one_buffer_up_to_the_limit() {
        let read = block_on(read_body(
            &mut chunked(&[b"abc", b"", b"def", b"g"]),
            7,
            OverLimit::Refuse,
        ));
        assert_eq!(
            (read.body.as_ref(), read.shortfall),
            (&b"abcdefg"[..], None)
        );

        let read = block_on(read_body(
            &mut chunked(&[b"abc", b"def", b"gh"]),
            7,
            OverLimit::Refuse,
        ));
        assert_eq!(read.body.len(), 0);
        assert_eq!(read.shortfall, Some(BodyShortfall::OverLimit { limit: 7 }));

        let read = block_on(read_body(
            &mut chunked(&[b"abc", b"def", b"gh", b"ij"]),
            7,
            OverLimit::KeepStart,
        ));
        assert_eq!(read.body.as_ref(), b"abcdefg");
        assert_eq!(read.shortfall, Some(BodyShortfall::OverLimit { limit: 7 }));
    }

    #[test]
    fn a_content_length_over_the_limit_is_refused_before_reading() {
        // A body of known length, as hyper's is with a `Content-Length`.
        let body = reqwest::Body::from(Bytes::from_static(b"abcdefgh"));
        let mut response = reqwest::Response::from(http::Response::new(body));
        assert_eq!(response.content_length(), Some(8));
        let read = block_on(read_body(&mut response, 7, OverLimit::Refuse));
        assert_eq!(read.shortfall, Some(BodyShortfall::OverLimit { limit: 7 }));
        // Nothing was read: the body is still there.
        let rest = block_on(response.bytes()).expect("the body");
        assert_eq!(rest.as_ref(), b"abcdefgh");
    }

    #[test]
    fn the_buffer_grows_by_doubling_but_not_past_the_limit() {
        let mut buffer = Vec::with_capacity(4);
        buffer.extend_from_slice(b"abcd");
        extend_within(&mut buffer, b"e", 6);
        assert_eq!(buffer.capacity(), 6);
        extend_within(&mut buffer, b"f", 6);
        assert_eq!((buffer.as_slice(), buffer.capacity()), (&b"abcdef"[..], 6));
    }

    #[test]
    fn a_body_that_breaks_off_keeps_what_was_read() {
        let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
            Ok(Bytes::from_static(b"{\"detail\"")),
            Err(std::io::Error::from(std::io::ErrorKind::ConnectionReset)),
        ];
        let body = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
        let mut response = reqwest::Response::from(http::Response::new(body));
        let read = block_on(read_body(&mut response, 1024, OverLimit::KeepStart));
        assert_eq!(read.body.as_ref(), b"{\"detail\"");
        assert_eq!(
            read.shortfall,
            Some(BodyShortfall::CutOff {
                read: 9,
                failure: TransportFailure::ConnectionLost
            })
        );
    }

    #[test]
    fn empty_and_stream_keep_the_status_and_headers() {
        let value = empty(answer(204, ""));
        assert_eq!(value.status(), 204);
        assert_eq!(value.headers()["x-request-id"], "req_1");

        let mut streamed = answer(200, "");
        streamed.response = response(200, "a,b\n1,2\n");
        streamed.body = None;
        let value = stream(streamed);
        assert_eq!(value.status(), 200);
        assert_eq!(value.headers()["content-type"], "application/json");
        let chunks: Vec<bytes::Bytes> =
            block_on(value.into_inner().into_inner().try_collect()).expect("the body");
        assert_eq!(chunks.concat(), b"a,b\n1,2\n");
    }
}
