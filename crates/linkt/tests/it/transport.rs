//! Transport failures that repeating cannot fix are not retried: a TLS
//! failure and a malformed or oversized response head make one attempt.
//! Faults come from a raw TCP listener on 127.0.0.1 that counts the
//! connections it accepts.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use linkt::Client;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::{client_with, keep_alive_server};

/// A listener answering every connection with `reply` once it has read the
/// request's head (or, for a TLS client, its first flight); returns its
/// address and the number of connections accepted.
async fn listener(reply: Vec<u8>) -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let address = listener.local_addr().expect("an address");
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    let reply = Arc::new(reply);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let reply = reply.clone();
            tokio::spawn(async move {
                let mut read = Vec::new();
                let mut buffer = [0; 4096];
                // A TLS ClientHello has no blank line: stop at the first read
                // that is not an HTTP head in progress.
                while let Ok(Ok(n)) =
                    tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer)).await
                {
                    read.extend_from_slice(&buffer[..n]);
                    if n == 0 || !read.starts_with(b"GET ") || read.ends_with(b"\r\n\r\n") {
                        break;
                    }
                }
                // The client may close before reading it all.
                let _ = stream.write_all(&reply).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (address, accepted)
}

/// Calls `icp_list` on `base_url` and returns the error, the number of
/// connections the listener accepted and the sleeps the client asked for.
async fn fails(base_url: &str, accepted: &AtomicUsize) -> (linkt::Error, usize, Vec<Duration>) {
    let (client, sleeps) =
        client_with(base_url, Client::builder().timeout(Duration::from_secs(10)));
    let err = client
        .icp_list()
        .send()
        .await
        .map(|_| ())
        .expect_err("the call fails");
    (err, accepted.load(Ordering::SeqCst), sleeps.recorded())
}

#[tokio::test]
async fn a_tls_failure_makes_one_attempt() {
    // A plain-HTTP answer to a ClientHello: rustls fails the handshake.
    let (address, accepted) =
        listener(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n".to_vec()).await;
    let (err, connections, sleeps) = fails(&format!("https://{address}"), &accepted).await;
    assert_eq!(connections, 1, "{err}");
    assert!(sleeps.is_empty(), "{sleeps:?}");
    assert!(!err.is_retryable(), "{err}");
}

#[tokio::test]
async fn a_response_head_of_a_mebibyte_makes_one_attempt() {
    let mut reply = b"HTTP/1.1 200 OK\r\nx-big: ".to_vec();
    reply.resize(reply.len() + 1024 * 1024, b'a');
    reply.extend_from_slice(b"\r\ncontent-length: 0\r\n\r\n");
    let (address, accepted) = listener(reply).await;
    let (err, connections, sleeps) = fails(&format!("http://{address}"), &accepted).await;
    assert_eq!(connections, 1, "{err}");
    assert!(sleeps.is_empty(), "{sleeps:?}");
    assert!(!err.is_retryable(), "{err}");
}

#[tokio::test]
async fn a_malformed_response_head_makes_one_attempt() {
    let (address, accepted) = listener(b"HTTP/1.1 abc Nonsense\r\n\r\n".to_vec()).await;
    let (err, connections, sleeps) = fails(&format!("http://{address}"), &accepted).await;
    assert_eq!(connections, 1, "{err}");
    assert!(sleeps.is_empty(), "{sleeps:?}");
    assert!(!err.is_retryable(), "{err}");
}

/// Makes `calls` calls one after the other, `pause` apart; returns the
/// number of connections the server accepted.
async fn connections_for(builder: linkt::ClientBuilder, calls: usize, pause: Duration) -> usize {
    let (base_url, accepted) =
        keep_alive_server(r#"{"icps": [], "page": 1, "page_size": 20, "total": 0}"#.to_owned())
            .await;
    let (client, _) = client_with(&base_url, builder.timeout(Duration::from_secs(10)));
    for call in 0..calls {
        if call > 0 {
            tokio::time::sleep(pause).await;
        }
        let page = client.icp_list().send().await.expect("an empty page");
        assert_eq!(page.total, 0);
    }
    accepted.load(Ordering::SeqCst)
}

#[tokio::test]
async fn idle_connections_are_reused_unless_the_pool_keeps_none() {
    assert_eq!(
        connections_for(Client::builder(), 3, Duration::ZERO).await,
        1
    );
    assert_eq!(
        connections_for(
            Client::builder().pool_max_idle_per_host(0),
            3,
            Duration::ZERO
        )
        .await,
        3
    );
}

#[tokio::test]
async fn a_connection_idle_past_the_pool_idle_timeout_is_not_reused() {
    let pause = Duration::from_millis(400);
    assert_eq!(
        connections_for(
            Client::builder().pool_idle_timeout(Some(Duration::from_millis(50))),
            2,
            pause
        )
        .await,
        2
    );
    // By default (90 s) it is.
    assert_eq!(connections_for(Client::builder(), 2, pause).await, 1);
}

#[tokio::test]
async fn a_connection_not_accepted_in_the_connect_timeout_fails_the_attempt() {
    // A listener whose accept queue (one connection) is full, and which
    // never accepts: the kernel leaves further connections unanswered.
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket
        .bind("127.0.0.1:0".parse().expect("an address"))
        .expect("bind 127.0.0.1");
    let listener = socket.listen(0).expect("a listener");
    let address = listener.local_addr().expect("an address");
    let _queued = std::net::TcpStream::connect(address).expect("the one queued connection");

    let (client, _) = client_with(
        &format!("http://{address}"),
        Client::builder()
            .connect_timeout(Duration::from_millis(200))
            .timeout(Duration::from_secs(10))
            .retry_policy(linkt::RetryPolicy::none()),
    );
    let started = std::time::Instant::now();
    let err = client.icp_list().send().await.expect_err("not connected");
    let elapsed = started.elapsed();

    assert_eq!(err.kind(), linkt::ErrorKind::Timeout, "{err}");
    assert!(
        elapsed < Duration::from_secs(3),
        "the connect timeout, not the default 5 s nor the request's 10 s: {elapsed:?}"
    );
    drop(listener);
}
