//! [`Error`] and [`ErrorKind`]: construction, accessors and `Display`.
//!
//! Body parsing lives in `body`, JSON path rendering in `json_path`, and
//! retry rules in `linkt-backoff` (through `retry`); this module only
//! assembles their results into one error value.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use http::{HeaderMap, StatusCode};
use linkt_backoff::{RateLimit, TransportFailure};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::context::{CallContext, ResponseRecord};
use crate::excerpt::{BODY_EXCERPT_LIMIT, Escaped, MESSAGE_LIMIT, bound, excerpt};
use crate::validation::ValidationIssue;
use crate::{body, json_path, retry};

pub(crate) mod incomplete;
mod redact;

/// Header carrying the server's request id.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Most characters of the message `Display` shows (escapes counted as
/// written), before the `…` that marks a cut.
const DISPLAY_MESSAGE_CHARS: usize = 300;
/// Most characters of the decode path `Display` shows.
const DISPLAY_PATH_CHARS: usize = 200;
/// Most characters of the request id and of the operation id `Display`
/// shows.
const DISPLAY_ID_CHARS: usize = 128;

/// The category of an [`Error`]; match on it to decide what to do.
///
/// Status-based kinds follow the statuses of the Linkt API (FastAPI); the
/// others describe failures without a usable response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// 400 Bad Request: the server rejected the request (e.g. an invalid
    /// filter value).
    BadRequest,
    /// 401 Unauthorized: the API key is missing or invalid.
    Unauthorized,
    /// 403 Forbidden: the API key lacks permission.
    Forbidden,
    /// 404 Not Found: no such resource in the key's organization.
    NotFound,
    /// 409 Conflict (treated as a lock timeout; retryable).
    Conflict,
    /// 422 Unprocessable Entity: request validation failed; see
    /// [`Error::validation_errors`].
    Validation,
    /// 429 Too Many Requests; see [`Error::retry_after`] and
    /// [`Error::rate_limit`].
    RateLimited,
    /// Any other 4xx status (408 Request Timeout, 418, …).
    Client,
    /// A 5xx status.
    Server,
    /// The request timed out before a response arrived.
    Timeout,
    /// No connection could be made, or it broke before a complete response.
    Connection,
    /// A response body could not be decoded into the expected type.
    Decode,
    /// The request could not be built or was rejected by a client hook
    /// before it was sent.
    InvalidRequest,
    /// The client is misconfigured (bad API key, base URL, …); nothing was
    /// sent.
    Configuration,
    /// A status the operation does not define that is not a 4xx or 5xx
    /// (1xx, an undocumented 2xx, 3xx, or beyond 599).
    UnexpectedStatus,
    /// A page-by-page walk of a list stopped before the list's end: the
    /// server's pages did not advance (it answered another page than the one
    /// asked for, or a page brought nothing new while more remained), or the
    /// walk reached its page cap. The items before it were yielded; the next
    /// page was not asked for.
    Pagination,
    /// A success response's body is over the client's limit
    /// (`ClientBuilder::max_response_body`); reading it stopped at the limit,
    /// and the call is not retried. The status and headers are kept.
    BodyTooLarge,
    /// The client-side rate limiter refused an attempt before it was sent:
    /// its next slot is past the retry policy's deadline (the wait is
    /// [`Error::retry_after`]), or a shared limiter could not reach its
    /// store and is configured to fail rather than pace in this process
    /// alone. The [`source`](StdError::source) is the
    /// `linkt_backoff::ReserveError`; the call is not retried.
    RateLimiter,
}

impl ErrorKind {
    /// The kind for an HTTP status.
    pub const fn from_status(status: StatusCode) -> ErrorKind {
        match status.as_u16() {
            400 => ErrorKind::BadRequest,
            401 => ErrorKind::Unauthorized,
            403 => ErrorKind::Forbidden,
            404 => ErrorKind::NotFound,
            409 => ErrorKind::Conflict,
            422 => ErrorKind::Validation,
            429 => ErrorKind::RateLimited,
            402..=499 => ErrorKind::Client,
            500..=599 => ErrorKind::Server,
            _ => ErrorKind::UnexpectedStatus,
        }
    }

