//! File uploads: [`FilePart`] and the multipart encoding the `pre` hook applies.
//!
//! progenitor cannot emit `multipart/form-data` requests, so the generator view
//! turns the upload body into raw bytes (see `xtask/src/codegen.rs`) and records
//! the name of the file part in [`crate::OPERATIONS`]. A [`FilePart`] converts
//! into that raw body carrying its file name and media type; the `pre` hook then
//! re-encodes the request as a one-part multipart form. Plain bytes work too:
//! they are sent as `upload.bin` with `application/octet-stream`.

use bytes::{BufMut, Bytes, BytesMut};

/// A file to upload: its name, media type and contents.
///
/// ```
/// let part = linkt::FilePart::csv("companies.csv", "name,website\nAcme,acme.example\n");
/// assert_eq!(part.file_name(), "companies.csv");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilePart {
    file_name: String,
    content_type: String,
    contents: Bytes,
}

/// Prefix that marks a body produced from a [`FilePart`]; never sent.
const ENVELOPE_MAGIC: &[u8] = b"\0linkt-file-part/1\0";

impl FilePart {
    /// A file with an explicit media type.
    pub fn new(
        file_name: impl Into<String>,
        content_type: impl Into<String>,
        contents: impl Into<Bytes>,
    ) -> Self {
        Self {
            file_name: file_name.into(),
            content_type: content_type.into(),
            contents: contents.into(),
        }
    }

    /// A CSV file (`text/csv`).
    pub fn csv(file_name: impl Into<String>, contents: impl Into<Bytes>) -> Self {
        Self::new(file_name, "text/csv", contents)
    }

    /// An Excel workbook; the server converts its first sheet to CSV.
    pub fn xlsx(file_name: impl Into<String>, contents: impl Into<Bytes>) -> Self {
        Self::new(
            file_name,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            contents,
        )
    }

    /// The file name sent in the part's `Content-Disposition`.
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    /// The part's media type.
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    /// The file's contents.
    pub fn contents(&self) -> &Bytes {
        &self.contents
    }

    fn to_envelope(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(
            ENVELOPE_MAGIC.len() + 8 + self.file_name.len() + self.content_type.len(),
        );
        out.put_slice(ENVELOPE_MAGIC);
        for field in [&self.file_name, &self.content_type] {
            out.put_u32(u32::try_from(field.len()).unwrap_or(u32::MAX));
            out.put_slice(field.as_bytes());
        }
        out.put_slice(&self.contents);
        out.freeze()
    }

    fn from_envelope(body: &[u8]) -> Option<Self> {
        let mut rest = body.strip_prefix(ENVELOPE_MAGIC)?;
        let mut fields = [String::new(), String::new()];
        for field in &mut fields {
            let (len, tail) = rest.split_first_chunk::<4>()?;
            let len = usize::try_from(u32::from_be_bytes(*len)).ok()?;
            if tail.len() < len {
                return None;
            }
            *field = std::str::from_utf8(&tail[..len]).ok()?.to_owned();
            rest = &tail[len..];
        }
        let [file_name, content_type] = fields;
        Some(Self {
            file_name,
            content_type,
            contents: Bytes::copy_from_slice(rest),
        })
    }
}

impl From<FilePart> for reqwest::Body {
    fn from(part: FilePart) -> Self {
        reqwest::Body::from(part.to_envelope())
    }
}

/// The multipart body and its `Content-Type` for one file part named `field`.
pub(crate) fn encode_multipart(field: &str, body: &[u8], boundary: &str) -> (String, Vec<u8>) {
    let part = FilePart::from_envelope(body).unwrap_or_else(|| {
        FilePart::new(
            "upload.bin",
            "application/octet-stream",
            Bytes::copy_from_slice(body),
        )
    });
    let mut out = Vec::with_capacity(part.contents.len() + 256);
    out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
    out.extend_from_slice(
        format!(
            "Content-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\n",
            quote(field),
            quote(&part.file_name)
        )
        .as_bytes(),
    );
    out.extend_from_slice(format!("Content-Type: {}\r\n\r\n", part.content_type).as_bytes());
    out.extend_from_slice(&part.contents);
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), out)
}

/// A fresh boundary that cannot collide with the contents in practice.
pub(crate) fn boundary() -> String {
    format!("linkt-{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

/// Escapes a `Content-Disposition` parameter (RFC 7578 §4.2: quotes and line breaks).
fn quote(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_part_round_trips_through_the_envelope() {
        let part = FilePart::csv("a \"b\".csv", "x,y\n1,2\n");
        let decoded = FilePart::from_envelope(&part.to_envelope()).expect("envelope");
        assert_eq!(decoded, part);
    }

    #[test]
    fn multipart_body_carries_field_file_name_and_type() {
        let part = FilePart::csv("companies.csv", "name\nAcme\n");
        let (content_type, body) = encode_multipart("file", &part.to_envelope(), "B");
        assert_eq!(content_type, "multipart/form-data; boundary=B");
        assert_eq!(
            String::from_utf8(body).expect("utf-8"),
            "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"companies.csv\"\r\n\
             Content-Type: text/csv\r\n\r\nname\nAcme\n\r\n--B--\r\n"
        );
    }

    #[test]
    fn raw_bytes_are_sent_as_an_octet_stream_part() {
        let (_, body) = encode_multipart("file", b"\x01\x02", "B");
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains("filename=\"upload.bin\""), "{text}");
        assert!(
            text.contains("Content-Type: application/octet-stream"),
            "{text}"
        );
    }

    #[test]
    fn truncated_envelope_is_treated_as_raw_bytes() {
        let mut envelope = FilePart::csv("a.csv", "x").to_envelope().to_vec();
        envelope.truncate(ENVELOPE_MAGIC.len() + 2);
        assert!(FilePart::from_envelope(&envelope).is_none());
    }

    #[test]
    fn accessors_report_the_name_type_and_contents() {
        let part = FilePart::new("notes.txt", "text/plain", "hello");
        assert_eq!(part.file_name(), "notes.txt");
        assert_eq!(part.content_type(), "text/plain");
        assert_eq!(part.contents(), &Bytes::from_static(b"hello"));
        assert_eq!(
            FilePart::xlsx("book.xlsx", "").content_type(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
    }

    #[test]
    fn an_empty_file_keeps_its_name_and_type() {
        let part = FilePart::csv("empty.csv", "");
        let (_, body) = encode_multipart("file", &part.to_envelope(), "B");
        assert_eq!(
            String::from_utf8(body).expect("utf-8"),
            "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"empty.csv\"\r\n\
             Content-Type: text/csv\r\n\r\n\r\n--B--\r\n"
        );
    }

    #[test]
    fn an_envelope_cut_inside_a_field_is_treated_as_raw_bytes() {
        let envelope = FilePart::csv("a.csv", "x").to_envelope();
        // The length of the file name is whole, its five bytes are not.
        let cut = &envelope[..ENVELOPE_MAGIC.len() + 4 + 2];
        assert!(FilePart::from_envelope(cut).is_none());
        let (_, body) = encode_multipart("file", cut, "B");
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains("filename=\"upload.bin\""), "{text}");
    }

    #[test]
    fn disposition_parameters_cannot_break_out_of_quotes() {
        assert_eq!(quote("a\"\r\nb"), "a%22%0D%0Ab");
    }
}
