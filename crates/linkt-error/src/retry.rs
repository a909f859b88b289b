//! The seam to `linkt-backoff`: retry classification, the server's delay
//! and rate-limit headers.
//!
//! Every use of `linkt-backoff` goes through this module, so the rules live
//! in one crate and this one only stores their answers.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, StatusCode};
use linkt_backoff::{Outcome, RateLimit, TransportFailure};

/// The delay the server asked for (`retry-after-ms`, then `Retry-After` as
/// seconds or HTTP-date), if any.
pub(crate) fn server_delay(headers: &HeaderMap) -> Option<Duration> {
    linkt_backoff::server_delay(headers, SystemTime::now())
}

/// Rate-limit state parsed from the response headers, if any.
pub(crate) fn rate_limit(headers: &HeaderMap) -> Option<RateLimit> {
    RateLimit::from_headers(headers, SystemTime::now())
}

/// Whether a response with this status and these headers is worth
/// retrying (honours `x-should-retry`).
pub(crate) fn response_is_retryable(status: StatusCode, headers: &HeaderMap) -> bool {
    Outcome::Response { status, headers }
        .classify()
        .is_transient()
}

/// Whether a transport failure is worth retrying.
pub(crate) fn transport_is_retryable(failure: TransportFailure) -> bool {
    Outcome::Transport(failure).classify().is_transient()
}

/// Maps a `reqwest::Error` onto `linkt-backoff`'s transport classes, as the
/// `linkt` client's retry loop and [`Error::is_retryable`](crate::Error::is_retryable)
/// both see it.
///
/// First, a failure that repeating cannot change is
/// [`TransportFailure::Other`], never retried, whatever reqwest calls it:
///
/// * TLS: a `rustls::Error` (with the `rustls` feature) or a
///   `native_tls::Error` (with `native-tls`) anywhere in the error's
///   `source()` chain, or inside an [`std::io::Error`] there (how the TLS
///   stream reports it): an invalid or untrusted certificate, a bad
///   signature, a handshake the server refused, a peer that does not speak
///   TLS. reqwest reports these as `is_connect()`, which alone would be
///   retried;
/// * a response head that does not parse or is over hyper's size limit: a
///   [`hyper::Error`] in the chain for which `is_parse()` (which includes
///   `is_parse_too_large()`) holds. reqwest reports these as `is_request()`.
///
/// The chain is read by downcasting to these concrete types, not by
/// matching messages. Then, in the order documented on [`TransportFailure`]:
/// `is_connect()` is [`Connect`](TransportFailure::Connect), `is_timeout()`
/// [`Timeout`](TransportFailure::Timeout), `is_request()` or `is_body()`
/// (also when reqwest wraps the body error in a decode error, as it does for
/// a body read that broke off) [`ConnectionLost`](TransportFailure::ConnectionLost),
/// anything else [`Other`](TransportFailure::Other).
pub fn transport_failure(error: &reqwest::Error) -> TransportFailure {
    if cannot_change(error) {
        TransportFailure::Other
    } else if error.is_connect() {
        TransportFailure::Connect
    } else if error.is_timeout() {
        TransportFailure::Timeout
    } else if error.is_request() || body_broke_off(error) {
        TransportFailure::ConnectionLost
    } else {
        TransportFailure::Other
    }
}

/// Whether `error` is a body that broke off while it was read: `is_body()`,
/// or a decode error whose source is one (how reqwest reports a body read
/// with `chunk()`, `bytes()` or `json()` that the connection cut short).
pub(crate) fn body_broke_off(error: &reqwest::Error) -> bool {
    error.is_body()
        || std::error::Error::source(error)
            .and_then(|source| source.downcast_ref::<reqwest::Error>())
            .is_some_and(reqwest::Error::is_body)
}

/// Whether `error`'s source chain holds a TLS failure or a response head
/// hyper could not parse (see [`transport_failure`]).
fn cannot_change(error: &reqwest::Error) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = next {
        if is_tls_failure(current)
            || current
                .downcast_ref::<hyper::Error>()
                .is_some_and(hyper::Error::is_parse)
        {
            return true;
        }
        next = match current.downcast_ref::<std::io::Error>() {
            // `io::Error::source` skips the error it wraps (the TLS stream's
            // `io::Error` wraps the `rustls::Error`, and the connector wraps
            // that in another `io::Error`): look inside instead.
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => current.source(),
        };
    }
    false
}

/// Whether `error` is the error of a TLS library the crate was built for (a
/// certificate, signature or handshake failure).
fn is_tls_failure(error: &(dyn std::error::Error + 'static)) -> bool {
    #[cfg(feature = "rustls")]
    if error.is::<rustls::Error>() {
        return true;
    }
    #[cfg(feature = "native-tls")]
    if error.is::<native_tls::Error>() {
        return true;
    }
    let _ = error;
    false
}
