//! Network faults: cut and stalled bodies, redirects and huge bodies, first
//! on the wire (a raw TCP client that records every byte and when it came),
//! then as the `linkt` client experiences them.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use linkt::{Client, ErrorKind, RetryPolicy};
use linkt_mock::{Fault, FaultError, Filler, Framing, MAX_STALL, MockServer};
use serde_json::Value;

use crate::{KEY_A, client, create_icp, error, finish, server};

/// Every call of a test is bounded by this.
const BOUND: Duration = Duration::from_secs(20);

/// What a raw HTTP/1.1 exchange got.
#[derive(Debug)]
struct Raw {
    /// Status line and headers, lower-cased names.
    status: u16,
    headers: Vec<(String, String)>,
    /// Everything after the head, framing included.
    body: Vec<u8>,
    /// When the head arrived, and when the connection ended (EOF or reset),
    /// from when the request was sent.
    head_at: Duration,
    ended_at: Duration,
    /// Each read after the head: when, and how many bytes.
    reads: Vec<(Duration, usize)>,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body of a chunked response: (data, whether the final chunk came).
    fn dechunked(&self) -> (Vec<u8>, bool) {
        let mut data = Vec::new();
        let mut rest = &self.body[..];
        loop {
            let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") else {
                return (data, false);
            };
            let size = std::str::from_utf8(&rest[..line_end]).expect("chunk size");
            let size = usize::from_str_radix(size.trim(), 16).expect("hex chunk size");
            rest = &rest[line_end + 2..];
            if size == 0 {
                return (data, rest.starts_with(b"\r\n"));
            }
            if rest.len() < size + 2 {
                data.extend_from_slice(&rest[..rest.len().min(size)]);
                return (data, false);
            }
            data.extend_from_slice(&rest[..size]);
            rest = &rest[size + 2..];
        }
    }
}

/// Sends `method path` with `KEY_A` (and `body` as JSON) on a new
/// connection and reads until the server closes it (at most `BOUND`).
async fn exchange(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> Raw {
    let body = body.map(str::to_owned);
    let request = match &body {
        Some(body) => format!(
            "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nx-api-key: {KEY_A}\r\n\
             content-type: application/json\r\ncontent-length: {}\r\n\
             connection: close\r\n\r\n{body}",
            body.len()
        ),
        None => format!(
            "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nx-api-key: {KEY_A}\r\n\
             connection: close\r\n\r\n"
        ),
    };
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(BOUND)).expect("timeout");
        let started = Instant::now();
        stream.write_all(request.as_bytes()).expect("send");
        let mut received = Vec::new();
        let mut head_at = None;
        let mut head_len = 0;
        let mut reads = Vec::new();
        let mut buffer = vec![0; 64 * 1024];
        loop {
            let n = match stream.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(err) if err.kind() == std::io::ErrorKind::ConnectionReset => break,
                Err(err) => panic!("read: {err} after {:?}", started.elapsed()),
            };
            received.extend_from_slice(&buffer[..n]);
            match head_at {
                Some(_) => reads.push((started.elapsed(), n)),
                None => {
                    if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
                        head_at = Some(started.elapsed());
                        head_len = end + 4;
                        if received.len() > head_len {
                            reads.push((started.elapsed(), received.len() - head_len));
                        }
                    }
                }
            }
        }
        let ended_at = started.elapsed();
        let head = String::from_utf8(received[..head_len].to_vec()).expect("head");
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|line| line.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {head:?}"));
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Raw {
            status,
            headers,
            body: received[head_len..].to_vec(),
            head_at: head_at.expect("a head"),
            ended_at,
            reads,
        }
    })
    .await
    .expect("the raw client")
}

/// A client with the default retry policy whose sleeps are recorded (and
/// advance the simulated clock by nothing).
fn retrying(server: &MockServer, timeout: Duration) -> (Client, Arc<Mutex<Vec<Duration>>>) {
    let sleeps = Arc::new(Mutex::new(Vec::new()));
    let record = sleeps.clone();
    let client = server
        .client_builder(KEY_A)
        .expect("key")
        .retry_policy(RetryPolicy::default())
        .timeout(timeout)
        .sleep_with(move |delay| {
            record.lock().expect("sleeps").push(delay);
            std::future::ready(())
        })
        .build()
        .expect("client");
    (client, sleeps)
}

/// `future`, or a panic after [`BOUND`].
async fn bounded<F: std::future::Future>(future: F) -> F::Output {
    tokio::time::timeout(BOUND, future)
        .await
        .expect("the call ends within the bound")
}

