//! What the client knows about a call when it fails: [`CallContext`] and the
//! [`ResponseRecord`], a buffered failure for the conversion of progenitor's error.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;

/// Facts about the call that failed, supplied by the client.
///
/// ```
/// use linkt_error::CallContext;
///
/// let ctx = CallContext::new().with_operation_id("icp_list").with_attempts(3);
/// assert_eq!(ctx.operation_id.as_deref(), Some("icp_list"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallContext {
    /// The OpenAPI `operationId` of the call, e.g. `icp_list`.
    pub operation_id: Option<Cow<'static, str>>,
    /// How many attempts were made (1 when the call was not retried, 0 when
    /// it failed before anything was sent).
    pub attempts: Option<u32>,
    /// The HTTP method of the call, e.g. `GET`.
    pub method: Option<Cow<'static, str>>,
    /// The path template of the call, e.g. `/v1/icp/{icp_id}`.
    pub path_template: Option<Cow<'static, str>>,
}

impl CallContext {
    /// A context with nothing known.
    pub const fn new() -> CallContext {
        CallContext {
            operation_id: None,
            attempts: None,
            method: None,
            path_template: None,
        }
    }

    /// Sets the operation id.
    pub fn with_operation_id(mut self, operation_id: impl Into<Cow<'static, str>>) -> Self {
        self.operation_id = Some(operation_id.into());
        self
    }

    /// Sets the number of attempts.
    pub const fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = Some(attempts);
        self
    }

    /// Sets the HTTP method.
    pub fn with_method(mut self, method: impl Into<Cow<'static, str>>) -> Self {
        self.method = Some(method.into());
        self
    }

    /// Sets the path template.
    pub fn with_path_template(mut self, path_template: impl Into<Cow<'static, str>>) -> Self {
        self.path_template = Some(path_template.into());
        self
    }
}

/// The buffered body of a non-success response, with the call's context.
///
/// Code that drives progenitor's hooks itself (the `linkt` client does not:
/// its `send` returns [`crate::Error`] directly) can read the body of a
/// non-success response, re-create the `reqwest::Response` from it and
/// insert this record into the response's extensions. When progenitor then returns
/// `Error::UnexpectedResponse(response)`, the conversion into
/// [`crate::Error`] finds the record with
/// `response.extensions().get::<ResponseRecord>()` and maps the body
/// synchronously, without awaiting the (already consumed) stream.
#[derive(Clone)]
pub struct ResponseRecord {
    /// The OpenAPI `operationId` of the call.
    pub operation_id: &'static str,
    /// How many attempts were made, this response's included.
    pub attempts: u32,
    /// The complete response body.
    pub body: Bytes,
}

impl ResponseRecord {
    /// The call context this record describes.
    pub fn context(&self) -> CallContext {
        CallContext::new()
            .with_operation_id(self.operation_id)
            .with_attempts(self.attempts)
    }
}

impl fmt::Debug for ResponseRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseRecord")
            .field("operation_id", &self.operation_id)
            .field("attempts", &self.attempts)
            .field("body_len", &self.body.len())
            .finish()
    }
}
