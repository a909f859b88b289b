#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

// The client itself is generated from `spec/` by `cargo xtask generate`; lint
// exemptions for it live here, never inside the generated file.
#[rustfmt::skip]
#[allow(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    rust_2018_idioms,
    clippy::all,
    clippy::unwrap_used,
    reason = "generated code"
)]
mod generated;

// The workspace README's examples are compiled as doctests too.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct WorkspaceReadme;

mod client;
mod hooks;
mod open;
pub mod paginate;
mod support;
mod upload;
pub mod wait;

pub use generated::*;
pub use open::UnknownValue;

pub use client::{
    CallOptions, ClientBuilder, ClientState, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RESPONSE_BODY,
    DEFAULT_POOL_IDLE_TIMEOUT, DEFAULT_TIMEOUT, MAX_ERROR_BODY, ResponseExt,
};
pub use paginate::{Page, PagedRequest, Paginate, Paginated};
pub use support::IntegerArg;
pub use upload::FilePart;
pub use wait::{CancelHandle, Progress, QueueCounts, Run, RunOutcome, RunStatus, RunWaiter};

// One error type for every call: `?` converts the generated calls' errors.
pub use linkt_error::{Error, ErrorKind, ValidationIssue};

pub use linkt_auth::{ApiKey, Environment};
pub use linkt_backoff::{LimiterBackend, Plan, RateLimit, RateLimiter, ReserveError, RetryPolicy};

/// One operation of the API, as listed in [`OPERATIONS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Operation {
    /// Method name on [`Client`], e.g. `icp_create`.
    pub name: &'static str,
    /// The vendor's operationId, e.g. `create_icp_v1_icp_post`.
    pub vendor_id: &'static str,
    /// Upper-case HTTP method.
    pub method: &'static str,
    /// Path template, e.g. `/v1/icp/{icp_id}`.
    pub path: &'static str,
    /// For multipart uploads, the name of the file part.
    pub multipart_field: Option<&'static str>,
}

impl Operation {
    /// Looks an operation up by its method name.
    pub fn find(name: &str) -> Option<&'static Operation> {
        OPERATIONS
            .binary_search_by(|op| op.name.cmp(name))
            .ok()
            .map(|i| &OPERATIONS[i])
    }
}