fn calls(server: &MockServer, operation: &str) -> usize {
    server
        .journal()
        .iter()
        .filter(|e| e.operation.as_deref() == Some(operation))
        .count()
}

#[tokio::test]
async fn a_cut_body_declares_its_length_and_stops_short() {
    let server = server().await;
    create_icp(&client(&server, KEY_A), "Listed").await;
    server
        .faults()
        .inject("icp_list", Fault::cut_body(10), 1)
        .expect("arm");
    let raw = exchange(server.addr(), "GET", "/v1/icp", None).await;
    assert_eq!(raw.status, 200);
    let whole = server.journal().last().expect("journal").body.clone();
    let declared: usize = raw
        .header("content-length")
        .expect("a content-length")
        .parse()
        .expect("a number");
    assert_eq!(declared, whole.len(), "the whole answer is declared");
    assert!(declared > 10);
    assert_eq!(raw.body, whole[..10], "exactly the first 10 bytes");
    assert!(raw.header("x-request-id").is_some());

    // Chunked: one chunk of 25 bytes, and no final chunk.
    server
        .faults()
        .inject(
            "icp_list",
            Fault::CutBody {
                sent: 25,
                framing: Framing::Chunked,
            },
            1,
        )
        .expect("arm");
    let raw = exchange(server.addr(), "GET", "/v1/icp", None).await;
    assert_eq!(raw.header("transfer-encoding"), Some("chunked"));
    assert_eq!(raw.header("content-length"), None);
    let (data, complete) = raw.dechunked();
    assert_eq!(data, whole[..25]);
    assert!(!complete, "no final chunk: {:?}", raw.body);

    // More than the body: all but its last byte.
    server
        .faults()
        .inject("icp_list", Fault::cut_body(usize::MAX), 1)
        .expect("arm");
    let raw = exchange(server.addr(), "GET", "/v1/icp", None).await;
    assert_eq!(raw.body, whole[..whole.len() - 1]);

    // The fault is used up.
    let raw = exchange(server.addr(), "GET", "/v1/icp", None).await;
    assert_eq!(raw.body, whole);
    finish(&server);
}

#[tokio::test]
async fn a_get_whose_body_is_cut_is_retried_and_the_retry_succeeds() {
    let server = server().await;
    create_icp(&client(&server, KEY_A), "Listed").await;
    let (client, sleeps) = retrying(&server, BOUND);
    server
        .faults()
        .inject("icp_list", Fault::cut_body(10), 1)
        .expect("arm");
    let list = bounded(client.icp_list().send())
        .await
        .expect("the second attempt succeeds");
    assert_eq!(list.icps.len(), 1);
    assert_eq!(calls(&server, "icp_list"), 2, "one cut, one whole");
    assert_eq!(sleeps.lock().expect("sleeps").len(), 1, "one retry");
    assert_eq!(server.faults().pending("icp_list"), 0);

    // Without retries, the same cut is a connection error.
    server
        .faults()
        .inject(
            "icp_list",
            Fault::CutBody {
                sent: 0,
                framing: Framing::Chunked,
            },
            1,
        )
        .expect("arm");
    let err = error(bounded(crate::client(&server, KEY_A).icp_list().send()).await);
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200), "{err}");
    assert!(err.to_string().contains("cut off"), "{err}");
    finish(&server);
}

#[tokio::test]
async fn a_post_whose_body_is_cut_is_a_connection_error_and_ran_once() {
    let server = server().await;
    let (client, sleeps) = retrying(&server, BOUND);
    server
        .faults()
        .inject("icp_create", Fault::cut_body(20), 1)
        .expect("arm");
    let err = error(
        bounded(
            client
                .icp_create()
                .body(
                    linkt::types::CreateIcpRequest::builder()
                        .name("Created unseen")
                        .description("Its answer is cut")
                        .entity_targets(vec![crate::target("company", true)]),
                )
                .send(),
        )
        .await,
    );
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    assert_eq!(err.attempts(), Some(1), "a POST is not retried: {err}");
    assert!(err.request_id().is_some(), "the head arrived: {err}");
    assert!(sleeps.lock().expect("sleeps").is_empty());
    assert_eq!(calls(&server, "icp_create"), 1);
    // The operation ran: the ICP exists although its answer was lost.
    let list = bounded(client.icp_list().send()).await.expect("list");
    assert_eq!(list.icps.len(), 1);
    assert_eq!(list.icps[0].name, "Created unseen");
    finish(&server);
}

