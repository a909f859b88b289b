//! One test per operation case, each driven through [`check`]:
//!
//! 1. **request**: the case is called through `linkt::Client` with the
//!    spec's request examples (or a value synthesized from the schema) and
//!    every parameter's spec-derived value; the request the mock received
//!    must have the spec's method and path, the parameters as query pairs
//!    (arrays as repeated keys), the example as its body (by the rule of
//!    [`crate::equivalence`]), the key and the user agent, and must match
//!    the committed snapshot `request__<operation>`;
//! 2. **decoding**: a body generated from the success schema with a seed
//!    derived from the operation name, and each of the spec's response
//!    examples, decode into the generated type and re-encode equivalently
//!    (no-content and byte responses: nothing, and the bytes, come back);
//! 3. **error mapping**: 400, 401, 403, 404, 409, 422, 429, 500 and 503 in
//!    FastAPI's body shapes map to the right `linkt::ErrorKind` with status,
//!    message, code, request id, operation and attempt count; the 422 body
//!    also decodes as the spec's `HTTPValidationError`.

use std::fmt::Write as _;
use std::time::Duration;

use httpmock::MockServer;
use linkt::ErrorKind;
use linkt_conformance::spec::{self, SpecOperation};
use linkt_conformance::{BodyKind, Case, ResponseKind};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Value, json};
use tokio::runtime::Runtime;

use crate::dispatch::{self, Call, Outcome, Reply, UPLOAD_CSV, UPLOAD_NAME};
use crate::equivalence::canonical;
use crate::wire::{self, Recorded, Recorder};
use crate::{KEY, client, document, runtime, spec_operations, strategy, types};

macro_rules! operation_tests {
    ($( $op:ident { $($entry:tt)* } )*) => {
        $(
            #[test]
            fn $op() {
                check(stringify!($op));
            }
        )*
    };
}

linkt_conformance::for_each_case!(operation_tests);

/// Runs the three checks of one operation case.
#[track_caller]
fn check(operation: &str) {
    let case = Case::find(operation).unwrap_or_else(|| panic!("no case `{operation}`"));
    let op = spec_operations()
        .iter()
        .find(|op| op.name == operation)
        .unwrap_or_else(|| panic!("case `{operation}` names no operation of the spec"));
    let rt = runtime();
    let server = MockServer::start();
    let (client, sleeps) = client(&server.base_url());
    let env = Env {
        rt: &rt,
        server: &server,
        client: &client,
    };
    check_requests(&env, case, op);
    server.reset();
    check_decoding(&env, case, op);
    server.reset();
    check_errors(&env, case, op);
    assert!(
        sleeps.recorded().is_empty(),
        "{operation}: the client never sleeps"
    );
}

/// What the three checks of a case share: one runtime, one mock server and
/// one client (which never retries and records, rather than waits, sleeps).
struct Env<'a> {
    rt: &'a Runtime,
    server: &'a MockServer,
    client: &'a linkt::Client,
}

/// The bodies a case sends: every request example of the spec, else one
/// synthesized from the schema. `None` for no body and for multipart.
fn request_bodies(case: &Case, op: &SpecOperation) -> Vec<(String, Option<Value>)> {
    match (case.body, &op.request_body) {
        (BodyKind::Json(_), Some(content)) if !content.examples.is_empty() => content
            .examples
            .iter()
            .map(|(name, value)| (format!("example `{name}`"), Some(value.clone())))
            .collect(),
        (BodyKind::Json(_), Some(content)) => vec![(
            "synthesized from the schema".to_owned(),
            Some(spec::example_value(document(), &content.schema, "body")),
        )],
        (BodyKind::Multipart(part), _) => vec![(format!("file part `{part}`"), None)],
        _ => vec![("request".to_owned(), None)],
    }
}

/// The success reply of an operation: `body` for JSON, no content, or CSV.
fn success_reply(case: &Case, op: &SpecOperation, body: Option<&Value>) -> Reply {
    let status = op.success.status;
    match case.response {
        ResponseKind::Json(_) => Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::to_vec(body.expect("a JSON body")).expect("JSON encodes"),
        },
        ResponseKind::Empty => Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        },
        ResponseKind::Bytes => Reply {
            status,
            headers: vec![("content-type".into(), "text/csv; charset=utf-8".into())],
            body: body
                .and_then(Value::as_str)
                .unwrap_or(UPLOAD_CSV)
                .as_bytes()
                .to_vec(),
        },
    }
}

