//! Classification: what one attempt's outcome says about repeating it.
//!
//! This module reads a status, response headers or a transport failure and
//! answers two questions: is the outcome worth retrying
//! ([`Retryable`]), and could the server have acted on the request (which
//! decides whether a non-idempotent method may be repeated). It also reads
//! the delay the server asked for ([`server_delay`]).
//!
//! It holds no policy: attempt counts, backoff, caps and deadlines belong to
//! [`RetryPolicy`](crate::RetryPolicy), which calls into this module.
//!
//! # Default classification
//!
//! | outcome | retryable | server may have acted on it |
//! |---|---|---|
//! | 2xx | never (even with `x-should-retry: true`) | – |
//! | 3xx | never (even with `x-should-retry: true`): the redirect would repeat | – |
//! | any other status with `x-should-retry: true` | yes | no: the server vouches for repeating it |
//! | any other status with `x-should-retry: false` | no | – |
//! | 408 Request Timeout, 429 Too Many Requests | yes | no |
//! | 409 Conflict, 500 and above | yes | maybe |
//! | every other status (400, 401, 403, 404, 422, …) | no | – |
//! | [`TransportFailure::Connect`] | yes | no: nothing was sent |
//! | [`TransportFailure::ConnectionLost`], [`TransportFailure::Timeout`] | yes | maybe |
//! | [`TransportFailure::Other`] (among them TLS failures and malformed or oversized response heads: see [`TransportFailure`]) | no | – |
//!
//! `x-should-retry` values other than `true` and `false` (compared ignoring
//! ASCII case and surrounding whitespace) are ignored.

use std::fmt;
use std::time::{Duration, SystemTime};

use http::{HeaderMap, Method, StatusCode, header::RETRY_AFTER};

use crate::reason::{RetryReason, StopReason};

/// Name of the header by which the server overrides the status rules.
pub const X_SHOULD_RETRY: &str = "x-should-retry";

/// Name of the non-standard header carrying the server delay in
/// (possibly fractional) milliseconds; it takes precedence over
/// `Retry-After`.
pub const RETRY_AFTER_MS: &str = "retry-after-ms";

/// [`X_SHOULD_RETRY`] and [`RETRY_AFTER_MS`] as header names, so lookups
/// need not parse the name on every response.
static X_SHOULD_RETRY_NAME: http::HeaderName = http::HeaderName::from_static(X_SHOULD_RETRY);
static RETRY_AFTER_MS_NAME: http::HeaderName = http::HeaderName::from_static(RETRY_AFTER_MS);

/// What one attempt produced, as far as retrying is concerned.
#[derive(Debug, Clone, Copy)]
pub enum Outcome<'a> {
    /// A response arrived (whatever its status).
    Response {
        /// The response status.
        status: StatusCode,
        /// The response headers (read for `x-should-retry`,
        /// `retry-after-ms` and `Retry-After`).
        headers: &'a HeaderMap,
    },
    /// No response arrived.
    Transport(TransportFailure),
}

/// How a request failed when no response arrived.
///
/// The distinction that matters is whether the server could have acted on
/// the request: only [`Connect`](Self::Connect) proves it could not.
///
/// Mapping a `reqwest::Error` (check in this order):
///
/// | reqwest | variant |
/// |---|---|
/// | a `rustls::Error` (or, with `native-tls`, a `native_tls::Error`) in the `source()` chain, or in an `io::Error` there (certificate invalid or untrusted, bad signature, handshake refused, a peer that does not speak TLS) | [`Other`](Self::Other): the next handshake fails the same way |
/// | a `hyper::Error` in the chain with `is_parse()` (a malformed response head, or one over hyper's size limit: `is_parse_too_large()`) | [`Other`](Self::Other): the server would send it again |
/// | `is_connect()` (refused, DNS, connect timeout) | [`Connect`](Self::Connect) |
/// | `is_timeout()` | [`Timeout`](Self::Timeout) |
/// | `is_request()` or `is_body()` | [`ConnectionLost`](Self::ConnectionLost) |
/// | anything else (`is_builder()`, `is_redirect()`, `is_decode()`, …) | [`Other`](Self::Other) |
///
/// `linkt_error::transport_failure` is this mapping; the `linkt` client's
/// retry loop and `linkt::Error::is_retryable` both use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportFailure {
    /// No connection was established (refused, name resolution failed,
    /// connect timeout), so no byte of the request reached the server.
    /// Retrying is safe for every method. A TLS failure is not this but
    /// [`Other`](Self::Other): repeating the handshake cannot change it.
    Connect,
    /// The connection broke after the request may have been written (reset,
    /// closed before a complete response).
    ConnectionLost,
    /// The request timed out after connecting; the server may be working on
    /// it.
    Timeout,
    /// A failure that repeating cannot fix, such as an invalid request, a
    /// redirect loop, a TLS failure (an invalid certificate, a failed
    /// handshake) or a response head that does not parse or is too large.
    /// Never retried.
    Other,
}