    /// A short lower-case name, e.g. `rate limited`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "bad request",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "not found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Validation => "validation failed",
            ErrorKind::RateLimited => "rate limited",
            ErrorKind::Client => "client error",
            ErrorKind::Server => "server error",
            ErrorKind::Timeout => "timed out",
            ErrorKind::Connection => "connection error",
            ErrorKind::Decode => "decode error",
            ErrorKind::InvalidRequest => "invalid request",
            ErrorKind::Configuration => "invalid configuration",
            ErrorKind::UnexpectedStatus => "unexpected status",
            ErrorKind::Pagination => "pagination stopped",
            ErrorKind::BodyTooLarge => "response body too large",
            ErrorKind::RateLimiter => "refused by the client's rate limiter",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error returned by every Linkt API call.
///
/// Every call of the `linkt` client returns it; `From<progenitor_client::Error<E>>`
/// converts progenitor's, and the constructors below build one. Inspect it
/// with [`kind`](Self::kind),
/// [`status`](Self::status), [`message`](Self::message) and the other
/// accessors.
///
/// `Display` is one short lower-case line without a trailing period, e.g.
/// `401 unauthorized: invalid api key (operation icp_list, request id abc)`.
/// It holds only what the server sent back and what the client knew about
/// the call; the API key is never part of an error (a server that echoes
/// it is handled by [`redact`](Self::redact)).
///
/// `Display` is safe to print to a terminal or a log line whatever the
/// server sent: it is always exactly one line, every control character
/// (C0 with `\n`, `\r` and `\t`, DEL, C1), bidirectional control and
/// line or paragraph separator in text that came from the wire (message,
/// request id, decode path) or from the caller (operation id) is escaped
/// as `{:?}` escapes it (`\n`, `\u{1b}`, `\u{202e}`), and that text is
/// bounded: at most 300 characters of the message (escapes counted as
/// written, a cut marked with `…`), 200 of the decode path and 128 of each
/// id, so the whole line stays under 1,024 characters. `Debug` prints
/// every string with `{:?}`, which escapes the same characters.
///
/// The accessors ([`message`](Self::message), [`code`](Self::code),
/// [`request_id`](Self::request_id), [`body_excerpt`](Self::body_excerpt),
/// [`detail`](Self::detail), [`validation_errors`](Self::validation_errors),
/// [`decode_path`](Self::decode_path)) return the server's text as sent,
/// bounded but *not* escaped: escape it (or print it with `{:?}`) before
/// writing it to a terminal.
///
/// The error is `Send + Sync + 'static` and one pointer wide.
///
/// ```
/// use http::{HeaderMap, StatusCode};
/// use linkt_error::{CallContext, Error, ErrorKind, LocSegment};
///
/// // What a client call returns for a FastAPI validation failure.
/// let ctx = CallContext::new()
///     .with_operation_id("icp_create")
///     .with_method("POST")
///     .with_path_template("/v1/icp")
///     .with_attempts(1);
/// let body = br#"{"detail": [{"loc": ["body", "name"], "msg": "Field required", "type": "missing"}]}"#;
/// let err = Error::from_response(StatusCode::UNPROCESSABLE_ENTITY, &HeaderMap::new(), body, &ctx);
///
/// match err.kind() {
///     ErrorKind::Validation => {
///         let issue = &err.validation_errors()[0];
///         assert_eq!(issue.loc, [LocSegment::Key("body".into()), LocSegment::Key("name".into())]);
///         assert_eq!(issue.msg, "Field required");
///     }
///     other => panic!("unexpected {other}"),
/// }
/// assert_eq!(err.status(), Some(StatusCode::UNPROCESSABLE_ENTITY));
/// assert_eq!((err.method(), err.path_template()), (Some("POST"), Some("/v1/icp")));
/// assert!(!err.is_retryable());
/// ```
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    status: Option<StatusCode>,
    headers: Option<HeaderMap>,
    message: String,
    /// Whether `message` came from the server or the failure itself (and so
    /// belongs in `Display`), rather than being the status reason phrase.
    show_message: bool,
    code: Option<Cow<'static, str>>,
    request_id: Option<String>,
    operation_id: Option<Cow<'static, str>>,
    attempts: Option<u32>,
    method: Option<Cow<'static, str>>,
    path_template: Option<Cow<'static, str>>,
    validation: Vec<ValidationIssue>,
    detail: Option<Value>,
    retry_after: Option<Duration>,
    rate_limit: Option<RateLimit>,
    body_excerpt: Option<String>,
    decode_path: Option<String>,
    /// Made by `decode`/`decode_as`: `Display` says "failed to decode response".
    decoded_body: bool,
    transport: Option<TransportFailure>,
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
}

