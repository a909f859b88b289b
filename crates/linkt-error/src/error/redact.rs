//! [`Error::redact`] and [`Error::with_redacted`]: the secret-finding rules
//! live in `crate::redact`; this module lists every field of an error that
//! holds server text.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;

use http::HeaderValue;

use super::{Error, Inner, chain};
use crate::excerpt::{BODY_EXCERPT_LIMIT, MESSAGE_LIMIT};
use crate::redact::{Secret, bound_redacted};
use crate::validation::LocSegment;

impl Error {
    /// Replaces, in place, every occurrence of `secret` in everything this
    /// error holds that came from the server with `[redacted]`: the message,
    /// the code, the request id, the `detail` value (every string and object
    /// key, recursively), the validation issues (location keys, `msg`,
    /// `type`, `input`, `ctx`), the body excerpt, the decode path and the
    /// response header values (a changed header value is marked sensitive).
    /// A source error whose message or `Debug` holds the secret is replaced
    /// by a plain error with its redacted message (so it no longer downcasts
    /// to its original type). [`with_redacted`](Self::with_redacted) is the
    /// same, by value.
    ///
    /// What is matched: the exact bytes of `secret`, and the secret as
    /// written inside a JSON string where that differs (a `"`, `\` or
    /// control character in it), as the raw body excerpt holds it. Where a
    /// bound cut a string in the middle of the secret, the start of it (4
    /// bytes or more) before the `…` marker is redacted too. Other spellings
    /// (percent-, base64- or `\u`-escaped, case changed, or split by the
    /// whitespace folding of a plain-text message) are not found.
    ///
    /// A `secret` shorter than 8 bytes is ignored: the error is left as it
    /// is, since replacing a short string everywhere would mangle ordinary
    /// text. Fields keep their bounds ([`MESSAGE_LIMIT`](crate::MESSAGE_LIMIT)
    /// and [`BODY_EXCERPT_LIMIT`](crate::BODY_EXCERPT_LIMIT)) after the
    /// replacement.
    ///
    /// The client calls it with its API key on every error it builds from a
    /// response, so a server that echoes the key does not put it in an
    /// error:
    ///
    /// ```
    /// use http::{HeaderMap, StatusCode};
    /// use linkt_error::{CallContext, Error};
    ///
    /// let key = "lk_live_0123456789";
    /// let mut err = Error::from_response(
    ///     StatusCode::UNAUTHORIZED,
    ///     &HeaderMap::new(),
    ///     br#"{"detail": "invalid api key lk_live_0123456789"}"#,
    ///     &CallContext::new(),
    /// );
    /// err.redact(key);
    /// assert_eq!(err.to_string(), "401 unauthorized: invalid api key [redacted]");
    /// assert!(!format!("{err:?}").contains(key));
    /// ```
    pub fn redact(&mut self, secret: &str) {
        if let Some(secret) = Secret::new(secret) {
            self.inner.redact(&secret);
        }
    }

    /// [`redact`](Self::redact) by value: this error with every occurrence
    /// of `secret` (8 bytes or longer) in its server text replaced by
    /// `[redacted]`.
    #[must_use]
    pub fn with_redacted(mut self, secret: &str) -> Error {
        self.redact(secret);
        self
    }
}

impl Inner {
    fn redact(&mut self, secret: &Secret<'_>) {
        let text = |text: &mut String, limit: usize| {
            if secret.redact_str(text) {
                bound_redacted(text, limit);
            }
        };
        text(&mut self.message, MESSAGE_LIMIT);
        if let Some(code) = &mut self.code {
            let mut owned = code.to_string();
            if secret.redact_str(&mut owned) {
                bound_redacted(&mut owned, 64);
                *code = Cow::Owned(owned);
            }
        }
        if let Some(id) = &mut self.request_id {
            text(id, 128);
        }
        if let Some(op) = &mut self.operation_id {
            let mut owned = op.to_string();
            if secret.redact_str(&mut owned) {
                *op = Cow::Owned(owned);
            }
        }
        if let Some(detail) = &mut self.detail {
            secret.redact_value(detail);
        }
        for issue in &mut self.validation {
            for segment in &mut issue.loc {
                if let LocSegment::Key(key) = segment {
                    text(key, 128);
                }
            }
            text(&mut issue.msg, MESSAGE_LIMIT);
            text(&mut issue.error_type, MESSAGE_LIMIT);
            for value in [&mut issue.input, &mut issue.ctx].into_iter().flatten() {
                secret.redact_value(value);
            }
        }
        if let Some(excerpt) = &mut self.body_excerpt {
            text(excerpt, BODY_EXCERPT_LIMIT);
        }
        if let Some(path) = &mut self.decode_path {
            secret.redact_str(path);
        }
        if let Some(headers) = &mut self.headers {
            for value in headers.values_mut() {
                if let Some(bytes) = secret.redact_bytes(value.as_bytes()) {
                    let mut redacted = HeaderValue::from_bytes(&bytes)
                        .unwrap_or_else(|_| HeaderValue::from_static("[redacted]"));
                    redacted.set_sensitive(true);
                    *value = redacted;
                }
            }
        }
        if let Some(source) = &self.source {
            let mut message = chain(source.as_ref());
            let debug = format!("{source:?}");
            if secret.redact_str(&mut message) || secret.redact_str(&mut debug.clone()) {
                self.source = Some(Box::new(RedactedSource(message)));
            }
        }
    }
}

/// A source error that held a redacted secret, kept as its redacted
/// message.
struct RedactedSource(String);

impl fmt::Debug for RedactedSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RedactedSource").field(&self.0).finish()
    }
}

impl fmt::Display for RedactedSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for RedactedSource {}
