//! A minimal HTTP/1.1 keep-alive server on 127.0.0.1 that answers the three
//! benchmarked routes with pre-serialized responses, and counts the
//! connections each side opens.
//!
//! It runs on its own thread with its own single-threaded tokio runtime, so on
//! a 2-core machine the server and the bench each have a core (the
//! multi-thread runtime's workers share the cores with it). Per request it
//! only finds the end of the head, reads `content-length` and `x-api-key`,
//! skips the body and writes one prepared buffer: it is never the
//! bottleneck, and it costs the client and the floor the same.
//!
//! **Connections.** The client and the floor each get a listener of their
//! own (two ports, one [`Caller`] each), and the accept loop counts every
//! connection it accepts on a listener. [`Server::opened`] reads both counts
//! after accepting, from the bench thread, whatever the kernel has queued on
//! either listener and the server thread has not picked up yet, so that a
//! reading taken when no call is in flight includes every connection opened
//! before it. The counts are exact; only a connection whose handshake races
//! the reading can fall on either side of it.
//!
//! Routes:
//! * `GET /v1/icp/{id}` → 200, the `IcpResponse` fixture;
//! * `GET /v1/entity?…page_size=100…` → 200, the `EntityListResponse` fixture;
//! * `POST /v1/icp` → 200, the created ICP;
//! * a missing or wrong `x-api-key` → 401, anything else → 404; a chunked
//!   request body, an oversized head or a malformed request ends the connection.
//!
//! The thread lives until the process exits.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use crate::BenchResult;
use crate::alloc;
use crate::cpu::{ThreadClock, process_cpu_ns};
use crate::fixtures::Fixtures;

/// Largest request head accepted.
const MAX_HEAD: usize = 64 * 1024;

/// Prepared responses, head and body in one buffer each.
#[derive(Debug)]
struct Responses {
    key: Vec<u8>,
    icp: Vec<u8>,
    entity_page: Vec<u8>,
    created: Vec<u8>,
    unauthorized: Vec<u8>,
    not_found: Vec<u8>,
}

fn response(status: &str, request_id: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nx-request-id: {request_id}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// Which side of the comparison a listener serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Caller {
    /// The `linkt` client.
    Client,
    /// Plain reqwest + serde.
    Floor,
}

/// Connections accepted from each side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Opened {
    /// On the client's listener.
    pub(crate) client: u64,
    /// On the floor's listener.
    pub(crate) floor: u64,
}

impl Opened {
    /// Connections opened since `earlier`.
    pub(crate) fn since(self, earlier: Self) -> Self {
        Self {
            client: self.client.saturating_sub(earlier.client),
            floor: self.floor.saturating_sub(earlier.floor),
        }
    }

    /// `self + other`, side by side.
    pub(crate) fn plus(self, other: Self) -> Self {
        Self {
            client: self.client + other.client,
            floor: self.floor + other.floor,
        }
    }
}

/// One side's listener, as the bench thread sees it.
#[derive(Debug)]
struct Listener {
    /// `http://127.0.0.1:port`.
    base_url: String,
    /// A handle on the same listening socket (non-blocking), for draining.
    socket: std::net::TcpListener,
    /// Connections accepted on it, by either thread.
    accepted: Arc<AtomicU64>,
}

/// The running server.
#[derive(Debug)]
pub(crate) struct Server {
    client: Listener,
    floor: Listener,
    responses: Arc<Responses>,
    /// Spawns connections accepted by the bench thread on the server's runtime.
    runtime: tokio::runtime::Handle,
    /// CPU clock of the server thread.
    cpu_clock: Option<ThreadClock>,
}

impl Server {
    /// Starts the server thread with one listener per [`Caller`].
    pub(crate) fn start(fixtures: &Fixtures, key: &str) -> BenchResult<Self> {
        let responses = Arc::new(Responses {
            key: key.as_bytes().to_vec(),
            icp: response("200 OK", "req_01HV3K8Z4QW7", &fixtures.icp_body),
            entity_page: response("200 OK", "req_01HV3K8Z4QW8", &fixtures.entity_page_body),
            created: response("200 OK", "req_01HV3K8Z4QW9", &fixtures.created_body),
            unauthorized: response(
                "401 Unauthorized",
                "req_01HV3K8Z4QWA",
                br#"{"detail":"Invalid API key"}"#,
            ),
            not_found: response(
                "404 Not Found",
                "req_01HV3K8Z4QWB",
                br#"{"detail":"Not Found"}"#,
            ),
        });
        let (client, client_socket) = Listener::bind()?;
        let (floor, floor_socket) = Listener::bind()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()?;
        let handle = runtime.handle().clone();
        let loops = [
            (client_socket, Arc::clone(&client.accepted)),
            (floor_socket, Arc::clone(&floor.accepted)),
        ];
        let thread_responses = Arc::clone(&responses);
        let thread = std::thread::Builder::new()
            .name("bench-server".into())
            .spawn(move || {
                alloc::exclude_current_thread();
                runtime.block_on(async move {
                    let [first, second] = loops.map(|(socket, accepted)| {
                        accept_loop(socket, accepted, Arc::clone(&thread_responses))
                    });
                    futures::future::join(first, second).await;
                });
            })?;
        let cpu_clock = ThreadClock::of(&thread);
        Ok(Self {
            client,
            floor,
            responses,
            runtime: handle,
            cpu_clock,
        })
    }

