//! What happens around every call: `Client::call`, which every generated
//! `send` calls once its request is built.
//!
//! `cargo xtask generate` rewrites progenitor's `send` methods (see
//! `xtask/src/send_call.rs`) so that, instead of driving progenitor's hooks
//! and returning its error, each one calls [`Client::call`] and returns
//! [`crate::Error`]. Here:
//!
//! * the request gets the key (a sensitive header), the user agent and
//!   default headers, the per-call timeout of a
//!   [`Client::with_options`] view, and the multipart encoding of an upload;
//! * the first attempt is made inline and, when it did not succeed, the call
//!   continues in the retry loop of `linkt-backoff` with the client's policy;
//!   calls are paced by the optional rate limiter, with a tracing span per
//!   call and an event per retry;
//! * every failure becomes a [`crate::Error`] carrying the operation and the
//!   number of attempts, whatever failed: a status that is not 2xx (its
//!   body read up to [`MAX_ERROR_BODY`]), a lost connection, a timeout, a
//!   body over the limit or cut off, a refused redirect. The key is
//!   redacted from anything the server sent back;
//! * a redirect is a failure: the client's own `reqwest::Client` follows
//!   none, so a 3xx arrives here, is never retried (`linkt-backoff`
//!   classifies every 3xx as final, whatever `x-should-retry` says) and
//!   becomes an error whose message names its target (without userinfo,
//!   query or fragment). A `reqwest::Client` supplied by the user may follow
//!   redirects itself: a response whose URL is not its request's is not
//!   retried either, and fails the call naming that URL;
//! * no body is read past its limit: each attempt of a JSON call
//!   ([`Expect::Json`], which the generated `send` passes when it decodes
//!   JSON) reads a 2xx body with `support::read_body` within the client's
//!   `max_response_body`, so that a body that breaks off is a lost
//!   connection the retry loop handles as any other (a `GET` is retried, a
//!   `POST` is not) and a body over the limit is a failure it never
//!   repeats. The body goes to the generated code in the [`Answer`].
//!
//! Every call goes through here, so the success path is kept short: one copy
//! of the request for retries, no retry-loop set-up, no span work without a
//! subscriber, and futures that hold the request once (see `BENCHMARKS.md`).
//!
//! No per-operation knowledge lives here beyond the [`crate::OPERATIONS`]
//! table the generator writes.

use std::future::Future;
use std::sync::LazyLock;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use futures::TryFutureExt as _;
use futures::future::Either;
use http::HeaderValue;
use http::header::{CONTENT_TYPE, LOCATION, USER_AGENT};
use linkt_backoff::{
    BoxFuture, Env, FirstAttempt, Outcome, RateLimit, ReserveError, RetryEvent, TransportFailure,
};
use linkt_error::BodyShortfall;
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::Url;
use tracing::Instrument as _;
use tracing::field::Empty;

use crate::client::{Limiter, MAX_ERROR_BODY};
use crate::support::{Answer, Expect, OverLimit, ReadBody, call_context, read_body};
use crate::{Client, ClientState, Error, Operation, upload};

/// progenitor's hooks, which the generated client requires; the rewritten
/// `send` methods call `Client::call` instead of them, so their defaults
/// (which do nothing) are never run.
impl ClientHooks<ClientState> for Client {}

/// Why an attempt got no response.
enum Failed {
    /// reqwest's error: the request was sent, or tried to be.
    Transport(reqwest::Error),
    /// The rate limiter refused the attempt; nothing was sent.
    Limiter(ReserveError),
}

