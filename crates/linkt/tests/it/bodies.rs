//! Response bodies are read within limits, and a body that breaks off is a
//! transport failure. Byte-level faults come from [`RawServer`], a blocking
//! TCP server on 127.0.0.1 that plays one scripted response per connection
//! and records how many bytes it managed to write.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use linkt::{Client, ErrorKind, RetryPolicy};

use crate::{client_with, icp_json};

const ICP_ID: &str = "507f1f77bcf86cd799439011";

/// The raw server's socket send buffer (Linux doubles it).
const SEND_BUFFER: u32 = 64 * 1024;

/// More than a client that stops at its limit lets the server write: the
/// limit, the server's send buffer and the client's receive buffer (a few
/// hundred KiB on loopback). Far less than the bodies the tests send.
const READ_AT_MOST: usize = 2 * MIB;

/// What the server sends on one connection.
#[derive(Clone)]
enum Script {
    /// A head and `body` in full, then the connection is closed.
    Whole { status: u16, body: Vec<u8> },
    /// A head announcing `body.len()` bytes, then only the first `sent` of
    /// them, then the connection is closed.
    Cut {
        status: u16,
        body: Vec<u8>,
        sent: usize,
    },
    /// A chunked body of `len` bytes in chunks of 16 KiB, which stops at the
    /// first write that fails.
    Chunked { status: u16, len: usize },
    /// `Content-Length: len` and `len` bytes of `x`, which stops at the first write
    /// that fails.
    Long { status: u16, len: usize },
}

/// What the server saw on one connection.
#[derive(Clone, Debug, Default)]
struct Served {
    /// Body bytes (chunk framing excluded) written before the end or the
    /// first failed write.
    body_written: usize,
    /// Whether a write failed: the client closed the connection early.
    write_failed: bool,
}

/// A server answering the `n`th connection with the `n`th script (the last
/// one repeated).
struct RawServer {
    url: String,
    served: Arc<Mutex<Vec<Served>>>,
}

impl RawServer {
    /// Must be called inside a tokio runtime (the listener is set up with
    /// tokio's socket options, then served by a plain thread).
    fn start(scripts: Vec<Script>) -> RawServer {
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        // A small send buffer (the kernel otherwise grows it to megabytes):
        // what the server manages to write then shows what the client read.
        socket
            .set_send_buffer_size(SEND_BUFFER)
            .expect("a send buffer size");
        socket
            .bind("127.0.0.1:0".parse().expect("an address"))
            .expect("bind 127.0.0.1");
        let listener: TcpListener = socket
            .listen(16)
            .and_then(tokio::net::TcpListener::into_std)
            .expect("a listener");
        listener
            .set_nonblocking(false)
            .expect("a blocking listener");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        let served = Arc::new(Mutex::new(Vec::new()));
        let record = served.clone();
        // Ends with the test binary; each connection is bounded by timeouts.
        std::thread::spawn(move || {
            for (n, stream) in listener.incoming().enumerate() {
                let Ok(stream) = stream else { continue };
                let script = scripts[n.min(scripts.len() - 1)].clone();
                let served = serve(stream, &script);
                record.lock().expect("served").push(served);
            }
        });
        RawServer { url, served }
    }

    fn served(&self) -> Vec<Served> {
        self.served.lock().expect("served").clone()
    }
}

/// Reads the request (head and `Content-Length` body), so that closing the
/// connection does not reset it under the client.
fn read_request(stream: &TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)
}

fn head(status: u16, framing: &str) -> String {
    format!(
        "HTTP/1.1 {status} Status\r\ncontent-type: application/json\r\n\
         x-request-id: req-raw\r\nconnection: close\r\n{framing}\r\n"
    )
}

