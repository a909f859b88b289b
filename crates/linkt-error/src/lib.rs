//! The error type returned by every Linkt API call.
//!
//! [`Error`] is one opaque, documented error with a [`kind`](Error::kind)
//! to match on and accessors for everything the failure revealed: HTTP
//! status, the server's message and error code, the request id, FastAPI
//! validation issues, the server's retry delay and rate-limit headers, the
//! JSON path of a decode failure, and a bounded excerpt of the body.
//!
//! This crate only *describes* failures. It sends no requests and makes no
//! retry decisions: the classification rules come from `linkt-backoff`, and
//! the `linkt` client's `Client::call` calls the constructors here:
//!
//! * [`Error::from_response`] for an error response (status, headers, body);
//! * [`Error::from_transport`] for a `reqwest` failure;
//! * [`Error::decode_as`] for a body that does not match the expected type
//!   (and [`Error::decode`] when the type is not known);
//! * [`Error::invalid_request`] and [`Error::configuration`] for failures
//!   before sending;
//! * [`Error::pagination`] for a page-by-page walk that stopped early;
//! * [`Error::incomplete_body`] for a response whose body was over the
//!   client's limit or broke off while it was read ([`BodyShortfall`]);
//! * `From<progenitor_client::Error<E>>`, so `?` works on every generated
//!   call of code that still holds progenitor's error. Error responses
//!   buffered by such code can carry a [`ResponseRecord`] extension from
//!   which the body is read.
//!
//! `Display` is one line, safe to print whatever the server sent (control
//! characters escaped, server text bounded); [`Error::redact`] and
//! [`ResponseRecord::redact`] remove a secret the caller knows, such as the
//! API key, from what a server echoed.
//!
//! ```
//! use http::{HeaderMap, StatusCode};
//! use linkt_error::{CallContext, Error, ErrorKind};
//!
//! let mut headers = HeaderMap::new();
//! headers.insert("x-request-id", "abc".parse()?);
//! let ctx = CallContext::new().with_operation_id("icp_list");
//! let err = Error::from_response(
//!     StatusCode::UNAUTHORIZED,
//!     &headers,
//!     br#"{"detail": "invalid api key"}"#,
//!     &ctx,
//! );
//! assert_eq!(err.kind(), ErrorKind::Unauthorized);
//! assert_eq!(err.code(), Some("unauthorized"));
//! assert_eq!(
//!     err.to_string(),
//!     "401 unauthorized: invalid api key (operation icp_list, request id abc)"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod body;
mod context;
mod error;
mod excerpt;
mod json_path;
mod redact;
mod retry;
mod validation;

pub use context::{CallContext, ResponseRecord};
pub use error::incomplete::BodyShortfall;
pub use error::{Error, ErrorKind, REQUEST_ID_HEADER};
pub use excerpt::{BODY_EXCERPT_LIMIT, MESSAGE_LIMIT};
pub use linkt_backoff::RateLimit;
pub use retry::transport_failure;
pub use validation::{LocSegment, ValidationIssue};

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