/// How an attempt waits for the rate limiter, when it does.
enum Pace<'a> {
    /// Sleeps this long (the in-process limiter answered at once).
    Sleep(BoxFuture<'static, ()>),
    /// Asks a backend, then sleeps as long as it says.
    Ask(BoxFuture<'a, Result<Duration, ReserveError>>),
    /// The in-process limiter refused.
    Refused(ReserveError),
}

/// What one attempt got.
struct Received {
    response: reqwest::Response,
    /// For a JSON call's 2xx: its body, or what was read of it.
    body: Option<ReadBody>,
    /// A user-supplied `reqwest::Client` followed a redirect to get it.
    followed_redirect: bool,
}

impl Received {
    /// A 2xx whose body (if it was read) is whole, from the URL requested.
    fn succeeded(&self) -> bool {
        self.response.status().is_success() && !self.followed_redirect && self.shortfall().is_none()
    }

    fn shortfall(&self) -> Option<BodyShortfall> {
        self.body.as_ref().and_then(|body| body.shortfall)
    }
}

impl Client {
    /// Sends a request built by a generated `send`: adds the key and
    /// headers, makes the attempts, and returns a 2xx [`Answer`] (with the
    /// body read for [`Expect::Json`]) or an error naming the operation and
    /// the attempts.
    pub(crate) fn call<'a>(
        &'a self,
        mut request: reqwest::Request,
        info: &OperationInfo,
        expect: Expect,
    ) -> impl Future<Output = Result<Answer<'a>, Error>> + Send + 'a {
        match self.prepare(&mut request, info.operation_id) {
            Err(err) => Either::Left(std::future::ready(Err(err))),
            Ok(()) => Either::Right(self.exec(request, info.operation_id, expect)),
        }
    }

    /// The key, the user agent, default headers, the per-call timeout and,
    /// for an upload, the multipart body.
    fn prepare(
        &self,
        request: &mut reqwest::Request,
        operation_id: &'static str,
    ) -> Result<(), Error> {
        let state = self.inner();
        let headers = request.headers_mut();
        headers.insert(linkt_auth::API_KEY_HEADER_NAME, state.api_key.clone());
        headers
            .entry(USER_AGENT)
            .or_insert_with(|| state.user_agent.clone());
        for (name, value) in &state.headers {
            headers.entry(name).or_insert_with(|| value.clone());
        }
        if let Some(timeout) = state.timeout {
            *request.timeout_mut() = Some(timeout);
        }

        if let Some(field) = multipart_field(operation_id) {
            let context = || call_context(operation_id, 0);
            let Some(body) = request.body().and_then(reqwest::Body::as_bytes) else {
                return Err(Error::invalid_request(
                    "the upload must be in memory (a FilePart or bytes)",
                    &context(),
                ));
            };
            let (content_type, body) = upload::encode_multipart(field, body, &upload::boundary());
            let content_type = HeaderValue::try_from(content_type).map_err(|_| {
                Error::invalid_request(
                    "the multipart content type is not a header value",
                    &context(),
                )
            })?;
            request.headers_mut().insert(CONTENT_TYPE, content_type);
            *request.body_mut() = Some(body.into());
        }
        Ok(())
    }

    // Not an `async fn`: the span and the retry copy are made before the
    // future, which then holds the request once (an `async fn` keeps a second
    // copy of every by-value argument in its state).
    fn exec(
        &self,
        request: reqwest::Request,
        operation_id: &'static str,
        expect: Expect,
    ) -> impl Future<Output = Result<Answer<'_>, Error>> + Send + '_ {
        // Field values are evaluated only when a subscriber enables the span.
        let span = tracing::info_span!(
            "linkt.call",
            operation = operation_id,
            method = %request.method(),
            path = Operation::find(operation_id).map_or("", |op| op.path),
            status = Empty,
            attempts = Empty,
            elapsed_ms = Empty,
        );
        if span.is_disabled() {
            // No subscriber wants it: nothing to enter on every poll, nothing
            // to record.
            Either::Left(self.exec_with_retries(request, operation_id, expect, None))
        } else {
            // The first attempt starts when the future is made (the limiter
            // is asked, reqwest is handed the request): inside the span too.
            let future = {
                let _entered = span.enter();
                self.exec_with_retries(request, operation_id, expect, Some(span.clone()))
            };
            Either::Right(future.instrument(span))
        }
    }

    /// The first attempt inline; the retry loop, out of line, only when the
    /// first attempt did not succeed. A success, the path almost every call
    /// takes, goes through no more code and no bigger future than it needs.
    fn exec_with_retries(
        &self,
        mut request: reqwest::Request,
        operation_id: &'static str,
        expect: Expect,
        span: Option<tracing::Span>,
    ) -> impl Future<Output = Result<Answer<'_>, Error>> + Send + '_ {
        // The retry policy's deadline counts from here, as does `elapsed_ms`;
        // with neither, the clock is read only if a retry needs it.
        let timed = span.is_some() || self.inner().retry.deadline().is_some();
        let started = timed.then(Instant::now);
        let deadline = self.deadline(started);
        // A JSON call's success body is read within each attempt.
        let json_limit = (expect == Expect::Json).then_some(self.inner().max_response_body);
        // A streaming body cannot be sent twice: one attempt, no retries.
        let replayable = Replayable::new(&request);
        set_retry_count(&mut request, 1);
        // Made here, not in the block below: the block then holds reqwest's
        // small future instead of the request.
        let first = self.attempt(request, json_limit, deadline);
        async move {
            let first = first.await;
            let succeeded = matches!(&first, Ok(received) if received.succeeded());
            let (value, attempts) = match replayable {
                Some(replayable) if !succeeded => {
                    let started = started.unwrap_or_else(Instant::now);
                    Box::pin(self.retry(first, started, replayable, json_limit)).await
                }
                _ => (first, 1),
            };

            if let (Some(span), Some(started)) = (&span, started) {
                span.record("attempts", attempts);
                span.record("elapsed_ms", millis(started.elapsed()));
                if let Ok(received) = &value {
                    span.record("status", received.response.status().as_u16());
                }
            }
            match value {
                Ok(received) if received.succeeded() => Ok(Answer {
                    response: received.response,
                    body: received.body.map(|read| read.body),
                    operation_id,
                    attempts,
                    key: &self.inner().api_key,
                }),
                Ok(received) => Err(Box::pin(self.failure(received, operation_id, attempts)).await),
                Err(Failed::Transport(err)) => {
                    tracing::debug!(attempts, error = %err, "request failed");
                    Err(Error::from_transport(
                        err,
                        &call_context(operation_id, attempts),
                    ))
                }
                Err(Failed::Limiter(err)) => {
                    tracing::debug!(attempts, error = %err, "refused by the rate limiter");
                    // The refused attempt was not sent.
                    let sent = attempts.saturating_sub(1);
                    Err(Error::rate_limiter(err, &call_context(operation_id, sent)))
                }
            }
        }
    }

    /// The retry loop of `linkt-backoff` with the client's policy, after a
    /// first attempt that did not succeed; retries are rebuilt from
    /// `replayable`. Returns the last result and the number of attempts.
    async fn retry(
        &self,
        first: Result<Received, Failed>,
        started: Instant,
        replayable: Replayable,
        json_limit: Option<usize>,
    ) -> (Result<Received, Failed>, u32) {
        let state = self.inner();
        let deadline = self.deadline(Some(started));
        let attempted = linkt_backoff::resume(
            &state.retry,
            &replayable.method,
            Env::new(|delay| (state.sleep)(delay)),
            FirstAttempt {
                value: first,
                started,
            },
            |number| self.attempt(replayable.request(number), json_limit, deadline),
            |result| match result {
                // A response a user's client got by following a redirect is
                // not the answer to this request; repeating it would follow
                // the redirect again. (A 3xx itself is final by the
                // classification.)
                Ok(received) if received.followed_redirect => {
                    Outcome::Transport(TransportFailure::Other)
                }
                // A body that broke off is a lost connection (or a timeout);
                // one over the limit would be as long the next time.
                Ok(received) if let Some(shortfall) = received.shortfall() => {
                    Outcome::Transport(match shortfall {
                        BodyShortfall::CutOff { failure, .. } => failure,
                        _ => TransportFailure::Other,
                    })
                }
                Ok(received) => Outcome::Response {
                    status: received.response.status(),
                    headers: received.response.headers(),
                },
                Err(Failed::Transport(err)) => {
                    Outcome::Transport(linkt_error::transport_failure(err))
                }
                // A refusal for the deadline would be refused again; a
                // limiter that fails when its store is down has said so.
                Err(Failed::Limiter(_)) => Outcome::Transport(TransportFailure::Other),
            },
            |event: &RetryEvent| {
                tracing::info!(
                    attempt = event.attempt,
                    reason = %event.reason,
                    delay_ms = millis(event.delay),
                    "retrying"
                );
            },
        )
        .await;
        (attempted.value, attempted.attempts)
    }

    /// When the retry policy's deadline ends, for a call started at `started`.
    fn deadline(&self, started: Option<Instant>) -> Option<Instant> {
        let deadline = self.inner().retry.deadline()?;
        started?.checked_add(deadline)
    }

    /// One attempt: wait for the rate limiter, send, remember rate-limit
    /// headers and, with a user-supplied `reqwest::Client`, note a response
    /// that came from another URL than the request's. With a `json_limit`
    /// (a JSON call), a 2xx body is read within it, so that the retry loop
    /// sees a body that broke off. The limiter is asked when the attempt is
    /// made (the future is created just before it is awaited); a wait that
    /// would end past `deadline` is refused (nothing is sent). Without a
    /// wait the request is handed to reqwest at once, so the future holds
    /// reqwest's small one and not the request; a request that waits, or
    /// waits for a limiter backend's answer, is boxed meanwhile.
    fn attempt(
        &self,
        request: reqwest::Request,
        json_limit: Option<usize>,
        deadline: Option<Instant>,
    ) -> impl Future<Output = Result<Received, Failed>> + Send + '_ {
        let state = self.inner();
        // Boxed: the future of every attempt carries it.
        let sent_to = state
            .check_followed_redirects
            .then(|| Box::new(request.url().clone()));
        let pace = match &state.limiter {
            None => None,
            Some(Limiter::Local(limiter)) => {
                let now = Instant::now();
                let within = deadline.map(|end| end.saturating_duration_since(now));
                match limiter.reserve_within(now, within) {
                    Ok(wait) if wait.is_zero() => None,
                    Ok(wait) => {
                        tracing::debug!(wait_ms = millis(wait), "pacing for the rate limit");
                        Some(Pace::Sleep((state.sleep)(wait)))
                    }
                    Err(refusal) => Some(Pace::Refused(refusal)),
                }
            }
            Some(Limiter::Backend(backend)) => {
                let within = deadline.map(|end| end.saturating_duration_since(Instant::now()));
                Some(Pace::Ask(backend.reserve(within)))
            }
        };
        let sending = match pace {
            None => Either::Left(self.client().execute(request).map_err(Failed::Transport)),
            Some(pace) => {
                let request = Box::new(request);
                Either::Right(async move {
                    match pace {
                        Pace::Sleep(pause) => pause.await,
                        Pace::Ask(reservation) => {
                            let wait = reservation.await.map_err(Failed::Limiter)?;
                            if !wait.is_zero() {
                                tracing::debug!(
                                    wait_ms = millis(wait),
                                    "pacing for the rate limit"
                                );
                                (state.sleep)(wait).await;
                            }
                        }
                        Pace::Refused(refusal) => return Err(Failed::Limiter(refusal)),
                    }
                    self.client()
                        .execute(*request)
                        .await
                        .map_err(Failed::Transport)
                })
            }
        };
        async move {
            let mut response = sending.await?;
            let followed_redirect =
                sent_to.is_some_and(|sent_to| !same_resource(&sent_to, response.url()));
            if let Some(rate_limit) = RateLimit::from_headers(response.headers(), SystemTime::now())
            {
                match &state.limiter {
                    Some(Limiter::Local(limiter)) => limiter.observe(&rate_limit, Instant::now()),
                    Some(Limiter::Backend(backend)) if rate_limit.is_exhausted() => {
                        backend.observe(&rate_limit).await;
                    }
                    _ => {}
                }
                if let Ok(mut last) = state.last_rate_limit.lock() {
                    *last = Some(rate_limit);
                }
            }
            let body = match json_limit {
                Some(limit) if response.status().is_success() && !followed_redirect => {
                    Some(read_body(&mut response, limit, OverLimit::Refuse).await)
                }
                _ => None,
            };
            Ok::<_, Failed>(Received {
                response,
                body,
                followed_redirect,
            })
        }
    }

    /// The error for a final response that is not a success: a redirect a
    /// user's client followed, a 2xx whose body was over the limit or broke
    /// off, or any other status, whose body is read up to
    /// [`MAX_ERROR_BODY`] (what was read is kept when it is longer or breaks
    /// off). A 3xx is described by [`redirect_note`], not by its body, so
    /// the message names where it pointed. The API key is redacted from
    /// everything the server sent.
    async fn failure(
        &self,
        received: Received,
        operation_id: &'static str,
        attempts: u32,
    ) -> Error {
        let context = call_context(operation_id, attempts);
        let Received {
            mut response,
            body,
            followed_redirect,
        } = received;
        if followed_redirect {
            return Error::invalid_request(
                format!(
                    "the reqwest client given to ClientBuilder::reqwest_client followed a \
                     redirect to {}; build it with redirect(reqwest::redirect::Policy::none())",
                    shown_url(response.url()),
                ),
                &context,
            );
        }
        let status = response.status();
        let (read, shortfall) = match body {
            Some(ReadBody { body, shortfall }) => (body, shortfall),
            None if status.is_redirection() => {
                let note = redirect_note(response.url(), response.headers().get(LOCATION));
                (Bytes::from(note), None)
            }
            None => {
                let read = read_body(&mut response, MAX_ERROR_BODY, OverLimit::KeepStart).await;
                (read.body, read.shortfall)
            }
        };
        let headers = std::mem::take(response.headers_mut());
        // Closes the connection now if the body was not read to its end.
        drop(response);
        let mut error = match shortfall {
            Some(shortfall) => Error::incomplete_body(status, &headers, &read, shortfall, &context),
            None => Error::from_response(status, &headers, &read, &context),
        };
        if let Ok(key) = self.inner().api_key.to_str() {
            error.redact(key);
        }
        error
    }
}

