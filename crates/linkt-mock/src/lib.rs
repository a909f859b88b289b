#![doc = include_str!("../README.md")]
//!
//! # Modules
//!
//! - [`MockServer`] and [`MockServerBuilder`]: starting a server, its keys,
//!   clients for it, its journal;
//! - [`Clock`] (module [`clock`]): the simulated time every behaviour reads;
//! - [`Faults`]: injected failures of responses (API errors and network
//!   faults: cut, stalled and huge bodies, redirects) and runs;
//! - [`Timing`]: how long simulated work takes;
//! - [`Drift`]: answers that differ from the spec in controlled ways, and
//!   the record of each change ([`InjectedDrift`]);
//! - [`spec`]: the OpenAPI document and the validator the server (and your
//!   tests) check requests and responses with.
#![deny(missing_docs)]

pub mod clock;
mod data;
mod delivery;
mod drift;
mod faults;
mod handlers;
mod server;
pub mod spec;
mod store;

pub use clock::Clock;
pub use drift::{CREATE_OPERATIONS, Drift, DriftKind, InjectedDrift};
pub use faults::{Fault, FaultError, Faults, Filler, Framing, MAX_DELAY, MAX_STALL, RunFault};
pub use linkt::Plan;
pub use server::{
    DEFAULT_KEY, Exchange, JOURNAL_LIMIT, KeyConfig, MAX_BODY_BYTES, MockServer, MockServerBuilder,
    StartError, Violation,
};
pub use store::Timing;
