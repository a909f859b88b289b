//! Why an attempt is retried ([`RetryReason`]) or why the retrying stops
//! ([`StopReason`]).
//!
//! These are plain data with short lower-case `Display` messages meant for
//! logs and error messages. Deciding which reason applies lives in
//! [`classify`](crate::classify) and [`policy`](crate::policy), not here.

use std::fmt;
use std::time::Duration;

use http::{Method, StatusCode};

use crate::classify::TransportFailure;

/// Why an attempt is worth repeating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RetryReason {
    /// The response status is one that is retried by default
    /// (408, 409, 429 or 500 and above).
    Status(StatusCode),
    /// The server sent `x-should-retry: true` with this (non-2xx) status.
    ServerSaidRetry(StatusCode),
    /// No response arrived; the transport failed in this way.
    Transport(TransportFailure),
}

impl RetryReason {
    /// The response status behind this reason, if there was a response.
    pub const fn status(&self) -> Option<StatusCode> {
        match *self {
            Self::Status(status) | Self::ServerSaidRetry(status) => Some(status),
            Self::Transport(_) => None,
        }
    }
}

impl fmt::Display for RetryReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status(status) => write!(f, "status {}", status.as_u16()),
            Self::ServerSaidRetry(status) => {
                write!(
                    f,
                    "server said x-should-retry: true (status {})",
                    status.as_u16()
                )
            }
            Self::Transport(failure) => failure.fmt(f),
        }
    }
}

/// Why no further attempt is made.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StopReason {
    /// The response was a success (2xx); successes are never retried.
    Success(StatusCode),
    /// The response status is not one that is retried (for example 400,
    /// 401, 403, 404 or 422).
    NotRetryable(StatusCode),
    /// The server sent `x-should-retry: false` with this status.
    ServerSaidNoRetry(StatusCode),
    /// The transport failed in a way that repeating cannot fix
    /// ([`TransportFailure::Other`]).
    TransportNotRetryable(TransportFailure),
    /// The outcome would be retryable, but the method is not idempotent and
    /// the server may already have acted on the request.
    MethodNotSafe {
        /// The request's method.
        method: Method,
        /// What would otherwise have been retried.
        after: RetryReason,
    },
    /// The outcome was retryable, but the last permitted attempt was made.
    AttemptsExhausted {
        /// How many attempts were made in total.
        attempts: u32,
        /// Why the last attempt would otherwise have been retried.
        last: RetryReason,
    },
    /// The server asked for a longer wait than the policy accepts; the caller
    /// decides whether to wait that long.
    ServerDelayAboveCap {
        /// The delay the server asked for.
        delay: Duration,
        /// The policy's `max_server_delay`.
        cap: Duration,
    },
    /// Sleeping before the next attempt would end past the policy's deadline.
    Deadline {
        /// The delay that would have been slept.
        delay: Duration,
        /// Time spent so far, counted from the start of the first attempt.
        elapsed: Duration,
        /// The policy's overall deadline.
        deadline: Duration,
    },
}

impl StopReason {
    /// Whether the loop stopped because the last attempt succeeded (2xx).
    pub const fn is_success(&self) -> bool {
        matches!(self, Self::Success(_))
    }

    /// Whether the last outcome was one that would have been retried, had
    /// the policy's limits (attempts, server-delay cap, deadline, method
    /// safety) allowed it.
    pub const fn was_retryable(&self) -> bool {
        matches!(
            self,
            Self::MethodNotSafe { .. }
                | Self::AttemptsExhausted { .. }
                | Self::ServerDelayAboveCap { .. }
                | Self::Deadline { .. }
        )
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Success(status) => write!(f, "success (status {})", status.as_u16()),
            Self::NotRetryable(status) => {
                write!(f, "status {} is not retryable", status.as_u16())
            }
            Self::ServerSaidNoRetry(status) => write!(
                f,
                "server said x-should-retry: false (status {})",
                status.as_u16()
            ),
            Self::TransportNotRetryable(failure) => write!(f, "{failure} is not retryable"),
            Self::MethodNotSafe { method, after } => {
                write!(f, "method {method} not safe to retry after {after}")
            }
            Self::AttemptsExhausted { attempts, last } => {
                write!(f, "attempts exhausted after {attempts} (last: {last})")
            }
            Self::ServerDelayAboveCap { delay, cap } => {
                write!(f, "server delay {delay:?} above cap {cap:?}")
            }
            Self::Deadline {
                delay,
                elapsed,
                deadline,
            } => write!(
                f,
                "deadline: sleeping {delay:?} after {elapsed:?} would pass {deadline:?}"
            ),
        }
    }
}
