//! The HTTP side: starting and stopping a server, and the pipeline every
//! request goes through.
//!
//! `GET /openapi.json` serves the embedded vendor document byte for byte,
//! without a key, as a FastAPI server does. One fallback handler serves every
//! other path. For each request it: assigns an
//! `x-request-id`; routes by method and path against the spec; checks the
//! `x-api-key` (401) and the key's rate limit on the simulated clock (429);
//! applies an armed fault; refuses writes with a read-only key (403);
//! validates path, query and body against the spec (422); brings the store
//! up to the simulated "now" and runs the operation's handler; checks the
//! response against the spec; applies drift, if the server has any (see
//! `drift.rs`); and records the exchange in the journal.
//! Rate-limit headers go on every response to a known key.
//!
//! A dropped-connection fault is implemented below the HTTP layer: each
//! accepted stream carries a kill switch that the handler can flip, after
//! which the stream refuses to write, so the connection closes without a
//! response. The other network faults (cut, stalled and huge bodies) are
//! streaming bodies (see `delivery.rs`); a cut or stalled body is applied to
//! the answer the operation produced, after it ran.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::{ConnectInfo, Connected};
use axum::extract::{FromRequest as _, Multipart, State};
use axum::http::header::{
    CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HeaderName, HeaderValue, LOCATION,
};
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::response::Response;
use axum::serve::IncomingStream;
use chrono::{DateTime, Utc};
use linkt::Plan;
use serde_json::{Map, Value, json};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use crate::clock::{self, Clock};
use crate::delivery::{self, Delivery};
use crate::drift::{self, Drift, InjectedDrift};
use crate::faults::{Fault, Faults, Filler, MAX_DELAY};
use crate::handlers::{self, Call, Failure, Reply, Settings, Upload};
use crate::spec::{Issue, Loc, Mode, ParamIn, Route, Spec, SpecError};
use crate::store::{Store, Timing};

/// Largest request body accepted (413 above it).
pub const MAX_BODY_BYTES: usize = 20 * 1024 * 1024;

/// How many exchanges the journal keeps (the oldest are dropped).
pub const JOURNAL_LIMIT: usize = 10_000;

/// The key a server gets when none is configured.
pub const DEFAULT_KEY: &str = "lk-mock-0001";

const API_KEY_HEADER: &str = "x-api-key";

/// The names of the rate-limit headers the server sends: the limit, the
/// remaining budget and the reset (seconds from now) on every response to a
/// known key, and `Retry-After` (seconds) on a 429.
///
/// The real API's names are unknown. Its docs say responses carry
/// rate-limit headers, but they do not name them, and no official SDK reads
/// any; whether it sends `Retry-After` is not documented either. The mock
/// sends the de-facto `X-RateLimit-*` trio, one of the forms
/// `linkt_backoff::RateLimit::from_headers` reads (with the IETF draft's
/// `RateLimit-*` and `RateLimit`/`RateLimit-Policy`). When the real names
/// are known, they change here.
mod rate_limit_header {
    /// The request budget of the window closest to running out.
    pub(super) const LIMIT: &str = "x-ratelimit-limit";
    /// Requests left in that window.
    pub(super) const REMAINING: &str = "x-ratelimit-remaining";
    /// Seconds until that window resets.
    pub(super) const RESET: &str = "x-ratelimit-reset";
    /// Seconds to wait before retrying, on a 429.
    pub(super) const RETRY_AFTER: &str = "retry-after";
}

/// An API key the server accepts, and what it may do.
#[derive(Clone)]
pub struct KeyConfig {
    key: String,
    plan: Plan,
    read_only: bool,
    org: Option<String>,
}

impl fmt::Debug for KeyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyConfig")
            .field("key", &"<redacted>")
            .field("plan", &self.plan)
            .field("read_only", &self.read_only)
            .field("org", &self.org)
            .finish()
    }
}

impl KeyConfig {
    /// A read-write key with its own organization and the Pro plan
    /// (300 requests a minute, 10,000 a day).
    pub fn new(key: impl Into<String>) -> KeyConfig {
        KeyConfig {
            key: key.into(),
            plan: Plan::Pro,
            read_only: false,
            org: None,
        }
    }

    /// The key's rate-limit plan; `Plan::Custom` with 0 turns a window off.
    pub fn plan(mut self, plan: Plan) -> KeyConfig {
        self.plan = plan;
        self
    }

    /// Makes the key read-only: every write answers 403.
    pub fn read_only(mut self) -> KeyConfig {
        self.read_only = true;
        self
    }

    /// Puts the key in a named organization; keys with the same name share
    /// their data. By default each key is its own organization.
    pub fn org(mut self, name: impl Into<String>) -> KeyConfig {
        self.org = Some(name.into());
        self
    }
}