#[tokio::test]
async fn a_stalled_body_sends_part_then_nothing_then_closes() {
    let server = server().await;
    create_icp(&client(&server, KEY_A), "Listed").await;
    let stall = Duration::from_millis(600);
    server
        .faults()
        .inject("icp_list", Fault::stalled_body(12, stall), 1)
        .expect("arm");
    let raw = exchange(server.addr(), "GET", "/v1/icp", None).await;
    let whole = server.journal().last().expect("journal").body.clone();
    assert_eq!(
        raw.header("content-length"),
        Some(whole.len().to_string().as_str())
    );
    assert_eq!(raw.body, whole[..12]);
    let last_byte = raw.reads.last().map_or(raw.head_at, |(at, _)| *at);
    assert!(
        last_byte < raw.head_at + Duration::from_millis(300),
        "the part came with the head: {raw:?}"
    );
    let silence = raw.ended_at - last_byte;
    assert!(
        silence >= stall - Duration::from_millis(50) && silence < stall + Duration::from_secs(5),
        "{silence:?} of silence, then the close: {raw:?}"
    );
    assert!(MAX_STALL >= Duration::from_secs(30));
    finish(&server);
}

#[tokio::test]
async fn a_stalled_body_times_out_a_client_with_a_short_timeout() {
    let server = server().await;
    create_icp(&client(&server, KEY_A), "Listed").await;
    let timeout = Duration::from_millis(300);
    let impatient = server
        .client_builder(KEY_A)
        .expect("key")
        .retry_policy(RetryPolicy::none())
        .timeout(timeout)
        .build()
        .expect("client");
    server
        .faults()
        .inject(
            "icp_list",
            Fault::stalled_body(5, Duration::from_secs(10)),
            1,
        )
        .expect("arm");
    let started = Instant::now();
    let err = error(bounded(impatient.icp_list().send()).await);
    let took = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200), "{err}");
    assert!(
        took >= timeout && took < Duration::from_secs(5),
        "took {took:?}"
    );

    // A retrying client gets it on the second attempt.
    let (client, sleeps) = retrying(&server, timeout);
    server
        .faults()
        .inject(
            "icp_list",
            Fault::stalled_body(5, Duration::from_secs(10)),
            1,
        )
        .expect("arm");
    let started = Instant::now();
    let list = bounded(client.icp_list().send())
        .await
        .expect("the retry succeeds");
    assert_eq!(list.icps.len(), 1);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(sleeps.lock().expect("sleeps").len(), 1);
    finish(&server);
}

