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
    // No JSON path is known: the kind heads the line, not "failed to decode".
    assert_eq!(err.decode_path(), None);
    assert!(err.to_string().starts_with("decode error: "), "{err}");
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

/// A server on 127.0.0.1 that reads one request head, writes `reply` and
/// closes the connection.
async fn answer_once_with(reply: &'static [u8]) -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let _ = socket.write_all(reply).await;
        let _ = socket.shutdown().await;
    });
    addr
}

#[tokio::test]
async fn a_connection_closed_before_any_response_is_retryable() {
    let addr = answer_once_with(b"").await;
    let error = client(Duration::from_secs(5))
        .get(format!("http://{addr}/v1/icp"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        linkt_error::transport_failure(&error),
        linkt_backoff::TransportFailure::ConnectionLost
    );
    let err = Error::from_transport(error, &CallContext::new());
    assert_eq!(err.kind(), ErrorKind::Connection);
    assert_eq!(err.status(), None);
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_body_that_breaks_off_is_retryable() {
    let addr = answer_once_with(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"icps\"").await;
    let mut response = client(Duration::from_secs(5))
        .get(format!("http://{addr}/v1/icp"))
        .send()
        .await
        .unwrap();
    // Read chunk by chunk, as the client reads a body within its limit.
    let error = loop {
        match response.chunk().await {
            Ok(Some(_)) => {}
            Ok(None) => panic!("the body ended without an error"),
            Err(error) => break error,
        }
    };
    assert_eq!(
        linkt_error::transport_failure(&error),
        linkt_backoff::TransportFailure::ConnectionLost
    );
    // A lost connection, never a decode error.
    let err = Error::from_transport(error, &CallContext::new());
    assert_eq!(err.kind(), ErrorKind::Connection);
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_response_head_that_does_not_parse_is_not_retried() {
    let addr = answer_once_with(b"HTTP/1.1 OK-ish\r\n\x01\x02\r\n\r\n").await;
    let error = client(Duration::from_secs(5))
        .get(format!("http://{addr}/v1/icp"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        linkt_error::transport_failure(&error),
        linkt_backoff::TransportFailure::Other
    );
    assert!(!Error::from_transport(error, &CallContext::new()).is_retryable());
}

#[tokio::test]
async fn a_404_status_error_has_its_status_and_is_not_retryable() {
    // Both a status and a transport failure: the status decides.
    let response = reqwest::Response::from(
        http::Response::builder()
            .status(404)
            .body(String::new())
            .unwrap(),
    );
    let error = response.error_for_status().unwrap_err();
    let err = Error::from_transport(error, &CallContext::new());
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.status(), Some(http::StatusCode::NOT_FOUND));
    assert_eq!(err.headers(), None);
    assert!(!err.is_retryable());
    assert_eq!(err.to_string().split(':').next(), Some("404 not found"));
}

#[tokio::test]
async fn a_401_status_error_has_the_documented_code() {
    let response = reqwest::Response::from(
        http::Response::builder()
            .status(401)
            .body(String::new())
            .unwrap(),
    );
    let error = response.error_for_status().unwrap_err();
    let err = Error::from_transport(error, &CallContext::new());
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.code(), Some("unauthorized"));
}

#[test]
fn a_limiter_refusal_past_the_deadline_says_how_long_the_wait_was() {
    let refusal = linkt_backoff::RateLimiter::new(linkt_backoff::Plan::Custom {
        per_minute: 1,
        per_day: 0,
    });
    let t0 = std::time::Instant::now();
    assert_eq!(refusal.reserve(t0), Duration::ZERO);
    let reserve_error = refusal
        .reserve_within(t0, Some(Duration::from_secs(5)))
        .unwrap_err();
    let err = Error::rate_limiter(
        reserve_error,
        &CallContext::new().with_operation_id("icp_list"),
    );
    assert_eq!(err.kind(), ErrorKind::RateLimiter);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(60)));
    assert!(err.to_string().contains(", retry after 60s"), "{err}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_refused_connection_names_its_cause_once() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let error = client(Duration::from_secs(5))
        .get(format!("http://127.0.0.1:{port}/v1/icp"))
        .send()
        .await
        .unwrap_err();
    let err = Error::from_transport(error, &CallContext::new());
    // The OS's words come from the innermost source.
    let cause = "onnection refused";
    assert_eq!(err.message().matches(cause).count(), 1, "{}", err.message());
}

#[test]
fn a_cause_already_in_the_message_is_not_repeated() {
    let unavailable = linkt_backoff::ReserveError::Unavailable("redis is down".into());
    let err = Error::rate_limiter(unavailable, &CallContext::new());
    assert_eq!(
        err.message(),
        "the shared rate limiter is unavailable: redis is down"
    );
    assert_eq!(err.retry_after(), None);
}

/// The error of reading a response body whose stream fails with `failure`
/// after its first bytes.
async fn body_read_error(failure: std::io::Error) -> reqwest::Error {
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> =
        vec![Ok(bytes::Bytes::from_static(b"{\"icps\"")), Err(failure)];
    let body = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
    let response = reqwest::Response::from(http::Response::new(body));
    response.bytes().await.unwrap_err()
}

#[tokio::test]
async fn a_tls_failure_while_reading_the_body_is_not_retried() {
    // How tokio-rustls reports a TLS failure (a bad record, an alert) on
    // the connection: an `io::Error` wrapping the `rustls::Error`.
    let tls = std::io::Error::new(std::io::ErrorKind::InvalidData, rustls::Error::DecryptError);
    let error = body_read_error(tls).await;
    assert_eq!(
        linkt_error::transport_failure(&error),
        linkt_backoff::TransportFailure::Other
    );
    assert!(!Error::from_transport(error, &CallContext::new()).is_retryable());

    // The same body cut by a reset connection is a lost connection.
    let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
    let error = body_read_error(reset).await;
    assert_eq!(
        linkt_error::transport_failure(&error),
        linkt_backoff::TransportFailure::ConnectionLost
    );
}
