//! Bodies at the byte level: a success body over the client's limit is a
//! typed error and the server cannot write it all; a flood on a failure is
//! read no further than the failure limit; a body cut off is a lost
//! connection, retried on a `GET` and not on a `POST`.

use linkt::ErrorKind;
use linkt_faults::Script;

use crate::{
    ICP_ID, LIMIT, MIB, READ_BOUND, SETTLE, client, create_body, failed, guarded, icp_bytes,
    methods, server,
};

/// What the fault server offers in a flood: far more than [`READ_BOUND`].
const FLOOD: usize = 16 * MIB;

#[tokio::test]
async fn a_success_body_over_the_limit_is_a_typed_error_the_server_could_not_write() {
    for script in [
        // Chunked: read until the limit, then abandoned.
        Script::Flood {
            status: 200,
            bytes: FLOOD,
        },
        // A `Content-Length` over the limit: refused before reading.
        Script::CutBody {
            status: 200,
            declared_len: FLOOD,
            sent_len: FLOOD,
        },
    ] {
        let api = server(vec![script.clone()]);
        let (client, sleeps) = client(&api);

        let err = failed(guarded(client.icp_retrieve().icp_id(ICP_ID).send()).await);

        assert_eq!(err.kind(), ErrorKind::BodyTooLarge, "{script:?}: {err}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(200), "{err}");
        assert_eq!(err.request_id(), Some("req-fault"), "{err}");
        assert_eq!(err.attempts(), Some(1), "{script:?}: retried: {err}");
        assert!(err.to_string().contains(&format!("{LIMIT} bytes")), "{err}");
        assert!(sleeps.recorded().is_empty(), "{script:?}: retried");
        let connections = api.settled(SETTLE).await;
        assert_eq!(connections.len(), 1, "{script:?}: {connections:?}");
        let written = connections[0].written;
        assert!(
            connections[0].write_failed && written < READ_BOUND,
            "{script:?}: the client read on past its limit: {written} bytes written"
        );
    }
}

#[tokio::test]
async fn a_flood_on_a_failure_response_is_bounded() {
    // A 500 is retried (three connections, each bounded), a 404 is not.
    for (status, kind, attempts) in [(500, ErrorKind::Server, 3), (404, ErrorKind::NotFound, 1)] {
        let api = server(vec![Script::Flood {
            status,
            bytes: FLOOD,
        }]);
        let (client, sleeps) = client(&api);

        let err = failed(guarded(client.icp_retrieve().icp_id(ICP_ID).send()).await);

        assert_eq!(err.kind(), kind, "{err}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status), "{err}");
        assert_eq!(err.attempts(), Some(attempts), "{err}");
        assert_eq!(sleeps.recorded().len(), attempts as usize - 1);
        let excerpt = err.body_excerpt().expect("an excerpt of the body");
        assert!(excerpt.ends_with('…'), "not marked cut: {excerpt:?}");
        let connections = api.settled(SETTLE).await;
        assert_eq!(connections.len(), attempts as usize, "{connections:?}");
        for connection in &connections {
            assert!(
                connection.write_failed && connection.written < READ_BOUND,
                "{status}: the client read on past the failure limit: {connection:?}"
            );
        }
    }
}

/// A success head whose body breaks off after 100 bytes, in both framings.
fn cut_scripts(status: u16) -> [Script; 2] {
    [
        Script::CutBody {
            status,
            declared_len: 1000,
            sent_len: 100,
        },
        Script::CutChunked { status, sent: 100 },
    ]
}

#[tokio::test]
async fn a_body_cut_off_on_a_get_is_retried() {
    for cut in cut_scripts(200) {
        let api = server(vec![cut.clone(), Script::json(200, &icp_bytes())]);
        let (client, sleeps) = client(&api);

        let icp = guarded(client.icp_retrieve().icp_id(ICP_ID).send())
            .await
            .unwrap_or_else(|err| panic!("{cut:?}: not retried: {}", err));

        assert_eq!(icp.name, "Enterprise SaaS Companies");
        assert_eq!(sleeps.recorded().len(), 1, "{cut:?}");
        let connections = api.settled(SETTLE).await;
        assert_eq!(methods(&connections), ["GET", "GET"], "{cut:?}");
    }
}

#[tokio::test]
async fn a_body_cut_off_on_a_post_is_not_retried() {
    for cut in cut_scripts(201) {
        // A retry would get the whole body and succeed.
        let api = server(vec![cut.clone(), Script::json(201, &icp_bytes())]);
        let (client, sleeps) = client(&api);

        let err = failed(guarded(client.icp_create().body(create_body()).send()).await);

        assert_eq!(err.kind(), ErrorKind::Connection, "{cut:?}: {err}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(201), "{err}");
        assert_eq!(err.attempts(), Some(1), "{err}");
        assert!(err.to_string().contains("cut off"), "{err}");
        assert!(sleeps.recorded().is_empty(), "{cut:?}");
        let connections = api.settled(SETTLE).await;
        assert_eq!(methods(&connections), ["POST"], "{cut:?}: {connections:?}");
    }
}