#[tokio::test]
async fn a_redirect_has_its_status_and_location_and_runs_nothing() {
    let server = server().await;
    server
        .faults()
        .inject("icp_create", Fault::redirect(302, "/v1/elsewhere"), 1)
        .expect("arm");
    let raw = exchange(
        server.addr(),
        "POST",
        "/v1/icp",
        Some(r#"{"name":"x","description":"y","entity_targets":[]}"#),
    )
    .await;
    assert_eq!(raw.status, 302);
    assert_eq!(raw.header("location"), Some("/v1/elsewhere"));
    assert_eq!(raw.header("content-length"), Some("0"));
    assert!(raw.body.is_empty());
    assert_eq!(server.journal().last().expect("journal").status, Some(302));
    let list = client(&server, KEY_A)
        .icp_list()
        .send()
        .await
        .expect("list");
    assert!(list.icps.is_empty(), "nothing was created");

    // Refused when armed: not a redirect status, or a location that
    // cannot be a header.
    assert_eq!(
        server
            .faults()
            .inject("icp_list", Fault::redirect(200, "/"), 1),
        Err(FaultError::InvalidRedirectStatus(200))
    );
    assert_eq!(
        server
            .faults()
            .inject("icp_list", Fault::redirect(307, "/a\r\nx-evil: 1"), 1),
        Err(FaultError::InvalidLocation("/a\r\nx-evil: 1".into()))
    );
    assert_eq!(server.faults().pending("icp_list"), 0);
    finish(&server);
}

#[tokio::test]
async fn a_redirect_to_another_origin_is_an_error_naming_it_and_never_followed() {
    let server = server().await;
    let other = MockServer::start().await.expect("a second server");
    let target = format!("{}/v1/icp", other.base_url());
    let (client, sleeps) = retrying(&server, BOUND);
    for status in [302, 307] {
        server
            .faults()
            .inject("icp_list", Fault::redirect(status, target.clone()), 1)
            .expect("arm");
        let err = error(bounded(client.icp_list().send()).await);
        assert_eq!(err.kind(), ErrorKind::UnexpectedStatus, "{err}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status), "{err}");
        assert_eq!(err.attempts(), Some(1), "never retried: {err}");
        assert!(
            err.to_string()
                .contains(&format!("redirect to {target} not followed")),
            "{err}"
        );
    }
    assert!(sleeps.lock().expect("sleeps").is_empty());
    assert!(other.journal().is_empty(), "{:?}", other.journal());
    finish(&server);
}

#[tokio::test]
async fn a_huge_body_is_streamed_to_its_exact_length() {
    let server = server().await;
    let len: u64 = 3 * 1024 * 1024 + 17;
    server
        .faults()
        .inject("icp_list", Fault::huge_body(len), 1)
        .expect("arm");
    let raw = exchange(server.addr(), "GET", "/v1/icp", None).await;
    assert_eq!(raw.status, 200);
    assert_eq!(raw.header("content-type"), Some("application/json"));
    assert_eq!(raw.header("content-length"), Some(len.to_string().as_str()));
    assert_eq!(raw.body.len() as u64, len);
    let value: Value = serde_json::from_slice(&raw.body).expect("valid JSON");
    assert_eq!(
        value["filler"].as_str().map(str::len),
        Some(len as usize - 13)
    );
    assert!(raw.reads.len() > 1, "sent in parts");

    server
        .faults()
        .inject(
            "icp_list",
            Fault::HugeBody {
                len: 100_000,
                filler: Filler::Text,
                framing: Framing::Chunked,
            },
            1,
        )
        .expect("arm");
    let raw = exchange(server.addr(), "GET", "/v1/icp", None).await;
    assert_eq!(raw.header("transfer-encoding"), Some("chunked"));
    assert_eq!(
        raw.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    let (data, complete) = raw.dechunked();
    assert!(complete);
    assert_eq!(data.len(), 100_000);
    assert!(data.iter().all(|b| *b == b'x'));
    let recorded = server.journal().last().cloned().expect("journal");
    assert_eq!(recorded.status, Some(200));
    assert!(recorded.body.is_empty(), "the journal holds no huge body");
    finish(&server);
}

#[tokio::test]
async fn a_huge_body_over_the_client_limit_is_body_too_large() {
    let server = server().await;
    let limit = 64 * 1024;
    let sleeps = Arc::new(Mutex::new(Vec::new()));
    let record = sleeps.clone();
    let client = server
        .client_builder(KEY_A)
        .expect("key")
        .retry_policy(RetryPolicy::default())
        .max_response_body(limit)
        .sleep_with(move |delay| {
            record.lock().expect("sleeps").push(delay);
            std::future::ready(())
        })
        .build()
        .expect("client");

    // Declared: refused from its Content-Length.
    server
        .faults()
        .inject("icp_list", Fault::huge_body(10 * 1024 * 1024), 1)
        .expect("arm");
    let err = error(bounded(client.icp_list().send()).await);
    assert_eq!(err.kind(), ErrorKind::BodyTooLarge, "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
    assert_eq!(err.attempts(), Some(1));

    // Chunked and far larger than memory: the client stops at its limit and
    // the server stops generating.
    server
        .faults()
        .inject(
            "icp_list",
            Fault::HugeBody {
                len: 64 << 30,
                filler: Filler::Json,
                framing: Framing::Chunked,
            },
            1,
        )
        .expect("arm");
    let err = error(bounded(client.icp_list().send()).await);
    assert_eq!(err.kind(), ErrorKind::BodyTooLarge, "{err}");
    assert!(sleeps.lock().expect("sleeps").is_empty(), "never retried");

    // A raw reader may stop wherever it likes.
    server
        .faults()
        .inject("icp_list", Fault::huge_body(64 << 30), 1)
        .expect("arm");
    let response = crate::raw()
        .get(format!("{}/v1/icp", server.base_url()))
        .header("x-api-key", KEY_A)
        .send()
        .await
        .expect("head");
    assert_eq!(response.content_length(), Some(64 << 30));
    let mut body = response.bytes_stream();
    let mut read = 0;
    while read < 1024 * 1024 {
        read += bounded(body.next())
            .await
            .expect("more")
            .expect("bytes")
            .len();
    }
    drop(body);
    crate::client(&server, KEY_A)
        .icp_list()
        .send()
        .await
        .expect("the server still serves");
    finish(&server);
}
