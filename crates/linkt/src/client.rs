//! Building a [`Client`]: credentials, endpoint, timeouts, retries, rate limits.
//!
//! Everything here ends up in [`ClientState`], the generated client's inner
//! value, which the hooks in `hooks.rs` read on every call. Nothing in this
//! module knows about individual operations.
//!
//! The `reqwest::Client` built here follows no redirect: a 3xx reaches the
//! hooks, which make it an error naming its target, so the key is only ever
//! sent to the configured origin. A client the user supplies keeps its own
//! redirect policy; the hooks then fail any call whose response came from
//! another URL than the request's (see [`ClientBuilder::reqwest_client`]).
//!
//! Response bodies the client buffers are read within limits: a JSON success
//! body within [`ClientBuilder::max_response_body`]
//! ([`DEFAULT_MAX_RESPONSE_BODY`] by default), a failure body within
//! [`MAX_ERROR_BODY`]. The CSV export is a stream and has no limit.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};
use linkt_auth::{ApiKey, Config, Environment};
use linkt_backoff::{LimiterBackend, Plan, RateLimit, RateLimiter, RetryPolicy};

use crate::{Client, Error, ResponseValue};

/// `User-Agent` sent with every request.
pub(crate) const USER_AGENT: &str = concat!("linkt-rust/", env!("CARGO_PKG_VERSION"));

/// Default timeout of a whole request (connect, send, and read the response).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default timeout of establishing a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Default time an idle connection is kept for reuse: 90 s, reqwest's.
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// Default limit of a JSON success body, in bytes: 64 MiB.
///
/// The largest page the API serves is `entity_list` at its maximum
/// `page_size` of 100: a hundred entities with their data, a few megabytes
/// even for entities rich in fields and signals. 64 MiB leaves an order of
/// magnitude of room above that while keeping a misbehaving server (or
/// proxy) from making one call hold gigabytes. Raise it with
/// [`ClientBuilder::max_response_body`].
pub const DEFAULT_MAX_RESPONSE_BODY: usize = 64 * 1024 * 1024;

/// Limit of a failure response's body, in bytes: 64 KiB. A FastAPI `detail`
/// (even a long list of validation issues) takes kilobytes; the error keeps
/// what was read up to the limit, and its excerpt is marked cut.
pub const MAX_ERROR_BODY: usize = 64 * 1024;