/// The file part's name, for the operations that upload a file.
fn multipart_field(operation_id: &str) -> Option<&'static str> {
    // A handful of entries, found once: the lookup is on every call.
    static MULTIPART: LazyLock<Vec<(&str, &str)>> = LazyLock::new(|| {
        crate::OPERATIONS
            .iter()
            .filter_map(|op| Some((op.name, op.multipart_field?)))
            .collect()
    });
    MULTIPART
        .iter()
        .find(|(name, _)| *name == operation_id)
        .map(|&(_, field)| field)
}

/// How many times this request was already tried, sent on every attempt (as
/// the official SDKs send `x-stainless-retry-count`), so servers and mocks can
/// tell a retry from a first attempt.
pub(crate) const RETRY_COUNT_HEADER: http::HeaderName =
    http::HeaderName::from_static("x-linkt-retry-count");

/// Sets [`RETRY_COUNT_HEADER`] to `number - 1` for attempt `number` (from 1).
fn set_retry_count(request: &mut reqwest::Request, number: u32) {
    // Static values for the usual counts: no allocation on the hot path.
    const COUNTS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    let retries = number.saturating_sub(1);
    let value = match COUNTS.get(retries as usize) {
        Some(count) => HeaderValue::from_static(count),
        None => HeaderValue::from(retries),
    };
    request.headers_mut().insert(RETRY_COUNT_HEADER, value);
}

