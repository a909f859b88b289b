//! `GET /openapi.json`: the embedded vendor document, as FastAPI serves it.

use crate::{raw, server};

#[tokio::test]
async fn the_document_is_served_byte_for_byte_without_a_key() {
    let server = server().await;
    let response = raw()
        .get(format!("{}/openapi.json", server.base_url()))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    let body = response.bytes().await.expect("body");
    assert!(
        body.as_ref() == include_bytes!("../../spec/linkt-v1.openapi.json"),
        "the served document differs from the embedded spec/linkt-v1.openapi.json"
    );
    // Not an API operation: it is neither journaled nor rate limited.
    assert!(server.journal().is_empty());
}
