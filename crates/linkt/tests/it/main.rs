//! Integration tests of the `linkt` client through its public API, against
//! httpmock on 127.0.0.1. No test sleeps on the wall clock: the client's
//! sleep function is replaced by a recorder.

mod errors;
mod operations;
mod retries;
mod secrets;
mod wire;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use linkt::{ApiKey, Client};

pub(crate) const KEY: &str = "lk_test_0123456789abcdef";

/// Delays the client asked to sleep, in order.
#[derive(Clone, Default)]
pub(crate) struct Sleeps(Arc<Mutex<Vec<Duration>>>);

impl Sleeps {
    pub(crate) fn recorded(&self) -> Vec<Duration> {
        self.0.lock().expect("sleeps").clone()
    }
}

/// A client for `base_url` whose sleeps are recorded instead of waited.
pub(crate) fn client_with(base_url: &str, builder: linkt::ClientBuilder) -> (Client, Sleeps) {
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
