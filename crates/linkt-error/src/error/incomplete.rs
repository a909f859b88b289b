//! Responses whose body the client did not read in full: [`BodyShortfall`]
//! and [`Error::incomplete_body`].
//!
//! The client reads every body it buffers within a limit, and a body can
//! break off while it is read. Either way the status and headers arrived, so
//! the error keeps them: a 2xx whose body is over the limit is
//! [`ErrorKind::BodyTooLarge`], a 2xx whose body broke off is a transport
//! failure ([`ErrorKind::Connection`] or [`ErrorKind::Timeout`]), and a
//! failure status keeps its own kind with what was read of its body.

use http::{HeaderMap, StatusCode};
use linkt_backoff::TransportFailure;

use super::{Error, ErrorKind, Inner, request_id};
use crate::context::CallContext;
use crate::excerpt::{BODY_EXCERPT_LIMIT, CUT_MARKER, excerpt};

/// Why the body recorded for a response is not the server's whole body.
///
/// Code converting progenitor's error can insert it into a response's
/// extensions next to the [`ResponseRecord`](crate::ResponseRecord), and the
/// conversion from
/// `progenitor_client::Error::UnexpectedResponse` maps the pair with
/// [`Error::incomplete_body`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BodyShortfall {
    /// The body is longer than `limit` bytes (its `Content-Length` said so,
    /// or more arrived); reading stopped there. The record holds at most the
    /// first `limit` bytes.
    OverLimit {
        /// The limit, in bytes.
        limit: u64,
    },
    /// The body broke off after `read` bytes: the connection closed or was
    /// reset (`failure` is [`TransportFailure::ConnectionLost`]), or the
    /// request timed out ([`TransportFailure::Timeout`]), while it was read.
    CutOff {
        /// The bytes read before it broke off.
        read: u64,
        /// How it broke off.
        failure: TransportFailure,
    },
}

impl Error {
    /// A response whose body was not read in full; `body` is what was read.
    ///
    /// | status | shortfall | kind | message |
    /// |---|---|---|---|
    /// | 2xx | over the limit | [`ErrorKind::BodyTooLarge`] | names the limit |
    /// | 2xx | cut off | [`ErrorKind::Connection`] ([`ErrorKind::Timeout`] for a timeout) | `response body cut off after N bytes: connection lost` |
    /// | other | over the limit | the status's, as [`Error::from_response`] maps the first bytes | the body's |
    /// | other | cut off | the status's, as [`Error::from_response`] maps what was read | `response body cut off after N bytes: …` |
    ///
    /// The status, headers and request id are kept in every case, and
    /// [`body_excerpt`](Self::body_excerpt) is an excerpt of `body`, marked
    /// with `…` when the body was longer. A 2xx over the limit is not
    /// retryable; a 2xx cut off is retryable as its transport failure is.
    pub fn incomplete_body(
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
        shortfall: BodyShortfall,
        ctx: &CallContext,
    ) -> Error {
        if !status.is_success() {
            let mut error = Error::from_response(status, headers, body, ctx);
            let inner = &mut error.inner;
            match shortfall {
                BodyShortfall::OverLimit { .. } => {
                    // The excerpt is of a prefix: mark it cut even when the
                    // prefix itself fits.
                    if let Some(text) = &mut inner.body_excerpt
                        && !text.ends_with(CUT_MARKER)
                    {
                        while text.len() + CUT_MARKER.len_utf8() > BODY_EXCERPT_LIMIT {
                            text.pop();
                        }
                        text.push(CUT_MARKER);
                    }
                }
                BodyShortfall::CutOff { read, failure } => {
                    inner.message = cut_off_message(read, failure);
                    inner.show_message = true;
                }
            }
            return error;
        }
        let (kind, message, transport) = match shortfall {
            BodyShortfall::OverLimit { limit } => (
                ErrorKind::BodyTooLarge,
                format!(
                    "the body of a {} response is over the limit of {limit} bytes \
                     (ClientBuilder::max_response_body)",
                    status.as_u16()
                ),
                None,
            ),
            BodyShortfall::CutOff { read, failure } => (
                if failure == TransportFailure::Timeout {
                    ErrorKind::Timeout
                } else {
                    ErrorKind::Connection
                },
                cut_off_message(read, failure),
                Some(failure),
            ),
        };
        Inner {
            status: Some(status),
            headers: Some(headers.clone()),
            request_id: request_id(headers),
            body_excerpt: excerpt(body, BODY_EXCERPT_LIMIT),
            transport,
            ..Inner::new(kind, message, ctx)
        }
        .into()
    }
}

fn cut_off_message(read: u64, failure: TransportFailure) -> String {
    format!("response body cut off after {read} bytes: {failure}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-request-id", "req_1".parse().expect("a header value"));
        headers
    }

    fn ctx() -> CallContext {
        CallContext::new()
            .with_operation_id("icp_list")
            .with_attempts(1)
    }

    #[test]
    fn a_success_over_the_limit_is_body_too_large_and_not_retryable() {
        let shortfall = BodyShortfall::OverLimit { limit: 1024 };
        let err = Error::incomplete_body(StatusCode::OK, &headers(), b"", shortfall, &ctx());
        assert_eq!(err.kind(), ErrorKind::BodyTooLarge);
        assert_eq!(err.status(), Some(StatusCode::OK));
        assert_eq!(err.request_id(), Some("req_1"));
        assert!(err.message().contains("limit of 1024 bytes"), "{err}");
        assert!(!err.is_retryable());
    }

    #[test]
    fn a_success_cut_off_is_a_retryable_transport_failure() {
        for (failure, kind) in [
            (TransportFailure::ConnectionLost, ErrorKind::Connection),
            (TransportFailure::Timeout, ErrorKind::Timeout),
        ] {
            let shortfall = BodyShortfall::CutOff { read: 3, failure };
            let err =
                Error::incomplete_body(StatusCode::CREATED, &headers(), b"{\"i", shortfall, &ctx());
            assert_eq!(err.kind(), kind);
            assert_eq!(err.status(), Some(StatusCode::CREATED));
            assert_eq!(
                err.message(),
                format!("response body cut off after 3 bytes: {failure}")
            );
            assert_eq!(err.body_excerpt(), Some("{\"i"));
            assert!(err.is_retryable());
        }
    }

    #[test]
    fn a_failure_keeps_its_status_kind_with_what_was_read() {
        let cut = BodyShortfall::CutOff {
            read: 12,
            failure: TransportFailure::ConnectionLost,
        };
        let err = Error::incomplete_body(
            StatusCode::SERVICE_UNAVAILABLE,
            &headers(),
            b"{\"detail\": \"",
            cut,
            &ctx(),
        );
        assert_eq!(err.kind(), ErrorKind::Server);
        assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
        assert!(err.message().contains("cut off after 12 bytes"), "{err}");
        assert!(err.is_retryable());

        let over = BodyShortfall::OverLimit { limit: 16 };
        let err = Error::incomplete_body(
            StatusCode::INTERNAL_SERVER_ERROR,
            &headers(),
            b"upstream failed:",
            over,
            &ctx(),
        );
        assert_eq!(err.kind(), ErrorKind::Server);
        assert_eq!(err.body_excerpt(), Some("upstream failed:…"));
    }
}
