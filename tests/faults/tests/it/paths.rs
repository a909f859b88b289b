//! A path parameter that would change the path's shape sends nothing: the
//! first request the server ever sees is the valid call made after the
//! refused ones.

use linkt::ErrorKind;
use linkt_faults::Script;

use crate::{ICP_ID, SETTLE, client, failed, guarded, icp_bytes, server};

#[tokio::test]
async fn a_dot_dot_path_parameter_sends_nothing() {
    let api = server(vec![Script::json(200, &icp_bytes())]);
    let (client, _) = client(&api);

    for id in ["..", ".", "%2e%2E", ""] {
        let err = failed(guarded(client.icp_retrieve().icp_id(id).send()).await);
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{id:?}: {err}");
        assert!(err.to_string().contains("`icp_id`"), "{err}");
        let err = failed(guarded(client.icp_delete().icp_id(id).send()).await);
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{id:?}: {err}");
    }
    guarded(client.icp_retrieve().icp_id(ICP_ID).send())
        .await
        .expect("a valid id is sent");

    let connections = api.settled(SETTLE).await;
    let targets: Vec<_> = connections.iter().filter_map(|c| c.target()).collect();
    assert_eq!(targets, [format!("/v1/icp/{ICP_ID}")], "{connections:?}");
}
