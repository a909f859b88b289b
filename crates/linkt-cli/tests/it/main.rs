//! The `linkt` binary, run as a user would: its output and exit codes.
//!
//! Every run is against a mock server on 127.0.0.1: either the embedded one
//! (`--mock`), or a `linkt-mock` server this test starts and names in
//! `LINKT_BASE_URL`. No test waits on the wall clock for simulated work: the
//! embedded mock's clock moves on while the command waits, and runs the tests
//! start here are awaited with a client whose sleeps advance the clock.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use linkt::types;
use serde_json::{Value, json};

/// How long one command may take before the test fails (it takes well under
/// a second).
const LIMIT: Duration = Duration::from_secs(60);

/// What a finished command printed.
#[derive(Debug)]
struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Ran {
    fn success(&self) -> bool {
        self.code == Some(0)
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|err| panic!("{err}: {self:?}"))
    }

    /// The single line of a failure, checked to be exactly one line.
    fn error_line(&self) -> &str {
        assert!(!self.success(), "expected a failure: {self:?}");
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one line on stderr: {self:?}");
        assert!(lines[0].starts_with("linkt: "), "{self:?}");
        lines[0]
    }
}

/// Runs `linkt` with `args` and `env` (on top of an environment without
/// `LINKT_*` variables), killing it if it takes longer than [`LIMIT`].
fn linkt(args: &[&str], env: &[(&str, &str)]) -> Ran {
    let mut command = Command::new(env!("CARGO_BIN_EXE_linkt"));
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, _) in std::env::vars() {
        if name.starts_with("LINKT_") {
            command.env_remove(name);
        }
    }
    command.envs(env.iter().copied());
    let mut child = command.spawn().expect("linkt starts");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("linkt {args:?} did not finish within {LIMIT:?}");
        }
        // Polling a child process; nothing here waits for simulated work.
        std::thread::sleep(Duration::from_millis(5));
    };
    Ran {
        code: status.code(),
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
    }
}

/// Runs `linkt` off the async runtime, so that a mock server on it answers.
async fn linkt_async(args: &[&str], env: &[(&str, &str)]) -> Ran {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        linkt(&args, &env)
    })
    .await
    .expect("linkt thread")
}

async fn mock() -> linkt_mock::MockServer {
    linkt_mock::MockServer::start().await.expect("mock starts")
}

fn env_for<'a>(server: &'a linkt_mock::MockServer, key: &'a str) -> [(&'a str, &'a str); 2] {
    [
        ("LINKT_BASE_URL", server.base_url()),
        ("LINKT_API_KEY", key),
    ]
}

fn scratch_file(name: &str, contents: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, contents).expect("write scratch file");
    path
}

#[test]
fn mock_quickstart_completes_and_prints_the_entities() {
    let ran = linkt(&["--mock", "quickstart"], &[]);

    assert!(ran.success(), "{ran:?}");
    let mut lines = ran.stdout.lines();
    assert_eq!(
        lines.next(),
        Some("Found 5 companies and 5 people:"),
        "{ran:?}"
    );
    assert!(
        lines.next().is_some_and(|l| l.starts_with("NAME")),
        "{ran:?}"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 10, "{ran:?}");
    assert_eq!(
        rows.iter().filter(|r| r.starts_with("  ")).count(),
        5,
        "people under companies"
    );
    for step in [
        "Created ICP",
        "Created company sheet",
        "Created person sheet",
        "Added custom fields",
        "Created search task",
        "COMPLETED",
    ] {
        assert!(ran.stderr.contains(step), "{step}: {ran:?}");
    }
    // stderr is not a terminal here: plain progress lines, no redrawing.
    assert!(!ran.stderr.contains('\r'), "{ran:?}");
}

#[test]
fn mock_quickstart_prints_json_entities_on_request() {
    let ran = linkt(
        &["--mock", "quickstart", "--results", "3", "--output", "json"],
        &[],
    );

    assert!(ran.success(), "{ran:?}");
    let entities: Vec<types::EntityResponse> =
        serde_json::from_value(ran.json()).expect("entities");
    assert_eq!(entities.len(), 6);
    let companies: Vec<_> = entities
        .iter()
        .filter(|e| e.entity_type == "company")
        .collect();
    assert_eq!(companies.len(), 3);
    for person in entities.iter().filter(|e| e.entity_type == "person") {
        let parent = person.parent_id.as_deref().expect("a person has a company");
        assert!(companies.iter().any(|c| c.id == parent));
    }
    assert!(
        companies
            .iter()
            .all(|c| c.data.contains_key("funding_stage")),
        "the custom field was filled in"
    );
}