/// A sleep function: how the client waits between retries and for rate limits.
pub(crate) type SleepFn =
    Arc<dyn Fn(Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// The client's rate limiter: in this process, asked without a boxed future
/// on every attempt, or any [`LimiterBackend`] (such as a shared one in
/// Redis).
#[derive(Debug, Clone)]
pub(crate) enum Limiter {
    Local(RateLimiter),
    Backend(Arc<dyn LimiterBackend>),
}

/// Configuration shared by a [`Client`] and all its clones; the hooks read it.
#[derive(Clone)]
pub struct ClientState {
    pub(crate) api_key: HeaderValue,
    pub(crate) user_agent: HeaderValue,
    pub(crate) headers: HeaderMap,
    pub(crate) retry: RetryPolicy,
    pub(crate) limiter: Option<Limiter>,
    pub(crate) sleep: SleepFn,
    pub(crate) last_rate_limit: Arc<Mutex<Option<RateLimit>>>,
    /// Whether the `reqwest::Client` is the user's, whose redirect policy
    /// may follow redirects: the hooks then compare each response's URL with
    /// its request's.
    pub(crate) check_followed_redirects: bool,
    /// Most bytes of a JSON success body the hooks read.
    pub(crate) max_response_body: usize,
    /// Timeout of each request, when a [`Client::with_options`] view sets
    /// one (the `reqwest::Client`'s own applies otherwise).
    pub(crate) timeout: Option<Duration>,
    /// The base URL, parsed once for every call's URL.
    pub(crate) base_url: crate::support::BaseUrl,
}

impl fmt::Debug for ClientState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientState")
            .field("api_key", &"<redacted>")
            .field("user_agent", &self.user_agent)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("retry", &self.retry)
            .field("limiter", &self.limiter)
            .field("max_response_body", &self.max_response_body)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl ClientState {
    /// The retry policy in force.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// Rate-limit headers of the most recent response, if the server sent any.
    pub fn last_rate_limit(&self) -> Option<RateLimit> {
        self.last_rate_limit
            .lock()
            .map(|guard| guard.clone())
            .unwrap_or_default()
    }
}

impl Client {
    /// A client configured from the environment: `LINKT_API_KEY`, and
    /// `LINKT_BASE_URL` or `LINKT_ENVIRONMENT` (`production` by default).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), linkt::Error> {
    /// let client = linkt::Client::from_env()?;
    /// let icp = client.icp_retrieve().icp_id("507f1f77bcf86cd799439011").send().await?;
    /// println!("{}", icp.name);
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_env() -> Result<Client, Error> {
        Client::builder().from_env().build()
    }

    /// A builder for a client configured in code.
    ///
    /// ```
    /// use linkt::{ApiKey, Client, ErrorKind};
    ///
    /// let client = Client::builder()
    ///     .api_key(ApiKey::new("lk_test_0123456789")?)
    ///     .base_url("http://127.0.0.1:8080")
    ///     .build()?;
    /// # let _ = client;
    ///
    /// // Nothing is sent to a host other than loopback over plain http.
    /// let err = Client::builder()
    ///     .api_key(ApiKey::new("lk_test_0123456789")?)
    ///     .base_url("http://api.example.com")
    ///     .build()
    ///     .expect_err("cleartext to a remote host");
    /// assert_eq!(err.kind(), ErrorKind::Configuration);
    /// # Ok::<(), linkt::Error>(())
    /// ```
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Rate-limit headers of the most recent response, if the server sent any.
    pub fn last_rate_limit(&self) -> Option<RateLimit> {
        self.inner.last_rate_limit()
    }
}

/// Configures a [`Client`].
///
/// # Defaults
///
/// - base URL: production (`https://api.linkt.ai`);
/// - timeouts: 60 s per request, 5 s to connect;
/// - retries: [`RetryPolicy::default()`] (2 retries, exponential backoff with
///   jitter, non-idempotent requests retried only when provably not processed);
/// - no client-side rate limiting;
/// - no redirects followed: a 3xx response is an error
///   ([`ErrorKind::UnexpectedStatus`](crate::ErrorKind::UnexpectedStatus),
///   with its status) whose message names the `Location` without userinfo,
///   query or fragment; it is never retried;
/// - `User-Agent: linkt-rust/<version>`, after the application's product
///   token when [`ClientBuilder::default_header`] gives one;
/// - JSON success bodies of at most [`DEFAULT_MAX_RESPONSE_BODY`] (64 MiB;
///   see [`Self::max_response_body`]); failure bodies read up to
///   [`MAX_ERROR_BODY`] (64 KiB); the CSV export streamed without a limit;
/// - connections pooled with no cap on idle ones, each kept for
///   [`DEFAULT_POOL_IDLE_TIMEOUT`] (90 s; see [`Self::pool_max_idle_per_host`]).
///
/// ```
/// use std::time::Duration;
/// use linkt::{ApiKey, Client, Plan, RetryPolicy};
///
/// let client = Client::builder()
///     .api_key(ApiKey::new("lk_test_0123456789")?)
///     .timeout(Duration::from_secs(30))
///     .retry_policy(RetryPolicy::new().with_max_retries(4).with_deadline(Duration::from_secs(60)))
///     .rate_limit(Plan::Pro)
///     .default_header("User-Agent", "myapp/1.2")
///     .build()?;
/// # let _ = client;
/// # Ok::<(), linkt::Error>(())
/// ```
#[must_use]
pub struct ClientBuilder {
    config: linkt_auth::ConfigBuilder,
    read_env: bool,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryPolicy,
    limiter: Option<Limiter>,
    headers: HeaderMap,
    header_error: Option<String>,
    http: Option<reqwest::Client>,
    sleep: Option<SleepFn>,
    max_response_body: usize,
    pool_max_idle_per_host: usize,
    pool_idle_timeout: Option<Duration>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            config: Config::builder(),
            read_env: false,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            retry: RetryPolicy::default(),
            limiter: None,
            headers: HeaderMap::new(),
            header_error: None,
            http: None,
            sleep: None,
            max_response_body: DEFAULT_MAX_RESPONSE_BODY,
            pool_max_idle_per_host: usize::MAX,
            pool_idle_timeout: Some(DEFAULT_POOL_IDLE_TIMEOUT),
        }
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .field("read_env", &self.read_env)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("retry", &self.retry)
            .field("limiter", &self.limiter)
            .field("max_response_body", &self.max_response_body)
            .field("pool_max_idle_per_host", &self.pool_max_idle_per_host)
            .field("pool_idle_timeout", &self.pool_idle_timeout)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// The API key. Takes precedence over `LINKT_API_KEY`.
    pub fn api_key(mut self, key: ApiKey) -> Self {
        self.config = self.config.api_key(key);
        self
    }

    /// A named environment (production or staging). Giving both an
    /// environment and a base URL (here or in `LINKT_BASE_URL`) is an error.
    pub fn environment(mut self, environment: Environment) -> Self {
        self.config = self.config.environment(environment);
        self
    }

    /// An explicit base URL, e.g. `http://127.0.0.1:8080` for a local server.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.config = self.config.base_url(base_url);
        self
    }

    /// Fill what was not given in code from `LINKT_API_KEY`, `LINKT_BASE_URL`
    /// and `LINKT_ENVIRONMENT`.
    pub fn from_env(mut self) -> Self {
        self.read_env = true;
        self
    }

    /// Allow sending the key over plain `http://` to a host other than
    /// loopback. Off by default; loopback is always allowed.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.config = self.config.allow_insecure_http(allow);
        self
    }

    /// Timeout of a whole request. Ignored with [`Self::reqwest_client`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Timeout of establishing a connection. Ignored with [`Self::reqwest_client`].
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Most idle connections kept open for reuse (to the API's one host);
    /// no limit by default. Ignored with [`Self::reqwest_client`].
    ///
    /// Every call in flight needs a connection of its own (HTTP/1.1), and a
    /// connection that is not kept when its call ends must be opened again,
    /// with its TCP and TLS handshakes, by the next call. With no limit the
    /// pool holds as many connections as the most calls that were ever in
    /// flight at once, each until it has been idle for
    /// [`Self::pool_idle_timeout`]: that is what keeps a burst of 128
    /// concurrent calls on 128 connections rather than opening new ones
    /// for most of its calls. Set a limit to hold fewer sockets between
    /// bursts, at the cost of reconnecting when concurrency rises above it.
    pub fn pool_max_idle_per_host(mut self, connections: usize) -> Self {
        self.pool_max_idle_per_host = connections;
        self
    }

    /// How long an idle connection is kept for reuse
    /// ([`DEFAULT_POOL_IDLE_TIMEOUT`], 90 s, by default); `None` keeps it
    /// until the server closes it. Ignored with [`Self::reqwest_client`].
    pub fn pool_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }

    /// The retry policy; [`RetryPolicy::none()`] disables retries.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The most bytes of a JSON success body the client reads
    /// ([`DEFAULT_MAX_RESPONSE_BODY`], 64 MiB, by default).
    ///
    /// A body with a larger `Content-Length` is refused before it is read;
    /// one without is read chunk by chunk and abandoned (the connection
    /// closed) as soon as it passes the limit, so a call holds at most about
    /// this much. Either way the call fails with
    /// [`ErrorKind::BodyTooLarge`](crate::ErrorKind::BodyTooLarge), which
    /// keeps the status and headers and names the limit, and is not retried.
    /// The CSV export (`entity_export`) is a stream and is not limited;
    /// failure bodies have their own limit, [`MAX_ERROR_BODY`].
    pub fn max_response_body(mut self, bytes: usize) -> Self {
        self.max_response_body = bytes;
        self
    }

    /// Pace calls client-side to a plan's limits, shared by all clones (an
    /// in-process [`RateLimiter`]). Replaces any [`Self::rate_limiter`].
    ///
    /// Before each attempt the client reserves a slot and waits for it. A
    /// quota whose next slot is more than 60 s away is not waited for: the
    /// request goes and the server answers. With a retry policy
    /// [`deadline`](RetryPolicy::with_deadline), an attempt whose wait would
    /// end past the deadline is not made: the call fails at once with
    /// [`ErrorKind::RateLimiter`](crate::ErrorKind::RateLimiter) (the wait
    /// as its `retry_after`), and the refused slot stays free.
    pub fn rate_limit(mut self, plan: Plan) -> Self {
        self.limiter = Some(Limiter::Local(RateLimiter::new(plan)));
        self
    }

    /// Pace calls with `backend`, whose state may be shared beyond this
    /// process, e.g. `linkt_ratelimit_redis::RedisLimiter` to share a plan's
    /// budget among many workers. The pacing rules of [`Self::rate_limit`]
    /// apply; a backend that cannot reach its store follows its own policy
    /// (pace in this process, or fail the call with
    /// [`ErrorKind::RateLimiter`](crate::ErrorKind::RateLimiter)). Replaces
    /// any [`Self::rate_limit`].
    ///
    /// ```
    /// use linkt::{ApiKey, Client, Plan, RateLimiter};
    ///
    /// // Any `LimiterBackend`; here the in-process one, shared by two clients.
    /// let limiter = RateLimiter::new(Plan::Free);
    /// let key = || ApiKey::new("lk_test_0123456789");
    /// let a = Client::builder().api_key(key()?).rate_limiter(limiter.clone()).build()?;
    /// let b = Client::builder().api_key(key()?).rate_limiter(limiter).build()?;
    /// # let _ = (a, b);
    /// # Ok::<(), linkt::Error>(())
    /// ```
    pub fn rate_limiter<B: LimiterBackend>(mut self, backend: B) -> Self {
        self.limiter = Some(Limiter::Backend(Arc::new(backend)));
        self
    }

    /// A header sent with every request. An invalid name or value is reported
    /// by [`Self::build`], as is a header the client sets itself
    /// ([`ErrorKind::Configuration`](crate::ErrorKind::Configuration), naming
    /// the header):
    ///
    /// - `x-api-key`: set with [`Self::api_key`];
    /// - `Accept`: every operation asks for what it decodes;
    /// - `Content-Type`, `Content-Length`, `Transfer-Encoding`: the body
    ///   sets them;
    /// - `Host`, `Connection`, `Keep-Alive`, `Proxy-Connection`, `TE`,
    ///   `Trailer`, `Upgrade`, `Expect`: the connection's, set by the HTTP
    ///   client (a wrong one can misroute a call or leave it hanging);
    /// - `x-linkt-retry-count`: the attempt number, set on every attempt.
    ///
    /// `User-Agent` is kept in front of the client's own product token:
    /// `default_header("User-Agent", "myapp/1.2")` sends
    /// `User-Agent: myapp/1.2 linkt-rust/<version>`.
    pub fn default_header(mut self, name: &str, value: &str) -> Self {
        match checked_header(name, value) {
            Ok((name, value)) => {
                self.headers.insert(name, value);
            }
            // The first error is reported: a valid header given later does
            // not hide it.
            Err(error) => {
                self.header_error.get_or_insert(error);
            }
        }
        self
    }

    /// Use this `reqwest::Client` (its own timeouts, proxies, TLS) instead of
    /// building one. The key, user agent and default headers are still added
    /// to every request.
    ///
    /// # Redirects
    ///
    /// The key goes wherever this client's redirect policy sends the request:
    /// reqwest's default policy follows up to 10 redirects, to any host and
    /// over plain `http://`; when the origin changes it removes
    /// `Authorization` and cookies, never `x-api-key`; and it replays a
    /// `POST` answered 301, 302 or 303 as a `GET`. This builder cannot
    /// change that policy, so build the client with
    /// `.redirect(reqwest::redirect::Policy::none())`: a 3xx is then the same
    /// error as with the default client.
    ///
    /// The hooks check what they can after the fact: a call whose response
    /// comes from another URL than its request's (a redirect was followed)
    /// fails with [`ErrorKind::InvalidRequest`](crate::ErrorKind::InvalidRequest)
    /// naming that URL, instead of returning the redirected answer, and is not
    /// retried. By then the request, and the key, have reached that URL.
    pub fn reqwest_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Replace how the client sleeps between retries and for rate limits, e.g.
    /// to record delays in tests instead of waiting. Defaults to `tokio::time::sleep`.
    pub fn sleep_with<F, Fut>(mut self, sleep: F) -> Self
    where
        F: Fn(Duration) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.sleep = Some(Arc::new(move |d| Box::pin(sleep(d))));
        self
    }

    /// Builds the client. Fails on a missing or malformed key, an ambiguous or
    /// invalid base URL, plain `http://` to a non-loopback host, or an invalid
    /// default header or one the client sets itself, before any request is
    /// sent.
    pub fn build(self) -> Result<Client, Error> {
        if let Some(message) = self.header_error {
            return Err(Error::configuration(message));
        }
        let config = if self.read_env {
            self.config.build_with_env()
        } else {
            self.config.build()
        }?;

        let check_followed_redirects = self.http.is_some();
        let http = match self.http {
            Some(http) => http,
            None => build_http(&Transport {
                timeout: self.timeout,
                connect_timeout: self.connect_timeout,
                pool_max_idle_per_host: self.pool_max_idle_per_host,
                pool_idle_timeout: self.pool_idle_timeout,
            })?,
        };
        let mut headers = self.headers;
        let user_agent = match headers.remove(http::header::USER_AGENT) {
            None => HeaderValue::from_static(USER_AGENT),
            Some(product) => product_before(&product, &HeaderValue::from_static(USER_AGENT))?,
        };
        let state = ClientState {
            max_response_body: self.max_response_body,
            api_key: config.api_key().header_value(),
            user_agent,
            headers,
            retry: self.retry,
            limiter: self.limiter,
            sleep: self
                .sleep
                .unwrap_or_else(|| Arc::new(|d| Box::pin(tokio::time::sleep(d)))),
            last_rate_limit: Arc::default(),
            check_followed_redirects,
            timeout: None,
            base_url: crate::support::BaseUrl::new(config.base_url()),
        };
        Ok(Client::new_with_client(config.base_url(), http, state))
    }
}