    /// Base URL of `caller`'s listener.
    pub(crate) fn base_url(&self, caller: Caller) -> &str {
        match caller {
            Caller::Client => &self.client.base_url,
            Caller::Floor => &self.floor.base_url,
        }
    }

    /// Connections accepted so far from each side, queued ones included.
    pub(crate) fn opened(&self) -> Opened {
        Opened {
            client: self.client.drain(&self.runtime, &self.responses),
            floor: self.floor.drain(&self.runtime, &self.responses),
        }
    }

    /// CPU time of the process so far less the server thread's, in ns: the
    /// bench's calls, the connection tasks and the runtime's threads.
    pub(crate) fn bench_cpu_ns(&self) -> Option<u64> {
        let server = self.cpu_clock?.now_ns()?;
        Some(process_cpu_ns()?.saturating_sub(server))
    }
}

impl Listener {
    /// A listener on an ephemeral port of 127.0.0.1, and the socket that the
    /// server thread's accept loop takes.
    fn bind() -> BenchResult<(Self, std::net::TcpListener)> {
        let socket = std::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        socket.set_nonblocking(true)?;
        let listener = Self {
            base_url: format!("http://{}", socket.local_addr()?),
            socket: socket.try_clone()?,
            accepted: Arc::new(AtomicU64::new(0)),
        };
        Ok((listener, socket))
    }

    /// Accepts what is queued (the socket is non-blocking), hands it to the
    /// server's runtime, and returns the count of accepted connections.
    fn drain(&self, runtime: &tokio::runtime::Handle, responses: &Arc<Responses>) -> u64 {
        loop {
            match self.socket.accept() {
                Ok((stream, _)) => {
                    self.accepted.fetch_add(1, Ordering::SeqCst);
                    let responses = Arc::clone(responses);
                    runtime.spawn(async move {
                        let served = match stream
                            .set_nonblocking(true)
                            .and_then(|()| TcpStream::from_std(stream))
                        {
                            Ok(stream) => serve(stream, &responses).await,
                            Err(err) => Err(err),
                        };
                        if let Err(err) = served {
                            eprintln!("bench server: connection ended: {err}");
                        }
                    });
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                // `WouldBlock`: nothing queued. Any other error is the
                // accept loop's to report.
                Err(_) => break,
            }
        }
        self.accepted.load(Ordering::SeqCst)
    }
}

/// Accepts connections on `socket` for ever, counting each in `accepted`.
async fn accept_loop(
    socket: std::net::TcpListener,
    accepted: Arc<AtomicU64>,
    responses: Arc<Responses>,
) {
    let listener = match TcpListener::from_std(socket) {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("bench server: {err}");
            return;
        }
    };
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                accepted.fetch_add(1, Ordering::SeqCst);
                let responses = Arc::clone(&responses);
                tokio::spawn(async move {
                    if let Err(err) = serve(stream, &responses).await {
                        eprintln!("bench server: connection ended: {err}");
                    }
                });
            }
            Err(err) => eprintln!("bench server: accept: {err}"),
        }
    }
}

/// Serves requests on one connection until the peer closes it.
async fn serve(mut stream: TcpStream, responses: &Responses) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut buf: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut chunk = vec![0_u8; 16 * 1024];
    loop {
        let head_end = loop {
            if let Some(at) = find_head_end(&buf) {
                break at;
            }
            if buf.len() > MAX_HEAD {
                return Err(invalid("request head too large"));
            }
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = parse_head(&buf[..head_end])?;
        let reply = route(&head, responses);
        let total = head_end + head.content_length;
        while buf.len() < total {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        buf.drain(..total);
        stream.write_all(reply).await?;
    }
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_owned())
}

/// Index just past the blank line that ends the head, if it is complete.
fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// What the server needs from a request head.
#[derive(Debug)]
struct Head<'a> {
    method: &'a [u8],
    target: &'a [u8],
    content_length: usize,
    api_key: Option<&'a [u8]>,
}

