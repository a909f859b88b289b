#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod script;

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use linkt_auth::ApiKey;
use linkt_backoff::{BoxFuture, LimiterBackend, Plan, RateLimit, RateLimiter, ReserveError};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sha2::{Digest as _, Sha256};

use crate::script::{DAY_BUCKET_US, Keys, MINUTE_BUCKET_US};

/// Default prefix of the limiter's Redis keys.
pub const DEFAULT_KEY_PREFIX: &str = "linkt:ratelimit";

/// Default timeout of one Redis command (connecting included): 500 ms.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(500);

/// Default time Redis is left alone after it failed: 1 s.
pub const DEFAULT_RECHECK_AFTER: Duration = Duration::from_secs(1);

/// Default cap on waiting for a slot: 60 s, as the in-process limiter's.
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(60);

/// What a [`RedisLimiter`] does when Redis cannot be asked (refused
/// connection, error, or no answer within the timeout).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum OnUnavailable {
    /// Pace in this process alone, with an in-process [`RateLimiter`] for
    /// the same plan, and log a `tracing` warning when Redis is lost (and
    /// an info line when it is back). The default: calls go on, but each
    /// process may then use the whole plan, so N workers can overshoot it
    /// up to N times until Redis answers again.
    #[default]
    FallBack,
    /// Fail the call before anything is sent:
    /// `ReserveError::Unavailable` from the limiter, which the client
    /// returns as `ErrorKind::RateLimiter`. For workers that must never
    /// overshoot the plan.
    Fail,
}

/// Whose budget a limiter paces: every worker with the same scope (and
/// key prefix) on the same Redis shares one.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Scope(String);

impl Scope {
    /// An organization, by name (the plan is the organization's). The name
    /// is kept readable in the key, with every byte outside
    /// `A-Z a-z 0-9 . _ -` written as `%XX`.
    ///
    /// # Errors
    ///
    /// [`BuildError::EmptyOrganization`] for an empty name.
    pub fn organization(name: &str) -> Result<Scope, BuildError> {
        if name.is_empty() {
            return Err(BuildError::EmptyOrganization);
        }
        let mut scope = String::from("org:");
        for byte in name.bytes() {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-') {
                scope.push(char::from(byte));
            } else {
                scope.push_str(&format!("%{byte:02X}"));
            }
        }
        Ok(Scope(scope))
    }

    /// An API key, by fingerprint: the first 16 bytes of the SHA-256 of
    /// the key, in hex. The key itself is never sent to Redis.
    pub fn api_key(key: &ApiKey) -> Scope {
        Scope(format!("key:{}", fingerprint(key)))
    }

    /// The scope as it appears in the keys (`org:acme`, `key:3f2a…`).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scope({})", self.0)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A key's fingerprint: hex of the first 16 bytes of its SHA-256.