/// `product` in front of the user agent `ours`: `myapp/1.2 linkt-rust/0.3.0`.
fn product_before(product: &HeaderValue, ours: &HeaderValue) -> Result<HeaderValue, Error> {
    let mut joined = product.as_bytes().to_vec();
    joined.push(b' ');
    joined.extend_from_slice(ours.as_bytes());
    HeaderValue::from_bytes(&joined)
        .map_err(|_| Error::configuration("invalid value for header `User-Agent`"))
}

/// A header given by the user, parsed, or the message of the error that
/// refuses it: an invalid name or value, or one the client sets itself
/// ([`owned_header`]).
pub(crate) fn checked_header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), String> {
    let header = HeaderName::try_from(name).map_err(|_| format!("invalid header name `{name}`"))?;
    let value =
        HeaderValue::try_from(value).map_err(|_| format!("invalid value for header `{name}`"))?;
    match owned_header(&header) {
        None => Ok((header, value)),
        Some(reason) => Err(format!(
            "header `{name}` cannot be set by the caller: {reason}"
        )),
    }
}

/// Why a header named `name` is refused as a default or per-call header,
/// when the client sets it itself; see [`ClientBuilder::default_header`].
fn owned_header(name: &HeaderName) -> Option<&'static str> {
    use http::header;
    if name == linkt_auth::API_KEY_HEADER_NAME {
        return Some("the api key is set with `api_key`");
    }
    if name == crate::hooks::RETRY_COUNT_HEADER {
        return Some("the client sets it on every attempt");
    }
    match *name {
        header::ACCEPT => Some("every operation sets its own"),
        header::CONTENT_TYPE | header::CONTENT_LENGTH | header::TRANSFER_ENCODING => {
            Some("the request body sets it")
        }
        header::HOST
        | header::CONNECTION
        | header::TE
        | header::TRAILER
        | header::UPGRADE
        | header::EXPECT => Some("the http client sets it for the connection"),
        _ if name == "keep-alive" || name == "proxy-connection" => {
            Some("the http client sets it for the connection")
        }
        _ => None,
    }
}

