//! The crate's one error type.
//!
//! Every variant that concerns a place in a document carries that place as
//! an RFC 6901 JSON pointer (`/components/schemas/Foo/properties/bar`; the
//! empty pointer is the document root). Variants about the overlay carry the
//! action's index. Nothing else belongs here: the code that raises an error
//! lives beside the rule it enforces.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::Format;

/// Everything that can go wrong while loading, overlaying, normalizing or
/// parsing an OpenAPI document.
///
/// Messages are short, lower-case and name what to fix; the underlying
/// error, where there is one, is kept as the [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read `{}`", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },

    /// A file's extension names no format this crate reads.
    #[error("unknown format for `{}`: expected a .json, .yaml or .yml file", path.display())]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },

    /// Text is not valid JSON or YAML, or YAML that has no JSON equivalent.
    #[error("invalid {format}{}", InFile(file.as_deref()))]
    Parse {
        /// The syntax the text was read as.
        format: Format,
        /// The file the text came from, when it came from one.
        file: Option<PathBuf>,
        /// The parser's error, with line and column where it has them.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },

    /// The document's `openapi` field is missing or names a version this
    /// crate does not handle (here: 3.0.x and 3.1.x; after [`crate::normalize`]
    /// only 3.0.x).
    #[error("unsupported openapi version `{found}`, expected {expected}")]
    Version {
        /// The `openapi` field as found (empty if missing).
        found: String,
        /// The versions accepted at this step.
        expected: &'static str,
    },

    /// A keyword or construct has no faithful OpenAPI 3.0 equivalent
    /// (`if`, `prefixItems`, `$dynamicRef`, non-empty `webhooks`, …).
    #[error("unsupported keyword `{keyword}` at {}", At(pointer))]
    Unsupported {
        /// The object that holds the keyword.
        pointer: String,
        /// The keyword, as spelled in the document.
        keyword: String,
    },

    /// A schema admits only `null`, which OpenAPI 3.0 cannot say.
    #[error("schema admits only null at {}", At(pointer))]
    NullOnly {
        /// The schema.
        pointer: String,
    },

    /// Keywords that are each convertible cannot be combined faithfully in
    /// OpenAPI 3.0.
    #[error("cannot express {what} in openapi 3.0 at {}", At(pointer))]
    Inexpressible {
        /// The object that holds the keywords.
        pointer: String,
        /// What could not be expressed.
        what: &'static str,
    },

    /// A local reference (`#/…`) or discriminator mapping points at nothing.
    #[error("unresolved reference `{reference}` at {}", At(pointer))]
    Unresolved {
        /// Where the reference is written.
        pointer: String,
        /// The reference as written.
        reference: String,
    },

    /// A value has the wrong shape for its place in the document.
    #[error("expected {expected} at {}", At(pointer))]
    Malformed {
        /// The value.
        pointer: String,
        /// What the place requires.
        expected: &'static str,
    },

    /// The overlay document itself is malformed.
    #[error("invalid overlay: expected {expected} at {}", At(pointer))]
    Overlay {
        /// The value, as a pointer into the overlay document.
        pointer: String,
        /// What the place requires.
        expected: &'static str,
    },

    /// An overlay action's `target` is not valid RFC 9535 JSONPath.
    #[error("invalid jsonpath `{target}` in overlay action {index}")]
    JsonPath {
        /// The action's index in `actions`, from 0.
        index: usize,
        /// The target as written.
        target: String,
        /// The parser's error, with the position in the target.
        #[source]
        source: serde_json_path::ParseError,
    },

    /// An overlay action's target matched no node, so the action would do
    /// nothing; usually the vendor fixed or renamed what it patched.
    #[error("overlay action {index}{} matched nothing: `{target}`", Described(description.as_deref()))]
    NoMatch {
        /// The action's index in `actions`, from 0.
        index: usize,
        /// The action's `description`, if it has one.
        description: Option<String>,
        /// The target as written.
        target: String,
    },

    /// An overlay action matched a node it cannot change that way.
    #[error("overlay action {index} cannot {what} at {}", At(pointer))]
    OverlayAction {
        /// The action's index in `actions`, from 0.
        index: usize,
        /// The matched node in the document.
        pointer: String,
        /// What the action tried to do.
        what: &'static str,
    },

    /// The document does not deserialize as an OpenAPI 3.0 document.
    #[error("invalid openapi 3.0 document at {}", At(pointer))]
    Deserialize {
        /// The innermost object that fails on its own.
        pointer: String,
        /// Serde's error for that object.
        #[source]
        source: serde_json::Error,
    },
}

impl Error {
    /// The JSON pointer the error concerns, for variants that have one.
    ///
    /// For [`Error::Overlay`] the pointer is into the overlay document; for
    /// every other variant it is into the OpenAPI document.
    pub fn pointer(&self) -> Option<&str> {
        match self {
            Error::Unsupported { pointer, .. }
            | Error::NullOnly { pointer }
            | Error::Inexpressible { pointer, .. }
            | Error::Unresolved { pointer, .. }
            | Error::Malformed { pointer, .. }
            | Error::Overlay { pointer, .. }
            | Error::OverlayAction { pointer, .. }
            | Error::Deserialize { pointer, .. } => Some(pointer),
            Error::Version { .. } => Some("/openapi"),
            Error::Read { .. }
            | Error::UnknownFormat { .. }
            | Error::Parse { .. }
            | Error::JsonPath { .. }
            | Error::NoMatch { .. } => None,
        }
    }
}

/// Displays a JSON pointer, naming the root in words.
struct At<'a>(&'a str);

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("the document root")
        } else {
            f.write_str(self.0)
        }
    }
}

/// Displays ` in `file`` when there is a file.
struct InFile<'a>(Option<&'a Path>);

impl fmt::Display for InFile<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(path) => write!(f, " in `{}`", path.display()),
            None => Ok(()),
        }
    }
}

/// Displays ` (description)` when there is a description.
struct Described<'a>(Option<&'a str>);

impl fmt::Display for Described<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(text) => write!(f, " ({text})"),
            None => Ok(()),
        }
    }
}
