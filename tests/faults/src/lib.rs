//! A fault server: raw TCP on 127.0.0.1 that answers each connection as a
//! [`Script`] says, byte by byte, including the ways a real server or proxy
//! misbehaves (a body cut off, a stall, a flood, a huge head, bytes that are
//! not HTTP, a connection closed at once).
//!
//! [`FaultServer::start`] answers the `n`th connection it accepts with the
//! `n`th script (the last one repeats) and records, for each connection, the
//! raw request head it read and how many bytes of its answer the kernel
//! accepted ([`Connection`]). Its send buffer is small ([`SEND_BUFFER`]), so
//! what it managed to write shows how far the client read.
//!
//! Everything is bounded in time: the server runs as tasks of the test's
//! tokio runtime, which end when the [`FaultServer`] is dropped or the
//! runtime shuts down, and no connection lives longer than
//! [`MAX_CONNECTION_TIME`]. A stalled connection waits for the client to
//! close it (or for that bound).
//!
//! The server knows nothing of the Linkt client; the tests in `tests/it`
//! drive the client against it.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// The send buffer asked for on every accepted socket (Linux doubles it).
/// Small, so that the server cannot write far ahead of what the client reads.
pub const SEND_BUFFER: u32 = 64 * 1024;

/// The longest any connection is served; a stall ends here at the latest.
pub const MAX_CONNECTION_TIME: Duration = Duration::from_secs(30);

/// The most bytes of a request head the server reads before giving up.
pub const MAX_REQUEST_HEAD: usize = 64 * 1024;

/// Bytes per write of a generated body or head.
const PIECE: usize = 16 * 1024;

/// What the server does on one connection. Every script except
/// [`Script::Close`] first reads the request (head, and a body by its
/// `Content-Length`); every response it starts says `connection: close`
/// and the server closes the connection when the script ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Script {
    /// A whole response: `headers` (a `content-type: application/json` is
    /// added unless they have one) and `body` with its `Content-Length`.
    Respond {
        /// Status code.
        status: u16,
        /// Extra header lines, name and value.
        headers: Vec<(String, String)>,
        /// The body, sent in full.
        body: Vec<u8>,
    },
    /// A redirect: `status` with `Location: location` and no body.
    Redirect {
        /// A 3xx status code.
        status: u16,
        /// The `Location` header's value, as sent.
        location: String,
    },
    /// A head announcing `Content-Length: declared_len`, then `sent_len`
    /// bytes of body (spaces; at most `declared_len`), then close. With
    /// `sent_len == declared_len` the body is whole.
    CutBody {
        /// Status code.
        status: u16,
        /// The `Content-Length` announced.
        declared_len: usize,
        /// The body bytes sent before closing.
        sent_len: usize,
    },
    /// A chunked head, one chunk of `sent` bytes (none when `sent` is 0)
    /// and no final chunk, then close.
    CutChunked {
        /// Status code.
        status: u16,
        /// The body bytes sent before closing.
        sent: usize,
    },
    /// Nothing more after the request (or, with `after_head`, after a `200`
    /// head announcing a 1 KiB body), with the socket kept open until the
    /// client closes it or [`MAX_CONNECTION_TIME`] passes.
    Stall {
        /// Whether a response head is sent before stalling.
        after_head: bool,
    },
    /// `status` with a chunked body of `bytes` bytes of `x` (not JSON),
    /// generated piece by piece as the client reads (never buffered whole);
    /// stops at the first write that fails.
    Flood {
        /// Status code.
        status: u16,
        /// The body bytes offered.
        bytes: usize,
    },
    /// A `200` whose head has one header line of `bytes` bytes, then an
    /// empty JSON object; stops at the first write that fails.
    HugeHead {
        /// The length of the huge header's value.
        bytes: usize,
    },
    /// Bytes that are not HTTP, then close.
    Garbage,
    /// Close at once, without reading the request.
    Close,
}

impl Script {
    /// A `status` response with a JSON body.
    pub fn json(status: u16, body: &[u8]) -> Script {
        Script::Respond {
            status,
            headers: Vec::new(),
            body: body.to_vec(),
        }
    }

    /// The status of the response head this script starts to send, if it
    /// sends one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Script::Respond { status, .. }
            | Script::Redirect { status, .. }
            | Script::CutBody { status, .. }
            | Script::CutChunked { status, .. }
            | Script::Flood { status, .. } => Some(*status),
            Script::Stall { after_head: true } | Script::HugeHead { .. } => Some(200),
            Script::Stall { after_head: false } | Script::Garbage | Script::Close => None,
        }
    }
}

/// What the server saw and did on one connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Connection {
    /// The request head as read (lossy UTF-8), up to and including the
    /// blank line; empty when none was read, partial when the client
    /// closed mid-head.
    pub head: String,
    /// Bytes of request body read after the head.
    pub body_read: usize,
    /// Bytes of the answer (head, framing and body) the kernel accepted.
    pub written: usize,
    /// Whether a write failed: the client closed the connection first.
    pub write_failed: bool,
    /// Whether the script has ended and the connection is closed.
    pub done: bool,
}

