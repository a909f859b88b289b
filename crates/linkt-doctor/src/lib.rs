#![doc = include_str!("../README.md")]
//!
//! # Modules
//!
//! - [`Tour`] and [`TourBuilder`]: what is called, in which order (see
//!   [`tour`]), paced by the key's plan, within [`MAX_READ_CALLS`] and
//!   [`MAX_WRITE_CALLS`] requests;
//! - [`Report`]: the [`Finding`]s, each with the operation, JSON pointer,
//!   expected and seen value, count and the suggested spec change as a
//!   [`Rule`] of the generator's change report; its [`Outcome`] and exit
//!   code; Markdown.
#![deny(missing_docs)]

mod check;
mod http;
mod report;
pub mod tour;

pub use http::{MAX_BODY_BYTES, MAX_RATE_LIMIT_WAIT};
pub use linkt_auth::{ApiKey, Config, Environment};
pub use linkt_backoff::Plan;
pub use report::{
    Call, Finding, HEADERS_READ_BY_CLIENT, HeaderSeen, Impact, NeverSent, Outcome, Problem, Report,
    Rule,
};
pub use tour::{
    DEFAULT_PAGE_SIZE, MAX_READ_CALLS, MAX_WRITE_CALLS, Tour, TourBuilder, WRITE_TOUR_PREFIX,
    read_only_operations,
};

/// Why a tour could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The write tour was asked for against production without
    /// [`TourBuilder::allow_production_writes`].
    #[error(
        "the write tour creates and deletes resources; against production ({0}) it runs only when allowed explicitly (`--i-know`)"
    )]
    ProductionWrite(String),
    /// A page size outside 1–100.
    #[error("page size {0} is outside 1..=100")]
    PageSize(u32),
    /// The HTTP client could not be built (a bad base URL, no TLS).
    #[error("setting up the HTTP client: {0}")]
    Client(String),
    /// The embedded spec could not be prepared.
    #[error("preparing the embedded spec: {0}")]
    Spec(String),
}
