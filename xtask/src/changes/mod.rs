//! The change report between two versions of the API: every difference
//! between two *prepared* documents (OpenAPI 3.0.3 after the overlay and
//! `linkt-spec`'s normalization), each under a named rule, with a verdict for
//! the wire (clients already deployed) and for Rust (code written against the
//! previous generated client).
//!
//! What belongs here: comparing documents ([`compare`]), the vocabulary of
//! rules and verdicts (`model.rs`), typify's naming (`names.rs`), and the two
//! renderings (`render.rs`). What does not: reading files, git, or fetching
//! the vendor's document (`spec.rs`).
//!
//! The verdicts assume what the generator guarantees about the client: string
//! enums and discriminated unions are open (`#[non_exhaustive]`, an `Unknown`
//! variant keeps what the client does not know); structs with named fields
//! are `#[non_exhaustive]` and built through builders, so a new field is not a
//! compile break; unknown response fields are ignored; any 2xx is success. A
//! property is `Option<T>` when it is nullable, or optional without a default
//! and not a list or map (typify gives those a `serde(default)`).
//!
//! Each component is judged by where operations use it (walked through
//! `$ref`s in both documents): a change to a schema used in requests and in
//! responses takes the stricter of the two verdicts. A component no operation
//! reaches is judged as if used both ways.

mod model;
mod names;
mod operations;
mod render;
mod schema;
#[cfg(test)]
mod tests;

use serde_json::Value;

pub(crate) use model::ChangeReport;
pub(crate) use render::{markdown, text};

/// Every change from `old` to `new`, both prepared documents, sorted.
pub(crate) fn compare(old: &Value, new: &Value) -> ChangeReport {
    let mut differ = schema::Differ::new(old, new);
    operations::compare(&mut differ);
    ChangeReport::new(differ.changes)
}