impl Connection {
    /// The request method, when a request line was read.
    pub fn method(&self) -> Option<&str> {
        let line = self.head.split("\r\n").next()?;
        line.split(' ').next().filter(|method| !method.is_empty())
    }

    /// The request target (path and query), when a request line was read.
    pub fn target(&self) -> Option<&str> {
        self.head.split("\r\n").next()?.split(' ').nth(1)
    }

    /// The value of the request header `name` (compared ignoring ASCII
    /// case), if it arrived.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.split("\r\n").skip(1).find_map(|line| {
            let (header, value) = line.split_once(':')?;
            header
                .trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim())
        })
    }
}

type Log = Arc<Mutex<Vec<Connection>>>;

fn lock(log: &Log) -> MutexGuard<'_, Vec<Connection>> {
    // A panicking test thread cannot leave a connection half-updated in a
    // way that matters here: take the data as it is.
    log.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A scripted server on 127.0.0.1; stops when dropped.
#[derive(Debug)]
pub struct FaultServer {
    addr: SocketAddr,
    log: Log,
    task: JoinHandle<()>,
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        // Aborting the accept loop drops its `JoinSet`, which aborts every
        // connection task.
        self.task.abort();
    }
}

impl FaultServer {
    /// Listens on a free port of 127.0.0.1 and answers the `n`th connection
    /// with `scripts[n]` (the last script repeats; none means
    /// [`Script::Close`]). Must be called inside a tokio runtime.
    pub fn start(scripts: Vec<Script>) -> io::Result<FaultServer> {
        let socket = TcpSocket::new_v4()?;
        // Inherited by every accepted socket.
        socket.set_send_buffer_size(SEND_BUFFER)?;
        socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        let listener = socket.listen(64)?;
        let addr = listener.local_addr()?;
        let log = Log::default();
        let task = tokio::spawn(accept(listener, scripts, log.clone()));
        Ok(FaultServer { addr, log, task })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The port listened on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every connection accepted so far, in order, as it stands now.
    pub fn connections(&self) -> Vec<Connection> {
        lock(&self.log).clone()
    }

    /// The connections once every one accepted so far is done, or as they
    /// stand after `within`, whichever comes first (a connection still
    /// running then shows `done: false`).
    pub async fn settled(&self, within: Duration) -> Vec<Connection> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let connections = self.connections();
            if connections.iter().all(|c| c.done) || tokio::time::Instant::now() >= deadline {
                return connections;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

async fn accept(listener: TcpListener, scripts: Vec<Script>, log: Log) {
    let mut tasks = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of descriptors, say: try again shortly rather than spin.
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        };
        let index = {
            let mut log = lock(&log);
            log.push(Connection::default());
            log.len() - 1
        };
        let script = scripts
            .get(index.min(scripts.len().saturating_sub(1)))
            .cloned()
            .unwrap_or(Script::Close);
        let log = log.clone();
        tasks.spawn(async move {
            let mut conn = Conn {
                stream,
                index,
                log: log.clone(),
            };
            let _ = tokio::time::timeout(MAX_CONNECTION_TIME, conn.play(&script)).await;
            drop(conn);
            if let Some(connection) = lock(&log).get_mut(index) {
                connection.done = true;
            }
        });
        while tasks.try_join_next().is_some() {}
    }
}

/// One accepted connection and where to record what happens on it.
struct Conn {
    stream: TcpStream,
    index: usize,
    log: Log,
}

impl Conn {
    fn record(&self, update: impl FnOnce(&mut Connection)) {
        if let Some(connection) = lock(&self.log).get_mut(self.index) {
            update(connection);
        }
    }