/// A success body generated from the operation's success schema, seeded by
/// the operation name (the same body on every run and machine).
pub(crate) fn seeded_body(op: &SpecOperation) -> Option<Value> {
    let content = op.success.content.as_ref()?;
    let mut seed = [0u8; 32];
    for (i, byte) in op.name.bytes().enumerate() {
        seed[i % 32] = seed[i % 32].wrapping_mul(31).wrapping_add(byte);
    }
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
    );
    let tree = strategy::for_schema(document(), &content.schema)
        .new_tree(&mut runner)
        .expect("a value tree");
    Some(tree.current())
}

#[track_caller]
fn check_requests(env: &Env<'_>, case: &Case, op: &SpecOperation) {
    let Env { rt, server, client } = *env;
    let name = &op.name;
    let reply = success_reply(case, op, seeded_body(op).as_ref());
    let mut snapshot = String::new();
    let _ = writeln!(snapshot, "# {name}: {} {}", op.method, op.path);
    for (label, body) in request_bodies(case, op) {
        let recorder = Recorder::default();
        let mut mock = dispatch::mock(server, name, &reply, &recorder);
        let call = Call::from_spec(document(), op, body.clone());
        let result = rt.block_on(dispatch::perform(client, name, &call));
        if let Err(err) = &result {
            panic!("{name} ({label}): request: the call failed: {err}");
        }
        assert_eq!(
            mock.calls(),
            1,
            "{name} ({label}): one request reaches the mock"
        );
        mock.delete();
        let recorded = recorder.take();
        let request = recorded.first().expect("a recorded request");

        assert_request(op, case, &call, request, &label);
        let _ = write!(snapshot, "\n## {label}\n{}", wire::render(request));
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        insta::assert_snapshot!(
            format!("{}{name}", linkt_conformance::SNAPSHOT_PREFIX),
            snapshot
        );
    });
}

/// What the request must be, independent of the snapshot.
#[track_caller]
fn assert_request(op: &SpecOperation, case: &Case, call: &Call, request: &Recorded, label: &str) {
    let name = &op.name;
    assert_eq!(request.method, op.method, "{name} ({label}): method");

    let mut path = op.path.clone();
    for (param, value) in &call.path {
        let text = value
            .as_str()
            .map_or_else(|| value.to_string(), str::to_owned);
        path = path.replace(&format!("{{{param}}}"), &text);
    }
    assert_eq!(request.path, path, "{name} ({label}): path");

    let mut expected: Vec<(String, String)> = Vec::new();
    for (param, value) in &call.query {
        let items = match value {
            Value::Array(items) => items.clone(),
            Value::Null => Vec::new(),
            other => vec![other.clone()],
        };
        for item in items {
            let text = item
                .as_str()
                .map_or_else(|| item.to_string(), str::to_owned);
            expected.push((param.clone(), text));
        }
    }
    expected.sort();
    let mut sent = request.query.clone();
    sent.sort();
    assert_eq!(
        sent, expected,
        "{name} ({label}): query pairs (arrays as repeated keys)"
    );

    assert_eq!(request.header("x-api-key"), Some(KEY), "{name}: the key");
    assert_eq!(
        request.header("x-linkt-retry-count"),
        Some("0"),
        "{name}: first attempt"
    );
    match (case.body, &call.body, &op.request_body) {
        (BodyKind::Json(_), Some(example), Some(content)) => {
            assert_eq!(
                request.header("content-type"),
                Some("application/json"),
                "{name}: content type"
            );
            let sent: Value = serde_json::from_slice(&request.body).expect("a JSON body");
            let doc = document();
            assert_eq!(
                canonical(doc, &content.schema, &sent),
                canonical(doc, &content.schema, example),
                "{name} ({label}): the body sent is the example (absent/null/default rule)"
            );
        }
        (BodyKind::Multipart(part), _, _) => {
            let content_type = request.header("content-type").expect("a content type");
            let parts = wire::multipart_parts(content_type, &request.body);
            assert_eq!(parts.len(), 1, "{name}: one part");
            assert_eq!(parts[0].name.as_deref(), Some(part), "{name}: part name");
            assert_eq!(parts[0].filename.as_deref(), Some(UPLOAD_NAME));
            assert_eq!(parts[0].size, UPLOAD_CSV.len(), "{name}: the whole file");
        }
        (BodyKind::None, _, _) => {
            assert!(request.body.is_empty(), "{name}: no body");
            assert_eq!(
                request.header("content-type"),
                None,
                "{name}: no content type"
            );
        }
        (kind, body, content) => panic!("{name}: body {kind:?} with {body:?} and {content:?}"),
    }
}

