//! What the generated `send` methods call in place of `progenitor-client`'s
//! request-path helpers.
//!
//! `cargo xtask generate` rewrites progenitor's output to call these (see
//! `xtask/src/request_path.rs`). Each one does what the helper it replaces
//! does, with the same errors, minus a copy:
//!
//! * [`ToPathSegment`] percent-encodes a path parameter straight into the
//!   URL being formatted, with `progenitor_client::encode_path`'s character
//!   set, instead of through two intermediate `String`s;
//! * [`json`], [`empty`] and [`stream`] move the response's headers into the
//!   [`ResponseValue`] instead of cloning them from a response that is dropped
//!   right after.
//!
//! The tests below check each against the helper it replaces.

use std::fmt;
use std::future::Future;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use progenitor_client::{ByteStream, Error, ResponseValue};
use serde::de::DeserializeOwned;

/// The printable ASCII bytes a path segment percent-encodes, besides
/// controls: `progenitor_client`'s set.
const ENCODED_PUNCTUATION: &[u8] = b" \"#<>?`{}/%";

/// Controls, [`ENCODED_PUNCTUATION`] and (by `utf8_percent_encode`) every
/// non-ASCII byte are encoded.
const PATH_SET: &AsciiSet = &{
    let mut set = CONTROLS.add(ENCODED_PUNCTUATION[0]);
    let mut i = 1;
    while i < ENCODED_PUNCTUATION.len() {
        set = set.add(ENCODED_PUNCTUATION[i]);
        i += 1;
    }
    set
};

/// `KEPT[b]` is true for each byte `b` that [`PATH_SET`] leaves as it is: a
/// table lookup per byte for the common case of nothing to encode.
const KEPT: [bool; 256] = {
    let mut kept = [false; 256];
    let mut b = 0x20; // controls are 0x00-0x1f and 0x7f; non-ASCII is encoded
    while b < 0x7f {
        kept[b] = true;
        b += 1;
    }
    let mut i = 0;
    while i < ENCODED_PUNCTUATION.len() {
        kept[ENCODED_PUNCTUATION[i] as usize] = false;
        i += 1;
    }
    kept
};

/// A path parameter, displayed percent-encoded as one path segment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PathSegment<'a, T: ?Sized>(pub(crate) &'a T);

/// `value.to_path_segment()` in place of `encode_path(&value.to_string())`.
///
/// Implemented for every `Display` type, as `ToString` is, so a method call
/// resolves to the same `Display` impl that `to_string()` did (through
/// `Deref` for the generated string newtypes).
pub(crate) trait ToPathSegment {
    /// This value as one percent-encoded path segment.
    fn to_path_segment(&self) -> PathSegment<'_, Self>;
}

impl<T: fmt::Display + ?Sized> ToPathSegment for T {
    fn to_path_segment(&self) -> PathSegment<'_, Self> {
        PathSegment(self)
    }
}

impl<T: fmt::Display + ?Sized> fmt::Display for PathSegment<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        /// Encodes whatever is written through it. The set maps each byte on
        /// its own, so encoding the value chunk by chunk, as `Display` writes
        /// it, gives what encoding it whole would.
        struct Encode<'a, 'b>(&'a mut fmt::Formatter<'b>);

        impl fmt::Write for Encode<'_, '_> {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                // Ids are plain ASCII: one pass to find that out, one write.
                if s.bytes().all(|b| KEPT[usize::from(b)]) {
                    return self.0.write_str(s);
                }
                utf8_percent_encode(s, PATH_SET).try_for_each(|part| self.0.write_str(part))
            }
        }

        fmt::write(&mut Encode(f), format_args!("{}", self.0))
    }
}

/// A JSON response: `ResponseValue::from_response` without the header copy.
///
/// Not an `async fn`, whose future would keep a second copy of the response
/// it takes by value.
pub(crate) fn json<T: DeserializeOwned, E>(
    mut response: reqwest::Response,
) -> impl Future<Output = Result<ResponseValue<T>, Error<E>>> {
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    async move {
        let full = response.bytes().await.map_err(Error::ResponseBodyError)?;
        let inner =
            serde_json::from_slice(&full).map_err(|e| Error::InvalidResponsePayload(full, e))?;
        Ok(ResponseValue::new(inner, status, headers))
    }
}

/// A response without a body: `ResponseValue::empty` without the header copy.
pub(crate) fn empty(mut response: reqwest::Response) -> ResponseValue<()> {
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    ResponseValue::new((), status, headers)
}