impl TransportFailure {
    /// Whether this failure proves the server never saw the request.
    pub const fn provably_unsent(self) -> bool {
        matches!(self, Self::Connect)
    }
}

impl fmt::Display for TransportFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "could not connect",
            Self::ConnectionLost => "connection lost",
            Self::Timeout => "timed out",
            Self::Other => "transport failure",
        })
    }
}

/// The classification of one outcome, in the spirit of reqwest-retry's
/// `Retryable::{Transient, Fatal}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retryable {
    /// Worth repeating.
    Transient {
        /// Why.
        reason: RetryReason,
        /// `true` when the server provably did not act on the request
        /// (connect failure, 408, 429, or the server's own
        /// `x-should-retry: true`), so even a non-idempotent method may be
        /// repeated.
        unprocessed: bool,
    },
    /// Not worth repeating: a success, or a failure that repeating will not
    /// fix.
    Final {
        /// Why.
        reason: StopReason,
    },
}

impl Retryable {
    /// Whether the outcome is worth repeating.
    pub const fn is_transient(&self) -> bool {
        matches!(self, Self::Transient { .. })
    }
}

impl Outcome<'_> {
    /// Classifies this outcome by the rules in the [module docs](self).
    pub fn classify(&self) -> Retryable {
        match *self {
            Outcome::Response { status, headers } => classify_response(status, headers),
            Outcome::Transport(failure) => match failure {
                TransportFailure::Other => Retryable::Final {
                    reason: StopReason::TransportNotRetryable(failure),
                },
                TransportFailure::Connect
                | TransportFailure::ConnectionLost
                | TransportFailure::Timeout => Retryable::Transient {
                    reason: RetryReason::Transport(failure),
                    unprocessed: failure.provably_unsent(),
                },
            },
        }
    }

    /// The delay the server asked for, if this is a response carrying one
    /// (see [`server_delay`]).
    pub fn server_delay(&self, now: SystemTime) -> Option<Duration> {
        match *self {
            Outcome::Response { headers, .. } => server_delay(headers, now),
            Outcome::Transport(_) => None,
        }
    }
}

fn classify_response(status: StatusCode, headers: &HeaderMap) -> Retryable {
    if status.is_success() {
        return Retryable::Final {
            reason: StopReason::Success(status),
        };
    }
    // Repeating a request that was redirected gets the same redirect: the
    // client follows none, so `x-should-retry` cannot make it succeed.
    if status.is_redirection() {
        return Retryable::Final {
            reason: StopReason::NotRetryable(status),
        };
    }
    match should_retry_header(headers) {
        Some(true) => {
            return Retryable::Transient {
                reason: RetryReason::ServerSaidRetry(status),
                unprocessed: true,
            };
        }
        Some(false) => {
            return Retryable::Final {
                reason: StopReason::ServerSaidNoRetry(status),
            };
        }
        None => {}
    }
    match status.as_u16() {
        408 | 429 => Retryable::Transient {
            reason: RetryReason::Status(status),
            unprocessed: true,
        },
        409 | 500.. => Retryable::Transient {
            reason: RetryReason::Status(status),
            unprocessed: false,
        },
        _ => Retryable::Final {
            reason: StopReason::NotRetryable(status),
        },
    }
}

/// Whether `method` is idempotent, so that repeating it is harmless even if
/// the server acted on an earlier attempt: GET, HEAD, PUT, DELETE, OPTIONS
/// and TRACE.
///
/// POST, PATCH, CONNECT and every extension method are not.
pub fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}