fn fingerprint(key: &ApiKey) -> String {
    let digest = Sha256::digest(key.expose_secret().as_bytes());
    digest
        .iter()
        .take(16)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Why a [`RedisLimiter`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The Redis URL does not parse (`redis://host:port/db`,
    /// `redis+unix:///path`).
    #[error("invalid redis url: {0}")]
    Url(#[source] redis::RedisError),
    /// Neither [`RedisLimiterBuilder::organization`] nor
    /// [`RedisLimiterBuilder::api_key`] (nor [`RedisLimiterBuilder::scope`])
    /// was given.
    #[error("no scope: give the organization or the api key whose budget is shared")]
    MissingScope,
    /// The organization's name is empty.
    #[error("the organization name is empty")]
    EmptyOrganization,
    /// The key prefix is empty or holds `{`, `}` or whitespace.
    #[error("invalid key prefix {0:?}: it must be non-empty, without braces or whitespace")]
    InvalidPrefix(String),
    /// The command timeout is zero.
    #[error("the redis command timeout must be more than zero")]
    ZeroTimeout,
}

/// Why Redis could not be asked; the source of
/// `ReserveError::Unavailable` under [`OnUnavailable::Fail`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisUnavailable {
    /// Redis answered with an error, or the connection failed.
    #[error("redis error: {0}")]
    Redis(#[source] redis::RedisError),
    /// Redis did not answer within the command timeout.
    #[error("redis did not answer within {0:?}")]
    Timeout(Duration),
    /// Redis failed less than [`RedisLimiterBuilder::recheck_after`] ago
    /// and is not asked again yet.
    #[error("redis failed {0:?} ago and is not asked again yet")]
    RecentlyFailed(Duration),
    /// The script answered something it never answers.
    #[error("unexpected answer from the rate-limit script: {0}")]
    Protocol(String),
}

/// A rate limiter whose state is in Redis: every worker (task, process,
/// host) with the same [`Scope`] shares one budget of the [`Plan`].
///
/// Cheap to clone (clones share the connection); give it to each client
/// with `linkt::ClientBuilder::rate_limiter`. It needs a tokio runtime,
/// and connects on first use.
///
/// ```no_run
/// use linkt::{ApiKey, Client, Plan};
/// use linkt_ratelimit_redis::RedisLimiter;
///
/// # fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let limiter = RedisLimiter::builder("redis://127.0.0.1:6379/", Plan::Pro)
///     .organization("acme")
///     .build()?;
/// let client = Client::builder()
///     .api_key(ApiKey::new(std::env::var("LINKT_API_KEY")?)?)
///     .rate_limiter(limiter)
///     .build()?;
/// # let _ = client;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    connection: tokio::sync::OnceCell<ConnectionManager>,
    keys: Keys,
    scope: Scope,
    plan: Plan,
    max_wait: Duration,
    timeout: Duration,
    recheck_after: Duration,
    on_unavailable: OnUnavailable,
    /// Paces while Redis cannot be asked, under [`OnUnavailable::FallBack`].
    fallback: RateLimiter,
    /// When Redis last failed, while it is considered lost.
    lost_since: Mutex<Option<Instant>>,
    reserve: redis::Script,
    hold: redis::Script,
}

impl fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the URL: it may carry a password.
        let inner = &self.inner;
        f.debug_struct("RedisLimiter")
            .field("scope", &inner.scope)
            .field("plan", &inner.plan)
            .field("max_wait", &inner.max_wait)
            .field("timeout", &inner.timeout)
            .field("on_unavailable", &inner.on_unavailable)
            .field("key_prefix", &inner.keys.hold.split(":{").next())
            .finish_non_exhaustive()
    }
}

/// Configures a [`RedisLimiter`]; see [`RedisLimiter::builder`].
#[must_use]
pub struct RedisLimiterBuilder {
    url: String,
    plan: Plan,
    scope: Option<Result<Scope, BuildError>>,
    prefix: String,
    max_wait: Duration,
    timeout: Duration,
    recheck_after: Duration,
    on_unavailable: OnUnavailable,
}

impl fmt::Debug for RedisLimiterBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLimiterBuilder")
            .field("plan", &self.plan)
            .field("scope", &self.scope)
            .field("prefix", &self.prefix)
            .field("max_wait", &self.max_wait)
            .field("timeout", &self.timeout)
            .field("recheck_after", &self.recheck_after)
            .field("on_unavailable", &self.on_unavailable)
            .finish_non_exhaustive()
    }
}

impl RedisLimiter {
    /// A builder for a limiter pacing `plan` in the Redis at `url`
    /// (`redis://[user:password@]host:port/db`).
    ///
    /// # Defaults
    ///
    /// - key prefix [`DEFAULT_KEY_PREFIX`];
    /// - [`DEFAULT_MAX_WAIT`] (60 s) cap on waiting;
    /// - [`DEFAULT_TIMEOUT`] (500 ms) per Redis command, connecting included;
    /// - [`OnUnavailable::FallBack`], Redis asked again
    ///   [`DEFAULT_RECHECK_AFTER`] (1 s) after it failed.
    pub fn builder(url: impl Into<String>, plan: Plan) -> RedisLimiterBuilder {
        RedisLimiterBuilder {
            url: url.into(),
            plan,
            scope: None,
            prefix: DEFAULT_KEY_PREFIX.to_owned(),
            max_wait: DEFAULT_MAX_WAIT,
            timeout: DEFAULT_TIMEOUT,
            recheck_after: DEFAULT_RECHECK_AFTER,
            on_unavailable: OnUnavailable::default(),
        }
    }

    /// The scope whose budget is paced.
    pub fn scope(&self) -> &Scope {
        &self.inner.scope
    }

