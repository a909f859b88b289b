//! Integration tests for `linkt-spec`: one binary, a module per area.
//!
//! - `rules`: one snapshot per normalizer rule (input in the snapshot's
//!   description, output as pretty JSON);
//! - `failures`: every construct that must be an error, with its pointer;
//! - `overlay`: Overlay 1.0 semantics and errors;
//! - `openapi`: a FastAPI-shaped 3.1 document through the whole pipeline;
//! - `load`: files, formats and hashes;
//! - `props`: property tests (idempotence, null lifting);
//! - `vendor`: the checked-in vendor document.

mod common;
mod failures;
mod load;
mod openapi;
mod overlay;
mod props;
mod rules;
mod vendor;
