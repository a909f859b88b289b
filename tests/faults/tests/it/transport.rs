//! Transport faults at the byte level: a stall ends with a timeout within
//! the configured timeout; a huge response head, bytes that are not HTTP and
//! a connection closed at once end in typed errors, never a hang or a
//! panic. Only what repeating can fix is retried: a connection closed or a
//! timeout on a `GET`, a refused connection on any method; a head hyper
//! cannot parse, or over its size limit, fails the same way the next time
//! and is not.
//!
//! A transport error knows its attempt count only when a response arrived
//! ([`linkt::Error::attempts`] is "when known"); the attempts are counted
//! here by the connections the server accepted and the sleeps between them.

use std::time::{Duration, Instant};

use linkt::{Client, ErrorKind, RetryPolicy};
use linkt_faults::Script;

use crate::{
    ICP_ID, MIB, READ_BOUND, SETTLE, client, client_with, create_body, failed, guarded, methods,
    server,
};

/// The client timeout of the stall tests.
const TIMEOUT: Duration = Duration::from_millis(300);

/// How far past `attempts` timeouts a stalled call may end: scheduling on a
/// loaded machine, not another timeout.
const SLACK: Duration = Duration::from_millis(700);

/// `err` made `attempts` attempts, if it knows.
#[track_caller]
fn assert_attempts(err: &linkt::Error, attempts: u32) {
    if let Some(made) = err.attempts() {
        assert_eq!(made, attempts, "{err}");
    }
}

#[tokio::test]
async fn a_stalled_response_ends_with_a_timeout_within_the_configured_timeout() {
    for (after_head, post, policy, attempts) in [
        // A GET whose body stalls, without retries: one timeout.
        (true, false, RetryPolicy::none(), 1),
        // A GET whose head never comes, retried twice: three timeouts.
        (false, false, RetryPolicy::default(), 3),
        // A GET whose body stalls, retried twice.
        (true, false, RetryPolicy::default(), 3),
        // A POST that timed out may have been processed: not retried.
        (true, true, RetryPolicy::default(), 1),
        (false, true, RetryPolicy::default(), 1),
    ] {
        let case = format!("after_head: {after_head}, post: {post}");
        let api = server(vec![Script::Stall { after_head }]);
        let (client, sleeps) = client_with(
            &api.url(),
            Client::builder().timeout(TIMEOUT).retry_policy(policy),
        );

        let started = Instant::now();
        let err = if post {
            failed(guarded(client.icp_create().body(create_body()).send()).await)
        } else {
            failed(guarded(client.icp_retrieve().icp_id(ICP_ID).send()).await)
        };
        let elapsed = started.elapsed();

        assert_eq!(err.kind(), ErrorKind::Timeout, "{case}: {err}");
        let expected_status = after_head.then_some(200);
        assert_eq!(err.status().map(|s| s.as_u16()), expected_status, "{err}");
        assert_attempts(&err, attempts);
        assert_eq!(sleeps.recorded().len(), attempts as usize - 1, "{case}");
        let at_least = TIMEOUT * attempts;
        let at_most = at_least + SLACK;
        assert!(
            (at_least..at_most).contains(&elapsed),
            "{case}: ended after {elapsed:?}, not within {at_least:?}..{at_most:?}"
        );
        // One connection per attempt, each closed by the client.
        let connections = api.settled(SETTLE).await;
        assert_eq!(connections.len(), attempts as usize, "{case}");
        assert!(
            connections.iter().all(|c| c.done),
            "{case}: {connections:?}"
        );
    }
}

#[tokio::test]
async fn a_huge_response_head_ends_in_a_typed_error_not_retried() {
    let api = server(vec![Script::HugeHead { bytes: 4 * MIB }]);
    let (client, sleeps) = client(&api);

    let err = failed(guarded(client.icp_retrieve().icp_id(ICP_ID).send()).await);

    // hyper refuses a head over its buffer (about 400 KiB): the same the
    // next time, so the GET is not repeated.
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    assert_eq!(err.status(), None, "{err}");
    assert!(!err.is_retryable(), "{err}");
    assert_eq!(sleeps.recorded(), vec![]);
    let connections = api.settled(SETTLE).await;
    assert_eq!(connections.len(), 1, "{connections:?}");
    assert!(
        connections[0].write_failed && connections[0].written < READ_BOUND,
        "the client read on into the head: {:?}",
        connections[0]
    );
}

#[tokio::test]
async fn bytes_that_are_not_http_end_in_a_typed_connection_error() {
    for post in [false, true] {
        let api = server(vec![Script::Garbage]);
        let (client, sleeps) = client(&api);

        let err = if post {
            failed(guarded(client.icp_create().body(create_body()).send()).await)
        } else {
            failed(guarded(client.icp_retrieve().icp_id(ICP_ID).send()).await)
        };

        assert_eq!(err.kind(), ErrorKind::Connection, "post: {post}: {err}");
        assert_eq!(err.status(), None, "{err}");
        // Not HTTP now, not HTTP the next time: one attempt, whatever the
        // method.
        assert!(!err.is_retryable(), "{err}");
        assert_eq!(sleeps.recorded(), vec![], "post: {post}");
        let connections = api.settled(SETTLE).await;
        let expected = if post { ["POST"] } else { ["GET"] };
        assert_eq!(methods(&connections), expected, "post: {post}");
    }
}

#[tokio::test]
async fn a_connection_closed_at_once_ends_in_a_typed_connection_error() {
    for (post, attempts) in [(false, 3), (true, 1)] {
        let api = server(vec![Script::Close]);
        let (client, sleeps) = client(&api);

        let err = if post {
            failed(guarded(client.icp_create().body(create_body()).send()).await)
        } else {
            failed(guarded(client.icp_retrieve().icp_id(ICP_ID).send()).await)
        };

        assert_eq!(err.kind(), ErrorKind::Connection, "post: {post}: {err}");
        assert_attempts(&err, attempts);
        assert_eq!(
            sleeps.recorded().len(),
            attempts as usize - 1,
            "post: {post}"
        );
        // The connection was accepted, so the request may have reached the
        // server: a POST is not repeated, a GET is.
        assert_eq!(api.settled(SETTLE).await.len(), attempts as usize);
    }
}

#[tokio::test]
async fn a_refused_connection_is_a_typed_error_and_retried_even_for_a_post() {
    // A port nothing listens on: the listener is dropped before the call.
    let url = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        format!("http://{}", listener.local_addr().expect("an address"))
    };
    let (client, sleeps) = client_with(&url, Client::builder());

    let err = failed(guarded(client.icp_create().body(create_body()).send()).await);

    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    // Nothing was sent, so even a POST is retried: three attempts.
    assert_attempts(&err, 3);
    assert_eq!(sleeps.recorded().len(), 2);
}