    /// The Redis keys this limiter uses (see the crate docs).
    pub fn keys(&self) -> [&str; 5] {
        self.inner.keys.all()
    }

    /// Whether Redis is currently considered lost (the last command
    /// failed, less than [`RedisLimiterBuilder::recheck_after`] ago or
    /// not asked since).
    pub fn is_redis_lost(&self) -> bool {
        self.inner.lost().is_some()
    }
}

impl RedisLimiterBuilder {
    /// Shares the budget of an organization, by name.
    pub fn organization(mut self, name: &str) -> Self {
        self.scope = Some(Scope::organization(name));
        self
    }

    /// Shares the budget of an API key, by its fingerprint (never the key).
    pub fn api_key(mut self, key: &ApiKey) -> Self {
        self.scope = Some(Ok(Scope::api_key(key)));
        self
    }

    /// Shares the budget of `scope`.
    pub fn scope(mut self, scope: Scope) -> Self {
        self.scope = Some(Ok(scope));
        self
    }

    /// The prefix of every key ([`DEFAULT_KEY_PREFIX`] by default), e.g. to
    /// keep two environments apart in one Redis.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The longest wait a reservation imposes, and the longest server reset
    /// it honours ([`DEFAULT_MAX_WAIT`] by default); beyond it the request
    /// is sent and the server answers, as with the in-process limiter.
    pub fn max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = max_wait;
        self
    }

    /// The timeout of each Redis command, connecting included
    /// ([`DEFAULT_TIMEOUT`] by default): an unresponsive Redis delays a
    /// call by at most this much before the [`OnUnavailable`] policy
    /// applies.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long Redis is left alone after it failed
    /// ([`DEFAULT_RECHECK_AFTER`] by default): meanwhile reservations go
    /// straight to the [`OnUnavailable`] policy, so an outage costs each
    /// call nothing rather than a timeout.
    pub fn recheck_after(mut self, recheck_after: Duration) -> Self {
        self.recheck_after = recheck_after;
        self
    }

    /// What to do when Redis cannot be asked
    /// ([`OnUnavailable::FallBack`] by default).
    pub fn on_unavailable(mut self, policy: OnUnavailable) -> Self {
        self.on_unavailable = policy;
        self
    }

    /// Builds the limiter. Nothing is sent to Redis yet.
    ///
    /// # Errors
    ///
    /// [`BuildError`]: a URL that does not parse, no scope, an empty
    /// organization name, an invalid key prefix, a zero timeout.
    pub fn build(self) -> Result<RedisLimiter, BuildError> {
        let scope = self.scope.ok_or(BuildError::MissingScope)??;
        if self.prefix.is_empty()
            || self
                .prefix
                .chars()
                .any(|c| c == '{' || c == '}' || c.is_whitespace())
        {
            return Err(BuildError::InvalidPrefix(self.prefix));
        }
        if self.timeout.is_zero() {
            return Err(BuildError::ZeroTimeout);
        }
        let client = redis::Client::open(self.url.as_str()).map_err(BuildError::Url)?;
        Ok(RedisLimiter {
            inner: Arc::new(Inner {
                client,
                connection: tokio::sync::OnceCell::new(),
                keys: Keys::new(&self.prefix, scope.as_str()),
                scope,
                plan: self.plan,
                max_wait: self.max_wait,
                timeout: self.timeout,
                recheck_after: self.recheck_after,
                on_unavailable: self.on_unavailable,
                fallback: RateLimiter::new(self.plan).with_max_wait(self.max_wait),
                lost_since: Mutex::new(None),
                reserve: redis::Script::new(script::RESERVE),
                hold: redis::Script::new(script::HOLD),
            }),
        })
    }
}

impl Inner {
    fn lock_lost(&self) -> MutexGuard<'_, Option<Instant>> {
        // Nothing panics while it is held.
        self.lost_since
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn lost(&self) -> Option<Instant> {
        *self.lock_lost()
    }

