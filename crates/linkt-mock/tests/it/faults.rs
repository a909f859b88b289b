//! Fault injection: failing statuses (with Retry-After), delays, dropped
//! connections and malformed bodies, as the client experiences them.

use std::time::Duration;

use linkt::{ErrorKind, RetryPolicy};
use linkt_mock::{Fault, FaultError};

use crate::{KEY_A, client, create_icp, error, finish, server};

#[tokio::test]
async fn status_faults_fail_the_next_responses_then_stop() {
    let server = server().await;
    let a = client(&server, KEY_A);
    server
        .faults()
        .inject("icp_list", Fault::status(503), 1)
        .expect("arm");
    let err = error(a.icp_list().send().await);
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert!(err.request_id().is_some());
    a.icp_list().send().await.expect("the fault was used up");

    // A retrying client goes through, sleeping Retry-After on the simulated clock.
    server
        .faults()
        .inject(
            "icp_list",
            Fault::status_with_retry_after(429, Duration::from_secs(7)),
            2,
        )
        .expect("arm");
    assert_eq!(server.faults().pending("icp_list"), 2);
    let retrying = server
        .client_builder(KEY_A)
        .expect("key")
        .retry_policy(RetryPolicy::default())
        .build()
        .expect("client");
    let before = server.clock().now();
    retrying
        .icp_list()
        .send()
        .await
        .expect("third attempt succeeds");
    // Each server-directed wait is lengthened by its jitter: up to 10 %.
    let waited = (server.clock().now() - before).num_milliseconds();
    assert!(
        (14_000..=15_400).contains(&waited),
        "two waits of 7 s (plus jitter), not {waited} ms"
    );
    assert_eq!(server.faults().pending("icp_list"), 0);

    // Other operations are not affected.
    server
        .faults()
        .inject("icp_create", Fault::status(500), 1)
        .expect("arm");
    a.icp_list().send().await.expect("icp_list is fine");
    server.faults().clear();
    create_icp(&a, "After clear").await;
    finish(&server);
}

#[tokio::test]
async fn dropped_connections_and_malformed_bodies() {
    let server = server().await;
    let a = client(&server, KEY_A);
    server
        .faults()
        .inject("icp_list", Fault::DropConnection, 1)
        .expect("arm");
    let err = error(a.icp_list().send().await);
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    let dropped = server.journal().last().cloned().expect("journal");
    assert_eq!(dropped.status, None);

    server
        .faults()
        .inject("icp_list", Fault::MalformedBody, 1)
        .expect("arm");
    let err = error(a.icp_list().send().await);
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");

    server
        .faults()
        .inject("icp_list", Fault::Delay(Duration::from_millis(20)), 1)
        .expect("arm");
    let started = std::time::Instant::now();
    a.icp_list().send().await.expect("slow but fine");
    assert!(started.elapsed() >= Duration::from_millis(20));
    a.icp_list().send().await.expect("the server still serves");
    finish(&server);
}

#[tokio::test]
async fn faults_are_armed_by_operation_name_and_need_a_valid_key() {
    let server = server().await;
    assert!(matches!(
        server.faults().inject("icp_lst", Fault::status(500), 1),
        Err(FaultError::UnknownOperation(name)) if name == "icp_lst"
    ));
    assert_eq!(
        server.faults().inject("icp_list", Fault::status(302), 1),
        Err(FaultError::InvalidStatus(302))
    );
    server
        .faults()
        .inject("icp_list", Fault::status(500), 1)
        .expect("arm");
    let stranger = client(&server, "lk-stranger");
    assert_eq!(
        error(stranger.icp_list().send().await).kind(),
        ErrorKind::Unauthorized
    );
    assert_eq!(
        server.faults().pending("icp_list"),
        1,
        "a rejected request does not use the fault"
    );
    finish(&server);
}
