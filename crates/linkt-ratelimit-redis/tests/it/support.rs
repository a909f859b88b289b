//! A real Redis for the tests: the one `.ci/run` starts
//! (`LINKT_TEST_REDIS_URL`), or a `redis-server` of the test's own on a free
//! 127.0.0.1 port. Outside CI with neither, a test prints why and returns;
//! in CI that is a failure.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use linkt::{ApiKey, Client, Plan, RetryPolicy};
use linkt_mock::{KeyConfig, MockServer};
use linkt_ratelimit_redis::RedisLimiter;

/// The environment variable `.ci/run` sets to its Redis.
pub(crate) const REDIS_URL_VAR: &str = "LINKT_TEST_REDIS_URL";

/// The key every test client uses against the mock.
pub(crate) const KEY: &str = "lk_test_shared_budget_0001";

/// A Redis a test talks to; a server of the test's own is killed on drop.
pub(crate) struct Redis {
    pub(crate) url: String,
    own: Option<(Child, u16)>,
}

impl Redis {
    /// The Redis of the run when there is one, else one of the test's own.
    pub(crate) fn shared() -> Option<Redis> {
        match std::env::var(REDIS_URL_VAR) {
            Ok(url) if !url.is_empty() => Some(Redis { url, own: None }),
            _ => Redis::own(),
        }
    }

    /// A `redis-server` of the test's own, which it may kill.
    pub(crate) fn own() -> Option<Redis> {
        let port = free_port();
        match start_server(port) {
            Ok(child) => Some(Redis {
                url: format!("redis://127.0.0.1:{port}/"),
                own: Some((child, port)),
            }),
            Err(why) => skip(&why),
        }
    }

    /// Kills the test's own server and waits until it is gone.
    pub(crate) fn kill(&mut self) {
        if let Some((child, _)) = &mut self.own {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the test's own server again on the same port, empty.
    pub(crate) fn restart(&mut self) {
        if let Some((child, port)) = &mut self.own {
            let _ = child.kill();
            let _ = child.wait();
            *child = start_server(*port).expect("redis-server starts again");
        }
    }

    /// Sends one command in RESP and returns the raw reply.
    pub(crate) fn command(&self, args: &[&str]) -> String {
        let address = self
            .url
            .trim_start_matches("redis://")
            .trim_end_matches('/')
            .to_owned();
        let mut stream = TcpStream::connect(&address).expect("redis accepts a connection");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("a read timeout");
        let mut request = format!("*{}\r\n", args.len());
        for arg in args {
            request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
        }
        stream
            .write_all(request.as_bytes())
            .expect("the command is sent");
        let mut reply = Vec::new();
        let mut chunk = [0_u8; 64 * 1024];
        // One read is enough for the small replies the tests ask for.
        let n = stream.read(&mut chunk).expect("a reply");
        reply.extend_from_slice(&chunk[..n]);
        String::from_utf8_lossy(&reply).into_owned()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Prints why a test does not run and returns `None`; fails in CI.
fn skip<T>(why: &str) -> Option<T> {
    if std::env::var_os("CI").is_some() {
        panic!("{why}; in CI, .ci/run installs redis-server and sets {REDIS_URL_VAR}");
    }
    // Straight to stderr: the test harness does not capture it.
    let _ = writeln!(
        std::io::stderr(),
        "skipping: {why} (set {REDIS_URL_VAR} or put redis-server on the PATH)"
    );
    None
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port on 127.0.0.1")
}

fn start_server(port: u16) -> Result<Child, String> {
    let port_arg = port.to_string();
    let mut child = Command::new("redis-server")
        .args([
            "--port",
            &port_arg,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--dir",
            &std::env::temp_dir().to_string_lossy(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|err| format!("redis-server could not be started: {err}"))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            let mut reply = [0_u8; 7];
            if stream.write_all(b"PING\r\n").is_ok()
                && stream.read_exact(&mut reply).is_ok()
                && &reply == b"+PONG\r\n"
            {
                return Ok(child);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    Err(format!("redis-server did not answer on 127.0.0.1:{port}"))
}

/// A key prefix no other test (or run) shares.
pub(crate) fn unique_prefix(test: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("linkt-test:{test}:{}:{nanos}", std::process::id())
}

/// A mock server whose one key has `plan`.
pub(crate) async fn mock(plan: Plan) -> MockServer {
    MockServer::builder()
        .key_config(KeyConfig::new(KEY).plan(plan))
        .start()
        .await
        .expect("the mock starts")
}

/// A client of `base_url` paced by `limiter`, without retries, whose calls
/// have a 2 s deadline: a rate-limit wait longer than that fails the call
/// at once.
pub(crate) fn client(base_url: &str, limiter: RedisLimiter) -> Client {
    Client::builder()
        .api_key(ApiKey::new(KEY).expect("a valid key"))
        .base_url(base_url)
        .retry_policy(RetryPolicy::none().with_deadline(Duration::from_secs(2)))
        .rate_limiter(limiter)
        .build()
        .expect("a client")
}

/// What a worker's calls got.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Tally {
    /// Calls that succeeded.
    pub(crate) ok: u32,
    /// The limiter refused (its next slot is past the deadline).
    pub(crate) refused: u32,
    /// Anything else (a 429 among them).
    pub(crate) other: Vec<String>,
}

/// Calls `icp_list` until the limiter refuses, something else fails, or
/// 200 calls were made.
pub(crate) async fn work(client: &Client) -> Tally {
    let mut tally = Tally::default();
    for _ in 0..200 {
        match client.icp_list().send().await {
            Ok(_) => tally.ok += 1,
            Err(err) if err.kind() == linkt::ErrorKind::RateLimiter => {
                assert_eq!(err.attempts(), Some(0), "nothing was sent: {err}");
                let wait = err.retry_after().expect("the refused wait");
                assert!(
                    wait > Duration::from_secs(50) && wait <= Duration::from_millis(60_200),
                    "the next slot is about a minute away: {wait:?}"
                );
                tally.refused += 1;
                break;
            }
            Err(err) => {
                tally.other.push(err.to_string());
                break;
            }
        }
    }
    tally
}
