//! A property over random fault scripts: whatever a server does on each of
//! the connections of a call, the call ends in a value or a typed
//! `linkt::Error` within a bounded time, never a panic or a hang; a `POST`
//! is repeated only after an answer that proves it unprocessed; the key
//! never reaches another origin; and the client never reads far past its
//! limits.
//!
//! What it would catch, each with the check that fails:
//!
//! * a hang on some mix of faults (a retry loop that never ends, a read with
//!   no timeout): the call's `GUARD` elapses;
//! * a panic in the client or the error mapping: the case fails with it;
//! * a `POST` repeated after an answer that does not prove it unprocessed
//!   (a 5xx, a cut body, a timeout, garbage), or replayed as a `GET` after a
//!   303: the method and `POST` checks;
//! * a redirect followed (the key sent to the other origin, a `Location`
//!   requested): the other origin's connections;
//! * a body read past the limit, or a flood read to its end: the bytes the
//!   server managed to write;
//! * more attempts than the policy allows, a sleep after the last attempt,
//!   or a value made of anything but a whole valid answer: the attempt,
//!   sleep and success checks;
//! * the key in an error's `Display` or `Debug`.
//!
//! `CASES` cases of up to three connections each (the default policy's three
//! attempts) take about 10 s in a debug build on two cores.

use std::sync::LazyLock;
use std::time::Duration;

use linkt::{Client, ErrorKind};
use linkt_faults::Script;
use proptest::prelude::*;
use proptest::sample::select;

use crate::{
    GUARD, ICP_ID, KEY, MIB, READ_BOUND, SETTLE, client_with, create_body, entity_page_bytes,
    icp_bytes, server,
};

/// Cases per run: enough to meet every fault on every operation and in
/// most orders, few enough for CI (measured in the module docs).
const CASES: u32 = 256;

/// The client timeout: short, so that a stall costs little.
const CALL_TIMEOUT: Duration = Duration::from_millis(250);

/// The default policy's attempts: `max_retries` (2) + 1.
const MAX_ATTEMPTS: usize = 3;

/// One runtime for every case; each case's servers end with the case.
static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
});

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    IcpRetrieve,
    IcpCreate,
    EntityList,
}

impl Op {
    fn method(self) -> &'static str {
        match self {
            Op::IcpCreate => "POST",
            Op::IcpRetrieve | Op::EntityList => "GET",
        }
    }

    fn path(self) -> String {
        match self {
            Op::IcpRetrieve => format!("/v1/icp/{ICP_ID}"),
            Op::IcpCreate => "/v1/icp".to_owned(),
            Op::EntityList => "/v1/entity".to_owned(),
        }
    }

    /// A whole, valid success body.
    fn body(self) -> Vec<u8> {
        match self {
            Op::IcpRetrieve | Op::IcpCreate => icp_bytes(),
            Op::EntityList => entity_page_bytes(),
        }
    }

    async fn call(self, client: &Client) -> Result<(), linkt::Error> {
        match self {
            Op::IcpRetrieve => client.icp_retrieve().icp_id(ICP_ID).send().await.map(drop),
            Op::IcpCreate => client
                .icp_create()
                .body(create_body())
                .send()
                .await
                .map(drop),
            Op::EntityList => client.entity_list().send().await.map(drop),
        }
    }
}

/// What the server does on one connection, before the operation's body and
/// the other origin's URL are filled in.
#[derive(Clone, Debug)]
enum Fault {
    /// A 2xx with the operation's valid body.
    Valid { status: u16 },
    /// A FastAPI-shaped failure.
    Failure { status: u16 },
    /// A proxy's HTML page.
    Html { status: u16 },
    /// A redirect, to the other origin or (`same_origin`) to a path here.
    Redirect { status: u16, same_origin: bool },
    /// Any other script, as it is.
    Raw(Script),
}

