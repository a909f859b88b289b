//! Integration tests of `linkt-mock` through the real `linkt` client.
//!
//! Every test starts its own server on an ephemeral 127.0.0.1 port, moves
//! its simulated clock explicitly, and never sleeps on the wall clock. The
//! servers check every response they send against the spec; [`finish`]
//! asserts that no response failed that check.

mod binary;
mod drift;
mod entities;
mod errors;
mod faults;
mod files;
mod icps;
mod network;
mod openapi;
mod runs;
mod schedules;
mod sheets;
mod signals;
mod tasks;
mod workflow;

use std::time::Duration;

use chrono::{DateTime, TimeZone as _, Utc};
use linkt::types::{self, CreateTaskRequestTaskConfig, EntityType};
use linkt::{Client, RetryPolicy};
use linkt_mock::{KeyConfig, MockServer};

/// Key of organization A (read-write).
pub(crate) const KEY_A: &str = "lk-test-org-a";
/// Key of organization B (read-write).
pub(crate) const KEY_B: &str = "lk-test-org-b";
/// Read-only key of organization A.
pub(crate) const KEY_A_RO: &str = "lk-test-org-a-readonly";

/// The start of the simulated clock of the servers of these tests,
/// 2025-01-06T09:00:00Z (a Monday, on a minute boundary), so timestamps and
/// rate-limit windows are the same on every run.
pub(crate) fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 6, 9, 0, 0)
        .single()
        .expect("a valid instant")
}

/// A server with two organizations and a read-only key for the first, on
/// the default timing: 2 s scheduled, 3 s pending, 10 s per item; its clock
/// starts at [`start`].
pub(crate) async fn server() -> MockServer {
    MockServer::builder()
        .start_time(start())
        .key_config(KeyConfig::new(KEY_A).org("a"))
        .key_config(KeyConfig::new(KEY_B))
        .key_config(KeyConfig::new(KEY_A_RO).org("a").read_only())
        .default_num_results(4)
        .start()
        .await
        .expect("server starts")
}

/// A client without retries, so every error surfaces as it was sent.
pub(crate) fn client(server: &MockServer, key: &str) -> Client {
    server
        .client_builder(key)
        .expect("valid key")
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("client")
}

/// Asserts that every response of the server matched the spec.
#[track_caller]
pub(crate) fn finish(server: &MockServer) {
    let violations = server.spec_violations();
    assert!(
        violations.is_empty(),
        "responses that do not match the spec: {violations:#?}"
    );
}

/// The error of a failed call.
#[track_caller]
pub(crate) fn error<T: std::fmt::Debug>(result: Result<T, linkt::Error>) -> linkt::Error {
    match result {
        Ok(value) => panic!("expected the call to fail, got {value:?}"),
        Err(err) => err,
    }
}

pub(crate) fn target(entity_type: &str, root: bool) -> types::EntityTargetConfig {
    types::EntityTargetConfig::builder()
        .entity_type(entity_type)
        .root(root)
        .description(format!("## Criteria\n- good {entity_type} targets"))
        .try_into()
        .expect("target")
}

/// An ICP targeting companies with people under them.
pub(crate) async fn create_icp(client: &Client, name: &str) -> types::IcpResponse {
    client
        .icp_create()
        .body(
            types::CreateIcpRequest::builder()
                .name(name)
                .description("B2B SaaS companies and their revenue leaders")
                .entity_targets(vec![target("company", true), target("person", false)]),
        )
        .send()
        .await
        .expect("icp_create")
        .into_inner()
}

pub(crate) async fn create_sheet(
    client: &Client,
    icp_id: &str,
    entity_type: EntityType,
) -> types::Sheet {
    client
        .sheet_create()
        .body(
            types::CreateSheetRequest::builder()
                .name(format!("{entity_type} sheet"))
                .description(format!("The {entity_type} entities"))
                .icp_id(icp_id)
                .entity_type(entity_type),
        )
        .send()
        .await
        .expect("sheet_create")
        .into_inner()
}

/// A search task with `contacts` people per company.
pub(crate) async fn create_search_task(
    client: &Client,
    icp_id: &str,
    contacts: u64,
) -> types::TaskResponse {
    let config = types::SearchTaskConfig::builder()
        .type_(types::SearchTaskConfigType::Search)
        .desired_contact_count(std::num::NonZeroU64::new(contacts).expect("non-zero"));
    let config = types::SearchTaskConfig::try_from(config).expect("config");
    client
        .task_create()
        .body(
            types::CreateTaskRequest::builder()
                .name("Find companies")
                .description("Search for matching companies")
                .flow_name("search")
                .deployment_name("main")
                .icp_id(Some(icp_id.parse().expect("icp id")))
                .task_config(Some(CreateTaskRequestTaskConfig::SearchTaskConfig(config))),
        )
        .send()
        .await
        .expect("task_create")
        .into_inner()
}

/// An ICP with a company and a person sheet: (icp, company sheet, person sheet).
pub(crate) async fn searchable_icp(
    client: &Client,
    name: &str,
) -> (types::IcpResponse, types::Sheet, types::Sheet) {
    let icp = create_icp(client, name).await;
    let companies = create_sheet(client, &icp.id, EntityType::Company).await;
    let people = create_sheet(client, &icp.id, EntityType::Person).await;
    (icp, companies, people)
}

/// Executes a task with `num_results` and returns the run id.
pub(crate) async fn execute(client: &Client, task_id: &str, num_results: u64) -> String {
    let mut parameters = serde_json::Map::new();
    parameters.insert("num_results".into(), num_results.into());
    client
        .task_execute()
        .task_id(task_id)
        .body(types::ExecuteTaskRequest::builder().parameters(parameters))
        .send()
        .await
        .expect("task_execute")
        .into_inner()
        .run_id
}

/// The status of a run, as the server reports it now.
pub(crate) async fn run_status(client: &Client, run_id: &str) -> String {
    let run = client
        .run_retrieve()
        .run_id(run_id)
        .send()
        .await
        .expect("run_retrieve")
        .into_inner();
    run.0["status"].as_str().expect("status").to_owned()
}

/// A plain HTTP client, for requests the typed client cannot make.
pub(crate) fn raw() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().build().expect("reqwest client")
}

/// Advances the simulated clock.
pub(crate) fn advance(server: &MockServer, secs: u64) {
    server.clock().advance(Duration::from_secs(secs));
}