/// Why a server could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// The embedded spec did not prepare.
    Spec(SpecError),
    /// The listening socket could not be bound.
    Bind(io::Error),
    /// A key is empty or not a valid header value.
    InvalidKey(usize),
    /// The same key was configured twice.
    DuplicateKey(usize),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Spec(e) => write!(f, "{e}"),
            StartError::Bind(e) => write!(f, "binding 127.0.0.1: {e}"),
            StartError::InvalidKey(i) => write!(
                f,
                "API key #{} is empty or contains characters not allowed in a header",
                i + 1
            ),
            StartError::DuplicateKey(i) => write!(f, "API key #{} is configured twice", i + 1),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::Spec(e) => Some(e),
            StartError::Bind(e) => Some(e),
            _ => None,
        }
    }
}

/// One request the server answered, as recorded in its journal.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Exchange {
    /// Client method name of the operation, if the path matched one.
    pub operation: Option<String>,
    /// HTTP method.
    pub method: String,
    /// Path and query string.
    pub path: String,
    /// Status sent; `None` when the connection was dropped.
    pub status: Option<u16>,
    /// The `x-request-id` sent.
    pub request_id: String,
    /// The response body.
    pub body: bytes::Bytes,
    /// Simulated time of the request.
    pub at: DateTime<Utc>,
}

/// A response that did not match the spec (the client received a 500
/// instead, when response checking is on).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Violation {
    /// Client method name of the operation.
    pub operation: String,
    /// The status the handler produced.
    pub status: u16,
    /// What did not match.
    pub issues: Vec<Issue>,
}

/// Configures and starts a [`MockServer`].
#[derive(Debug, Clone)]
#[must_use]
pub struct MockServerBuilder {
    keys: Vec<KeyConfig>,
    start: Option<DateTime<Utc>>,
    speed: Option<f64>,
    timing: Timing,
    num_results: u64,
    port: u16,
    check_responses: bool,
    drift: Drift,
}

impl Default for MockServerBuilder {
    fn default() -> Self {
        MockServerBuilder {
            keys: Vec::new(),
            start: None,
            speed: None,
            timing: Timing::default(),
            num_results: 25,
            port: 0,
            check_responses: true,
            drift: Drift::none(),
        }
    }
}

impl MockServerBuilder {
    /// Accepts `key` as a read-write key of its own organization on the Pro
    /// plan. Without any key the server accepts [`DEFAULT_KEY`].
    pub fn key(self, key: impl Into<String>) -> Self {
        self.key_config(KeyConfig::new(key))
    }

    /// Accepts a key configured in detail.
    pub fn key_config(mut self, config: KeyConfig) -> Self {
        self.keys.push(config);
        self
    }

    /// Where the simulated clock starts. By default it starts at the
    /// wall-clock time when the server starts, to the whole second
    /// ([`clock::default_start`]); a test whose assertions depend on dates
    /// (a timestamp in a response, a rate-limit window that must not roll
    /// over) gives an explicit start so every run sees the same times.
    pub fn start_time(mut self, start: DateTime<Utc>) -> Self {
        self.start = Some(start);
        self
    }

    /// Lets simulated time also flow, `speed` times as fast as the wall
    /// clock. By default the clock moves only when advanced.
    pub fn clock_speed(mut self, speed: f64) -> Self {
        self.speed = Some(speed);
        self
    }

    /// How long simulated work takes.
    pub fn timing(mut self, timing: Timing) -> Self {
        self.timing = timing;
        self
    }

    /// How many results a search (or topic signal) run produces when its
    /// execution does not say `parameters.num_results` (default 25; between
    /// 1 and 1000).
    pub fn default_num_results(mut self, n: u64) -> Self {
        self.num_results = n.clamp(1, 1000);
        self
    }

    /// The port to listen on (default 0: an ephemeral port). The server
    /// always listens on 127.0.0.1.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Whether every response is checked against the spec before it is
    /// sent (default on); a mismatch is answered with a 500 and recorded as
    /// a [`Violation`].
    pub fn check_responses(mut self, on: bool) -> Self {
        self.check_responses = on;
        self
    }

    /// Makes successful answers drift from the spec in the ways `drift`
    /// names (none by default), after they are checked against it; every
    /// change is recorded ([`MockServer::injected_drift`]). See [`Drift`]
    /// and [`DriftKind`](crate::DriftKind) for where each kind applies.
    pub fn drift(mut self, drift: Drift) -> Self {
        self.drift = drift;
        self
    }