/// Reads `x-should-retry`: `Some(true)` for `true`, `Some(false)` for
/// `false` (ignoring ASCII case and surrounding whitespace), `None` when the
/// header is absent or holds anything else.
pub fn should_retry_header(headers: &HeaderMap) -> Option<bool> {
    let value = headers.get(&X_SHOULD_RETRY_NAME)?.to_str().ok()?.trim();
    if value.eq_ignore_ascii_case("true") {
        Some(true)
    } else if value.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// The delay the server asked for before the next attempt, if any.
///
/// In order, the first usable value wins:
///
/// 1. `retry-after-ms`: milliseconds as a decimal number (`"2000"`,
///    `"1500.5"`);
/// 2. `Retry-After` as seconds, fractions allowed (`"20"`, `"1.5"`);
/// 3. `Retry-After` as an HTTP-date, taken relative to `now`.
///
/// A value is unusable, and so ignored (the policy then computes its own
/// backoff), when it is not valid text, does not parse, is not finite
/// (`nan`, `inf`), or is not strictly positive: `"0"`, `"-10"` and an
/// HTTP-date at or before `now` are all ignored. This matches the official
/// Python SDK, which uses the server's delay only when it is above zero. A
/// finite number too large for a [`Duration`] saturates to
/// [`Duration::MAX`], which every sensible cap rejects.
///
/// This function does not apply a cap; the policy does.
pub fn server_delay(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(delay) = text(&RETRY_AFTER_MS_NAME)
        .and_then(parse_finite)
        .and_then(|ms| positive_seconds(ms / 1000.0))
    {
        return Some(delay);
    }
    let retry_after = text(&RETRY_AFTER)?;
    match parse_finite(retry_after) {
        Some(seconds) => positive_seconds(seconds),
        None if looks_numeric(retry_after) => None,
        None => {
            let at = httpdate::parse_http_date(retry_after.trim()).ok()?;
            at.duration_since(now).ok().filter(|d| !d.is_zero())
        }
    }
}

/// Parses a finite decimal number, ignoring surrounding whitespace.
pub(crate) fn parse_finite(text: &str) -> Option<f64> {
    let value: f64 = text.trim().parse().ok()?;
    value.is_finite().then_some(value)
}

/// `nan` and `inf` parse as numbers but are garbage here; keep them from
/// being tried as dates (which would fail anyway) for clarity.
fn looks_numeric(text: &str) -> bool {
    text.trim().parse::<f64>().is_ok()
}

/// A strictly positive number of seconds as a `Duration`, saturating.
fn positive_seconds(seconds: f64) -> Option<Duration> {
    if seconds.is_nan() || seconds <= 0.0 {
        return None;
    }
    let delay = Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX);
    (!delay.is_zero()).then_some(delay)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn milliseconds_take_precedence_over_seconds() {
        let h = headers(&[("retry-after-ms", "250"), ("retry-after", "7")]);
        assert_eq!(
            server_delay(&h, SystemTime::UNIX_EPOCH),
            Some(Duration::from_millis(250))
        );
    }

    #[test]
    fn unusable_milliseconds_fall_back_to_retry_after() {
        for ms in ["-2000", "0", "soon", "nan"] {
            let h = headers(&[("retry-after-ms", ms), ("retry-after", "3")]);
            assert_eq!(
                server_delay(&h, SystemTime::UNIX_EPOCH),
                Some(Duration::from_secs(3)),
                "{ms}"
            );
        }
    }

    #[test]
    fn non_finite_and_tiny_values_are_ignored() {
        for v in ["inf", "-inf", "NaN", "1e-12", "infinity"] {
            let h = headers(&[("retry-after", v)]);
            assert_eq!(server_delay(&h, SystemTime::UNIX_EPOCH), None, "{v}");
        }
    }

    #[test]
    fn huge_finite_values_saturate() {
        let h = headers(&[("retry-after", "99999999999999999999999999999999999")]);
        assert_eq!(
            server_delay(&h, SystemTime::UNIX_EPOCH),
            Some(Duration::MAX)
        );
    }

    #[test]
    fn should_retry_header_ignores_case_and_other_values() {
        assert_eq!(
            should_retry_header(&headers(&[("x-should-retry", " TRUE ")])),
            Some(true)
        );
        assert_eq!(
            should_retry_header(&headers(&[("x-should-retry", "False")])),
            Some(false)
        );
        assert_eq!(
            should_retry_header(&headers(&[("x-should-retry", "1")])),
            None
        );
        assert_eq!(should_retry_header(&HeaderMap::new()), None);
    }

    #[test]
    fn idempotent_methods() {
        for m in [
            Method::GET,
            Method::HEAD,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
            Method::TRACE,
        ] {
            assert!(is_idempotent(&m), "{m}");
        }
        for m in [Method::POST, Method::PATCH, Method::CONNECT] {
            assert!(!is_idempotent(&m), "{m}");
        }
        let purge = Method::from_bytes(b"PURGE").expect("valid extension method");
        assert!(!is_idempotent(&purge));
    }

    #[test]
    fn success_is_final_even_when_the_server_says_retry() {
        let h = headers(&[("x-should-retry", "true")]);
        let outcome = Outcome::Response {
            status: StatusCode::OK,
            headers: &h,
        };
        assert_eq!(
            outcome.classify(),
            Retryable::Final {
                reason: StopReason::Success(StatusCode::OK)
            }
        );
    }
}