#[track_caller]
fn check_decoding(env: &Env<'_>, case: &Case, op: &SpecOperation) {
    let Env { rt, server, client } = *env;
    let name = &op.name;
    let call = Call::from_spec(
        document(),
        op,
        request_bodies(case, op)
            .into_iter()
            .next()
            .and_then(|(_, b)| b),
    );
    let mut bodies: Vec<(String, Option<Value>)> = Vec::new();
    match case.response {
        ResponseKind::Json(_) => {
            bodies.push(("the seeded body".into(), seeded_body(op)));
            for (example, value) in op
                .success
                .content
                .iter()
                .flat_map(|content| content.examples.iter())
            {
                bodies.push((format!("example `{example}`"), Some(value.clone())));
            }
        }
        ResponseKind::Empty | ResponseKind::Bytes => bodies.push(("the body".into(), None)),
    }

    for (label, body) in bodies {
        let reply = success_reply(case, op, body.as_ref());
        let recorder = Recorder::default();
        let mut mock = dispatch::mock(server, name, &reply, &recorder);
        let outcome = rt
            .block_on(dispatch::perform(client, name, &call))
            .unwrap_or_else(|err| panic!("{name}: decoding {label} failed: {err}"));
        mock.delete();
        match (case.response, outcome) {
            (ResponseKind::Json(type_name), Outcome::Json(decoded)) => {
                let input = body.expect("a body");
                let schema = &op.success.content.as_ref().expect("content").schema;
                let doc = document();
                assert_eq!(
                    canonical(doc, schema, &decoded),
                    canonical(doc, schema, &input),
                    "{name}: {label} decoded into {type_name} and re-encoded differs\ninput:   {input}\noutput:  {decoded}"
                );
            }
            (ResponseKind::Empty, Outcome::Empty) => {}
            (ResponseKind::Bytes, Outcome::Bytes(bytes)) => {
                assert_eq!(bytes, reply.body, "{name}: the bytes come back unchanged");
            }
            (expected, outcome) => panic!("{name}: expected {expected:?}, got {outcome:?}"),
        }
    }
}

/// One error response and what the client must make of it.
struct Expected {
    status: u16,
    content_type: &'static str,
    body: Value,
    kind: ErrorKind,
    message: String,
    code: Option<&'static str>,
    retry_after: Option<Duration>,
}

/// The nine error responses for an operation, in FastAPI's shapes.
fn error_responses(op: &SpecOperation) -> Vec<Expected> {
    let detail = |status, text: &str, kind, code| Expected {
        status,
        content_type: "application/json",
        body: json!({ "detail": text }),
        kind,
        message: text.to_owned(),
        code,
        retry_after: None,
    };
    // A validation error at a real location of this operation.
    let loc = validation_loc(op);
    let loc_path = loc
        .iter()
        .map(|s| s.as_str().map_or_else(|| s.to_string(), str::to_owned))
        .collect::<Vec<_>>()
        .join(".");
    vec![
        detail(400, "Invalid filter value", ErrorKind::BadRequest, None),
        detail(
            401,
            "Invalid API key",
            ErrorKind::Unauthorized,
            Some("unauthorized"),
        ),
        detail(
            403,
            "Not enough permissions",
            ErrorKind::Forbidden,
            Some("forbidden"),
        ),
        detail(404, "Resource not found", ErrorKind::NotFound, None),
        Expected {
            status: 409,
            content_type: "application/json",
            body: json!({ "detail": { "code": "lock_timeout", "message": "The resource is locked; try again" } }),
            kind: ErrorKind::Conflict,
            message: "The resource is locked; try again".to_owned(),
            code: Some("lock_timeout"),
            retry_after: None,
        },
        Expected {
            status: 422,
            content_type: "application/json",
            body: json!({ "detail": [
                { "loc": loc, "msg": "Field required", "type": "missing", "input": {} },
                { "loc": ["query", "page"], "msg": "Input should be greater than or equal to 1",
                  "type": "greater_than_equal", "input": "0", "ctx": { "ge": 1 } }
            ] }),
            kind: ErrorKind::Validation,
            message: format!("{loc_path}: Field required (and 1 more)"),
            code: None,
            retry_after: None,
        },
        Expected {
            retry_after: Some(Duration::from_secs(7)),
            ..detail(
                429,
                "Rate limit exceeded",
                ErrorKind::RateLimited,
                Some("rate_limit_exceeded"),
            )
        },
        Expected {
            status: 500,
            content_type: "text/plain; charset=utf-8",
            body: json!("Internal Server Error"),
            kind: ErrorKind::Server,
            message: "Internal Server Error".to_owned(),
            code: None,
            retry_after: None,
        },
        detail(503, "Service unavailable", ErrorKind::Server, None),
    ]
}