impl Inner {
    fn new(kind: ErrorKind, message: String, ctx: &CallContext) -> Inner {
        Inner {
            kind,
            status: None,
            headers: None,
            message,
            show_message: true,
            code: None,
            request_id: None,
            operation_id: ctx.operation_id.clone(),
            attempts: ctx.attempts,
            method: ctx.method.clone(),
            path_template: ctx.path_template.clone(),
            validation: Vec::new(),
            detail: None,
            retry_after: None,
            rate_limit: None,
            body_excerpt: None,
            decode_path: None,
            decoded_body: false,
            transport: None,
            source: None,
        }
    }
}

impl From<Inner> for Error {
    fn from(inner: Inner) -> Self {
        Error {
            inner: Box::new(inner),
        }
    }
}

impl Error {
    /// Maps an error response: status, headers and the complete body.
    ///
    /// Understands FastAPI's bodies: `{"detail": "message"}`,
    /// `{"detail": [{loc, msg, type, …}]}` (validation, see
    /// [`validation_errors`](Self::validation_errors)), `{"detail": {…}}`,
    /// other JSON, non-JSON text or HTML (message from the page title or the
    /// start of the text) and an empty body (message is the status reason).
    /// Reads `x-request-id`, `retry-after-ms`/`Retry-After`, rate-limit
    /// headers and `x-should-retry`.
    pub fn from_response(
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
        ctx: &CallContext,
    ) -> Error {
        let parsed = body::parse(body);
        let (message, show_message) = match parsed.message {
            Some(message) => (message, true),
            None => (reason(status), false),
        };
        let code = parsed
            .code
            .map(Cow::Owned)
            .or_else(|| default_code(status).map(Cow::Borrowed));
        Inner {
            status: Some(status),
            show_message,
            code,
            request_id: request_id(headers),
            validation: parsed.validation,
            detail: parsed.detail,
            retry_after: retry::server_delay(headers),
            rate_limit: retry::rate_limit(headers),
            body_excerpt: parsed.excerpt,
            headers: Some(headers.clone()),
            ..Inner::new(ErrorKind::from_status(status), message, ctx)
        }
        .into()
    }

    /// Maps a typed error response of a generated call by serializing its
    /// body back to JSON, so that its `detail` (message, validation issues)
    /// is not lost. The `From<progenitor_client::Error<E>>` conversion
    /// cannot do this because it places no bound on `E`.
    pub fn from_error_response<E: serde::Serialize>(
        response: &progenitor_client::ResponseValue<E>,
        ctx: &CallContext,
    ) -> Error {
        let body = serde_json::to_vec(response.as_ref()).unwrap_or_default();
        Error::from_response(response.status(), response.headers(), &body, ctx)
    }

    /// Maps a `reqwest` failure by its predicates: timeout →
    /// [`ErrorKind::Timeout`]; connect, send or body-read failure (also when
    /// reqwest reports a body that broke off as a decode error) →
    /// [`ErrorKind::Connection`]; builder → [`ErrorKind::InvalidRequest`];
    /// decode → [`ErrorKind::Decode`]; a status error → the status's kind;
    /// a redirect failure → [`ErrorKind::UnexpectedStatus`]. The
    /// `reqwest::Error` is kept as the [`source`](StdError::source).
    pub fn from_transport(error: reqwest::Error, ctx: &CallContext) -> Error {
        let kind = if error.is_timeout() {
            ErrorKind::Timeout
        } else if error.is_connect() {
            ErrorKind::Connection
        } else if error.is_builder() {
            ErrorKind::InvalidRequest
        } else if retry::body_broke_off(&error) {
            ErrorKind::Connection
        } else if error.is_decode() {
            ErrorKind::Decode
        } else if error.is_redirect() {
            ErrorKind::UnexpectedStatus
        } else if let Some(status) = error.status().filter(|_| error.is_status()) {
            ErrorKind::from_status(status)
        } else {
            ErrorKind::Connection
        };
        Inner {
            status: error.status(),
            transport: Some(retry::transport_failure(&error)),
            code: error.status().and_then(default_code).map(Cow::Borrowed),
            ..Inner::new(kind, chain_message(&error), ctx)
        }
        .with_source(error)
        .into()
    }

