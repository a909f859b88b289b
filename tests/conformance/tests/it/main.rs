//! The conformance suite: the `linkt` client checked against the spec it was
//! generated from, through its public API only, against httpmock on
//! 127.0.0.1.
//!
//! * [`operations`]: one test per operation case, each driven through
//!   `check`: request snapshot, response decoding, error mapping;
//! * [`properties`]: proptest round trips and violations for every component
//!   schema, and error mapping on arbitrary responses;
//! * [`drift`]: the generated types' `schemars` schemas against the spec;
//! * [`gate`]: the coverage check (the same one `cargo xtask conformance`
//!   runs), shown failing on a modified spec;
//! * [`equivalence`]: the rule for absent, null and default fields;
//! * support: [`dispatch`] (typed calls and mocks per case), [`types`] (the
//!   component table), [`strategy`] (proptest strategies built from schemas),
//!   [`wire`] (recording and rendering requests).
//!
//! No test sleeps: retries are disabled or their sleeps recorded.

mod dispatch;
mod drift;
mod equivalence;
mod gate;
mod operations;
mod properties;
mod strategy;
mod types;
mod wire;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use linkt::{ApiKey, Client, RetryPolicy};
use serde_json::Value;

/// The API key every test client uses; it must never appear in a snapshot.
pub(crate) const KEY: &str = "lk_conformance_5f2c9e0d41b7a8e3";

/// The workspace root.
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The normalized spec document, prepared once, as OpenAPI reads it:
/// discriminator properties required (see
/// `linkt_spec::require_discriminators`, which the generator applies too).
pub(crate) fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let root = workspace_root();
        let prepared = linkt_spec::prepare(
            &root.join(linkt_conformance::SPEC_FILE),
            Some(&root.join(linkt_conformance::OVERLAY_FILE)),
        )
        .expect("the spec prepares");
        let mut document = prepared.document;
        linkt_spec::require_discriminators(&mut document).expect("discriminators resolve");
        document
    })
}

/// The spec's operations, read once.
pub(crate) fn spec_operations() -> &'static [linkt_conformance::spec::SpecOperation] {
    static OPERATIONS: OnceLock<Vec<linkt_conformance::spec::SpecOperation>> = OnceLock::new();
    OPERATIONS.get_or_init(|| {
        linkt_conformance::spec::operations(document()).expect("the spec's operations")
    })
}

/// Delays the client asked to sleep, in order (none are waited).
#[derive(Clone, Default)]
pub(crate) struct Sleeps(Arc<Mutex<Vec<Duration>>>);

impl Sleeps {
    pub(crate) fn recorded(&self) -> Vec<Duration> {
        self.0.lock().expect("sleeps").clone()
    }
}

/// A client for `base_url` that never retries and records (never waits
/// for) any sleep.
pub(crate) fn client(base_url: &str) -> (Client, Sleeps) {
    let sleeps = Sleeps::default();
    let recorder = sleeps.clone();
    let client = Client::builder()
        .api_key(ApiKey::new(KEY).expect("valid key"))
        .base_url(base_url)
        .retry_policy(RetryPolicy::none())
        .sleep_with(move |delay| {
            recorder.0.lock().expect("sleeps").push(delay);
            std::future::ready(())
        })
        .build()
        .expect("client");
    (client, sleeps)
}

/// A current-thread runtime for one test.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}