/// A streamed body: `ResponseValue::stream` without the header copy.
pub(crate) fn stream(mut response: reqwest::Response) -> ResponseValue<ByteStream> {
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    ResponseValue::new(
        ByteStream::new(Box::pin(response.bytes_stream())),
        status,
        headers,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    use futures::TryStreamExt as _;
    use proptest::prelude::*;

    /// A value whose `Display` writes its parts in separate calls, as
    /// formatting a compound value does.
    struct Chunked(Vec<String>);

    impl fmt::Display for Chunked {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.0.iter().try_for_each(|part| f.write_str(part))
        }
    }

    proptest! {
        #[test]
        fn a_path_segment_is_encoded_as_progenitor_encodes_it(value in any::<String>()) {
            prop_assert_eq!(
                PathSegment(value.as_str()).to_string(),
                progenitor_client::encode_path(&value)
            );
        }

        #[test]
        fn an_ascii_path_segment_is_encoded_as_progenitor_encodes_it(value in "[\\x00-\\x7f]{0,40}") {
            // Controls, punctuation and the bytes next to the encoded ones.
            prop_assert_eq!(
                PathSegment(value.as_str()).to_string(),
                progenitor_client::encode_path(&value)
            );
        }

        #[test]
        fn an_id_is_left_as_it_is(value in "[0-9A-Za-z_.~:@!$&'()*+,;=-]{0,40}") {
            prop_assert_eq!(PathSegment(value.as_str()).to_string(), value.clone());
            prop_assert_eq!(progenitor_client::encode_path(&value), value);
        }

        #[test]
        fn encoding_a_value_in_chunks_is_encoding_it_whole(
            parts in proptest::collection::vec(any::<String>(), 0..6)
        ) {
            let whole = parts.concat();
            prop_assert_eq!(
                PathSegment(&Chunked(parts)).to_string(),
                progenitor_client::encode_path(&whole)
            );
        }
    }

    /// The shape of the generated pattern-checked path parameters: a string
    /// newtype with `Deref` and no `Display`.
    struct Newtype(String);

    impl std::ops::Deref for Newtype {
        type Target = String;

        fn deref(&self) -> &String {
            &self.0
        }
    }

    #[test]
    fn a_string_newtype_is_encoded_through_deref_as_to_string_formats_it() {
        let id = Newtype("65f0/a b".to_owned());
        assert_eq!(
            id.to_path_segment().to_string(),
            progenitor_client::encode_path(&id.to_string())
        );
        assert_eq!(id.to_path_segment().to_string(), "65f0%2Fa%20b");
    }

    #[test]
    fn reserved_and_non_ascii_characters_are_escaped() {
        assert_eq!(
            PathSegment("a/b c%d?e#f{g}").to_string(),
            "a%2Fb%20c%25d%3Fe%23f%7Bg%7D"
        );
        assert_eq!(PathSegment("é").to_string(), "%C3%A9");
        assert_eq!(PathSegment(&42_u32).to_string(), "42");
    }

    fn response(status: u16, body: &'static str) -> reqwest::Response {
        let response = http::Response::builder()
            .status(status)
            .header("x-request-id", "req_1")
            .header("content-type", "application/json")
            .body(body)
            .expect("a valid response");
        reqwest::Response::from(response)
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(future)
    }

    #[test]
    fn json_keeps_the_status_and_headers_and_decodes_the_body() {
        let value: ResponseValue<serde_json::Value> =
            block_on(json::<_, ()>(response(201, r#"{"id":"icp_1"}"#))).expect("a valid body");
        assert_eq!(value.status(), 201);
        assert_eq!(value.headers()["x-request-id"], "req_1");
        assert_eq!(value.headers().len(), 2);
        assert_eq!(value.into_inner(), serde_json::json!({"id": "icp_1"}));
    }

    #[test]
    fn json_reports_an_invalid_body_with_its_bytes_as_progenitor_does() {
        let ours = block_on(json::<serde_json::Value, ()>(response(200, "{oops")));
        let theirs = block_on(ResponseValue::<serde_json::Value>::from_response::<()>(
            response(200, "{oops"),
        ));
        match (ours, theirs) {
            (
                Err(Error::InvalidResponsePayload(ours, our_err)),
                Err(Error::InvalidResponsePayload(theirs, their_err)),
            ) => {
                assert_eq!(ours, theirs);
                assert_eq!(ours.as_ref(), b"{oops");
                assert_eq!(our_err.to_string(), their_err.to_string());
            }
            (ours, theirs) => {
                panic!("expected two InvalidResponsePayload, got {ours:?} and {theirs:?}")
            }
        }
    }

    #[test]
    fn empty_and_stream_keep_the_status_and_headers() {
        let value = empty(response(204, ""));
        assert_eq!(value.status(), 204);
        assert_eq!(value.headers()["x-request-id"], "req_1");

        let value = stream(response(200, "a,b\n1,2\n"));
        assert_eq!(value.status(), 200);
        assert_eq!(value.headers()["content-type"], "application/json");
        let chunks: Vec<bytes::Bytes> =
            block_on(value.into_inner().into_inner().try_collect()).expect("the body");
        assert_eq!(chunks.concat(), b"a,b\n1,2\n");
    }
}