    /// A response body that could not be decoded into `T`, the type it was
    /// decoded into when `error` occurred.
    ///
    /// Only called once a decode has failed: the body is decoded into `T`
    /// a second time through `serde_path_to_error`, which records the JSON
    /// path of the failure (`.icps[0].created_at`; for a missing field, the
    /// object lacking it). A bounded excerpt of `body` is kept. `error` is
    /// the [`source`](StdError::source).
    #[cold]
    #[inline(never)]
    pub fn decode_as<T: DeserializeOwned>(
        error: serde_json::Error,
        body: &[u8],
        ctx: &CallContext,
    ) -> Error {
        let mut deserializer = serde_json::Deserializer::from_slice(body);
        let path = match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
            Err(traced) => json_path::render(traced.path()),
            // The value decoded whole: what failed is the document (such as
            // trailing characters after it).
            Ok(_) => ".".to_owned(),
        };
        Error::decode_at(error, Some(path), body, ctx)
    }

    /// A response body that could not be decoded, the type it was decoded
    /// into being unknown (a progenitor `InvalidResponsePayload`).
    ///
    /// A body that is not JSON (a syntax error, a body cut short) gets the
    /// JSON path where it breaks, found by reading it again as a
    /// [`Value`] through `serde_path_to_error`; a data error (a value of
    /// the wrong type) has no path, as only the type could locate it:
    /// prefer [`Error::decode_as`] where the type is known. A bounded
    /// excerpt of `body` is kept. `error` is the
    /// [`source`](StdError::source).
    #[cold]
    #[inline(never)]
    pub fn decode(error: serde_json::Error, body: &[u8], ctx: &CallContext) -> Error {
        let path = if error.is_data() {
            None
        } else {
            let mut deserializer = serde_json::Deserializer::from_slice(body);
            Some(
                match serde_path_to_error::deserialize::<_, Value>(&mut deserializer) {
                    Err(traced) => json_path::render(traced.path()),
                    Ok(_) => ".".to_owned(),
                },
            )
        };
        Error::decode_at(error, path, body, ctx)
    }

    fn decode_at(
        error: serde_json::Error,
        path: Option<String>,
        body: &[u8],
        ctx: &CallContext,
    ) -> Error {
        let full = error.to_string();
        let position = format!(" at line {} column {}", error.line(), error.column());
        let message = match error.classify() {
            serde_json::error::Category::Data => full.strip_suffix(&position).unwrap_or(&full),
            _ => &full,
        };
        Inner {
            body_excerpt: excerpt(body, BODY_EXCERPT_LIMIT),
            decode_path: path,
            decoded_body: true,
            ..Inner::new(
                ErrorKind::Decode,
                bound(message.to_owned(), MESSAGE_LIMIT),
                ctx,
            )
        }
        .with_source(error)
        .into()
    }

    /// A request that could not be built or was rejected before sending.
    pub fn invalid_request(message: impl Into<String>, ctx: &CallContext) -> Error {
        Inner::new(
            ErrorKind::InvalidRequest,
            bound(message.into(), MESSAGE_LIMIT),
            ctx,
        )
        .into()
    }

    /// An attempt the client's rate limiter refused before it was sent
    /// ([`ErrorKind::RateLimiter`]); a refusal for the deadline keeps the
    /// wait as [`retry_after`](Self::retry_after).
    pub fn rate_limiter(error: linkt_backoff::ReserveError, ctx: &CallContext) -> Error {
        Inner {
            retry_after: error.wait(),
            ..Inner::new(
                ErrorKind::RateLimiter,
                bound(chain(&error), MESSAGE_LIMIT),
                ctx,
            )
        }
        .with_source(error)
        .into()
    }

    /// A page-by-page walk that stopped before the end of the list, with
    /// what the server did (or the cap that was reached); see
    /// [`ErrorKind::Pagination`].
    pub fn pagination(message: impl Into<String>) -> Error {
        Inner::new(
            ErrorKind::Pagination,
            bound(message.into(), MESSAGE_LIMIT),
            &CallContext::new(),
        )
        .into()
    }

    /// A configuration problem described by a message.
    pub fn configuration(message: impl Into<String>) -> Error {
        Inner::new(
            ErrorKind::Configuration,
            bound(message.into(), MESSAGE_LIMIT),
            &CallContext::new(),
        )
        .into()
    }

    /// A configuration problem caused by another error (such as
    /// `linkt_auth::AuthError`), kept as the [`source`](StdError::source).
    pub fn configuration_from<S>(source: S) -> Error
    where
        S: StdError + Send + Sync + 'static,
    {
        Inner::new(
            ErrorKind::Configuration,
            bound(source.to_string(), MESSAGE_LIMIT),
            &CallContext::new(),
        )
        .with_source(source)
        .into()
    }

    /// Fills in the operation id, attempt count, method and path template
    /// from `ctx` (fields that are `None` in `ctx` are left as they are).
    #[must_use]
    pub fn with_context(mut self, ctx: &CallContext) -> Error {
        if let Some(operation_id) = &ctx.operation_id {
            self.inner.operation_id = Some(operation_id.clone());
        }
        if let Some(attempts) = ctx.attempts {
            self.inner.attempts = Some(attempts);
        }
        if let Some(method) = &ctx.method {
            self.inner.method = Some(method.clone());
        }
        if let Some(path_template) = &ctx.path_template {
            self.inner.path_template = Some(path_template.clone());
        }
        self
    }

    /// Sets the operation id.
    #[must_use]
    pub fn with_operation_id(mut self, operation_id: impl Into<Cow<'static, str>>) -> Error {
        self.inner.operation_id = Some(operation_id.into());
        self
    }

    /// Sets the number of attempts made.
    #[must_use]
    pub fn with_attempts(mut self, attempts: u32) -> Error {
        self.inner.attempts = Some(attempts);
        self
    }

    /// The category of the error.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The HTTP status, when a response (or a `reqwest` status error) was
    /// involved.
    pub fn status(&self) -> Option<StatusCode> {
        self.inner.status
    }

    /// The response headers, when the error came from a response.
    pub fn headers(&self) -> Option<&HeaderMap> {
        self.inner.headers.as_ref()
    }

    /// What went wrong, in one line:
    ///
    /// * the server's `detail` string (or `message`/`error` field);
    /// * for validation errors, the first issue (`body.name: Field required
    ///   (and 2 more)`);
    /// * for a non-JSON body, an HTML page's title or the start of the text;
    /// * for an empty body, the lower-case status reason (`not found`);
    /// * for transport, decode and other failures, their description.
    ///
    /// At most [`MESSAGE_LIMIT`](crate::MESSAGE_LIMIT) bytes, cut on a
    /// character boundary and marked with `…` when cut.
    ///
    /// Raw: the server's text as sent, control characters included;
    /// escape it before printing it (`Display` of the error does).
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// The error code string: the body's `code` field (or an `error` field
    /// that looks like a code), else the documented code for the status:
    /// `unauthorized` (401), `forbidden` (403), `rate_limit_exceeded` (429).
    /// At most 64 bytes.
    ///
    /// Raw: the server's text as sent, control characters included;
    /// escape it before printing it (`Display` of the error does).
    pub fn code(&self) -> Option<&str> {
        self.inner.code.as_deref()
    }

    /// The `x-request-id` response header, when present (quote it when
    /// reporting a problem to Linkt). At most 128 bytes of visible ASCII,
    /// spaces and tabs (a header value that is not visible ASCII is not
    /// read).
    ///
    /// Raw: the server's text as sent, control characters included;
    /// escape it before printing it (`Display` of the error does).
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }

    /// The OpenAPI `operationId` of the failed call, when known.
    pub fn operation_id(&self) -> Option<&str> {
        self.inner.operation_id.as_deref()
    }

    /// How many attempts were made, when known: 0 when the call failed
    /// before anything was sent, 1 when it was not retried.
    pub fn attempts(&self) -> Option<u32> {
        self.inner.attempts
    }

    /// The HTTP method of the failed call (`GET`), when known.
    pub fn method(&self) -> Option<&str> {
        self.inner.method.as_deref()
    }

    /// The path template of the failed call (`/v1/icp/{icp_id}`), when known.
    pub fn path_template(&self) -> Option<&str> {
        self.inner.path_template.as_deref()
    }

    /// The issues of a FastAPI validation error (usually 422); empty
    /// otherwise. Each issue's `msg` and `type` are at most
    /// [`MESSAGE_LIMIT`](crate::MESSAGE_LIMIT) bytes and each key of its
    /// `loc` at most 128; `input` and `ctx` are the JSON values as sent.
    ///
    /// Raw: the server's text as sent, control characters included;
    /// escape it before printing it (`Display` of an issue and of the
    /// error do).
    pub fn validation_errors(&self) -> &[ValidationIssue] {
        &self.inner.validation
    }

    /// The `detail` value of a JSON error body, whatever its shape.
    ///
    /// Raw and unbounded: the value as decoded from the body, its strings
    /// unescaped and uncut.
    pub fn detail(&self) -> Option<&Value> {
        self.inner.detail.as_ref()
    }

    /// The delay the server asked for (`retry-after-ms`, else `Retry-After`
    /// in seconds or as an HTTP-date), uncapped.
    pub fn retry_after(&self) -> Option<Duration> {
        self.inner.retry_after
    }

    /// Rate-limit state from the response headers, when present.
    pub fn rate_limit(&self) -> Option<&RateLimit> {
        self.inner.rate_limit.as_ref()
    }

    /// For [`ErrorKind::Decode`] errors from [`Error::decode_as`] (and from
    /// [`Error::decode`] for a body that is not JSON), the JSON path of the
    /// failure, e.g. `.icps[0].created_at` (`.` for the root).
    /// Keys that are not plain identifiers are written as JSON strings
    /// (`["odd key"]`), which escapes C0 controls but not C1 or
    /// bidirectional controls; `Display` escapes those.
    pub fn decode_path(&self) -> Option<&str> {
        self.inner.decode_path.as_deref()
    }

    /// A bounded excerpt of the response body (at most
    /// [`BODY_EXCERPT_LIMIT`](crate::BODY_EXCERPT_LIMIT) bytes, cut on a
    /// character boundary and marked with `…` when cut); `None` when there
    /// was no body or it was not available.
    ///
    /// Raw: the server's text as sent, control characters included;
    /// escape it before printing it (`Display` of the error does).
    pub fn body_excerpt(&self) -> Option<&str> {
        self.inner.body_excerpt.as_deref()
    }

    /// Whether repeating the call could succeed: 408, 409, 429 and 5xx
    /// responses, timeouts and connection failures, unless the server said
    /// otherwise with `x-should-retry` (rules of `linkt-backoff`).
    pub fn is_retryable(&self) -> bool {
        let inner = &self.inner;
        match (inner.status, inner.transport) {
            (Some(status), _) if inner.transport.is_none() || inner.kind.has_status_kind() => {
                let empty = HeaderMap::new();
                retry::response_is_retryable(status, inner.headers.as_ref().unwrap_or(&empty))
            }
            (_, Some(failure)) => retry::transport_is_retryable(failure),
            _ => false,
        }
    }
}