/// The parts of a request with an in-memory body, from which each retry
/// builds a fresh `reqwest::Request` (the first attempt sends the original).
struct Replayable {
    method: http::Method,
    url: reqwest::Url,
    /// A list rather than a `HeaderMap`: one allocation instead of two on
    /// every call, and the map is rebuilt only for a retry.
    headers: Vec<(http::HeaderName, HeaderValue)>,
    body: Option<bytes::Bytes>,
    timeout: Option<Duration>,
    version: http::Version,
}

impl Replayable {
    /// `None` when the body is a stream.
    fn new(request: &reqwest::Request) -> Option<Self> {
        let body = match request.body() {
            None => None,
            Some(body) => Some(bytes::Bytes::copy_from_slice(body.as_bytes()?)),
        };
        Some(Self {
            method: request.method().clone(),
            url: request.url().clone(),
            headers: request
                .headers()
                .iter()
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
            body,
            timeout: request.timeout().copied(),
            version: request.version(),
        })
    }

    /// The request for attempt `number` (from 1), which carries
    /// [`RETRY_COUNT_HEADER`] = `number - 1`.
    fn request(&self, number: u32) -> reqwest::Request {
        let mut request = reqwest::Request::new(self.method.clone(), self.url.clone());
        let headers = request.headers_mut();
        headers.reserve(self.headers.len() + 1);
        for (name, value) in &self.headers {
            headers.append(name, value.clone());
        }
        set_retry_count(&mut request, number);
        *request.body_mut() = self.body.clone().map(reqwest::Body::from);
        *request.timeout_mut() = self.timeout;
        *request.version_mut() = self.version;
        request
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Whether a response from `received` answers a request to `sent`: the
/// same scheme, host, port, path and query (reqwest sets a response's URL
/// to the last one it requested).
fn same_resource(sent: &Url, received: &Url) -> bool {
    sent.scheme() == received.scheme()
        && sent.host_str() == received.host_str()
        && sent.port_or_known_default() == received.port_or_known_default()
        && sent.path() == received.path()
        && sent.query() == received.query()
}

/// A URL as an error shows it: scheme, host, port and path, without the
/// userinfo, query and fragment that may hold secrets; `scheme:…` for a
/// URL that is not `http` or `https`.
fn shown_url(url: &Url) -> String {
    if !matches!(url.scheme(), "http" | "https") {
        return format!("{}:…", url.scheme());
    }
    let mut url = url.clone();
    // Cannot fail for http(s).
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_query(None);
    url.set_fragment(None);
    url.into()
}

/// What a 3xx response to a request for `from` is recorded with in place
/// of its body: `redirect to <target> not followed`, the target resolved
/// against `from` and shown by [`shown_url`].
fn redirect_note(from: &Url, location: Option<&HeaderValue>) -> String {
    let Some(location) = location else {
        return "redirect without a location not followed".to_owned();
    };
    match std::str::from_utf8(location.as_bytes())
        .ok()
        .and_then(|location| from.join(location.trim()).ok())
    {
        Some(target) => format!("redirect to {} not followed", shown_url(&target)),
        None => "redirect to an invalid location not followed".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `tracing` writer into a shared buffer.
    #[derive(Clone, Default)]
    struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What `run` logs at `level` and above, closed spans included, run on
    /// a current-thread runtime.
    fn logs_of(level: tracing::Level, run: impl Future<Output = ()>) -> String {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
            .with_max_level(level)
            .finish();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        tracing::subscriber::with_default(subscriber, || runtime.block_on(run));
        String::from_utf8(buffer.0.lock().expect("not poisoned").clone()).expect("utf-8 logs")
    }

    #[test]
    fn an_enabled_call_span_records_status_attempts_and_elapsed_time() {
        let server = httpmock::MockServer::start();
        server.mock(|when, then| {
            when.method("DELETE").path("/v1/icp/abc");
            then.status(204);
        });
        let client = Client::builder()
            .api_key(linkt_auth::ApiKey::new("lk_test_0123456789").expect("a valid key"))
            .base_url(server.base_url())
            .build()
            .expect("a client");
        let logs = logs_of(tracing::Level::INFO, async {
            client.icp_delete().icp_id("abc").send().await.expect("204");
        });
        for expected in [
            "linkt.call",
            "operation=\"icp_delete\"",
            "status=204",
            "attempts=1",
            "elapsed_ms=",
        ] {
            assert!(logs.contains(expected), "{expected} missing from {logs}");
        }
    }

    #[test]
    fn a_retry_is_logged_with_its_delay_and_the_call_with_its_elapsed_time() {
        let server = httpmock::MockServer::start();
        server.mock(|when, then| {
            when.method("DELETE").path("/v1/icp/abc");
            then.status(503).delay(Duration::from_millis(40));
        });
        let client = Client::builder()
            .api_key(linkt_auth::ApiKey::new("lk_test_0123456789").expect("a valid key"))
            .base_url(server.base_url())
            .retry_policy(
                linkt_backoff::RetryPolicy::new()
                    .with_max_retries(1)
                    .with_initial_delay(Duration::from_millis(1500))
                    .without_jitter(),
            )
            .sleep_with(|_| std::future::ready(()))
            .build()
            .expect("a client");
        let logs = logs_of(tracing::Level::INFO, async {
            client
                .icp_delete()
                .icp_id("abc")
                .send()
                .await
                .expect_err("503");
        });
        let retrying = logs
            .lines()
            .find(|line| line.contains("retrying"))
            .unwrap_or_else(|| panic!("no retry event in {logs}"));
        assert!(retrying.contains("delay_ms=1500"), "{retrying}");
        let elapsed: u64 = logs
            .split("elapsed_ms=")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|digits| digits.parse().ok())
            .unwrap_or_else(|| panic!("no elapsed time in {logs}"));
        assert!(
            (80..60_000).contains(&elapsed),
            "two attempts of at least 40 ms each: {elapsed} ms"
        );
    }

    #[test]
    fn pacing_for_the_rate_limit_is_logged_inside_the_call_span() {
        let server = httpmock::MockServer::start();
        server.mock(|when, then| {
            when.method("DELETE").path("/v1/icp/abc");
            then.status(204);
        });
        // One call per minute: the second call waits (on a sleep that returns
        // at once).
        let client = Client::builder()
            .api_key(linkt_auth::ApiKey::new("lk_test_0123456789").expect("a valid key"))
            .base_url(server.base_url())
            .rate_limit(linkt_backoff::Plan::Custom {
                per_minute: 1,
                per_day: 0,
            })
            .sleep_with(|_| std::future::ready(()))
            .build()
            .expect("a client");
        let logs = logs_of(tracing::Level::DEBUG, async {
            client.icp_delete().icp_id("abc").send().await.expect("204");
            client.icp_delete().icp_id("abc").send().await.expect("204");
        });
        let pacing = logs
            .lines()
            .find(|line| line.contains("pacing for the rate limit"))
            .unwrap_or_else(|| panic!("no pacing event in {logs}"));
        assert!(
            pacing.contains("linkt.call{") && pacing.contains("operation=\"icp_delete\""),
            "the pacing event is outside the call span: {pacing}"
        );
    }

    #[test]
    fn every_send_reads_the_body_exactly_when_it_decodes_json() {
        // What `Expect` tells `call`, checked on the generated `send`s.
        let generated = include_str!("generated.rs");
        let sends: Vec<&str> = generated.split("pub async fn send(").skip(1).collect();
        assert_eq!(sends.len(), crate::OPERATIONS.len());
        for send in sends {
            let send = send.split("\n        }\n").next().unwrap_or(send);
            let send: String = send.split_whitespace().collect();
            assert_eq!(
                send.matches("client.call(request,&info,").count(),
                1,
                "{send}"
            );
            let decodes_json = send.contains("crate::support::json(response)");
            let expects_json = send.contains("crate::support::Expect::Json");
            assert_eq!(decodes_json, expects_json, "{send}");
        }
    }

    #[test]
    fn every_upload_and_only_uploads_have_a_multipart_field() {
        let uploads: Vec<_> = crate::OPERATIONS
            .iter()
            .filter(|op| op.multipart_field.is_some())
            .collect();
        assert!(!uploads.is_empty(), "the spec has file uploads");
        for op in crate::OPERATIONS {
            assert_eq!(multipart_field(op.name), op.multipart_field, "{}", op.name);
        }
        assert_eq!(multipart_field("no_such_operation"), None);
    }

    #[test]
    fn a_redirect_note_names_the_target_without_userinfo_query_or_fragment() {
        let from = Url::parse("https://api.linkt.ai/v1/icp?page=2").expect("a url");
        for (location, expected) in [
            (
                Some("http://user:pw@other.example:8080/x?key=k#f"),
                "redirect to http://other.example:8080/x not followed",
            ),
            (
                Some("/v1/icp/abc?token=t"),
                "redirect to https://api.linkt.ai/v1/icp/abc not followed",
            ),
            (
                Some(" next "),
                "redirect to https://api.linkt.ai/v1/next not followed",
            ),
            (
                Some("//user@other.example/p"),
                "redirect to https://other.example/p not followed",
            ),
            (
                Some("ftp://user:pw@files.example/x"),
                "redirect to ftp:… not followed",
            ),
            (
                Some("http://[::1"),
                "redirect to an invalid location not followed",
            ),
            (None, "redirect without a location not followed"),
        ] {
            let location = location.map(|l| HeaderValue::from_str(l).expect("a header value"));
            assert_eq!(
                redirect_note(&from, location.as_ref()),
                expected,
                "{location:?}"
            );
        }
        let not_utf8 = HeaderValue::from_bytes(b"/caf\xe9").expect("a header value");
        assert_eq!(
            redirect_note(&from, Some(&not_utf8)),
            "redirect to an invalid location not followed"
        );
    }

    #[test]
    fn a_response_answers_its_request_when_only_userinfo_or_fragment_differ() {
        let url = |text: &str| Url::parse(text).expect("a url");
        let sent = url("http://127.0.0.1:8080/v1/icp?page=2");
        for same in [
            "http://127.0.0.1:8080/v1/icp?page=2",
            "http://127.0.0.1:8080/v1/icp?page=2#top",
            "http://u:p@127.0.0.1:8080/v1/icp?page=2",
        ] {
            assert!(same_resource(&sent, &url(same)), "{same}");
        }
        for other in [
            "https://127.0.0.1:8080/v1/icp?page=2",
            "http://127.0.0.1:8081/v1/icp?page=2",
            "http://localhost:8080/v1/icp?page=2",
            "http://127.0.0.1:8080/v1/icp/",
            "http://127.0.0.1:8080/v1/icp?page=3",
            "http://127.0.0.1:8080/v1/icp",
        ] {
            assert!(!same_resource(&sent, &url(other)), "{other}");
        }
        assert!(same_resource(
            &url("https://api.linkt.ai/v1"),
            &url("https://api.linkt.ai:443/v1")
        ));
    }

    #[test]
    fn the_retry_count_header_is_the_attempt_number_minus_one() {
        for number in [1_u32, 2, 3, 10, 11, 250] {
            let mut request = reqwest::Request::new(
                http::Method::GET,
                reqwest::Url::parse("http://127.0.0.1/v1/icp").expect("a valid url"),
            );
            set_retry_count(&mut request, number);
            let expected = (number - 1).to_string();
            assert_eq!(
                request.headers().get(RETRY_COUNT_HEADER),
                Some(&HeaderValue::from_str(&expected).expect("digits")),
                "attempt {number}"
            );
        }
    }
}