    /// Binds 127.0.0.1 and starts serving on the current tokio runtime.
    ///
    /// # Errors
    ///
    /// [`StartError`] for an invalid or repeated key, a port that cannot be
    /// bound, or an embedded spec that does not prepare.
    pub async fn start(self) -> Result<MockServer, StartError> {
        let spec = Spec::load().map_err(StartError::Spec)?;
        let configs = if self.keys.is_empty() {
            vec![KeyConfig::new(DEFAULT_KEY)]
        } else {
            self.keys
        };
        let mut orgs: HashMap<String, usize> = HashMap::new();
        let mut keys = Vec::new();
        for (i, config) in configs.into_iter().enumerate() {
            if config.key.trim().is_empty() || HeaderValue::from_str(&config.key).is_err() {
                return Err(StartError::InvalidKey(i));
            }
            if keys.iter().any(|k: &KeyEntry| k.key == config.key) {
                return Err(StartError::DuplicateKey(i));
            }
            let label = config.org.clone().unwrap_or_else(|| format!("\0key{i}"));
            let next = orgs.len();
            let org = *orgs.entry(label).or_insert(next);
            keys.push(KeyEntry {
                key: config.key,
                org,
                plan: config.plan,
                read_only: config.read_only,
            });
        }
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .map_err(StartError::Bind)?;
        let addr = listener.local_addr().map_err(StartError::Bind)?;
        let start = self.start.unwrap_or_else(clock::default_start);
        let clock = match self.speed {
            Some(speed) => Clock::scaled(start, speed),
            None => Clock::manual(start),
        };
        let shared = Arc::new(Shared {
            spec,
            windows: Mutex::new(vec![Window::default(); keys.len()]),
            keys,
            store: Mutex::new(Store::default()),
            clock,
            faults: Faults::default(),
            settings: Settings {
                timing: self.timing,
                num_results: self.num_results,
            },
            check_responses: self.check_responses,
            drift: self.drift,
            journal: Mutex::new(VecDeque::new()),
            injected: Mutex::new(VecDeque::new()),
            violations: Mutex::new(Vec::new()),
            requests: AtomicU64::new(0),
        });
        let app = Router::new()
            .route("/openapi.json", axum::routing::get(openapi_json))
            .fallback(dispatch)
            .with_state(shared.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = axum::serve(
            KillableListener { inner: listener },
            app.into_make_service_with_connect_info::<Conn>(),
        )
        .with_graceful_shutdown(async {
            let _ = stopped.await;
        });
        tokio::spawn(async move {
            if let Err(err) = server.await {
                tracing::warn!(error = %err, "linkt-mock stopped");
            }
        });
        tracing::debug!(%addr, "linkt-mock listening");
        Ok(MockServer {
            base_url: format!("http://{addr}"),
            addr,
            shared,
            stop: Some(stop),
        })
    }
}

/// A running in-memory Linkt server on 127.0.0.1. Dropping it stops it.
pub struct MockServer {
    base_url: String,
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl fmt::Debug for MockServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockServer")
            .field("base_url", &self.base_url)
            .field("keys", &self.shared.keys.len())
            .field("clock", &self.shared.clock)
            .field("drift", &self.shared.drift)
            .finish_non_exhaustive()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl MockServer {
    /// A server with one key ([`DEFAULT_KEY`]) and the default settings.
    ///
    /// # Errors
    ///
    /// See [`MockServerBuilder::start`].
    pub async fn start() -> Result<MockServer, StartError> {
        MockServer::builder().start().await
    }

    /// A builder for a configured server.
    pub fn builder() -> MockServerBuilder {
        MockServerBuilder::default()
    }

    /// `http://127.0.0.1:<port>`, the base URL to give a client.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The first configured key.
    pub fn api_key(&self) -> &str {
        self.shared
            .keys
            .first()
            .map_or(DEFAULT_KEY, |k| k.key.as_str())
    }

    /// Every configured key, in configuration order.
    pub fn api_keys(&self) -> Vec<&str> {
        self.shared.keys.iter().map(|k| k.key.as_str()).collect()
    }

    /// The simulated clock.
    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    /// The fault-injection handle.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// The spec the server validates against.
    pub fn spec(&self) -> &'static Spec {
        self.shared.spec
    }

    /// A client builder for this server and `key`, whose sleeps (retry and
    /// rate-limit waits) advance the simulated clock instead of waiting.
    ///
    /// # Errors
    ///
    /// A configuration error if `key` is not a valid API key.
    pub fn client_builder(&self, key: &str) -> Result<linkt::ClientBuilder, linkt::Error> {
        let key = linkt::ApiKey::new(key).map_err(linkt::Error::configuration_from)?;
        let clock = self.shared.clock.clone();
        Ok(linkt::Client::builder()
            .api_key(key)
            .base_url(self.base_url.clone())
            .sleep_with(move |delay| {
                clock.advance(delay);
                std::future::ready(())
            }))
    }