impl ErrorKind {
    /// Whether this kind is derived from an HTTP status.
    const fn has_status_kind(self) -> bool {
        matches!(
            self,
            ErrorKind::BadRequest
                | ErrorKind::Unauthorized
                | ErrorKind::Forbidden
                | ErrorKind::NotFound
                | ErrorKind::Conflict
                | ErrorKind::Validation
                | ErrorKind::RateLimited
                | ErrorKind::Client
                | ErrorKind::Server
        )
    }
}

impl Inner {
    fn with_source<S: StdError + Send + Sync + 'static>(mut self, source: S) -> Inner {
        self.source = Some(Box::new(source));
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        let mut op_in_head = false;
        match (inner.kind, inner.status) {
            (ErrorKind::Decode, _) if inner.decoded_body => {
                f.write_str("failed to decode response")?;
                if let Some(op) = &inner.operation_id {
                    write!(f, " of {}", Escaped::new(op, DISPLAY_ID_CHARS))?;
                    op_in_head = true;
                }
                if let Some(path) = inner.decode_path.as_deref().filter(|p| *p != ".") {
                    write!(f, " at {}", Escaped::new(path, DISPLAY_PATH_CHARS))?;
                }
            }
            (ErrorKind::RateLimited, Some(status)) => {
                write!(f, "rate limited ({})", status.as_u16())?
            }
            (ErrorKind::Validation, Some(status)) => {
                write!(f, "validation failed ({})", status.as_u16())?;
            }
            (ErrorKind::UnexpectedStatus, Some(status)) => {
                write!(f, "unexpected status {}", status_line(status))?;
            }
            (kind, Some(status)) if kind.has_status_kind() => f.write_str(&status_line(status))?,
            (kind, _) => f.write_str(kind.as_str())?,
        }
        if inner.show_message && !inner.message.is_empty() {
            write!(
                f,
                ": {}",
                Escaped::new(&inner.message, DISPLAY_MESSAGE_CHARS)
            )?;
        }
        if let Some(delay) = inner.retry_after {
            write!(f, ", retry after {}", DisplayDuration(delay))?;
        }

