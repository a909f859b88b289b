//! The tour's calls: raw requests with the key, paced by the plan, bodies
//! read to a bound.
//!
//! The tour needs each response as the server sent it (every field, the
//! status, the content type and the headers), so it does not decode through
//! the typed client. It borrows that client's HTTP connection settings
//! (TLS, timeouts, no redirects) and adds the key itself.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use linkt::ClientInfo as _;
use linkt_auth::Config;
use linkt_backoff::{Plan, RateLimit, RateLimiter};
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde_json::Value;

use crate::Error;

/// The most bytes of one response body the tour reads; a longer body is an
/// error of that call, and nothing beyond it is kept.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// How long a `429` may ask the tour to wait before it retries once; a
/// longer wait ends the call with the `429` recorded.
pub const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// How the tour waits: `tokio::time::sleep` unless replaced
/// ([`TourBuilder::sleep_with`](crate::TourBuilder::sleep_with)).
pub(crate) type Sleep =
    Arc<dyn Fn(Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

pub(crate) fn tokio_sleep() -> Sleep {
    Arc::new(|wait| Box::pin(tokio::time::sleep(wait)))
}

/// One response as received.
#[derive(Debug, Clone)]
pub(crate) struct Observed {
    pub(crate) status: u16,
    /// The media type of `Content-Type`, without parameters, lower case.
    pub(crate) content_type: Option<String>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
    /// `429`s answered before this response (each waited out once).
    pub(crate) rate_limited: u32,
}

/// Why a call produced no response.
#[derive(Debug, Clone)]
pub(crate) enum Failure {
    /// The tour's call budget is spent.
    Budget,
    /// The request could not be sent or its response not read.
    Transport(String),
    /// The body is longer than [`MAX_BODY_BYTES`].
    BodyTooLarge,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Budget => f.write_str("the tour's call budget is spent"),
            Failure::Transport(message) => f.write_str(message),
            Failure::BodyTooLarge => {
                write!(f, "the response body is over {MAX_BODY_BYTES} bytes")
            }
        }
    }
}

/// The HTTP side of a tour.
pub(crate) struct Http {
    client: reqwest::Client,
    base_url: String,
    headers: HeaderMap,
    limiter: RateLimiter,
    budget: usize,
    sent: AtomicUsize,
    secret: String,
    sleep: Sleep,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("base_url", &self.base_url)
            .field("plan", &self.limiter.plan())
            .field("budget", &self.budget)
            .finish_non_exhaustive()
    }
}

impl Http {
    pub(crate) fn new(
        config: &Config,
        plan: Plan,
        budget: usize,
        sleep: Sleep,
    ) -> Result<Http, Error> {
        let typed = linkt::Client::builder()
            .api_key(config.api_key().clone())
            .base_url(config.base_url())
            .allow_insecure_http(config.allows_insecure_http())
            .build()
            .map_err(|err| Error::Client(err.to_string()))?;
        Ok(Http {
            client: typed.client().clone(),
            base_url: config.base_url().trim_end_matches('/').to_owned(),
            headers: config.default_headers(),
            // A quota whose next slot is further away than this is not
            // waited for: the server's 429 then says how long.
            limiter: RateLimiter::new(plan).with_max_wait(Duration::from_secs(65)),
            budget,
            sent: AtomicUsize::new(0),
            secret: config.api_key().expose_secret().to_owned(),
            sleep,
        })
    }

    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    pub(crate) fn plan(&self) -> Plan {
        self.limiter.plan()
    }

    /// `text` with the API key replaced, should a server echo it.
    pub(crate) fn redact(&self, text: &str) -> String {
        if self.secret.is_empty() {
            text.to_owned()
        } else {
            text.replace(&self.secret, "<redacted>")
        }
    }

    /// Sends one request and reads its response to the bound. A `429` is
    /// waited out once (within [`MAX_RATE_LIMIT_WAIT`]) and retried. A
    /// `budgeted` request is refused once the budget is spent.
    pub(crate) async fn send(
        &self,
        method: &str,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
        budgeted: bool,
    ) -> Result<Observed, Failure> {
        let mut rate_limited = 0;
        loop {
            let observed = self.send_once(method, path, query, body, budgeted).await?;
            if observed.status == 429 && rate_limited == 0 {
                let wait = linkt_backoff::server_delay(&observed.headers, SystemTime::now())
                    .unwrap_or(Duration::from_secs(1));
                if wait <= MAX_RATE_LIMIT_WAIT {
                    rate_limited += 1;
                    (self.sleep)(wait).await;
                    continue;
                }
            }
            return Ok(Observed {
                rate_limited,
                ..observed
            });
        }
    }

    async fn send_once(
        &self,
        method: &str,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
        budgeted: bool,
    ) -> Result<Observed, Failure> {
        // Clean-up calls are not budgeted: they are bounded by what the
        // write tour created, and must not be starved.
        if self
            .sent
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (!budgeted || n < self.budget).then_some(n + 1)
            })
            .is_err()
        {
            return Err(Failure::Budget);
        }
        let wait = self.limiter.reserve(Instant::now());
        if !wait.is_zero() {
            (self.sleep)(wait).await;
        }
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| Failure::Transport(format!("`{method}` is not an HTTP method")))?;
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base_url))
            .headers(self.headers.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        if !query.is_empty() {
            request = request.query(query);
        }
        if let Some(body) = body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let mut response = request
            .send()
            .await
            .map_err(|err| Failure::Transport(self.redact(&describe(&err))))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        if let Some(rate_limit) = RateLimit::from_headers(&headers, SystemTime::now()) {
            self.limiter.observe(&rate_limit, Instant::now());
        }
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(|value| {
                value
                    .split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase()
            });
        // A body announced over the bound is refused unread.
        if response
            .content_length()
            .is_some_and(|len| len > MAX_BODY_BYTES as u64)
        {
            return Err(Failure::BodyTooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|err| Failure::Transport(self.redact(&describe(&err))))?
        {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(Failure::BodyTooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Observed {
            status,
            content_type,
            headers,
            body,
            rate_limited: 0,
        })
    }
}

/// A transport error with its causes, on one line.
fn describe(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