#[test]
fn mock_icp_list_prints_json() {
    let ran = linkt(&["--mock", "icp-list"], &[]);

    assert!(ran.success(), "{ran:?}");
    assert_eq!(
        ran.json(),
        json!({ "icps": [], "page": 1, "page_size": 20, "total": 0 })
    );
    assert!(ran.stderr.is_empty(), "{ran:?}");
}

/// Enum arguments are open like the enums: a value this release does not
/// know is sent, and the server decides (the mock, like the API, answers
/// 422 for a mode it does not have); a known one works as before.
#[test]
fn an_enum_argument_takes_a_value_this_release_does_not_know() {
    let known = linkt(&["--mock", "icp-list", "--mode", "discovery"], &[]);
    assert!(known.success(), "{known:?}");

    let unknown = linkt(&["--mock", "icp-list", "--mode", "prospecting"], &[]);
    let line = unknown.error_line();
    assert_eq!(
        unknown.code,
        Some(1),
        "the server refused it, not the parser"
    );
    assert!(line.contains("422"), "{line}");
    assert!(line.contains("mode"), "{line}");

    let help = linkt(&["icp-list", "--help"], &[]);
    assert!(help.stdout.contains("discovery"), "{help:?}");
    assert!(help.stdout.contains("monitoring"), "{help:?}");
}

#[test]
fn mock_ignores_a_real_key_in_the_environment() {
    let ran = linkt(
        &["--mock", "icp-list"],
        &[("LINKT_API_KEY", "lk_live_real_key_0123456789")],
    );

    assert!(ran.success(), "{ran:?}");
}