        let mut parts: Vec<String> = Vec::new();
        if let (Some(op), false) = (&inner.operation_id, op_in_head) {
            parts.push(format!("operation {}", Escaped::new(op, DISPLAY_ID_CHARS)));
        }
        if let Some(id) = &inner.request_id {
            parts.push(format!("request id {}", Escaped::new(id, DISPLAY_ID_CHARS)));
        }
        if let Some(attempts) = inner.attempts.filter(|n| *n > 1) {
            parts.push(format!("after {attempts} attempts"));
        }
        if !parts.is_empty() {
            write!(f, " ({})", parts.join(", "))?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        let mut debug = f.debug_struct("Error");
        debug
            .field("kind", &inner.kind)
            .field("status", &inner.status)
            .field("message", &inner.message);
        let optional: [(&str, Option<&dyn fmt::Debug>); 10] = [
            ("code", inner.code.as_ref().map(|v| v as &dyn fmt::Debug)),
            (
                "request_id",
                inner.request_id.as_ref().map(|v| v as &dyn fmt::Debug),
            ),
            (
                "operation_id",
                inner.operation_id.as_ref().map(|v| v as &dyn fmt::Debug),
            ),
            (
                "attempts",
                inner.attempts.as_ref().map(|v| v as &dyn fmt::Debug),
            ),
            (
                "method",
                inner.method.as_ref().map(|v| v as &dyn fmt::Debug),
            ),
            (
                "path_template",
                inner.path_template.as_ref().map(|v| v as &dyn fmt::Debug),
            ),
            (
                "retry_after",
                inner.retry_after.as_ref().map(|v| v as &dyn fmt::Debug),
            ),
            (
                "rate_limit",
                inner.rate_limit.as_ref().map(|v| v as &dyn fmt::Debug),
            ),
            (
                "decode_path",
                inner.decode_path.as_ref().map(|v| v as &dyn fmt::Debug),
            ),
            (
                "body_excerpt",
                inner.body_excerpt.as_ref().map(|v| v as &dyn fmt::Debug),
            ),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                debug.field(name, value);
            }
        }
        if !inner.validation.is_empty() {
            debug.field("validation_errors", &inner.validation);
        }
        if let Some(source) = &inner.source {
            debug.field("source", source);
        }
        debug.finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|source| source as &(dyn StdError + 'static))
    }
}

