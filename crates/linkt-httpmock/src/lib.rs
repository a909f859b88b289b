//! Typed [httpmock](https://docs.rs/httpmock) helpers for code that uses the
//! `linkt` client: one `When`/`Then` pair per operation, generated from the same
//! spec as the client by `cargo xtask generate`.
//!
//! ```no_run
//! use linkt_httpmock::MockServerExt;
//!
//! let server = httpmock::MockServer::start();
//! let mock = server.icp_delete(|when, then| {
//!     when.icp_id("507f1f77bcf86cd799439011");
//!     then.no_content();
//! });
//! // ... point a `linkt::Client` at `server.base_url()` and call `icp_delete` ...
//! mock.assert();
//! ```
//!
//! Error responses are not part of the generated helpers (the client maps
//! them all through `linkt::Error`); use `into_inner()` to reach httpmock's
//! `When`/`Then` and set any status and body.

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

pub use generated::*;
