#![doc = include_str!("../README.md")]
//!
//! # Modules
//!
//! - [`rules`]: the normalizer's rules, one documented function each;
//! - [`schema`]: reading a normalized document's schemas (`$ref`s,
//!   wrappers, unions), shared by the mock's validator and the
//!   conformance suite;
//! - the rest is re-exported here: [`load`] and [`parse`] read files and
//!   text, [`apply_overlay`] applies an overlay, [`to_openapiv3`] parses the
//!   result, and [`Error`] is the one error type.
#![deny(missing_docs)]

mod discriminator;
mod error;
mod load;
mod openapi;
mod overlay;
mod pointer;
pub mod rules;
pub mod schema;

use std::path::Path;

use serde_json::Value;
use sha2::{Digest, Sha256};

pub use discriminator::require_discriminators;
pub use error::Error;
pub use load::{Format, load, parse};
pub use openapi::to_openapiv3;
pub use overlay::{ActionReport, OverlayReport, apply_overlay, merge};
pub use rules::normalize;

/// Everything [`prepare`] produces from a spec file and an optional overlay.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Prepared {
    /// The document after the overlay and [`normalize`]: OpenAPI 3.0.3.
    pub document: Value,
    /// [`Prepared::document`] parsed by [`to_openapiv3`].
    pub openapi: openapiv3::OpenAPI,
    /// Lower-case hex SHA-256 of the spec file's bytes as read.
    pub spec_sha256: String,
    /// Lower-case hex SHA-256 of the overlay file's bytes, if there is one.
    pub overlay_sha256: Option<String>,
    /// What each overlay action matched, if there is an overlay.
    pub overlay_report: Option<OverlayReport>,
}

/// Reads the spec and the overlay, applies the overlay, normalizes the
/// result and parses it.
///
/// The hashes are of the raw file bytes, so they change exactly when a
/// file does, whatever its syntax.
///
/// # Errors
///
/// Whatever [`load`], [`apply_overlay`], [`normalize`] and
/// [`to_openapiv3`] return; file errors name the file.
pub fn prepare(spec: &Path, overlay: Option<&Path>) -> Result<Prepared, Error> {
    let (spec_bytes, mut document) = load::read(spec)?;
    let (overlay_sha256, overlay_report) = match overlay {
        Some(path) => {
            let (bytes, overlay) = load::read(path)?;
            let report = apply_overlay(&mut document, &overlay)?;
            (Some(sha256_hex(&bytes)), Some(report))
        }
        None => (None, None),
    };
    let document = normalize(document)?;
    let openapi = to_openapiv3(&document)?;
    Ok(Prepared {
        document,
        openapi,
        spec_sha256: sha256_hex(&spec_bytes),
        overlay_sha256,
        overlay_report,
    })
}

/// Lower-case hex SHA-256 of `bytes`.
///
/// ```
/// assert_eq!(
///     linkt_spec::sha256_hex(b""),
///     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
/// );
/// ```
pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for byte in digest {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}