/// A key or endpoint configuration problem, so `ApiKey::new(..)?` works in
/// functions returning `linkt::Error`.
impl From<linkt_auth::AuthError> for Error {
    fn from(err: linkt_auth::AuthError) -> Self {
        Error::configuration_from(err)
    }
}

impl<E> From<progenitor_client::Error<E>> for Error {
    /// Maps every variant of a generated call's error:
    ///
    /// | progenitor | mapped by |
    /// |---|---|
    /// | `UnexpectedResponse` with a [`ResponseRecord`] and a [`BodyShortfall`](crate::BodyShortfall) extension | [`Error::incomplete_body`] on the recorded body and context |
    /// | `UnexpectedResponse` with a [`ResponseRecord`] extension | [`Error::from_response`] on the recorded body and context |
    /// | `UnexpectedResponse` without one | status and headers only |
    /// | `ErrorResponse` | status and headers only (the typed body is not reachable without a bound on `E`; see [`Error::from_error_response`]) |
    /// | `InvalidResponsePayload` | [`Error::decode`] |
    /// | `CommunicationError`, `ResponseBodyError`, `InvalidUpgrade` | [`Error::from_transport`] |
    /// | `InvalidRequest`, `Custom` | [`Error::invalid_request`] |
    fn from(error: progenitor_client::Error<E>) -> Self {
        use progenitor_client::Error as P;
        let none = CallContext::new();
        match error {
            P::UnexpectedResponse(response) => {
                let shortfall = response.extensions().get::<incomplete::BodyShortfall>();
                match response.extensions().get::<ResponseRecord>() {
                    Some(record) if let Some(&shortfall) = shortfall => Error::incomplete_body(
                        response.status(),
                        response.headers(),
                        &record.body,
                        shortfall,
                        &record.context(),
                    ),
                    Some(record) => Error::from_response(
                        response.status(),
                        response.headers(),
                        &record.body,
                        &record.context(),
                    ),
                    None => Error::from_response(response.status(), response.headers(), &[], &none),
                }
            }
            P::ErrorResponse(value) => {
                Error::from_response(value.status(), value.headers(), &[], &none)
            }
            P::InvalidResponsePayload(body, error) => Error::decode(error, &body, &none),
            P::CommunicationError(error)
            | P::ResponseBodyError(error)
            | P::InvalidUpgrade(error) => Error::from_transport(error, &none),
            P::InvalidRequest(message) | P::Custom(message) => {
                Error::invalid_request(message, &none)
            }
        }
    }
}