fn serve(mut stream: TcpStream, script: &Script) -> Served {
    let timeout = Some(Duration::from_secs(10));
    let _ = stream.set_read_timeout(timeout);
    let _ = stream.set_write_timeout(timeout);
    let mut served = Served::default();
    if read_request(&stream).is_err() {
        return served;
    }
    let result = (|| -> std::io::Result<()> {
        match script {
            Script::Whole { status, body } => {
                let framing = format!("content-length: {}\r\n", body.len());
                stream.write_all(head(*status, &framing).as_bytes())?;
                stream.write_all(body)?;
                served.body_written = body.len();
            }
            Script::Cut { status, body, sent } => {
                let framing = format!("content-length: {}\r\n", body.len());
                stream.write_all(head(*status, &framing).as_bytes())?;
                stream.write_all(&body[..*sent])?;
                served.body_written = *sent;
            }
            Script::Chunked { status, len } => {
                stream.write_all(head(*status, "transfer-encoding: chunked\r\n").as_bytes())?;
                let chunk = vec![b' '; 16 * 1024];
                while served.body_written < *len {
                    let n = chunk.len().min(len - served.body_written);
                    stream.write_all(format!("{n:x}\r\n").as_bytes())?;
                    stream.write_all(&chunk[..n])?;
                    stream.write_all(b"\r\n")?;
                    served.body_written += n;
                }
                stream.write_all(b"0\r\n\r\n")?;
            }
            Script::Long { status, len } => {
                let framing = format!("content-length: {len}\r\n");
                stream.write_all(head(*status, &framing).as_bytes())?;
                let chunk = vec![b'x'; 16 * 1024];
                while served.body_written < *len {
                    let n = chunk.len().min(len - served.body_written);
                    stream.write_all(&chunk[..n])?;
                    served.body_written += n;
                }
            }
        }
        stream.flush()
    })();
    served.write_failed = result.is_err();
    served
}

/// A client of `server` with a 10 s timeout, so that no test can hang.
fn client_of(server: &RawServer, builder: linkt::ClientBuilder) -> Client {
    client_with(&server.url, builder.timeout(Duration::from_secs(10))).0
}

