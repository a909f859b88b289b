//! Integration tests for `linkt-auth` (one binary, a module per area).
#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

mod config;
mod key;
mod redaction;