    /// A client for this server with the first key; see
    /// [`client_builder`](Self::client_builder).
    ///
    /// # Errors
    ///
    /// A configuration error if the client cannot be built.
    pub fn client(&self) -> Result<linkt::Client, linkt::Error> {
        self.client_builder(self.api_key())?.build()
    }

    /// A client for this server with `key`.
    ///
    /// # Errors
    ///
    /// A configuration error if `key` is not a valid API key.
    pub fn client_for(&self, key: &str) -> Result<linkt::Client, linkt::Error> {
        self.client_builder(key)?.build()
    }

    /// The exchanges answered so far, oldest first (at most
    /// [`JOURNAL_LIMIT`]).
    pub fn journal(&self) -> Vec<Exchange> {
        lock(&self.shared.journal).iter().cloned().collect()
    }

    /// Empties the journal.
    pub fn clear_journal(&self) {
        lock(&self.shared.journal).clear();
    }

    /// The drift injected so far ([`MockServerBuilder::drift`]), oldest
    /// first: one entry per answer and kind applied, at most
    /// [`JOURNAL_LIMIT`] (the oldest are dropped). Empty without drift.
    pub fn injected_drift(&self) -> Vec<InjectedDrift> {
        lock(&self.shared.injected).iter().cloned().collect()
    }

    /// Empties the record of injected drift.
    pub fn clear_injected_drift(&self) {
        lock(&self.shared.injected).clear();
    }

    /// Responses that did not match the spec. Always empty unless the
    /// server has a bug; tests should assert it.
    pub fn spec_violations(&self) -> Vec<Violation> {
        lock(&self.shared.violations).clone()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

struct KeyEntry {
    key: String,
    org: usize,
    plan: Plan,
    read_only: bool,
}

#[derive(Clone, Copy, Debug, Default)]
struct Window {
    minute: i64,
    minute_count: u32,
    day: i64,
    day_count: u32,
}

/// The rate-limit headers of a response, or a 429's retry delay.
struct Quota {
    limit: u32,
    remaining: u32,
    reset: i64,
}

impl Window {
    fn check(&mut self, plan: &Plan, now: DateTime<Utc>) -> Result<Option<Quota>, Quota> {
        let ts = now.timestamp();
        let (minute, day) = (ts.div_euclid(60), ts.div_euclid(86_400));
        if minute != self.minute {
            self.minute = minute;
            self.minute_count = 0;
        }
        if day != self.day {
            self.day = day;
            self.day_count = 0;
        }
        let to_minute = 60 - ts.rem_euclid(60);
        let to_day = 86_400 - ts.rem_euclid(86_400);
        let (per_minute, per_day) = (plan.per_minute(), plan.per_day());
        if per_day > 0 && self.day_count >= per_day {
            return Err(Quota {
                limit: per_day,
                remaining: 0,
                reset: to_day,
            });
        }
        if per_minute > 0 && self.minute_count >= per_minute {
            return Err(Quota {
                limit: per_minute,
                remaining: 0,
                reset: to_minute,
            });
        }
        self.minute_count += 1;
        self.day_count += 1;
        let minute_quota = (per_minute > 0).then(|| Quota {
            limit: per_minute,
            remaining: per_minute - self.minute_count,
            reset: to_minute,
        });
        let day_quota = (per_day > 0).then(|| Quota {
            limit: per_day,
            remaining: per_day - self.day_count,
            reset: to_day,
        });
        Ok(match (minute_quota, day_quota) {
            (Some(m), Some(d)) if d.remaining < m.remaining => Some(d),
            (Some(m), _) => Some(m),
            (None, d) => d,
        })
    }
}

struct Shared {
    spec: &'static Spec,
    keys: Vec<KeyEntry>,
    windows: Mutex<Vec<Window>>,
    store: Mutex<Store>,
    clock: Clock,
    faults: Faults,
    settings: Settings,
    check_responses: bool,
    drift: Drift,
    journal: Mutex<VecDeque<Exchange>>,
    injected: Mutex<VecDeque<InjectedDrift>>,
    violations: Mutex<Vec<Violation>>,
    requests: AtomicU64,
}

/// What the server answers, before headers common to every response.
struct Answer {
    status: u16,
    body: bytes::Bytes,
    content_type: Option<&'static str>,
    headers: Vec<(HeaderName, HeaderValue)>,
    /// Check against the spec (off for injected faults).
    check: bool,
    /// How the body goes on the wire.
    delivery: Delivery,
}

impl Answer {
    fn json(status: u16, value: &Value) -> Answer {
        Answer {
            status,
            body: serde_json::to_vec(value).unwrap_or_default().into(),
            content_type: Some("application/json"),
            headers: Vec::new(),
            check: true,
            delivery: Delivery::Whole,
        }
    }

    fn detail(status: u16, detail: impl Into<String>) -> Answer {
        Answer::json(status, &json!({"detail": detail.into()}))
    }

    fn invalid(issues: &[Issue]) -> Answer {
        let detail: Vec<Value> = issues.iter().map(Issue::to_json).collect();
        Answer::json(422, &json!({"detail": detail}))
    }

    fn from_failure(failure: Failure) -> Answer {
        match failure {
            Failure::Message(status, detail) => Answer::detail(status, detail),
            Failure::Invalid(issues) => Answer::invalid(&issues),
        }
    }
}

/// The peer of a connection and its kill switch.
#[derive(Clone, Debug)]
struct Conn {
    killed: Arc<AtomicBool>,
}

impl Connected<IncomingStream<'_, KillableListener>> for Conn {
    fn connect_info(stream: IncomingStream<'_, KillableListener>) -> Self {
        stream.remote_addr().clone()
    }
}

struct KillableListener {
    inner: TcpListener,
}

impl axum::serve::Listener for KillableListener {
    type Io = KillableStream;
    type Addr = Conn;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let killed = Arc::new(AtomicBool::new(false));
                    return (
                        KillableStream {
                            inner: stream,
                            killed: killed.clone(),
                        },
                        Conn { killed },
                    );
                }
                Err(err) => {
                    tracing::debug!(error = %err, "accept failed");
                    // Out of descriptors and the like: back off briefly.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr().map(|_| Conn {
            killed: Arc::new(AtomicBool::new(false)),
        })
    }
}

