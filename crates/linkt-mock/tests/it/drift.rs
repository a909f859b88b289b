//! Drift mode: answers that differ from the spec in the recorded ways, the
//! record itself, and no drift by default.

use std::time::Duration;

use linkt_mock::spec::{Issue, Loc};
use linkt_mock::{Drift, DriftKind, MockServer};
use serde_json::{Value, json};

use crate::{KEY_A, finish, start};

const CSV: &str = "company_name,website\r\nGlobex,https://globex.example\r\n";

async fn server(drift: Drift) -> MockServer {
    MockServer::builder()
        .start_time(start())
        .key(KEY_A)
        .drift(drift)
        .start()
        .await
        .expect("server starts")
}

/// A plain HTTP client that gives up after 30 s.
fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("reqwest client")
}

/// One answer as the client received it.
struct Received {
    status: u16,
    bytes: Vec<u8>,
    body: Value,
}

async fn receive(request: reqwest::RequestBuilder) -> Received {
    let response = request
        .header("x-api-key", KEY_A)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let bytes = response.bytes().await.expect("body").to_vec();
    let body = serde_json::from_slice(&bytes).expect("a JSON body");
    Received {
        status,
        bytes,
        body,
    }
}

/// Creates an ICP, retrieves it and lists ICPs, uploads a CSV and retrieves
/// it: `(operation, answer)` for each.
async fn tour(server: &MockServer) -> Vec<(&'static str, Received)> {
    let http = http();
    let base = server.base_url();
    let icp = json!({
        "name": "Fintech",
        "description": "B2B fintech companies",
        "entity_targets": [
            {"entity_type": "company", "root": true, "description": "## Criteria\n- fintech"}
        ]
    });
    let created = receive(http.post(format!("{base}/v1/icp")).json(&icp)).await;
    let id = created.body["id"].as_str().expect("an ICP id").to_owned();
    let retrieved = receive(http.get(format!("{base}/v1/icp/{id}"))).await;
    let listed = receive(http.get(format!("{base}/v1/icp"))).await;
    let multipart = format!(
        "--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n{CSV}\r\n--XYZ--\r\n"
    );
    let uploaded = receive(
        http.post(format!("{base}/v1/files/upload"))
            .header("content-type", "multipart/form-data; boundary=XYZ")
            .body(multipart),
    )
    .await;
    let file_id = uploaded.body["file_id"]
        .as_str()
        .expect("a file id")
        .to_owned();
    let file = receive(http.get(format!("{base}/v1/files/{file_id}"))).await;
    vec![
        ("icp_create", created),
        ("icp_retrieve", retrieved),
        ("icp_list", listed),
        ("files_upload", uploaded),
        ("files_retrieve", file),
    ]
}

/// An issue's location as a JSON pointer into the body.
fn pointer(issue: &Issue) -> String {
    issue
        .loc
        .iter()
        .map(|l| match l {
            Loc::Key(k) => format!("/{}", k.replace('~', "~0").replace('/', "~1")),
            Loc::Index(i) => format!("/{i}"),
        })
        .collect()
}

/// The documented status of each operation's answer (all are 200).
const DOCUMENTED: u16 = 200;