impl Fault {
    fn script(&self, op: Op, other: &str) -> Script {
        match self {
            Fault::Valid { status } => Script::json(*status, &op.body()),
            Fault::Failure { status } => Script::json(*status, br#"{"detail": "fault"}"#),
            Fault::Html { status } => Script::Respond {
                status: *status,
                headers: vec![("content-type".into(), "text/html".into())],
                body: b"<html><body>502 Bad Gateway</body></html>".to_vec(),
            },
            Fault::Redirect {
                status,
                same_origin,
            } => Script::Redirect {
                status: *status,
                location: if *same_origin {
                    format!("/v1/icp/{ICP_ID}")
                } else {
                    format!("{other}/v1/icp/{ICP_ID}")
                },
            },
            Fault::Raw(script) => script.clone(),
        }
    }
}

fn success() -> impl Strategy<Value = u16> {
    select(vec![200, 201])
}

fn failure() -> impl Strategy<Value = u16> {
    select(vec![400, 401, 404, 408, 409, 422, 429, 500, 502, 503])
}

fn any_status() -> impl Strategy<Value = u16> {
    prop_oneof![success(), failure()]
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        4 => success().prop_map(|status| Fault::Valid { status }),
        4 => failure().prop_map(|status| Fault::Failure { status }),
        1 => any_status().prop_map(|status| Fault::Html { status }),
        2 => (select(vec![301, 302, 303, 307, 308]), any::<bool>())
            .prop_map(|(status, same_origin)| Fault::Redirect { status, same_origin }),
        2 => (any_status(), 1..5000_usize, 0..=5000_usize).prop_map(|(status, declared_len, sent)| {
            Fault::Raw(Script::CutBody { status, declared_len, sent_len: sent.min(declared_len) })
        }),
        2 => (any_status(), 0..5000_usize)
            .prop_map(|(status, sent)| Fault::Raw(Script::CutChunked { status, sent })),
        1 => any::<bool>().prop_map(|after_head| Fault::Raw(Script::Stall { after_head })),
        2 => (any_status(), 0..8 * MIB)
            .prop_map(|(status, bytes)| Fault::Raw(Script::Flood { status, bytes })),
        1 => (1..2 * MIB).prop_map(|bytes| Fault::Raw(Script::HugeHead { bytes })),
        1 => Just(Fault::Raw(Script::Garbage)),
        2 => Just(Fault::Raw(Script::Close)),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    select(vec![Op::IcpRetrieve, Op::IcpCreate, Op::EntityList])
}

/// The script the server played on connection `n`.
fn played(scripts: &[Script], n: usize) -> &Script {
    &scripts[n.min(scripts.len() - 1)]
}

async fn check(op: Op, faults: Vec<Fault>) -> Result<(), TestCaseError> {
    let other = server(vec![Script::json(200, &icp_bytes())]);
    let scripts: Vec<Script> = faults.iter().map(|f| f.script(op, &other.url())).collect();
    let api = server(scripts.clone());
    let (client, sleeps) = client_with(&api.url(), Client::builder().timeout(CALL_TIMEOUT));

    let outcome = tokio::time::timeout(GUARD, op.call(&client))
        .await
        .map_err(|_| TestCaseError::fail(format!("the call did not end within {GUARD:?}")))?;
    let connections = api.settled(SETTLE).await;
    let other_connections = other.settled(SETTLE).await;

    // Attempts: within the policy, one connection each, a sleep between
    // two and none after the last.
    prop_assert!(
        (1..=MAX_ATTEMPTS).contains(&connections.len()),
        "{} connections",
        connections.len()
    );
    prop_assert_eq!(sleeps.recorded().len(), connections.len() - 1);

    match &outcome {
        // A value only from a whole valid answer.
        Ok(()) => prop_assert!(
            matches!(faults.get(connections.len() - 1), Some(Fault::Valid { .. })),
            "a value from {:?}",
            played(&scripts, connections.len() - 1)
        ),
        Err(err) => {
            prop_assert!(
                !matches!(
                    err.kind(),
                    ErrorKind::Configuration | ErrorKind::InvalidRequest | ErrorKind::Pagination
                ),
                "{:?}: {}",
                err.kind(),
                err
            );
            if let Some(attempts) = err.attempts() {
                prop_assert_eq!(attempts as usize, connections.len(), "{}", err);
            }
            prop_assert!(!err.to_string().contains(KEY), "the key in {}", err);
            prop_assert!(!format!("{err:?}").contains(KEY), "the key in {:?}", err);
        }
    }

    // Every request read is the call's own: no redirect replayed (as a GET
    // or to another path).
    let path = op.path();
    for connection in connections.iter().filter(|c| c.method().is_some()) {
        prop_assert_eq!(connection.method(), Some(op.method()), "{:?}", connection);
        prop_assert_eq!(connection.target(), Some(path.as_str()));
        prop_assert_eq!(connection.header("x-api-key"), Some(KEY));
    }

    // A POST reaches the server again only after an answer proving it
    // unprocessed (408, 429): every connection that read it but the last
    // must have answered one of those.
    if op == Op::IcpCreate {
        let posted: Vec<usize> = (0..connections.len())
            .filter(|&n| connections[n].method() == Some("POST"))
            .collect();
        if let Some((_, earlier)) = posted.split_last() {
            for &n in earlier {
                let status = played(&scripts, n).status();
                prop_assert!(
                    matches!(status, Some(408 | 429)),
                    "the POST was repeated after {:?}",
                    played(&scripts, n)
                );
            }
        }
    }

    // The other origin is never contacted, so never sees the key.
    prop_assert!(
        other_connections.is_empty(),
        "the other origin was reached: {:?}",
        other_connections
    );

    // The client's peak read is bounded (see `READ_BOUND`).
    for (n, connection) in connections.iter().enumerate() {
        prop_assert!(
            connection.written < READ_BOUND,
            "{} bytes written for {:?}",
            connection.written,
            played(&scripts, n)
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    #[test]
    fn random_fault_scripts_end_in_a_value_or_a_typed_error(
        op in op(),
        faults in proptest::collection::vec(fault(), MAX_ATTEMPTS),
    ) {
        RUNTIME.block_on(check(op, faults))?;
    }
}
