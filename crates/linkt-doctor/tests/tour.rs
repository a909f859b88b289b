//! The tours against `linkt-mock`: clean, drifting, failing midway.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use linkt_doctor::{Impact, MAX_READ_CALLS, MAX_WRITE_CALLS, Outcome, Plan, Report, Rule, Tour};
use linkt_mock::{Drift, DriftKind, Fault, InjectedDrift, KeyConfig, MockServer};
use serde_json::{Value, json};

/// The whole tour, as the tests bound it: well under a minute here.
const TOUR_BOUND: Duration = Duration::from_secs(60);

async fn server(drift: Drift) -> MockServer {
    MockServer::builder()
        .drift(drift)
        .start()
        .await
        .expect("mock server")
}

fn config(server: &MockServer) -> linkt_auth::Config {
    linkt_auth::Config::builder()
        .api_key(linkt_auth::ApiKey::new(server.api_key()).expect("key"))
        .base_url(server.base_url())
        .allow_insecure_http(true)
        .build()
        .expect("config")
}

/// A raw call to the mock (the typed client may not decode a drifting
/// response); the body as JSON.
async fn raw(server: &MockServer, method: &str, path: &str, body: Option<Value>) -> Value {
    // The process's TLS provider, which reqwest asks for even for http://.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http");
    let mut request = http
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).expect("method"),
            format!("{}{path}", server.base_url()),
        )
        .header("x-api-key", server.api_key());
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.expect("send");
    let status = response.status();
    let bytes = response.bytes().await.expect("body");
    assert!(status.is_success(), "{method} {path}: {status}");
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

fn id(value: &Value) -> String {
    value["id"].as_str().expect("id").to_owned()
}

/// An account with something to read everywhere: an ICP, two sheets, a
/// search run with its entities, a signal run with its signals, a
/// schedule and a file.
async fn seed(server: &MockServer) {
    let icp = id(&raw(server, "POST", "/v1/icp", Some(json!({
        "name": "Seeded ICP",
        "description": "B2B SaaS companies",
        "entity_targets": [
            {"entity_type": "company", "root": true, "description": "B2B SaaS, 50-500 employees"},
            {"entity_type": "person", "desired_count": 1, "description": "VP of Sales"}
        ]
    })))
    .await);
    for entity_type in ["company", "person"] {
        raw(
            server,
            "POST",
            "/v1/sheet",
            Some(json!({
                "name": format!("{entity_type} sheet"),
                "description": "Seeded",
                "icp_id": icp,
                "entity_type": entity_type
            })),
        )
        .await;
    }
    let search = id(&raw(
        server,
        "POST",
        "/v1/task",
        Some(json!({
            "name": "Search",
            "description": "Find companies",
            "flow_name": "search",
            "deployment_name": "main",
            "icp_id": icp,
            "task_config": {"type": "search", "desired_contact_count": 1, "user_feedback": ""}
        })),
    )
    .await);
    let signals = id(&raw(server, "POST", "/v1/task", Some(json!({
        "name": "Signals",
        "description": "Weekly signal monitoring",
        "flow_name": "signal",
        "deployment_name": "main",
        "icp_id": icp,
        "task_config": {
            "type": "signal-topic",
            "topic_criteria": "B2B SaaS companies raising a round",
            "signal_types": [{"type": "funding", "display": "Funding Rounds", "description": "Venture rounds"}]
        }
    })))
    .await);
    for task in [&search, &signals] {
        raw(
            server,
            "POST",
            &format!("/v1/task/{task}/execute"),
            Some(json!({
                "icp_id": icp,
                "parameters": {"num_results": 2}
            })),
        )
        .await;
    }
    raw(
        server,
        "POST",
        "/v1/schedule",
        Some(json!({
            "name": "Weekly", "task_id": search, "icp_id": icp,
            "cron_expression": "0 9 * * 1", "parameters": {}
        })),
    )
    .await;
    server.clock().advance(Duration::from_secs(3600));
    let client = server.client().expect("client");
    // The typed client may not decode a drifting answer; the file is
    // stored either way.
    let _ = client
        .files_upload()
        .body(linkt::FilePart::csv("seed.csv", "company_name\nAcme\n"))
        .send()
        .await;
}

