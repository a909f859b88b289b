//! Redirects at the byte level: a 3xx to another origin is an error naming
//! its target, and that origin never sees a connection, so never the key; a
//! `POST` answered 302/303 is an error and reached the server once, never
//! replayed as a `GET`.

use linkt::ErrorKind;
use linkt_faults::Script;

use crate::{
    ICP_ID, KEY, SETTLE, client, create_body, failed, guarded, icp_bytes, methods, server,
};

/// `err` is the refusal of a `status` redirect to `target`, showing no
/// part of the location's query.
#[track_caller]
fn assert_refused(err: &linkt::Error, status: u16, target: &str) {
    assert_eq!(err.kind(), ErrorKind::UnexpectedStatus, "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(status), "{err}");
    assert_eq!(err.attempts(), Some(1), "{err}");
    let note = format!("redirect to {target} not followed");
    assert!(err.to_string().contains(&note), "{err} does not say {note}");
    assert!(!err.to_string().contains("s3cret"), "{err}");
}

#[tokio::test]
async fn a_redirect_to_another_origin_never_carries_the_key_and_names_the_target() {
    for (status, post) in [
        (301, false),
        (302, false),
        (303, false),
        (307, false),
        (308, false),
        (307, true),
        (308, true),
    ] {
        // The other origin would answer anything with an ICP.
        let other = server(vec![Script::json(200, &icp_bytes())]);
        let target = format!("{}/v1/icp/{ICP_ID}", other.url());
        let api = server(vec![Script::Redirect {
            status,
            location: format!("{target}?token=s3cret"),
        }]);
        let (client, sleeps) = client(&api);

        let err = if post {
            failed(guarded(client.icp_create().body(create_body()).send()).await)
        } else {
            failed(guarded(client.icp_retrieve().icp_id(ICP_ID).send()).await)
        };

        assert_refused(&err, status, &target);
        assert_eq!(sleeps.recorded(), vec![], "{status}: retried");
        let api_connections = api.settled(SETTLE).await;
        assert_eq!(api_connections.len(), 1, "{status}: {api_connections:?}");
        // The key does arrive where it belongs, so its absence below means
        // something.
        assert_eq!(api_connections[0].header("x-api-key"), Some(KEY));
        let other_connections = other.settled(SETTLE).await;
        assert!(
            other_connections.is_empty(),
            "{status} (post: {post}): the other origin was reached: {other_connections:?}"
        );
    }
}

#[tokio::test]
async fn a_post_answered_302_or_303_is_an_error_and_reached_the_server_once() {
    for status in [302, 303] {
        // A client that followed would replay the request on a second
        // connection (as a `GET`, by RFC 9110's allowance) and get an ICP.
        let api = server(vec![
            Script::Redirect {
                status,
                location: format!("/v1/icp/{ICP_ID}"),
            },
            Script::json(200, &icp_bytes()),
        ]);
        let (client, sleeps) = client(&api);

        let err = failed(guarded(client.icp_create().body(create_body()).send()).await);

        assert_refused(&err, status, &format!("{}/v1/icp/{ICP_ID}", api.url()));
        assert_eq!(err.operation_id(), Some("icp_create"));
        assert_eq!(sleeps.recorded(), vec![]);
        let connections = api.settled(SETTLE).await;
        assert_eq!(methods(&connections), ["POST"], "{connections:?}");
        assert!(connections[0].body_read > 0, "the POST body arrived");
    }
}