/// `["body", <first required field>]`, else the first path or query
/// parameter, else `["body"]`.
fn validation_loc(op: &SpecOperation) -> Vec<Value> {
    if let Some(content) = &op.request_body {
        let (schema, _) = spec::unwrap(document(), &content.schema);
        if let Some(first) = schema
            .get("required")
            .and_then(Value::as_array)
            .and_then(|r| r.first())
        {
            return vec![json!("body"), first.clone()];
        }
        return vec![json!("body")];
    }
    op.parameters
        .first()
        .map(|p| vec![p["in"].clone(), p["name"].clone()])
        .unwrap_or_else(|| vec![json!("body")])
}

#[track_caller]
fn check_errors(env: &Env<'_>, case: &Case, op: &SpecOperation) {
    let Env { rt, server, client } = *env;
    let name = &op.name;
    let call = Call::from_spec(
        document(),
        op,
        request_bodies(case, op)
            .into_iter()
            .next()
            .and_then(|(_, b)| b),
    );
    for expected in error_responses(op) {
        let status = expected.status;
        let request_id = format!("req-{name}-{status}");
        let mut headers = vec![
            ("content-type".to_owned(), expected.content_type.to_owned()),
            ("x-request-id".to_owned(), request_id.clone()),
        ];
        if let Some(delay) = expected.retry_after {
            headers.push(("retry-after".to_owned(), delay.as_secs().to_string()));
        }
        let body = match &expected.body {
            Value::String(text) => text.clone().into_bytes(),
            other => serde_json::to_vec(other).expect("JSON encodes"),
        };
        if status == 422 {
            let decoded = types::component("HTTPValidationError")
                .map(|c| (c.round_trip)(&body))
                .expect("the table has HTTPValidationError");
            assert!(
                decoded.is_ok(),
                "{name}: the 422 body is an HTTPValidationError"
            );
        }
        let reply = Reply {
            status,
            headers,
            body,
        };
        let recorder = Recorder::default();
        let mut mock = dispatch::mock(server, name, &reply, &recorder);
        let err = rt
            .block_on(dispatch::perform(client, name, &call))
            .err()
            .unwrap_or_else(|| panic!("{name}: {status} must fail"));
        assert_eq!(mock.calls(), 1, "{name} {status}: one attempt, no retries");
        mock.delete();

        let context = format!("{name} {status}: {err:?}");
        assert_eq!(err.kind(), expected.kind, "{context}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status), "{context}");
        assert_eq!(err.message(), expected.message, "{context}");
        assert_eq!(err.code(), expected.code, "{context}");
        assert_eq!(err.request_id(), Some(request_id.as_str()), "{context}");
        assert_eq!(err.operation_id(), Some(name.as_str()), "{context}");
        assert_eq!(err.attempts(), Some(1), "{context}");
        assert_eq!(err.retry_after(), expected.retry_after, "{context}");
        let display = err.to_string();
        assert!(
            display.contains(&status.to_string()),
            "{context}: {display}"
        );
        assert!(display.contains(&request_id), "{context}: {display}");
        assert!(
            !display.contains(KEY) && !context.contains(KEY),
            "{context}"
        );
        if status == 422 {
            let issues = err.validation_errors();
            assert_eq!(issues.len(), 2, "{context}");
            assert_eq!(issues[0].error_type, "missing", "{context}");
            assert_eq!(issues[1].path(), "query.page", "{context}");
        }
    }
}