fn read_only_names() -> BTreeSet<&'static str> {
    linkt_doctor::read_only_operations()
        .iter()
        .map(|op| op.name)
        .collect()
}

/// `(operation, pointer, rule)` of each finding.
fn found(report: &Report) -> BTreeSet<(String, String, Rule)> {
    report
        .findings()
        .iter()
        .map(|f| (f.operation.clone(), f.pointer.clone(), f.rule))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_mock_shows_no_drift_and_every_read_operation_is_touched() {
    let server = server(Drift::none()).await;
    seed(&server).await;
    server.clear_journal();
    let started = Instant::now();
    let report = Tour::builder()
        .build(&config(&server))
        .expect("tour")
        .run()
        .await;
    assert!(started.elapsed() < TOUR_BOUND, "{:?}", started.elapsed());

    assert_eq!(report.findings(), [], "{}", report.to_markdown());
    assert_eq!(report.problems(), [], "{}", report.to_markdown());
    assert_eq!(report.outcome(), Outcome::NoDrift);
    assert_eq!(report.outcome().exit_code(), 0);
    // All 24 `GET` operations, which are all the read-only ones: the
    // lists, counts, export and schema reads, and one item of each.
    let touched: BTreeSet<&str> = report.operations_touched();
    assert_eq!(touched, read_only_names());
    assert_eq!(touched.len(), 24);
    assert!(
        report.calls().len() <= MAX_READ_CALLS,
        "{}",
        report.calls().len()
    );
    // Nothing but reads reached the server.
    let journal = server.journal();
    assert_eq!(journal.len(), report.calls().len());
    assert!(journal.iter().all(|e| e.method == "GET"), "{journal:?}");
    assert!(!report.to_markdown().contains(server.api_key()));
}

/// The finding each injected drift must produce.
fn expected_finding(drift: &InjectedDrift) -> Option<(String, String, Rule)> {
    let rule = match drift.kind {
        DriftKind::UnknownField => Rule::ResponsePropertyAdded,
        DriftKind::UnknownEnumValue => Rule::EnumValueAdded,
        DriftKind::NullRequiredField => Rule::ResponsePropertyBecameNullable,
        DriftKind::CreatedStatus => Rule::ResponseSuccessStatusAdded,
        // Optional: absence is not drift in one response. See
        // `never_sent` below.
        DriftKind::DroppedOptionalField => return None,
        other => panic!("a drift kind this test does not know: {other:?}"),
    };
    Some((drift.operation.clone(), drift.pointer.clone(), rule))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_injected_drift_is_reported_where_it_was_injected() {
    let server = server(Drift::all()).await;
    seed(&server).await;
    server.clear_injected_drift();
    let report = Tour::builder()
        .write(true)
        .build(&config(&server))
        .expect("tour")
        .run()
        .await;
    let injected = server.injected_drift();
    let kinds: BTreeSet<&str> = injected.iter().map(|d| d.kind.name()).collect();
    assert_eq!(
        kinds.len(),
        DriftKind::ALL.len(),
        "every kind was injected: {kinds:?}"
    );

    let expected: BTreeSet<_> = injected.iter().filter_map(expected_finding).collect();
    assert_eq!(found(&report), expected, "{}", report.to_markdown());
    for finding in report.findings() {
        let want = match finding.rule {
            Rule::ResponsePropertyBecameNullable => Impact::Breaking,
            _ => Impact::Additive,
        };
        assert_eq!(finding.impact(), want, "{finding:?}");
    }
    // A required field returned as null breaks the client: exit 1.
    assert_eq!(
        report.outcome(),
        Outcome::BreakingDrift,
        "{}",
        report.to_markdown()
    );
    assert_eq!(report.outcome().exit_code(), 1);

    // A property dropped from every response of its schema is listed as
    // never sent; the mock sends the sheet's `entity_type` otherwise.
    assert!(
        injected
            .iter()
            .any(|d| d.kind == DriftKind::DroppedOptionalField && d.operation == "sheet_retrieve"),
        "{injected:?}"
    );
    assert!(
        report
            .never_sent()
            .iter()
            .any(|n| n.property == "entity_type"),
        "{:?}",
        report.never_sent()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn additive_drift_passes_the_gate_and_the_client_copes_with_it() {
    let additive = [
        DriftKind::UnknownField,
        DriftKind::UnknownEnumValue,
        DriftKind::CreatedStatus,
    ];
    let server = server(Drift::only(&additive)).await;
    seed(&server).await;
    let report = Tour::builder()
        .write(true)
        .build(&config(&server))
        .expect("tour")
        .run()
        .await;
    assert!(!report.findings().is_empty());
    assert!(
        report
            .findings()
            .iter()
            .all(|f| f.impact() == Impact::Additive),
        "{}",
        report.to_markdown()
    );
    assert_eq!(report.outcome(), Outcome::AdditiveDrift);
    assert_eq!(report.outcome().exit_code(), 0);
    let rules: BTreeSet<Rule> = report.findings().iter().map(|f| f.rule).collect();
    assert_eq!(
        rules,
        BTreeSet::from([
            Rule::ResponsePropertyAdded,
            Rule::EnumValueAdded,
            Rule::ResponseSuccessStatusAdded
        ])
    );

    // What the report calls additive, the typed client decodes: a create
    // answered 201 with an unknown field, an unknown enum value.
    let client = server.client().expect("client");
    let icp: linkt::types::CreateIcpRequest = serde_json::from_value(json!({
        "name": "Typed", "description": "d",
        "entity_targets": [{"entity_type": "company", "root": true, "description": "c"}]
    }))
    .expect("body");
    let created = client
        .icp_create()
        .body(icp)
        .send()
        .await
        .expect("201 decodes");
    assert_eq!(created.status(), 201);
    let file = client
        .files_upload()
        .body(linkt::FilePart::csv("typed.csv", "company_name\nAcme\n"))
        .send()
        .await
        .expect("an unknown enum value decodes");
    assert!(
        matches!(
            file.processing_status,
            linkt::types::CsvProcessingStatus::Unknown(_)
        ),
        "{:?}",
        file.processing_status
    );
}

/// The number of resources of each kind the write tour creates.
async fn counts(server: &MockServer) -> [u64; 4] {
    let mut out = [0; 4];
    for (n, path) in ["/v1/icp", "/v1/sheet", "/v1/task", "/v1/schedule"]
        .iter()
        .enumerate()
    {
        out[n] = raw(server, "GET", path, None).await["total"]
            .as_u64()
            .expect("total");
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_write_tour_leaves_nothing_behind() {
    let server = server(Drift::none()).await;
    seed(&server).await;
    let before = counts(&server).await;
    server.clear_journal();
    let report = Tour::builder()
        .write(true)
        .build(&config(&server))
        .expect("tour")
        .run()
        .await;
    assert_eq!(report.problems(), [], "{}", report.to_markdown());
    assert_eq!(
        report.outcome(),
        Outcome::NoDrift,
        "{}",
        report.to_markdown()
    );
    assert_eq!(counts(&server).await, before);
    let writes: BTreeSet<String> = server
        .journal()
        .into_iter()
        .filter(|e| e.method != "GET")
        .filter_map(|e| e.operation)
        .collect();
    let want: BTreeSet<String> = [
        "icp_create",
        "icp_update",
        "icp_delete",
        "sheet_create",
        "sheet_update",
        "sheet_delete",
        "sheet_schema_add_fields",
        "sheet_schema_delete_fields",
        "task_create",
        "task_update",
        "task_delete",
        "schedule_create",
        "schedule_update",
        "schedule_delete",
    ]
    .map(str::to_owned)
    .into();
    assert_eq!(writes, want, "no run started, nothing else written");
    // The write tour: 4 resources created, read and updated, the custom
    // field added, read and removed, 4 deletions.
    let write_calls = report.calls().len() - 30;
    assert_eq!(write_calls, 19, "{}", report.to_markdown());
    assert!(write_calls <= MAX_WRITE_CALLS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_failing_midway_still_deletes_what_was_created() {
    let server = server(Drift::none()).await;
    seed(&server).await;
    let before = counts(&server).await;
    server
        .faults()
        .inject("task_create", Fault::status(500), 1)
        .expect("fault");
    let report = Tour::builder()
        .write(true)
        .build(&config(&server))
        .expect("tour")
        .run()
        .await;
    assert_eq!(report.outcome(), Outcome::Incomplete);
    assert_eq!(report.outcome().exit_code(), 2);
    let problems: Vec<(&str, bool)> = report
        .problems()
        .iter()
        .map(|p| (p.operation.as_str(), p.message.starts_with("status 500")))
        .collect();
    assert_eq!(
        problems,
        [("task_create", true)],
        "{}",
        report.to_markdown()
    );
    // The ICP and the sheet made before the failure are gone; the steps
    // after it were not attempted.
    assert_eq!(counts(&server).await, before);
    let touched = report.operations_touched();
    assert!(touched.contains("sheet_delete") && touched.contains("icp_delete"));
    assert!(!touched.contains("schedule_create"));
}

/// The waits a tour asked for, recorded instead of waited.
#[derive(Clone, Default)]
struct Waits(Arc<Mutex<Vec<Duration>>>);

impl Waits {
    fn sleep(&self) -> impl Fn(Duration) -> std::future::Ready<()> + Send + Sync + 'static {
        let waits = self.0.clone();
        move |wait| {
            waits.lock().expect("waits").push(wait);
            std::future::ready(())
        }
    }

    fn all(&self) -> Vec<Duration> {
        self.0.lock().expect("waits").clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_is_waited_out_and_the_call_retried_once() {
    let server = server(Drift::none()).await;
    server
        .faults()
        .inject(
            "icp_list",
            Fault::status_with_retry_after(429, Duration::from_secs(7)),
            1,
        )
        .expect("fault");
    let waits = Waits::default();
    let report = Tour::builder()
        .sleep_with(waits.sleep())
        .build(&config(&server))
        .expect("tour")
        .run()
        .await;
    assert_eq!(
        waits.all(),
        [Duration::from_secs(7)],
        "the server's Retry-After, once"
    );
    let list = report
        .calls()
        .iter()
        .find(|c| c.operation == "icp_list")
        .expect("icp_list called");
    assert_eq!((list.status, list.rate_limited), (Some(200), 1));
    assert!(
        report.problems().iter().all(|p| !p.incomplete),
        "{}",
        report.to_markdown()
    );
    // An empty account: the retrieves and the export are skipped, and the
    // report says why; nothing is drift.
    assert!(
        report
            .problems()
            .iter()
            .any(|p| p.operation == "icp_retrieve" && p.message.contains("no icp_id")),
        "{:?}",
        report.problems()
    );
    assert!(
        report
            .problems()
            .iter()
            .any(|p| p.operation == "entity_export" && p.message.contains("no entity_id")),
        "{:?}",
        report.problems()
    );
    assert_eq!(report.outcome(), Outcome::NoDrift);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tour_is_paced_by_the_plan() {
    // The mock's own limit is not in the way (a Pro key); the tour's plan
    // allows 5 calls a minute.
    let server = MockServer::builder()
        .key_config(KeyConfig::new("sk-paced").plan(Plan::Pro))
        .start()
        .await
        .expect("mock");
    let config = linkt_auth::Config::builder()
        .api_key(linkt_auth::ApiKey::new("sk-paced").expect("key"))
        .base_url(server.base_url())
        .allow_insecure_http(true)
        .build()
        .expect("config");
    let waits = Waits::default();
    let report = Tour::builder()
        .plan(Plan::Custom {
            per_minute: 5,
            per_day: 0,
        })
        .sleep_with(waits.sleep())
        .build(&config)
        .expect("tour")
        .run()
        .await;
    let calls = report.calls().len();
    assert!(calls > 5, "{calls}");
    // Calls 6 to 10 each waited for a slot of the next minute: nothing is
    // sent faster than the plan allows. The waits are recorded, not slept,
    // so time does not move on: from the 11th call the next slot is two
    // minutes away, beyond what the tour waits for (a slot that far off is
    // a daily quota's; the server's 429 then says how long), and those are
    // sent without a wait.
    let waits = waits.all();
    assert_eq!(waits.len(), 5.min(calls - 5), "{waits:?}");
    assert!(
        waits
            .iter()
            .all(|w| *w > Duration::from_secs(55) && *w <= Duration::from_secs(60)),
        "{waits:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_key_stops_the_tour_at_the_first_call() {
    let server = server(Drift::none()).await;
    let config = linkt_auth::Config::builder()
        .api_key(linkt_auth::ApiKey::new("sk-not-a-key-of-this-server").expect("key"))
        .base_url(server.base_url())
        .allow_insecure_http(true)
        .build()
        .expect("config");
    let report = Tour::builder()
        .write(true)
        .build(&config)
        .expect("tour")
        .run()
        .await;
    assert_eq!(report.calls().len(), 1, "{}", report.to_markdown());
    assert_eq!(report.problems().len(), 1);
    let problem = &report.problems()[0];
    assert!(problem.message.starts_with("status 401"), "{problem:?}");
    assert!(
        problem.message.contains("the tour stops here"),
        "{problem:?}"
    );
    assert_eq!(report.outcome().exit_code(), 2);
    assert!(!report.to_markdown().contains("sk-not-a-key-of-this-server"));
    let journal: Vec<_> = server
        .journal()
        .into_iter()
        .map(|e| (e.method, e.path, e.status))
        .collect();
    assert_eq!(journal.len(), 1, "{journal:?}");
}

/// A redirect, a body cut short and a body over the limit are errors of the
/// calls they answer: nothing follows the redirect (the key stays with the
/// server), nothing over the limit is kept, and the tour goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misbehaving_server_gives_errors_not_drift() {
    let elsewhere = server(Drift::none()).await;
    let server = server(Drift::none()).await;
    let faults = server.faults();
    faults
        .inject(
            "icp_list",
            Fault::redirect(307, format!("{}/v1/icp", elsewhere.base_url())),
            1,
        )
        .expect("fault");
    faults
        .inject("task_list", Fault::cut_body(10), 1)
        .expect("fault");
    faults
        .inject(
            "files_list",
            Fault::huge_body(linkt_doctor::MAX_BODY_BYTES as u64 + 1),
            1,
        )
        .expect("fault");
    let report = Tour::builder()
        .build(&config(&server))
        .expect("tour")
        .run()
        .await;
    let problem = |operation: &str| {
        report
            .problems()
            .iter()
            .find(|p| p.operation == operation)
            .unwrap_or_else(|| panic!("no problem for {operation}: {:?}", report.problems()))
            .clone()
    };
    assert!(problem("icp_list").message.starts_with("status 307"));
    assert!(problem("task_list").incomplete);
    assert!(
        problem("files_list").message.contains("over 8388608 bytes"),
        "{:?}",
        problem("files_list")
    );
    assert_eq!(report.findings(), [], "errors are not drift");
    assert_eq!(report.outcome(), Outcome::Incomplete);
    assert_eq!(elsewhere.journal(), [], "the redirect was not followed");
    // The other lists were still read.
    assert!(report.operations_touched().contains("sheet_list"));
}