#[tokio::test]
async fn every_kind_is_applied_recorded_and_caught_by_the_spec_check() {
    let server = server(Drift::all()).await;
    let answers = tour(&server).await;
    let statuses: Vec<(&str, u16)> = answers.iter().map(|(op, r)| (*op, r.status)).collect();
    assert_eq!(
        statuses,
        [
            ("icp_create", 201),
            ("icp_retrieve", 200),
            ("icp_list", 200),
            ("files_upload", 201),
            ("files_retrieve", 200),
        ]
    );
    for (op, received) in &answers {
        assert_eq!(
            received.body[Drift::UNKNOWN_FIELD],
            Drift::UNKNOWN_FIELD_VALUE,
            "{op}: the raw body has the unknown field"
        );
    }

    use DriftKind::{
        CreatedStatus, DroppedOptionalField, NullRequiredField, UnknownEnumValue, UnknownField,
    };
    let record: Vec<(String, u16, DriftKind, String)> = server
        .injected_drift()
        .into_iter()
        .map(|d| (d.operation, d.status, d.kind, d.pointer))
        .collect();
    let expected = [
        ("icp_create", 201, UnknownField, "/drift_unknown_field"),
        ("icp_create", 201, DroppedOptionalField, "/entity_structure"),
        ("icp_create", 201, NullRequiredField, "/name"),
        ("icp_create", 201, CreatedStatus, ""),
        ("icp_retrieve", 200, UnknownField, "/drift_unknown_field"),
        (
            "icp_retrieve",
            200,
            DroppedOptionalField,
            "/entity_structure",
        ),
        ("icp_retrieve", 200, NullRequiredField, "/name"),
        ("icp_list", 200, UnknownField, "/drift_unknown_field"),
        (
            "icp_list",
            200,
            DroppedOptionalField,
            "/icps/0/entity_structure",
        ),
        ("icp_list", 200, NullRequiredField, "/page"),
        ("files_upload", 201, UnknownField, "/drift_unknown_field"),
        ("files_upload", 201, UnknownEnumValue, "/processing_status"),
        ("files_upload", 201, NullRequiredField, "/name"),
        ("files_upload", 201, CreatedStatus, ""),
        ("files_retrieve", 200, UnknownField, "/drift_unknown_field"),
        (
            "files_retrieve",
            200,
            UnknownEnumValue,
            "/processing_status",
        ),
        ("files_retrieve", 200, NullRequiredField, "/name"),
    ]
    .map(|(op, status, kind, pointer)| (op.to_owned(), status, kind, pointer.to_owned()));
    assert_eq!(record, expected);

    let spec = server.spec();
    for (op, received) in &answers {
        let entries: Vec<&(String, u16, DriftKind, String)> =
            record.iter().filter(|e| e.0 == *op).collect();
        // Each body change is where the record says.
        for (_, _, kind, at) in &entries {
            match kind {
                UnknownEnumValue => {
                    assert_eq!(
                        received.body.pointer(at),
                        Some(&json!(Drift::UNKNOWN_ENUM_VALUE))
                    );
                }
                NullRequiredField => assert_eq!(received.body.pointer(at), Some(&Value::Null)),
                DroppedOptionalField => assert_eq!(received.body.pointer(at), None, "{op} {at}"),
                _ => {}
            }
        }
        // The mock's own check of the body at its documented status finds
        // the enum value and the null, each where it was put, and nothing
        // else.
        let issues = spec
            .check_response(op, DOCUMENTED, &received.bytes)
            .expect_err("a drifted body does not match the spec");
        let found: Vec<(String, &str, &Value)> = issues
            .iter()
            .map(|i| (pointer(i), i.kind.as_str(), &i.input))
            .collect();
        let mut wanted = 0;
        for (_, _, kind, at) in &entries {
            match kind {
                UnknownEnumValue => {
                    wanted += 1;
                    assert!(
                        found.contains(&(at.clone(), "enum", &json!(Drift::UNKNOWN_ENUM_VALUE))),
                        "{op}: {found:?}"
                    );
                }
                NullRequiredField => {
                    wanted += 1;
                    assert!(
                        found.iter().any(|(p, k, input)| p == at
                            && k.ends_with("_type")
                            && input.is_null()),
                        "{op}: {found:?}"
                    );
                }
                _ => {}
            }
        }
        assert_eq!(issues.len(), wanted, "{op}: {found:?}");
        // The spec leaves additional properties open, so the check above
        // accepts the unknown field; against the schema closed to
        // properties it does not list, it is `extra_forbidden` there.
        let closed = closed_response_schema(&server, op);
        let issues = spec.check_value(&closed, &received.body);
        assert!(
            issues.iter().any(|i| i.kind == "extra_forbidden"
                && pointer(i) == format!("/{}", Drift::UNKNOWN_FIELD)),
            "{op}: {issues:?}"
        );
    }
    // A 201 is not a status the spec declares for a create.
    let (_, created) = &answers[0];
    let issues = spec
        .check_response("icp_create", created.status, &created.bytes)
        .expect_err("201 is not declared");
    assert!(
        issues[0].msg.contains("status 201 is not declared"),
        "{issues:?}"
    );

    // The journal has what was sent; the self-check never failed.
    let journal = server.journal();
    assert_eq!(journal.len(), answers.len());
    for (exchange, (op, received)) in journal.iter().zip(&answers) {
        assert_eq!(exchange.operation.as_deref(), Some(*op));
        assert_eq!(exchange.status, Some(received.status));
        assert_eq!(exchange.body.as_ref(), received.bytes.as_slice());
    }
    finish(&server);
    server.clear_injected_drift();
    assert!(server.injected_drift().is_empty());
}

