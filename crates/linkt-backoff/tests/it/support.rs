//! Fakes shared by the tests: scripted responses, a manual clock, a
//! recording sleeper and a minimal executor.

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant, SystemTime};

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use linkt_backoff::{Clock, Env, FixedJitter, Outcome, Sleeper, TransportFailure};

/// The instant the official Python SDK's `test_parse_retry_after_header`
/// freezes `time.time()` at: Fri, 29 Sep 2023 16:26:37 GMT.
pub(crate) const PY_NOW_SECS: u64 = 1_696_004_797;

pub(crate) fn py_now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(PY_NOW_SECS)
}

/// What a scripted attempt returns.
#[derive(Debug, Clone)]
pub(crate) struct FakeResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
}

pub(crate) type FakeResult = Result<FakeResponse, TransportFailure>;

pub(crate) fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).expect("valid header name"),
            HeaderValue::from_str(value).expect("valid header value"),
        );
    }
    map
}

pub(crate) fn response(status: u16, pairs: &[(&str, &str)]) -> FakeResult {
    Ok(FakeResponse {
        status: StatusCode::from_u16(status).expect("valid status"),
        headers: headers(pairs),
    })
}

pub(crate) fn classify(result: &FakeResult) -> Outcome<'_> {
    match result {
        Ok(r) => Outcome::Response {
            status: r.status,
            headers: &r.headers,
        },
        Err(failure) => Outcome::Transport(*failure),
    }
}

pub(crate) fn status_of(result: &FakeResult) -> Option<u16> {
    result.as_ref().ok().map(|r| r.status.as_u16())
}

/// A clock that moves only when told to; clones share it.
#[derive(Debug, Clone)]
pub(crate) struct ManualClock {
    state: Arc<Mutex<(SystemTime, Instant)>>,
}

impl ManualClock {
    pub(crate) fn new(now: SystemTime) -> Self {
        Self {
            state: Arc::new(Mutex::new((now, Instant::now()))),
        }
    }

    pub(crate) fn advance(&self, by: Duration) {
        let mut s = self.state.lock().expect("clock lock");
        s.0 += by;
        s.1 += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        self.state.lock().expect("clock lock").0
    }

    fn instant(&self) -> Instant {
        self.state.lock().expect("clock lock").1
    }
}

/// A fake environment: a manual clock, a sleeper that records each sleep
/// and advances the clock by it, and a fixed jitter.
pub(crate) struct Fake {
    pub(crate) clock: ManualClock,
    pub(crate) sleeps: Arc<Mutex<Vec<Duration>>>,
}

impl Fake {
    pub(crate) fn new() -> Self {
        Self {
            clock: ManualClock::new(py_now()),
            sleeps: Arc::default(),
        }
    }

    pub(crate) fn env(&self, jitter: f64) -> Env<ManualClock, impl Sleeper + use<>, FixedJitter> {
        let clock = self.clock.clone();
        let sleeps = Arc::clone(&self.sleeps);
        let sleeper = move |d: Duration| {
            sleeps.lock().expect("sleeps lock").push(d);
            clock.advance(d);
            std::future::ready(())
        };
        Env {
            clock: self.clock.clone(),
            sleeper,
            jitter: FixedJitter(jitter),
        }
    }

    pub(crate) fn sleeps(&self) -> Vec<Duration> {
        self.sleeps.lock().expect("sleeps lock").clone()
    }
}

/// Polls a future that never waits on anything real (all fakes are ready at
/// once) to completion.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..10_000 {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
    panic!("future did not complete: the fakes should never pend");
}

pub(crate) fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}
