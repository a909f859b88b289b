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

/// Maps a `reqwest::Error` onto `linkt-backoff`'s transport classes (the
/// order documented on [`TransportFailure`]).
pub(crate) fn transport_failure(error: &reqwest::Error) -> TransportFailure {
    if error.is_connect() {
        TransportFailure::Connect
    } else if error.is_timeout() {
        TransportFailure::Timeout
    } else if error.is_request() || error.is_body() {
        TransportFailure::ConnectionLost
    } else {
        TransportFailure::Other
    }
}