/// Waits (up to 10 s) until the server has finished `n` connections.
async fn served(server: &RawServer, n: usize) -> Vec<Served> {
    for _ in 0..1000 {
        let served = server.served();
        if served.len() >= n {
            return served;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the server finished {:?}, not {n}", server.served());
}

fn icp_bytes() -> Vec<u8> {
    serde_json::to_vec(&icp_json()).expect("json")
}

fn create_body() -> linkt::types::builder::CreateIcpRequest {
    linkt::types::CreateIcpRequest::builder()
        .name("Enterprise SaaS Companies")
        .description("Mid-market B2B SaaS companies")
        .entity_targets(vec![])
}

const MIB: usize = 1024 * 1024;

/// `linkt_error::BODY_EXCERPT_LIMIT`.
const BODY_EXCERPT_LIMIT: usize = 512;

#[tokio::test]
async fn a_chunked_success_body_over_the_limit_is_refused_without_reading_it_all() {
    let server = RawServer::start(vec![Script::Chunked {
        status: 200,
        len: 10 * MIB,
    }]);
    let client = client_of(&server, Client::builder().max_response_body(1024));

    let err = client
        .icp_retrieve()
        .icp_id(ICP_ID)
        .send()
        .await
        .expect_err("over the limit");

    assert_eq!(format!("{:?}", err.kind()), "BodyTooLarge", "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
    assert_eq!(
        err.headers().and_then(|h| h.get("x-request-id")),
        Some(&"req-raw".parse().expect("a header value"))
    );
    assert_eq!(err.attempts(), Some(1), "not retried: {err}");
    let message = err.to_string();
    assert!(
        message.contains("1024 bytes") && message.contains("icp_retrieve"),
        "{message}"
    );
    assert!(!err.is_retryable());
    let served = served(&server, 1).await;
    assert_eq!(served.len(), 1, "not retried: {served:?}");
    assert!(
        served[0].write_failed && served[0].body_written < READ_AT_MOST,
        "the client read on past the limit: {served:?}"
    );
}

#[tokio::test]
async fn a_content_length_over_the_limit_is_refused_before_reading() {
    let server = RawServer::start(vec![Script::Long {
        status: 200,
        len: 10 * MIB,
    }]);
    let client = client_of(&server, Client::builder().max_response_body(1024));

    let err = client
        .icp_retrieve()
        .icp_id(ICP_ID)
        .send()
        .await
        .expect_err("over the limit");

    assert_eq!(format!("{:?}", err.kind()), "BodyTooLarge", "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
    let served = served(&server, 1).await;
    assert!(
        served[0].write_failed && served[0].body_written < READ_AT_MOST,
        "the client read on past the limit: {served:?}"
    );
}

#[tokio::test]
async fn a_success_body_within_the_limit_in_many_chunks_decodes() {
    // An ICP padded with whitespace to 20 KiB: two chunks and more.
    let mut body = icp_bytes();
    body.resize(20 * 1024, b' ');
    let server = RawServer::start(vec![Script::Whole { status: 200, body }]);
    let client = client_of(&server, Client::builder());

    let icp = client
        .icp_retrieve()
        .icp_id(ICP_ID)
        .send()
        .await
        .expect("within the limit");

    assert_eq!(icp.name, "Enterprise SaaS Companies");
}

#[tokio::test]
async fn a_500_with_a_huge_body_has_a_bounded_truncated_excerpt() {
    let server = RawServer::start(vec![Script::Long {
        status: 500,
        len: 5 * MIB,
    }]);
    let client = client_of(&server, Client::builder().retry_policy(RetryPolicy::none()));

    let err = client
        .icp_retrieve()
        .icp_id(ICP_ID)
        .send()
        .await
        .expect_err("a 500");

    assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    let excerpt = err.body_excerpt().expect("an excerpt");
    assert!(
        excerpt.len() <= BODY_EXCERPT_LIMIT && excerpt.ends_with('…'),
        "{excerpt}"
    );
    let served = served(&server, 1).await;
    assert!(
        served[0].write_failed && served[0].body_written < READ_AT_MOST,
        "the client read on past the failure limit: {served:?}"
    );
}

#[tokio::test]
async fn a_500_body_over_the_failure_limit_keeps_its_start_marked_truncated() {
    let mut body = br#"{"detail": "#.to_vec();
    body.resize(200 * 1024, b'x');
    let server = RawServer::start(vec![Script::Whole { status: 500, body }]);
    let client = client_of(&server, Client::builder().retry_policy(RetryPolicy::none()));

    let err = client
        .icp_retrieve()
        .icp_id(ICP_ID)
        .send()
        .await
        .expect_err("a 500");

    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    let excerpt = err.body_excerpt().expect("an excerpt");
    assert!(excerpt.starts_with(r#"{"detail": xxx"#), "{excerpt}");
    assert!(excerpt.ends_with('…'), "{excerpt}");
    assert!(excerpt.len() <= BODY_EXCERPT_LIMIT, "{excerpt}");
}

#[tokio::test]
async fn a_get_whose_success_body_is_cut_off_is_retried() {
    let body = icp_bytes();
    let server = RawServer::start(vec![
        Script::Cut {
            status: 200,
            sent: body.len() / 2,
            body: body.clone(),
        },
        Script::Whole { status: 200, body },
    ]);
    let (client, sleeps) = client_with(&server.url, Client::builder());

    let icp = client
        .icp_retrieve()
        .icp_id(ICP_ID)
        .send()
        .await
        .expect("the second attempt succeeds");

    assert_eq!(icp.name, "Enterprise SaaS Companies");
    assert_eq!(served(&server, 2).await.len(), 2);
    assert_eq!(sleeps.recorded().len(), 1);
}

#[tokio::test]
async fn a_post_whose_success_body_is_cut_off_is_a_connection_error_not_retried() {
    let body = icp_bytes();
    let server = RawServer::start(vec![
        Script::Cut {
            status: 201,
            sent: body.len() / 2,
            body: body.clone(),
        },
        Script::Whole { status: 201, body },
    ]);
    let client = client_of(&server, Client::builder());

    let err = client
        .icp_create()
        .body(create_body())
        .send()
        .await
        .expect_err("cut off");

    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(201));
    assert_eq!(err.request_id(), Some("req-raw"));
    assert_eq!(err.attempts(), Some(1));
    assert!(err.to_string().contains("cut off"), "{err}");
    // A retry would have got the whole body and succeeded.
    assert_eq!(served(&server, 1).await.len(), 1, "a POST is not retried");
}

#[tokio::test]
async fn a_503_whose_body_is_cut_off_keeps_its_status() {
    let body = br#"{"detail": "service unavailable, try again later"}"#.to_vec();
    let server = RawServer::start(vec![Script::Cut {
        status: 503,
        sent: 12,
        body,
    }]);
    let (client, sleeps) = client_with(&server.url, Client::builder());

    let err = client
        .icp_retrieve()
        .icp_id(ICP_ID)
        .send()
        .await
        .expect_err("a 503");

    assert_eq!(err.status().map(|s| s.as_u16()), Some(503), "{err}");
    assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    assert_eq!(err.request_id(), Some("req-raw"));
    assert_eq!(err.attempts(), Some(3), "{err}");
    assert_eq!(sleeps.recorded().len(), 2);
    assert!(err.message().contains("cut off"), "{err}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn the_csv_export_is_streamed_past_the_json_limit() {
    let server = RawServer::start(vec![Script::Chunked {
        status: 200,
        len: 64 * 1024,
    }]);
    let client = client_of(&server, Client::builder().max_response_body(1024));

    let response = client.entity_export().send().await.expect("a stream");
    let chunks: Vec<bytes::Bytes> =
        futures::TryStreamExt::try_collect(response.into_inner().into_inner())
            .await
            .expect("the body");
    assert_eq!(chunks.concat().len(), 64 * 1024);
}

#[tokio::test]
async fn the_default_limit_reads_a_body_of_megabytes_and_refuses_one_over_64_mib() {
    // A page of a few megabytes (a hundred rich entities) is within the
    // default limit of 64 MiB.
    let mut body = icp_bytes();
    body.resize(3 * MIB, b' ');
    let server = RawServer::start(vec![
        Script::Whole { status: 200, body },
        Script::Long {
            status: 200,
            len: 64 * MIB + 1,
        },
    ]);
    let client = client_of(&server, Client::builder());

    let icp = client
        .icp_retrieve()
        .icp_id(ICP_ID)
        .send()
        .await
        .expect("3 MiB is within the default limit");
    assert_eq!(icp.name, "Enterprise SaaS Companies");

    let err = client
        .icp_retrieve()
        .icp_id(ICP_ID)
        .send()
        .await
        .expect_err("over the default limit");
    assert_eq!(err.kind(), ErrorKind::BodyTooLarge, "{err}");
    assert!(
        err.to_string()
            .contains(&format!("{} bytes", linkt::DEFAULT_MAX_RESPONSE_BODY)),
        "{err}"
    );
    assert_eq!(linkt::DEFAULT_MAX_RESPONSE_BODY, 64 * MIB);
}

#[tokio::test]
async fn a_422_of_many_issues_within_the_failure_limit_keeps_them_all() {
    // Two hundred issues: about 20 KiB, well within the 64 KiB of a
    // failure body.
    let issues: Vec<serde_json::Value> = (0..200)
        .map(|i| {
            serde_json::json!({
                "loc": ["body", "entity_targets", i, "description"],
                "msg": "Field required",
                "type": "missing"
            })
        })
        .collect();
    let body = serde_json::to_vec(&serde_json::json!({ "detail": issues })).expect("json");
    assert!(body.len() > 16 * 1024 && body.len() < linkt::MAX_ERROR_BODY);
    let server = RawServer::start(vec![Script::Whole { status: 422, body }]);
    let client = client_of(&server, Client::builder());

    let err = client
        .icp_create()
        .body(create_body())
        .send()
        .await
        .expect_err("a 422");

    assert_eq!(err.kind(), ErrorKind::Validation, "{err}");
    let issues = err.validation_errors();
    assert_eq!(issues.len(), 200, "{err}");
    assert_eq!(issues[199].path(), "body.entity_targets[199].description");
}

#[tokio::test]
async fn a_success_body_of_exactly_the_limit_is_read() {
    let mut body = icp_bytes();
    body.resize(4096, b' ');
    let server = RawServer::start(vec![Script::Whole { status: 200, body }]);
    let client = client_of(&server, Client::builder().max_response_body(4096));

    let icp = client
        .icp_retrieve()
        .icp_id(ICP_ID)
        .send()
        .await
        .expect("a body of the limit is within it");

    assert_eq!(icp.name, "Enterprise SaaS Companies");
}