/// The settings of the `reqwest::Client` the builder makes.
struct Transport {
    timeout: Duration,
    connect_timeout: Duration,
    pool_max_idle_per_host: usize,
    pool_idle_timeout: Option<Duration>,
}

fn build_http(builder: &Transport) -> Result<reqwest::Client, Error> {
    // rustls takes the process's crypto provider: one the application
    // installed wins, else ring (feature `rustls`). With `native-tls` on,
    // reqwest uses the platform's TLS instead and rustls is not asked.
    #[cfg(all(feature = "rustls", not(feature = "native-tls")))]
    let _ = rustls::crypto::ring::default_provider().install_default();
    #[cfg(all(feature = "rustls-no-provider", not(feature = "native-tls")))]
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        return Err(Error::configuration(
            "no rustls crypto provider is installed: install one (such as \
             `rustls::crypto::aws_lc_rs::default_provider().install_default()`) \
             before building the client, or enable the `rustls` feature",
        ));
    }
    reqwest::Client::builder()
        .timeout(builder.timeout)
        .connect_timeout(builder.connect_timeout)
        // reqwest's defaults unless configured: no cap on idle connections,
        // so a connection per call in flight is kept and reused however
        // many calls are in flight (see `pool_max_idle_per_host`).
        .pool_max_idle_per_host(builder.pool_max_idle_per_host)
        .pool_idle_timeout(builder.pool_idle_timeout)
        // The API does not redirect. Following would send the key to wherever
        // a `Location` points (reqwest removes `Authorization`, not
        // `x-api-key`) and replay a `POST` answered 302 as a `GET`; the
        // hooks make a 3xx an error naming its target instead.
        .redirect(reqwest::redirect::Policy::none())
        // Retries are the client's own. reqwest's own layer (HTTP/2 protocol
        // NACKs, which this HTTP/1.1 build never sees) would still copy every
        // request in case it retried; with no retries allowed it copies none.
        .retry(reqwest::retry::never().max_retries_per_request(0))
        .build()
        .map_err(|err| Error::configuration(format!("building the http client: {err}")))
}