    async fn play(&mut self, script: &Script) -> io::Result<()> {
        if *script == Script::Close {
            return Ok(());
        }
        self.read_request().await?;
        match script {
            Script::Respond {
                status,
                headers,
                body,
            } => {
                let mut head = status_line(*status);
                if !headers
                    .iter()
                    .any(|(name, _)| name.eq_ignore_ascii_case("content-type"))
                {
                    head.push_str("content-type: application/json\r\n");
                }
                for (name, value) in headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str(&format!(
                    "content-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                ));
                self.send(head.as_bytes()).await?;
                self.send(body).await?;
            }
            Script::Redirect { status, location } => {
                let head = format!(
                    "{}location: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    status_line(*status)
                );
                self.send(head.as_bytes()).await?;
            }
            Script::CutBody {
                status,
                declared_len,
                sent_len,
            } => {
                let head = json_head(*status, &format!("content-length: {declared_len}"));
                self.send(head.as_bytes()).await?;
                self.send_spaces((*sent_len).min(*declared_len)).await?;
            }
            Script::CutChunked { status, sent } => {
                let head = json_head(*status, "transfer-encoding: chunked");
                self.send(head.as_bytes()).await?;
                if *sent > 0 {
                    self.send(format!("{sent:x}\r\n").as_bytes()).await?;
                    self.send_spaces(*sent).await?;
                    self.send(b"\r\n").await?;
                }
            }
            Script::Stall { after_head } => {
                if *after_head {
                    let head = json_head(200, "content-length: 1024");
                    self.send(head.as_bytes()).await?;
                }
                // Until the client closes (or the connection's time is up).
                let mut sink = [0; 1024];
                while self.stream.read(&mut sink).await? > 0 {}
            }
            Script::Flood { status, bytes } => {
                let head = json_head(*status, "transfer-encoding: chunked");
                self.send(head.as_bytes()).await?;
                let mut left = *bytes;
                while left > 0 {
                    let n = left.min(PIECE);
                    self.send(format!("{n:x}\r\n").as_bytes()).await?;
                    self.send(&[b'x'; PIECE][..n]).await?;
                    self.send(b"\r\n").await?;
                    left -= n;
                }
                self.send(b"0\r\n\r\n").await?;
            }
            Script::HugeHead { bytes } => {
                self.send(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-huge: ")
                    .await?;
                let mut left = *bytes;
                while left > 0 {
                    let n = left.min(PIECE);
                    self.send(&[b'a'; PIECE][..n]).await?;
                    left -= n;
                }
                self.send(b"\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
                    .await?;
            }
            Script::Garbage => {
                self.send(b"SSH-2.0-OpenSSH_9.6\r\n\x00\xff\xfe\x01 not http \x1b[0m\r\n\r\n")
                    .await?;
            }
            Script::Close => {}
        }
        self.stream.shutdown().await
    }

    /// Reads the request head (up to [`MAX_REQUEST_HEAD`]) and a body by
    /// its `Content-Length`, so that closing afterwards does not reset the
    /// connection under the client. Fails when the client closes first.
    async fn read_request(&mut self) -> io::Result<()> {
        let mut buffer = Vec::new();
        let mut piece = [0; 4096];
        let end = loop {
            if let Some(end) = find(&buffer, b"\r\n\r\n") {
                break end + 4;
            }
            if buffer.len() > MAX_REQUEST_HEAD {
                return Err(io::Error::other("request head too large"));
            }
            let n = self.stream.read(&mut piece).await?;
            if n == 0 {
                let partial = String::from_utf8_lossy(&buffer).into_owned();
                self.record(|c| c.head = partial);
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            buffer.extend_from_slice(&piece[..n]);
        };
        let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
        let length = head
            .split("\r\n")
            .filter_map(|line| line.split_once(':'))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
            .and_then(|(_, value)| value.trim().parse::<usize>().ok())
            .unwrap_or(0);
        self.record(|c| c.head = head);
        let mut read = buffer.len() - end;
        while read < length {
            let n = self.stream.read(&mut piece).await?;
            if n == 0 {
                break;
            }
            read += n;
        }
        self.record(|c| c.body_read = read);
        Ok(())
    }

    /// Writes all of `bytes`, counting what the kernel accepts.
    async fn send(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            match self.stream.write(bytes).await {
                Ok(0) => {
                    self.record(|c| c.write_failed = true);
                    return Err(io::ErrorKind::WriteZero.into());
                }
                Ok(n) => {
                    self.record(|c| c.written += n);
                    bytes = &bytes[n..];
                }
                Err(err) => {
                    self.record(|c| c.write_failed = true);
                    return Err(err);
                }
            }
        }
        Ok(())
    }

    /// Writes `n` spaces (JSON whitespace), a piece at a time.
    async fn send_spaces(&mut self, mut n: usize) -> io::Result<()> {
        const SPACES: [u8; PIECE] = [b' '; PIECE];
        while n > 0 {
            let piece = n.min(PIECE);
            self.send(&SPACES[..piece]).await?;
            n -= piece;
        }
        Ok(())
    }
}

fn status_line(status: u16) -> String {
    format!("HTTP/1.1 {status} Fault\r\n")
}

/// A JSON response head with one framing header, `connection: close` and
/// an `x-request-id`.
fn json_head(status: u16, framing: &str) -> String {
    format!(
        "{}content-type: application/json\r\nx-request-id: req-fault\r\n\
         {framing}\r\nconnection: close\r\n\r\n",
        status_line(status)
    )
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_reads_its_request_line_and_headers() {
        let connection = Connection {
            head: "POST /v1/icp?x=1 HTTP/1.1\r\nX-Api-Key: lk_test_1\r\nhost: h\r\n\r\n".into(),
            ..Connection::default()
        };
        assert_eq!(connection.method(), Some("POST"));
        assert_eq!(connection.target(), Some("/v1/icp?x=1"));
        assert_eq!(connection.header("x-api-key"), Some("lk_test_1"));
        assert_eq!(connection.header("authorization"), None);
        assert_eq!(Connection::default().method(), None);
    }
}