/// The response schema of `operation`'s 200, resolved, with
/// `additionalProperties: false` at its root.
fn closed_response_schema(server: &MockServer, operation: &str) -> Value {
    let document = server.spec().document();
    let operations = document["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().into_iter().flat_map(|m| m.values()));
    let op = operations
        .into_iter()
        .find(|op| op["x-linkt-name"] == operation)
        .expect("the operation");
    let schema = &op["responses"]["200"]["content"]["application/json"]["schema"];
    let reference = schema["$ref"].as_str().expect("a named schema");
    let mut closed = document
        .pointer(reference.trim_start_matches('#'))
        .expect("the schema")
        .clone();
    closed["additionalProperties"] = json!(false);
    closed
}

#[tokio::test]
async fn without_drift_nothing_is_recorded_and_every_answer_matches() {
    let server = server(Drift::default()).await;
    let answers = tour(&server).await;
    for (op, received) in &answers {
        assert_eq!(received.status, DOCUMENTED, "{op}");
        assert!(received.body.get(Drift::UNKNOWN_FIELD).is_none(), "{op}");
        assert_eq!(
            server
                .spec()
                .check_response(op, received.status, &received.bytes),
            Ok(()),
            "{op}"
        );
    }
    assert_eq!(server.injected_drift(), []);
    finish(&server);
}

#[tokio::test]
async fn only_the_named_kinds_are_injected() {
    let server = server(Drift::only(&[DriftKind::UnknownField])).await;
    let answers = tour(&server).await;
    let record = server.injected_drift();
    assert_eq!(record.len(), answers.len(), "{record:#?}");
    for ((op, received), injected) in answers.iter().zip(&record) {
        assert_eq!(received.status, DOCUMENTED, "{op}: no 201");
        assert_eq!(
            (injected.operation.as_str(), injected.status, injected.kind),
            (*op, DOCUMENTED, DriftKind::UnknownField)
        );
        assert_eq!(injected.pointer, "/drift_unknown_field");
        assert_eq!(
            received.body[Drift::UNKNOWN_FIELD],
            Drift::UNKNOWN_FIELD_VALUE
        );
        // Nothing else changed: the body matches the spec (which allows
        // additional properties), enum and all.
        assert_eq!(
            server
                .spec()
                .check_response(op, received.status, &received.bytes),
            Ok(()),
            "{op}"
        );
    }
    assert!(answers[0].1.body["entity_structure"].is_array());
    assert_eq!(answers[3].1.body["processing_status"], "pending");
    finish(&server);
}

#[tokio::test]
async fn errors_and_faults_do_not_drift() {
    let server = server(Drift::all()).await;
    let http = http();
    let base = server.base_url();
    let missing = receive(http.get(format!("{base}/v1/icp/507f1f77bcf86cd799439011"))).await;
    assert_eq!(missing.status, 404);
    let invalid = receive(http.post(format!("{base}/v1/icp")).json(&json!({}))).await;
    assert_eq!(invalid.status, 422);
    server
        .faults()
        .inject("icp_list", linkt_mock::Fault::status(503), 1)
        .expect("armed");
    let failed = receive(http.get(format!("{base}/v1/icp"))).await;
    assert_eq!(failed.status, 503);
    for received in [&missing, &invalid, &failed] {
        assert!(received.body.get(Drift::UNKNOWN_FIELD).is_none());
    }
    assert_eq!(server.injected_drift(), []);
    finish(&server);
}
