//! The conformance suite's shared half: what must be covered, and whether it is.
//!
//! The suite checks the generated `linkt` client against the normalized
//! OpenAPI document (`linkt_spec::prepare`). Its tests live in this package's
//! integration-test binary (`tests/it/`); this library holds what both those
//! tests and `cargo xtask conformance` need, and nothing that depends on the
//! generated code, so the gate can run even when the client does not compile:
//!
//! * [`cases`]: the operation cases, one per operation, as data
//!   ([`for_each_case!`], [`CASES`]);
//! * [`components`]: the component schemas the property tests cover
//!   ([`for_each_component!`], [`COMPONENTS`]) and the Rust naming rule
//!   ([`rust_type_name`]);
//! * [`spec`]: reading operations, parameters, examples and schemas out of
//!   the normalized document, and synthesizing example values;
//! * [`coverage`](mod@coverage): the coverage check and its table
//!   ([`coverage()`], [`Coverage::render`]).
//!
//! Everything that sends requests, decodes bodies or runs proptest is in the
//! test binary, not here.
#![deny(missing_docs)]

pub mod cases;
pub mod components;
pub mod coverage;
pub mod spec;

pub use cases::{BodyKind, CASES, Case, ResponseKind};
pub use components::{COMPONENTS, rust_type_name};
pub use coverage::{ComponentRow, Coverage, Mark, OperationRow, SNAPSHOT_PREFIX, coverage};

/// Where the committed request snapshots live, relative to this package's
/// directory.
pub const SNAPSHOT_DIR: &str = "tests/it/snapshots";

/// The spec file, relative to the workspace root.
pub const SPEC_FILE: &str = "spec/linkt-v1.openapi.json";

/// The overlay file, relative to the workspace root.
pub const OVERLAY_FILE: &str = "spec/overlay.yaml";