/// `404 not found`; `499 client error` for a status without a reason
/// phrase.
fn status_line(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {}", status.as_u16(), reason.to_ascii_lowercase()),
        None => match ErrorKind::from_status(status) {
            kind @ (ErrorKind::Client | ErrorKind::Server) => {
                format!("{} {}", status.as_u16(), kind.as_str())
            }
            _ => status.as_u16().to_string(),
        },
    }
}

fn reason(status: StatusCode) -> String {
    status
        .canonical_reason()
        .map_or_else(|| "unknown status".to_owned(), str::to_ascii_lowercase)
}

fn default_code(status: StatusCode) -> Option<&'static str> {
    match status.as_u16() {
        401 => Some("unauthorized"),
        403 => Some("forbidden"),
        429 => Some("rate_limit_exceeded"),
        _ => None,
    }
}

fn request_id(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(REQUEST_ID_HEADER)?.to_str().ok()?.trim();
    (!value.is_empty()).then(|| bound(value.to_owned(), 128))
}

/// The error's own message followed by those of its sources that add
/// something (`error sending request for url (…): tcp connect error: …`),
/// bounded.
fn chain_message(error: &reqwest::Error) -> String {
    bound(chain(error), MESSAGE_LIMIT)
}

/// The messages of an error and those of its sources that add something,
/// joined with `: `.
fn chain(error: &(dyn StdError + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !text.is_empty() && !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

struct DisplayDuration(Duration);

impl fmt::Display for DisplayDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let millis = self.0.as_millis();
        if millis.is_multiple_of(1000) {
            write!(f, "{}s", millis / 1000)
        } else {
            write!(f, "{millis}ms")
        }
    }
}
