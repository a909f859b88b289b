//! Integration tests of the `linkt` client through its public API, against
//! httpmock on 127.0.0.1. No test sleeps on the wall clock: the client's
//! sleep function is replaced by a recorder.

mod bodies;
mod errors;
mod evolution;
mod headers;
mod limits;
mod operations;
mod options;
mod pagination;
mod paths;
mod redirects;
mod retries;
mod secrets;
mod transport;
mod wire;
mod workflow;

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use linkt::{ApiKey, Client};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt as _;

pub(crate) const KEY: &str = "lk_test_0123456789abcdef";

/// A keep-alive HTTP/1.1 server on 127.0.0.1 answering every request (each
/// request head; the requests have no body) with `body` as JSON; its base
/// URL and the number of connections it accepted. A connection idle for
/// 10 s is closed.
pub(crate) async fn keep_alive_server(body: String) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let address = listener.local_addr().expect("an address");
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    let reply: Arc<[u8]> = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
    .into();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let reply = reply.clone();
            tokio::spawn(async move {
                let mut read = Vec::new();
                let mut buffer = [0; 4096];
                loop {
                    match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer))
                        .await
                    {
                        Ok(Ok(n)) if n > 0 => read.extend_from_slice(&buffer[..n]),
                        _ => return,
                    }
                    while let Some(end) = read.windows(4).position(|w| w == b"\r\n\r\n") {
                        read.drain(..end + 4);
                        if stream.write_all(&reply).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    (format!("http://{address}"), accepted)
}

/// Delays the client asked to sleep, in order.
#[derive(Clone, Default)]
pub(crate) struct Sleeps(Arc<Mutex<Vec<Duration>>>);

impl Sleeps {
    pub(crate) fn recorded(&self) -> Vec<Duration> {
        self.0.lock().expect("sleeps").clone()
    }
}

/// Everything the test binary logs at TRACE level, from every test.
#[derive(Clone, Default)]
pub(crate) struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub(crate) fn len(&self) -> usize {
        self.0.lock().expect("capture").len()
    }

    pub(crate) fn text_from(&self, offset: usize) -> String {
        let bytes = self.0.lock().expect("capture");
        String::from_utf8_lossy(&bytes[offset.min(bytes.len())..]).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("capture").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs (once) a global TRACE subscriber writing into a buffer.
pub(crate) fn tracing_capture() -> Captured {
    static CAPTURE: OnceLock<Captured> = OnceLock::new();
    CAPTURE
        .get_or_init(|| {
            let captured = Captured::default();
            let writer = captured.clone();
            // Everything the client side logs (linkt, reqwest, hyper, ...) at
            // TRACE; not the mock server, which logs the requests it receives.
            let filter = Targets::new()
                .with_default(LevelFilter::TRACE)
                .with_target("httpmock", LevelFilter::OFF);
            let subscriber = tracing_subscriber::registry().with(filter).with(
                tracing_subscriber::fmt::layer()
                    .with_writer(move || writer.clone())
                    .with_ansi(false),
            );
            tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
            captured
        })
        .clone()
}

/// A client for `base_url` whose sleeps are recorded instead of waited.
pub(crate) fn client_with(base_url: &str, builder: linkt::ClientBuilder) -> (Client, Sleeps) {
    tracing_capture();
    let sleeps = Sleeps::default();
    let recorder = sleeps.clone();
    let client = builder
        .api_key(ApiKey::new(KEY).expect("valid key"))
        .base_url(base_url)
        .sleep_with(move |delay| {
            recorder.0.lock().expect("sleeps").push(delay);
            std::future::ready(())
        })
        .build()
        .expect("client");
    (client, sleeps)
}

pub(crate) fn client(base_url: &str) -> (Client, Sleeps) {
    client_with(base_url, Client::builder())
}

pub(crate) fn icp_json() -> serde_json::Value {
    serde_json::json!({
        "id": "507f1f77bcf86cd799439011",
        "name": "Enterprise SaaS Companies",
        "description": "Mid-market B2B SaaS companies",
        "entity_targets": [
            { "entity_type": "company", "root": true, "description": "B2B SaaS" }
        ],
        "created_at": "2025-01-05T12:00:00Z",
        "updated_at": "2025-01-06T08:30:00Z"
    })
}