#[test]
fn bad_key_against_the_embedded_mock_is_one_line_naming_linkt_api_key() {
    let ran = linkt(
        &["--mock", "--api-key", "lk_wrong_0123456789", "icp-list"],
        &[],
    );

    let line = ran.error_line();
    assert_eq!(ran.code, Some(1));
    assert!(line.contains("LINKT_API_KEY"), "{line}");
    assert!(line.contains("401"), "{line}");
    assert!(
        !line.contains("lk_wrong_0123456789"),
        "the key is never printed: {line}"
    );
    assert!(ran.stdout.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_key_in_the_environment_is_one_line_naming_linkt_api_key() {
    let server = mock().await;

    let ran = linkt_async(&["icp-list"], &env_for(&server, "lk_wrong_0123456789")).await;

    let line = ran.error_line();
    assert_eq!(ran.code, Some(1));
    assert!(
        line.contains("LINKT_API_KEY") && line.contains("401"),
        "{line}"
    );
    assert!(!line.contains("lk_wrong_0123456789"), "{line}");
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_key_is_one_line_naming_linkt_api_key_and_sends_nothing() {
    let server = mock().await;

    let ran = linkt_async(&["icp-list"], &[("LINKT_BASE_URL", server.base_url())]).await;

    let line = ran.error_line();
    assert_eq!(ran.code, Some(1));
    assert!(line.contains("LINKT_API_KEY"), "{line}");
    assert!(server.journal().is_empty(), "no request without a key");
}

#[test]
fn empty_key_is_one_line_naming_linkt_api_key() {
    let ran = linkt(&["icp-list"], &[("LINKT_API_KEY", "   ")]);

    let line = ran.error_line();
    assert!(line.contains("LINKT_API_KEY"), "{line}");
}

#[tokio::test(flavor = "multi_thread")]
async fn key_and_base_url_from_the_environment_reach_the_server() {
    let server = mock().await;
    let client = server.client().expect("client");
    let body: types::CreateIcpRequest = serde_json::from_value(json!({
        "name": "From the test",
        "description": "Created before the command runs",
        "entity_targets": [{ "entity_type": "company", "root": true, "description": "Any" }]
    }))
    .expect("body");
    client.icp_create().body(body).send().await.expect("icp");

    let json = linkt_async(&["icp-list"], &env_for(&server, server.api_key())).await;
    let table = linkt_async(
        &[
            "icp-list",
            "--output",
            "table",
            "--base-url",
            server.base_url(),
        ],
        &[
            ("LINKT_API_KEY", server.api_key()),
            ("LINKT_BASE_URL", "http://127.0.0.1:9"),
        ],
    )
    .await;

    assert!(json.success(), "{json:?}");
    assert_eq!(json.json()["icps"][0]["name"], "From the test");
    assert!(
        table.success(),
        "--base-url wins over LINKT_BASE_URL: {table:?}"
    );
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert!(
        lines[0].starts_with("ID") && lines[0].contains("NAME"),
        "{table:?}"
    );
    assert!(lines[1].contains("From the test"), "{table:?}");
    assert_eq!(lines[2], "page 1 of 1, 1 shown, 1 in total");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_resource_is_one_line_with_the_status() {
    let server = mock().await;

    let ran = linkt_async(
        &["icp-retrieve", "--icp-id", "507f1f77bcf86cd799439011"],
        &env_for(&server, server.api_key()),
    )
    .await;

    let line = ran.error_line();
    assert!(line.contains("404"), "{line}");
}

#[tokio::test(flavor = "multi_thread")]
async fn json_body_template_round_trips_through_json_body() {
    // The template needs no key and no server.
    let template = linkt(&["icp-create", "--json-body-template"], &[]);
    assert!(template.success(), "{template:?}");
    let body: types::CreateIcpRequest =
        serde_json::from_value(template.json()).expect("the template is a valid body");
    let path = scratch_file("icp-template.json", &template.stdout);
    let server = mock().await;

    let created = linkt_async(
        &[
            "icp-create",
            "--json-body",
            path.to_str().expect("utf-8 path"),
        ],
        &env_for(&server, server.api_key()),
    )
    .await;

    assert!(created.success(), "{created:?}");
    assert_eq!(created.json()["name"], json!(body.name.to_string()));
}

#[tokio::test(flavor = "multi_thread")]
async fn files_upload_sends_the_file() {
    let server = mock().await;
    let path = scratch_file(
        "companies.csv",
        "company_name,website\nAcme,acme.example.com\n",
    );

    let ran = linkt_async(
        &["files-upload", "--file", path.to_str().expect("utf-8 path")],
        &env_for(&server, server.api_key()),
    )
    .await;

    assert!(ran.success(), "{ran:?}");
    let uploaded = ran.json();
    assert_eq!(uploaded["name"], "companies.csv");
    assert_eq!(uploaded["content_type"], "text/csv");
    let files = server
        .client()
        .expect("client")
        .files_list()
        .send()
        .await
        .expect("files");
    assert_eq!(files.total, 1);
}

#[test]
fn files_upload_of_a_missing_file_is_one_line() {
    let ran = linkt(
        &[
            "--mock",
            "files-upload",
            "--file",
            "/nonexistent/companies.csv",
        ],
        &[],
    );

    let line = ran.error_line();
    assert!(line.contains("/nonexistent/companies.csv"), "{line}");
}

#[tokio::test(flavor = "multi_thread")]
async fn entity_export_streams_csv() {
    let server = mock().await;
    let client = server.client().expect("client");
    let icp_id = search_and_wait(&client).await;

    let ran = linkt_async(
        &[
            "entity-export",
            "--icp-id",
            &icp_id,
            "--entity-type",
            "company",
        ],
        &env_for(&server, server.api_key()),
    )
    .await;

    assert!(ran.success(), "{ran:?}");
    let lines: Vec<&str> = ran.stdout.lines().collect();
    assert!(lines[0].contains("name"), "a CSV header: {ran:?}");
    assert_eq!(lines.len(), 1 + 2, "two companies: {ran:?}");
}

#[test]
fn usage_errors_exit_with_2() {
    let unknown = linkt(&["no-such-command"], &[]);
    let missing = linkt(&["--mock", "icp-retrieve"], &[]);

    assert_eq!(unknown.code, Some(2), "{unknown:?}");
    assert_eq!(missing.code, Some(2), "{missing:?}");
    assert!(missing.stderr.contains("--icp-id"), "{missing:?}");
}

/// Sets up and runs a two-company search on `client`'s server; returns the
/// ICP id.
async fn search_and_wait(client: &linkt::Client) -> String {
    let icp: types::CreateIcpRequest = serde_json::from_value(json!({
        "name": "Export", "description": "Companies and a contact each",
        "entity_targets": [
            { "entity_type": "company", "root": true, "description": "SaaS" },
            { "entity_type": "person", "desired_count": 1, "description": "Sales" }
        ]
    }))
    .expect("icp");
    let icp = client
        .icp_create()
        .body(icp)
        .send()
        .await
        .expect("icp")
        .into_inner();
    for entity_type in ["company", "person"] {
        let sheet: types::CreateSheetRequest = serde_json::from_value(json!({
            "name": entity_type, "description": "results", "icp_id": icp.id,
            "entity_type": entity_type
        }))
        .expect("sheet");
        client
            .sheet_create()
            .body(sheet)
            .send()
            .await
            .expect("sheet");
    }
    let task: types::CreateTaskRequest = serde_json::from_value(json!({
        "name": "Search", "description": "Search", "flow_name": "search",
        "deployment_name": "main", "icp_id": icp.id,
        "task_config": { "type": "search", "desired_contact_count": 1, "user_feedback": "" }
    }))
    .expect("task");
    let task = client.task_create().body(task).send().await.expect("task");
    let execute: types::ExecuteTaskRequest = serde_json::from_value(json!({
        "icp_id": icp.id, "parameters": { "num_results": 2 }
    }))
    .expect("execute");
    let outcome = client
        .execute_and_wait(
            client
                .task_execute()
                .task_id(task.id.as_str())
                .body(execute),
        )
        .await
        .expect("run");
    assert!(outcome.is_completed(), "{outcome:?}");
    icp.id
}

/// `linkt doctor` exits by the tour's outcome: 0 for a server that matches
/// the spec (here an empty mock: the retrieves are skipped, as the report
/// says), 1 for drift that breaks the client, and writes the report where
/// asked.
#[test]
fn doctor_exits_by_the_drift_it_finds() {
    let clean = linkt(&["--mock", "doctor"], &[]);
    assert_eq!(clean.code, Some(0), "{clean:?}");
    assert!(
        clean.stdout.starts_with("# Linkt API drift report"),
        "{clean:?}"
    );
    assert!(
        clean.stdout.contains("- Outcome: **no drift**"),
        "{clean:?}"
    );
    assert!(
        clean
            .stderr
            .starts_with("linkt doctor: no drift: 0 finding(s)"),
        "{clean:?}"
    );

    let dir = std::env::temp_dir().join(format!("linkt-doctor-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("drift.md");
    let path_arg = path.to_str().expect("utf-8 path");
    let breaking = linkt(
        &[
            "--mock",
            "doctor",
            "--mock-drift",
            "null-required-field,unknown-field",
            "--report",
            path_arg,
        ],
        &[],
    );
    assert_eq!(breaking.code, Some(1), "{breaking:?}");
    assert!(breaking.stdout.is_empty(), "{breaking:?}");
    let report = std::fs::read_to_string(&path).expect("report written");
    assert!(
        report.contains(
            "| breaking | `icp_list` | 200 | `/page` | response-property-became-nullable |"
        ),
        "{report}"
    );
    assert!(
        report.contains(
            "| additive | `icp_list` | 200 | `/drift_unknown_field` | response-property-added |"
        ),
        "{report}"
    );

    let additive = linkt(&["--mock", "doctor", "--mock-drift", "unknown-field"], &[]);
    assert_eq!(additive.code, Some(0), "{additive:?}");
    assert!(
        additive
            .stdout
            .contains("- Outcome: **additive drift only**"),
        "{additive:?}"
    );
}

#[test]
fn doctor_refuses_bad_arguments_before_any_call() {
    let unknown = linkt(&["--mock", "doctor", "--mock-drift", "gremlins"], &[]);
    let line = unknown.error_line();
    assert!(line.contains("unknown drift kind `gremlins`"), "{line}");
    assert!(line.contains("unknown-field"), "{line}");

    // Production (no base URL) with --write and no --i-know: refused
    // without a request (an unroutable key would fail otherwise anyway).
    let refused = linkt(
        &["doctor", "--write"],
        &[("LINKT_API_KEY", "sk-doctor-secret")],
    );
    let line = refused.error_line();
    assert!(
        line.contains("against production (https://api.linkt.ai)"),
        "{line}"
    );
    assert!(line.contains("--i-know"), "{line}");
    assert!(!refused.stderr.contains("sk-doctor-secret"));

    let needs_mock = linkt(
        &["doctor", "--mock-drift", "all"],
        &[("LINKT_API_KEY", "k")],
    );
    assert!(
        needs_mock
            .error_line()
            .contains("--mock-drift needs --mock"),
        "{needs_mock:?}"
    );
}
