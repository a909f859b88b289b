#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

pub mod backend;
pub mod classify;
pub mod jitter;
pub mod limiter;
pub mod policy;
pub mod rate_limit;
pub mod reason;
pub mod retry;

pub use backend::{BoxFuture, LimiterBackend, ReserveError};
pub use classify::{
    Outcome, RETRY_AFTER_MS, Retryable, TransportFailure, X_SHOULD_RETRY, is_idempotent,
    server_delay, should_retry_header,
};
pub use jitter::{FixedJitter, Jitter, RandomJitter};
pub use limiter::{LimitExceeded, Plan, RateLimiter, Window};
pub use policy::{Decision, RetryPolicy};
pub use rate_limit::RateLimit;
pub use reason::{RetryReason, StopReason};
pub use retry::{
    Attempted, Clock, Env, FirstAttempt, RetryEvent, Sleeper, SystemClock, resume, run,
};
