//! `reqwest` failures: timeouts, refused connections, builder and decode
//! errors.

use std::time::Duration;

use linkt_error::{CallContext, Error, ErrorKind};

fn client(timeout: Duration) -> reqwest::Client {
    // The workspace builds reqwest without a default crypto provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().timeout(timeout).build().unwrap()
}

#[tokio::test]
async fn refused_connection_is_a_retryable_connection_error() {
    // Bind and drop to find a port nobody listens on.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let error = client(Duration::from_secs(5))
        .get(format!("http://127.0.0.1:{port}/v1/icp"))
        .send()
        .await
        .unwrap_err();
    let err = Error::from_transport(error, &CallContext::new().with_operation_id("icp_list"));
    assert_eq!(err.kind(), ErrorKind::Connection);
    assert!(err.is_retryable());
    assert_eq!(err.status(), None);
    assert!(
        err.to_string()
            .starts_with("connection error: error sending request"),
        "{err}"
    );
    assert!(err.to_string().ends_with("(operation icp_list)"), "{err}");
    assert!(std::error::Error::source(&err).is_some());
}

#[tokio::test]
async fn timeout_is_a_retryable_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Accept and hold the connection without ever answering.
    let server = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(socket);
    });
    let error = client(Duration::from_millis(100))
        .get(format!("http://{addr}/v1/icp"))
        .send()
        .await
        .unwrap_err();
    server.abort();
    let err = Error::from_transport(error, &CallContext::new());
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.is_retryable());
    assert!(err.to_string().starts_with("timed out: "), "{err}");
}

#[tokio::test]
async fn decode_error_from_reqwest_json() {
    let response = reqwest::Response::from(http::Response::new("<html>".to_owned()));
    let error = response.json::<serde_json::Value>().await.unwrap_err();
    let err = Error::from_transport(error, &CallContext::new());
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(!err.is_retryable());
}

#[test]
fn builder_error_is_an_invalid_request() {
    let error = reqwest::Request::try_from(
        http::Request::builder()
            .uri("/no-host")
            .body(Vec::<u8>::new())
            .unwrap(),
    )
    .unwrap_err();
    let err = Error::from_transport(error, &CallContext::new());
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(!err.is_retryable());
    assert!(
        err.to_string()
            .starts_with("invalid request: builder error"),
        "{err}"
    );
}

#[tokio::test]
async fn status_error_maps_to_its_kind() {
    let response = reqwest::Response::from(
        http::Response::builder()
            .status(502)
            .body(String::new())
            .unwrap(),
    );
    let error = response.error_for_status().unwrap_err();
    let err = Error::from_transport(error, &CallContext::new());
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.status(), Some(http::StatusCode::BAD_GATEWAY));
    assert!(err.is_retryable());
}