/// Options for the calls made through one view of a [`Client`]; see
/// [`Client::with_options`]. Anything not set keeps the client's setting.
///
/// ```
/// use std::time::Duration;
/// use linkt::{CallOptions, RetryPolicy};
///
/// let options = CallOptions::new()
///     .timeout(Duration::from_secs(5))
///     .retry_policy(RetryPolicy::none())
///     .header("x-correlation-id", "batch-7");
/// # let _ = options;
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct CallOptions {
    timeout: Option<Duration>,
    retry: Option<RetryPolicy>,
    max_response_body: Option<usize>,
    headers: Vec<(String, String)>,
}

impl fmt::Debug for CallOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values may be credentials of their own: names only.
        f.debug_struct("CallOptions")
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("max_response_body", &self.max_response_body)
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl CallOptions {
    /// No options: every call keeps the client's settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Timeout of each request (each attempt: connect, send and read the
    /// response), in place of the client's ([`DEFAULT_TIMEOUT`] by default).
    /// The whole call, retries included, is bounded by the retry policy's
    /// [`deadline`](RetryPolicy::with_deadline).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The retry policy, in place of the client's.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// The most bytes of a JSON success body, in place of the client's
    /// ([`ClientBuilder::max_response_body`]).
    pub fn max_response_body(mut self, bytes: usize) -> Self {
        self.max_response_body = Some(bytes);
        self
    }

    /// A header sent with every call, in place of a default header of the
    /// same name. The rules of [`ClientBuilder::default_header`] apply, and
    /// a header they refuse makes [`Client::with_options`] fail.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

impl Client {
    /// A view of this client whose calls use `options`, sharing its
    /// connection pool, rate limiter and rate-limit record: as cheap as a
    /// clone, so it can be made for a single call.
    ///
    /// Fails, before anything is sent, when a header is invalid or one the
    /// client sets itself ([`ErrorKind::Configuration`](crate::ErrorKind::Configuration),
    /// naming it).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use linkt::{CallOptions, Client, RetryPolicy};
    ///
    /// # async fn run() -> Result<(), linkt::Error> {
    /// let client = Client::from_env()?;
    /// // One call that must answer fast and not be retried.
    /// let icps = client
    ///     .with_options(CallOptions::new().timeout(Duration::from_secs(2)).retry_policy(RetryPolicy::none()))?
    ///     .icp_list()
    ///     .send()
    ///     .await?;
    /// println!("{} ICPs", icps.total);
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_options(&self, options: CallOptions) -> Result<Client, Error> {
        let mut state = self.inner.clone();
        if let Some(timeout) = options.timeout {
            state.timeout = Some(timeout);
        }
        if let Some(retry) = options.retry {
            state.retry = retry;
        }
        if let Some(bytes) = options.max_response_body {
            state.max_response_body = bytes;
        }
        for (name, value) in &options.headers {
            let (name, value) = checked_header(name, value).map_err(Error::configuration)?;
            if name == http::header::USER_AGENT {
                state.user_agent = product_before(&value, &state.user_agent)?;
            } else {
                state.headers.insert(name, value);
            }
        }
        Ok(Client::new_with_client(
            &self.baseurl,
            self.client.clone(),
            state,
        ))
    }
}

/// Rate-limit information on a successful response.
pub trait ResponseExt {
    /// The rate-limit headers of this response, if the server sent any.
    fn rate_limit(&self) -> Option<RateLimit>;
    /// The `x-request-id` of this response, if any.
    fn request_id(&self) -> Option<&str>;
}

impl<T> ResponseExt for ResponseValue<T> {
    fn rate_limit(&self) -> Option<RateLimit> {
        RateLimit::from_headers(self.headers(), std::time::SystemTime::now())
    }

    fn request_id(&self) -> Option<&str> {
        self.headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
    }
}
