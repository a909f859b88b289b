//! The client's unhappy-path guarantees, checked at the byte level against
//! [`FaultServer`]: one module per class of fault, and a property over random
//! fault scripts (`property.rs`).
//!
//! No test sleeps on the wall clock for a retry: the client's sleep function
//! records the delays instead. Every call is wrapped in [`guarded`], so a
//! regression that hangs fails its test instead.

mod bodies;
mod paths;
mod property;
mod redirects;
mod transport;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use linkt::{ApiKey, Client};
use linkt_faults::{Connection, FaultServer};

pub(crate) const KEY: &str = "lk_test_0123456789abcdef";
pub(crate) const ICP_ID: &str = "507f1f77bcf86cd799439011";

/// How long any one call may take before its test fails as a hang.
pub(crate) const GUARD: Duration = Duration::from_secs(10);

/// How long a test waits for the server to finish its connections after a
/// call returned (a flood's writer ends at its next failed write).
pub(crate) const SETTLE: Duration = Duration::from_secs(5);

/// The JSON success limit the tests configure (`max_response_body`).
pub(crate) const LIMIT: usize = 64 * 1024;

pub(crate) const MIB: usize = 1024 * 1024;

/// The most bytes the server may write on one connection to a client that
/// stops reading at its limits: the limit itself (64 KiB here, and
/// `MAX_ERROR_BODY`, 64 KiB, for a failure; hyper's head buffer, about
/// 400 KiB, for a head), what hyper has read ahead of the body reader (up to
/// its buffer again), the client socket's receive buffer (128 KiB at first on
/// Linux, grown by autotuning while the client reads fast) and the server's
/// send buffer ([`SEND_BUFFER`], doubled by the kernel). Measured on loopback:
/// at most about 0.6 MiB for a flood and 1.1 MiB for a huge head, so 2 MiB
/// holds with room; a client that read a flood to its end would let the
/// server write all of the 16 MiB the tests offer (the property's floods go
/// up to 8 MiB).
///
/// [`SEND_BUFFER`]: linkt_faults::SEND_BUFFER
pub(crate) const READ_BOUND: usize = 2 * MIB;

/// Delays the client asked to sleep, in order.
#[derive(Clone, Default)]
pub(crate) struct Sleeps(Arc<Mutex<Vec<Duration>>>);

impl Sleeps {
    pub(crate) fn recorded(&self) -> Vec<Duration> {
        self.0.lock().expect("sleeps").clone()
    }
}

/// A client of `url` built from `builder`, with the test key, the JSON
/// limit [`LIMIT`], and sleeps recorded instead of waited.
pub(crate) fn client_with(url: &str, builder: linkt::ClientBuilder) -> (Client, Sleeps) {
    let sleeps = Sleeps::default();
    let recorder = sleeps.clone();
    let client = builder
        .api_key(ApiKey::new(KEY).expect("a valid key"))
        .base_url(url)
        .max_response_body(LIMIT)
        .sleep_with(move |delay| {
            recorder.0.lock().expect("sleeps").push(delay);
            std::future::ready(())
        })
        .build()
        .expect("a client");
    (client, sleeps)
}

/// A client of `server` with a 5 s timeout and the default retry policy.
pub(crate) fn client(server: &FaultServer) -> (Client, Sleeps) {
    client_with(
        &server.url(),
        Client::builder().timeout(Duration::from_secs(5)),
    )
}

/// Starts a fault server (inside the test's runtime).
pub(crate) fn server(scripts: Vec<linkt_faults::Script>) -> FaultServer {
    FaultServer::start(scripts).expect("a fault server on 127.0.0.1")
}

/// `call`, failing the test if it has not ended within [`GUARD`].
pub(crate) async fn guarded<F: Future>(call: F) -> F::Output {
    tokio::time::timeout(GUARD, call)
        .await
        .unwrap_or_else(|_| panic!("the call did not end within {GUARD:?}"))
}

/// A call's result as a `linkt::Error`, which it must be.
#[track_caller]
pub(crate) fn failed<T: std::fmt::Debug>(result: Result<T, linkt::Error>) -> linkt::Error {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(err) => err,
    }
}

/// The methods of the requests the server read, in order.
pub(crate) fn methods(connections: &[Connection]) -> Vec<&str> {
    connections.iter().filter_map(Connection::method).collect()
}

pub(crate) fn icp_json() -> serde_json::Value {
    serde_json::json!({
        "id": ICP_ID,
        "name": "Enterprise SaaS Companies",
        "description": "Mid-market B2B SaaS companies",
        "entity_targets": [
            { "entity_type": "company", "root": true, "description": "B2B SaaS" }
        ],
        "created_at": "2025-01-05T12:00:00Z",
        "updated_at": "2025-01-06T08:30:00Z"
    })
}

pub(crate) fn icp_bytes() -> Vec<u8> {
    serde_json::to_vec(&icp_json()).expect("json")
}

pub(crate) fn entity_page_bytes() -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "entities": [], "page": 1, "page_size": 20, "total": 0
    }))
    .expect("json")
}

pub(crate) fn create_body() -> linkt::types::builder::CreateIcpRequest {
    linkt::types::CreateIcpRequest::builder()
        .name("Enterprise SaaS Companies")
        .description("Mid-market B2B SaaS companies")
        .entity_targets(vec![])
}