/// A TCP stream that fails every write once killed.
struct KillableStream {
    inner: TcpStream,
    killed: Arc<AtomicBool>,
}

fn killed_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "connection dropped by fault injection",
    )
}

impl AsyncRead for KillableStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.killed.load(Ordering::SeqCst) {
            return Poll::Ready(Err(killed_error()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.killed.load(Ordering::SeqCst) {
            return Poll::Ready(Err(killed_error()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.killed.load(Ordering::SeqCst) {
            return Poll::Ready(Err(killed_error()));
        }
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Everything a request carries that the pipeline reads.
struct Incoming {
    method: Method,
    path: String,
    path_and_query: String,
    query: String,
    headers: HeaderMap,
    body: Body,
}

/// The vendor document as published (FastAPI serves it without authentication).
async fn openapi_json() -> Response {
    let mut response = Response::new(Body::from(crate::spec::SPEC_TEXT));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

async fn dispatch(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<Conn>,
    request: Request<Body>,
) -> Response {
    let (parts, body) = request.into_parts();
    let incoming = Incoming {
        method: parts.method.clone(),
        path: parts.uri.path().to_owned(),
        path_and_query: parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned()),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts.headers,
        body,
    };
    let number = shared.requests.fetch_add(1, Ordering::SeqCst) + 1;
    let request_id = format!("req_{number:012x}");
    let method = incoming.method.to_string();
    let path = incoming.path_and_query.clone();
    let (operation, answer) = pipeline(&shared, &conn, incoming).await;
    let at = shared.clock.now();
    let (status, body) = match &answer {
        Some(a) => (Some(a.status), a.body.clone()),
        None => (None, bytes::Bytes::new()),
    };
    tracing::debug!(
        request_id,
        method,
        path,
        operation = operation.as_deref().unwrap_or("-"),
        status = status.unwrap_or(0),
        "linkt-mock request"
    );
    {
        let mut journal = lock(&shared.journal);
        if journal.len() >= JOURNAL_LIMIT {
            journal.pop_front();
        }
        journal.push_back(Exchange {
            operation: operation.clone(),
            method,
            path,
            status,
            request_id: request_id.clone(),
            body,
            at,
        });
    }
    let answer = answer.unwrap_or_else(|| Answer::detail(500, "connection dropped"));
    let wire = delivery::wire(answer.delivery, answer.body);
    if let Some(wait) = wire.wait {
        tokio::time::sleep(wait).await;
    }
    let mut response = Response::new(wire.body);
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    if let Some(ct) = answer.content_type {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    for (name, value) in answer.headers {
        headers.insert(name, value);
    }
    if let Some(len) = wire.content_length {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
    }
    if wire.close {
        headers.insert(CONNECTION, HeaderValue::from_static("close"));
    }
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        headers.insert(HeaderName::from_static("x-request-id"), id);
    }
    response
}

fn header(name: &'static str, value: impl ToString) -> Option<(HeaderName, HeaderValue)> {
    HeaderValue::from_str(&value.to_string())
        .ok()
        .map(|v| (HeaderName::from_static(name), v))
}

fn quota_headers(quota: &Quota) -> Vec<(HeaderName, HeaderValue)> {
    [
        header(rate_limit_header::LIMIT, quota.limit),
        header(rate_limit_header::REMAINING, quota.remaining),
        header(rate_limit_header::RESET, quota.reset),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Runs the request through every stage; `None` means the connection was
/// dropped.
async fn pipeline(
    shared: &Shared,
    conn: &Conn,
    incoming: Incoming,
) -> (Option<String>, Option<Answer>) {
    let (op, path_params) = match shared.spec.route(incoming.method.as_str(), &incoming.path) {
        Route::Found(op, params) => (op, params),
        Route::MethodNotAllowed(allowed) => {
            let mut answer = Answer::detail(405, "Method Not Allowed");
            answer.check = false;
            answer.headers.extend(header("allow", allowed.join(", ")));
            return (None, Some(answer));
        }
        Route::NotFound => {
            let mut answer = Answer::detail(404, "Not Found");
            answer.check = false;
            return (None, Some(answer));
        }
    };
    let name = Some(op.name.clone());

    // Authentication.
    let key = incoming
        .headers
        .get(API_KEY_HEADER)
        .map(|v| v.as_bytes().to_vec());
    let Some(key) = key else {
        let detail = "unauthorized: missing API key; send it in the x-api-key header";
        return (
            name,
            Some(finish(shared, &op.name, Answer::detail(401, detail))),
        );
    };
    let Some(index) = shared
        .keys
        .iter()
        .position(|k| k.key.as_bytes() == key.as_slice())
    else {
        return (
            name,
            Some(finish(
                shared,
                &op.name,
                Answer::detail(401, "unauthorized: invalid API key"),
            )),
        );
    };
    let entry = &shared.keys[index];

    // Rate limit on the simulated clock.
    let quota = lock(&shared.windows)[index].check(&entry.plan, shared.clock.now());
    let quota_headers = match &quota {
        Ok(Some(q)) => quota_headers(q),
        Ok(None) => Vec::new(),
        Err(q) => {
            let mut answer = Answer::detail(429, "rate_limit_exceeded");
            answer.headers.extend(quota_headers(q));
            answer
                .headers
                .extend(header(rate_limit_header::RETRY_AFTER, q.reset.max(1)));
            return (name, Some(finish(shared, &op.name, answer)));
        }
    };
    let with_quota = |mut answer: Answer| {
        answer.headers.extend(quota_headers.iter().cloned());
        answer
    };

    // Injected faults. A cut or stalled body applies to the answer, below.
    let mut delivery = Delivery::Whole;
    if let Some(fault) = shared.faults.take(&op.name) {
        match fault {
            Fault::Status {
                status,
                retry_after,
            } => {
                let mut answer = Answer::detail(status, "injected fault");
                answer.check = false;
                if let Some(delay) = retry_after {
                    let secs = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
                    answer.headers.extend(header("retry-after", secs));
                }
                return (name, Some(with_quota(answer)));
            }
            Fault::Delay(delay) => tokio::time::sleep(delay.min(MAX_DELAY)).await,
            Fault::DropConnection => {
                conn.killed.store(true, Ordering::SeqCst);
                return (name, None);
            }
            Fault::MalformedBody => {
                let answer = Answer {
                    status: 200,
                    body: bytes::Bytes::from_static(b"{\"detail\": \"trunc"),
                    content_type: Some("application/json"),
                    headers: Vec::new(),
                    check: false,
                    delivery: Delivery::Whole,
                };
                return (name, Some(with_quota(answer)));
            }
            Fault::CutBody { sent, framing } => delivery = Delivery::Cut { sent, framing },
            Fault::StalledBody {
                sent,
                stall,
                framing,
            } => {
                delivery = Delivery::Stalled {
                    sent,
                    stall,
                    framing,
                };
            }
            Fault::Redirect { status, location } => {
                let mut answer = Answer {
                    status,
                    body: bytes::Bytes::new(),
                    content_type: None,
                    headers: Vec::new(),
                    check: false,
                    delivery: Delivery::Whole,
                };
                // Checked when the fault was armed.
                if let Ok(location) = HeaderValue::from_str(&location) {
                    answer.headers.push((LOCATION, location));
                }
                return (name, Some(with_quota(answer)));
            }
            Fault::HugeBody {
                len,
                filler,
                framing,
            } => {
                let answer = Answer {
                    status: 200,
                    body: bytes::Bytes::new(),
                    content_type: Some(match filler {
                        Filler::Json => "application/json",
                        Filler::Text => "text/plain; charset=utf-8",
                    }),
                    headers: Vec::new(),
                    check: false,
                    delivery: Delivery::Huge {
                        len,
                        filler,
                        framing,
                    },
                };
                return (name, Some(with_quota(answer)));
            }
        }
    }
    // Every answer from here on is the operation's, delivered as the fault
    // (if any) says.
    let with_quota = |answer: Answer| Answer {
        delivery,
        ..with_quota(answer)
    };

    if entry.read_only && incoming.method != Method::GET {
        let answer = Answer::detail(403, "forbidden: this API key is read-only");
        return (name, Some(finish(shared, &op.name, with_quota(answer))));
    }

    let bytes = match axum::body::to_bytes(incoming.body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            let mut answer = Answer::detail(413, "request body too large");
            answer.check = false;
            return (name, Some(with_quota(answer)));
        }
    };

    // Validation of path, query and body.
    let mut issues = Vec::new();
    let mut query = Map::new();
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(incoming.query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    for param in &op.params {
        match param.location {
            ParamIn::Path => {
                let mut value = path_params
                    .iter()
                    .find(|(k, _)| *k == param.name)
                    .map_or(Value::Null, |(_, v)| Value::String(v.clone()));
                let loc = [Loc::from("path"), Loc::Key(param.name.clone())];
                issues.extend(
                    shared
                        .spec
                        .check(&param.schema, &mut value, Mode::Request, &loc),
                );
            }
            ParamIn::Query => {
                let values: Vec<&String> = pairs
                    .iter()
                    .filter(|(k, _)| *k == param.name)
                    .map(|(_, v)| v)
                    .collect();
                let loc = [Loc::from("query"), Loc::Key(param.name.clone())];
                if values.is_empty() {
                    if param.required {
                        issues.push(Issue::new(
                            &loc,
                            "missing",
                            "Field required",
                            &Value::Null,
                            None,
                        ));
                    }
                    continue;
                }
                let is_array = param.schema.get("type").and_then(Value::as_str) == Some("array");
                let mut value = if is_array {
                    Value::Array(values.iter().map(|v| Value::String((*v).clone())).collect())
                } else {
                    Value::String(values.last().map(|v| (*v).clone()).unwrap_or_default())
                };
                issues.extend(
                    shared
                        .spec
                        .check(&param.schema, &mut value, Mode::Request, &loc),
                );
                query.insert(param.name.clone(), value);
            }
        }
    }
    let mut body = Value::Null;
    let mut upload = None;
    if let Some(spec_body) = &op.body {
        if spec_body.multipart {
            let content_type = incoming.headers.get(CONTENT_TYPE).cloned();
            match read_upload(content_type, bytes).await {
                Ok(u) => upload = u,
                Err(answer) => return (name, Some(finish(shared, &op.name, with_quota(answer)))),
            }
            if upload.is_none() {
                let loc = [Loc::from("body"), Loc::from("file")];
                issues.push(Issue::new(
                    &loc,
                    "missing",
                    "Field required",
                    &Value::Null,
                    None,
                ));
            }
        } else if bytes.is_empty() {
            if spec_body.required {
                issues.push(Issue::new(
                    &[Loc::from("body")],
                    "missing",
                    "Field required",
                    &Value::Null,
                    None,
                ));
            }
        } else {
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(mut value) => {
                    issues.extend(shared.spec.check(
                        &spec_body.schema,
                        &mut value,
                        Mode::Request,
                        &[Loc::from("body")],
                    ));
                    body = value;
                }
                Err(err) => {
                    // FastAPI decodes the body first and reports only that.
                    let answer = Answer::invalid(&[json_error(&bytes, &err)]);
                    return (name, Some(finish(shared, &op.name, with_quota(answer))));
                }
            }
        }
    }
    if !issues.is_empty() {
        return (
            name,
            Some(finish(
                shared,
                &op.name,
                with_quota(Answer::invalid(&issues)),
            )),
        );
    }

    // The operation itself, on the world as of now.
    let now = shared.clock.now();
    let outcome = {
        let mut store = lock(&shared.store);
        store.sync(now);
        let mut call = Call {
            org: entry.org,
            now,
            path: &path_params,
            query,
            body,
            upload,
            faults: &shared.faults,
            settings: &shared.settings,
        };
        handlers::handle(&op.name, &mut store, &mut call)
    };
    let answer = match outcome {
        Ok(Reply::Json(value)) => Answer::json(200, &value),
        Ok(Reply::Empty) => Answer {
            status: 204,
            body: bytes::Bytes::new(),
            content_type: None,
            headers: Vec::new(),
            check: true,
            delivery: Delivery::Whole,
        },
        Ok(Reply::Csv(text)) => Answer {
            status: 200,
            body: text.into(),
            content_type: Some("text/csv; charset=utf-8"),
            headers: header(
                "content-disposition",
                "attachment; filename=\"entities.csv\"",
            )
            .into_iter()
            .collect(),
            check: true,
            delivery: Delivery::Whole,
        },
        Err(failure) => Answer::from_failure(failure),
    };
    (name, Some(finish(shared, &op.name, with_quota(answer))))
}

/// FastAPI's 422 for a body that is not JSON.
fn json_error(bytes: &[u8], err: &serde_json::Error) -> Issue {
    let text = String::from_utf8_lossy(bytes);
    let mut position = 0;
    for (i, line) in text.split('\n').enumerate() {
        if i + 1 == err.line() {
            position += err.column().saturating_sub(1);
            break;
        }
        position += line.chars().count() + 1;
    }
    let loc = [Loc::from("body"), Loc::Index(position)];
    Issue::new(
        &loc,
        "json_invalid",
        "JSON decode error",
        &json!({}),
        Some(json!({"error": err.to_string()})),
    )
}

/// The `file` part of a multipart body; `Ok(None)` when there is none.
async fn read_upload(
    content_type: Option<HeaderValue>,
    bytes: bytes::Bytes,
) -> Result<Option<Upload>, Answer> {
    let is_multipart = content_type
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    let Some(content_type) = content_type.filter(|_| is_multipart) else {
        return Ok(None);
    };
    let request = Request::builder()
        .header(CONTENT_TYPE, content_type)
        .body(Body::from(bytes))
        .map_err(|_| Answer::detail(400, "There was an error parsing the body"))?;
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|_| Answer::detail(400, "There was an error parsing the body"))?;
    loop {
        let field = multipart
            .next_field()
            .await
            .map_err(|_| Answer::detail(400, "There was an error parsing the body"))?;
        let Some(field) = field else {
            return Ok(None);
        };
        if field.name() != Some("file") {
            continue;
        }
        let file_name = field.file_name().unwrap_or("upload.csv").to_owned();
        let content_type = field.content_type().map(str::to_owned);
        let bytes = field
            .bytes()
            .await
            .map_err(|_| Answer::detail(400, "There was an error parsing the body"))?;
        return Ok(Some(Upload {
            file_name,
            content_type,
            bytes,
        }));
    }
}

/// Checks an answer of the operation against the spec when it should be (a
/// mismatch becomes a 500 and a recorded [`Violation`]), then applies the
/// server's drift to it.
fn finish(shared: &Shared, operation: &str, answer: Answer) -> Answer {
    let answer = check_answer(shared, operation, answer);
    apply_drift(shared, operation, answer)
}

/// Applies the server's drift to a checked `2xx` answer of the operation,
/// and records what it changed.
fn apply_drift(shared: &Shared, operation: &str, mut answer: Answer) -> Answer {
    if shared.drift.is_none() || !answer.check || !(200..300).contains(&answer.status) {
        return answer;
    }
    let mut body = (answer.content_type == Some("application/json"))
        .then(|| serde_json::from_slice::<Value>(&answer.body).ok())
        .flatten();
    let applied = drift::apply(
        shared.drift,
        shared.spec,
        operation,
        answer.status,
        body.as_mut(),
    );
    if applied.body_changed
        && let Some(body) = &body
        && let Ok(bytes) = serde_json::to_vec(body)
    {
        answer.body = bytes.into();
    }
    answer.status = applied.status;
    if !applied.changes.is_empty() {
        let mut injected = lock(&shared.injected);
        for (kind, pointer) in applied.changes {
            if injected.len() >= JOURNAL_LIMIT {
                injected.pop_front();
            }
            injected.push_back(InjectedDrift {
                operation: operation.to_owned(),
                status: applied.status,
                kind,
                pointer,
            });
        }
    }
    answer
}

/// Checks an answer against the spec when it should be; a mismatch becomes
/// a 500 and a recorded [`Violation`].
fn check_answer(shared: &Shared, operation: &str, answer: Answer) -> Answer {
    if !(shared.check_responses && answer.check) {
        return answer;
    }
    match shared
        .spec
        .check_response(operation, answer.status, &answer.body)
    {
        Ok(()) => answer,
        Err(issues) => {
            let first = issues.first().map(ToString::to_string).unwrap_or_default();
            tracing::error!(operation, status = answer.status, %first, "linkt-mock response does not match the spec");
            lock(&shared.violations).push(Violation {
                operation: operation.to_owned(),
                status: answer.status,
                issues,
            });
            let mut replaced = Answer::detail(
                500,
                format!("linkt-mock produced a response that does not match the spec: {first}"),
            );
            replaced.headers = answer.headers;
            replaced.check = false;
            replaced.delivery = answer.delivery;
            replaced
        }
    }
}