    /// The connection, made on first use (and again after a failed first
    /// connect); the manager reconnects by itself afterwards.
    async fn connection(&self) -> Result<ConnectionManager, redis::RedisError> {
        self.connection
            .get_or_try_init(|| async {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(self.timeout))
                    .set_response_timeout(Some(self.timeout))
                    .set_number_of_retries(1);
                ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            })
            .await
            .cloned()
    }

    /// Runs `command` on Redis within the timeout, unless Redis failed
    /// less than `recheck_after` ago; records a failure or a recovery.
    async fn ask<T, F, Fut>(&self, command: F) -> Result<T, RedisUnavailable>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = Result<T, RedisUnavailable>>,
    {
        if let Some(since) = self.lost() {
            let elapsed = since.elapsed();
            if elapsed < self.recheck_after {
                return Err(RedisUnavailable::RecentlyFailed(elapsed));
            }
        }
        let asked = tokio::time::timeout(self.timeout, async {
            let connection = self.connection().await.map_err(RedisUnavailable::Redis)?;
            command(connection).await
        })
        .await
        .unwrap_or(Err(RedisUnavailable::Timeout(self.timeout)));
        match &asked {
            Ok(_) => {
                if self.lock_lost().take().is_some() {
                    tracing::info!(scope = %self.scope, "redis answers again: the plan's budget is shared again");
                }
            }
            Err(error) => {
                let was_lost = self.lock_lost().replace(Instant::now()).is_some();
                if !was_lost {
                    match self.on_unavailable {
                        OnUnavailable::FallBack => tracing::warn!(
                            scope = %self.scope,
                            %error,
                            "redis unavailable: pacing in this process only until it answers"
                        ),
                        OnUnavailable::Fail => tracing::warn!(
                            scope = %self.scope,
                            %error,
                            "redis unavailable: calls fail until it answers"
                        ),
                    }
                }
            }
        }
        asked
    }

    async fn reserve(&self, within: Option<Duration>) -> Result<Duration, ReserveError> {
        let asked = self
            .ask(|mut connection| async move {
                let mut invocation = self.reserve.prepare_invoke();
                for key in self.keys.all() {
                    invocation.key(key);
                }
                invocation
                    .arg(self.plan.per_minute())
                    .arg(self.plan.per_day())
                    .arg(micros(self.max_wait))
                    .arg(within.map_or(-1, micros))
                    .arg(MINUTE_BUCKET_US)
                    .arg(DAY_BUCKET_US);
                let (granted, wait): (i64, i64) = invocation
                    .invoke_async(&mut connection)
                    .await
                    .map_err(RedisUnavailable::Redis)?;
                let wait = u64::try_from(wait).map_err(|_| {
                    RedisUnavailable::Protocol(format!("a negative wait of {wait} µs"))
                })?;
                Ok((granted, Duration::from_micros(wait)))
            })
            .await;
        match asked {
            Ok((1, wait)) => Ok(wait),
            Ok((_, wait)) => Err(ReserveError::PastDeadline {
                wait,
                within: within.unwrap_or(Duration::ZERO),
            }),
            Err(error) => match self.on_unavailable {
                OnUnavailable::FallBack => self.fallback.reserve_within(Instant::now(), within),
                OnUnavailable::Fail => Err(ReserveError::Unavailable(Box::new(error))),
            },
        }
    }

    async fn observe(&self, rate_limit: &RateLimit) {
        self.fallback.observe(rate_limit, Instant::now());
        let Some(reset) = rate_limit.reset.filter(|reset| {
            rate_limit.is_exhausted() && !reset.is_zero() && *reset <= self.max_wait
        }) else {
            return;
        };
        let held = self
            .ask(|mut connection| async move {
                self.hold
                    .key(&self.keys.hold)
                    .arg(micros(reset))
                    .invoke_async::<i64>(&mut connection)
                    .await
                    .map_err(RedisUnavailable::Redis)
            })
            .await;
        if let Err(error) = held {
            tracing::debug!(scope = %self.scope, %error, "the server's reset was not shared");
        }
    }
}

/// `duration` in whole µs, saturating.
fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

impl LimiterBackend for RedisLimiter {
    fn plan(&self) -> Plan {
        self.inner.plan
    }

    fn reserve(&self, within: Option<Duration>) -> BoxFuture<'_, Result<Duration, ReserveError>> {
        Box::pin(self.inner.reserve(within))
    }

    fn observe<'a>(&'a self, rate_limit: &'a RateLimit) -> BoxFuture<'a, ()> {
        Box::pin(self.inner.observe(rate_limit))
    }
}