fn parse_head(head: &[u8]) -> io::Result<Head<'_>> {
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line));
    let request_line = lines.next().ok_or_else(|| invalid("empty request"))?;
    let mut parts = request_line.split(|&b| b == b' ');
    let method = parts.next().ok_or_else(|| invalid("no method"))?;
    let target = parts.next().ok_or_else(|| invalid("no target"))?;
    let mut parsed = Head {
        method,
        target,
        content_length: 0,
        api_key: None,
    };
    for line in lines.filter(|line| !line.is_empty()) {
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .ok_or_else(|| invalid("header without a colon"))?;
        let name = &line[..colon];
        let value = line[colon + 1..].trim_ascii();
        if name.eq_ignore_ascii_case(b"content-length") {
            parsed.content_length = std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| invalid("bad content-length"))?;
        } else if name.eq_ignore_ascii_case(b"x-api-key") {
            parsed.api_key = Some(value);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            return Err(invalid("chunked request bodies are not supported"));
        }
    }
    Ok(parsed)
}

fn route<'r>(head: &Head<'_>, responses: &'r Responses) -> &'r [u8] {
    if head.api_key != Some(responses.key.as_slice()) {
        return &responses.unauthorized;
    }
    let (path, query) = match head.target.iter().position(|&b| b == b'?') {
        Some(q) => (&head.target[..q], &head.target[q + 1..]),
        None => (head.target, &b""[..]),
    };
    match (head.method, path) {
        (b"GET", p) if p.starts_with(b"/v1/icp/") && p.len() > b"/v1/icp/".len() => &responses.icp,
        (b"GET", b"/v1/entity") if query.split(|&b| b == b'&').any(|kv| kv == b"page_size=100") => {
            &responses.entity_page
        }
        (b"POST", b"/v1/icp") if head.content_length > 0 => &responses.created,
        _ => &responses.not_found,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn responses() -> Responses {
        Responses {
            key: b"k".to_vec(),
            icp: b"icp".to_vec(),
            entity_page: b"page".to_vec(),
            created: b"created".to_vec(),
            unauthorized: b"401".to_vec(),
            not_found: b"404".to_vec(),
        }
    }

    fn reply(head: &str) -> Vec<u8> {
        let responses = responses();
        let head = parse_head(head.as_bytes()).expect("a valid head");
        route(&head, &responses).to_vec()
    }

    #[test]
    fn routes_the_benchmarked_requests() {
        assert_eq!(
            reply("GET /v1/icp/507f HTTP/1.1\r\nX-Api-Key: k\r\n\r\n"),
            b"icp"
        );
        assert_eq!(
            reply("GET /v1/entity?page=1&page_size=100 HTTP/1.1\r\nx-api-key: k\r\n\r\n"),
            b"page"
        );
        assert_eq!(
            reply("POST /v1/icp HTTP/1.1\r\nx-api-key: k\r\ncontent-length: 2\r\n\r\n"),
            b"created"
        );
        assert_eq!(
            reply("GET /v1/icp/507f HTTP/1.1\r\nx-api-key: nope\r\n\r\n"),
            b"401"
        );
        assert_eq!(reply("GET /v1/icp/507f HTTP/1.1\r\n\r\n"), b"401");
        assert_eq!(
            reply("GET /v1/entity?page_size=10 HTTP/1.1\r\nx-api-key: k\r\n\r\n"),
            b"404"
        );
    }

    #[test]
    fn counts_the_connections_of_each_side() {
        let fixtures = Fixtures::build().expect("the fixtures build");
        let server = Server::start(&fixtures, "k").expect("the server starts");
        let address = |caller| {
            let url = server.base_url(caller);
            url.strip_prefix("http://").unwrap_or(url).to_owned()
        };
        let before = server.opened();
        let connect = |caller| std::net::TcpStream::connect(address(caller)).expect("connects");
        let _open = [
            connect(Caller::Client),
            connect(Caller::Client),
            connect(Caller::Client),
            connect(Caller::Floor),
        ];
        let expected = Opened {
            client: 3,
            floor: 1,
        };
        // `opened` accepts what is queued; a connection the server thread has
        // just accepted is counted a moment later.
        let mut opened = server.opened().since(before);
        for _ in 0..100 {
            if opened == expected {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
            opened = server.opened().since(before);
        }
        assert_eq!(opened, expected);
    }

    #[test]
    fn reads_the_body_length_and_refuses_chunked_bodies() {
        let head = parse_head(b"POST /v1/icp HTTP/1.1\r\nContent-Length: 42\r\n\r\n")
            .expect("a valid head");
        assert_eq!(head.content_length, 42);
        assert!(
            parse_head(b"POST /v1/icp HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n").is_err()
        );
        assert!(parse_head(b"POST /v1/icp HTTP/1.1\r\ncontent-length: x\r\n\r\n").is_err());
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\n\r\nrest"), Some(18));
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\n"), None);
    }
}
