//! Fault injection: making the next responses of an operation fail, and the
//! next runs end badly.
//!
//! A fault is armed for an operation by its client method name (`icp_list`,
//! `task_execute`, ...) and consumed by the next requests that reach that
//! operation with a valid key, in order. Run faults are consumed by the next
//! run that an execution (or a legacy `POST /v1/run`) creates.
//!
//! # API faults and network faults
//!
//! [`Fault::Status`], [`Fault::Delay`] and [`Fault::MalformedBody`] are
//! answers a server could give. The others break the HTTP exchange itself,
//! byte by byte, as a proxy, a load balancer or a flaky network would:
//!
//! | fault | on the wire | the operation |
//! |---|---|---|
//! | [`Fault::DropConnection`] | no response; the connection closes | not run |
//! | [`Fault::CutBody`] | the head declares the whole body (`Content-Length`, or `Transfer-Encoding: chunked`), part of it follows, then the connection closes | run |
//! | [`Fault::StalledBody`] | the head and part of the body, then nothing for a while (at most [`MAX_STALL`]), then the connection closes | run |
//! | [`Fault::Redirect`] | a `3xx` with a `Location`, an empty body | not run |
//! | [`Fault::HugeBody`] | `200` and a body of any size, generated while it is sent (never held in memory) | not run |
//!
//! "Run" means the request is validated and carried out as usual, and only
//! its answer is broken: a `POST` whose body is cut has created what it
//! creates, which is what a client that retries writes has to cope with.
//! The journal records the answer the server meant to send ([`Exchange`]);
//! for a huge body it records the status and an empty body.
//!
//! With the `linkt` client, as of this version: a cut or stalled body is a
//! lost connection (a `GET` is retried, a `POST` is not; without retries it
//! is an `ErrorKind::Connection` error, or `ErrorKind::Timeout` when the
//! client's timeout ends the stall); a redirect is an
//! `ErrorKind::UnexpectedStatus` error naming its target, which receives
//! nothing; a huge body over `ClientBuilder::max_response_body` is an
//! `ErrorKind::BodyTooLarge` error.
//!
//! [`Exchange`]: crate::Exchange

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The longest [`Fault::Delay`] the server waits; longer delays are cut to it.
pub const MAX_DELAY: Duration = Duration::from_secs(5);

/// The longest a [`Fault::StalledBody`] stalls; longer stalls are cut to it.
pub const MAX_STALL: Duration = Duration::from_secs(60);

/// Shortest [`Fault::HugeBody`] with [`Filler::Json`]: `{"filler":""}`.
pub(crate) const MIN_JSON_FILLER: u64 = 13;

/// How the length of a faulty body is announced in the response head.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Framing {
    /// A `Content-Length` header declares the whole body.
    #[default]
    ContentLength,
    /// `Transfer-Encoding: chunked`: no length is declared, and the body
    /// ends with a zero-length chunk (which a cut body never sends).
    Chunked,
}

/// What a [`Fault::HugeBody`] is made of.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Filler {
    /// A valid JSON document, `{"filler":"xxx…"}`, as `application/json`.
    #[default]
    Json,
    /// `x` repeated, as `text/plain; charset=utf-8`.
    Text,
}

/// What happens to one response.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this status and `{"detail": "injected fault"}`, with a
    /// `Retry-After` header (whole seconds, rounded up) when given.
    Status {
        /// HTTP status code (400 to 599).
        status: u16,
        /// Value of the `Retry-After` header.
        retry_after: Option<Duration>,
    },
    /// Wait this long on the real clock (at most [`MAX_DELAY`]), then answer
    /// normally.
    Delay(Duration),
    /// Close the connection without sending a response.
    DropConnection,
    /// Answer `200` with a truncated JSON body.
    MalformedBody,
    /// Run the operation, then send its answer's head, which announces the
    /// whole body as `framing` says, and only the first `sent` bytes of the
    /// body (at most all but one), then close the connection. The client
    /// sees a complete head and a body that breaks off: a lost connection.
    ///
    /// An answer without a body (`204`) cannot be cut: it is sent whole and
    /// the connection is closed after it.
    CutBody {
        /// Body bytes sent before the connection closes.
        sent: usize,
        /// How the head announces the body.
        framing: Framing,
    },
    /// Run the operation, then send its answer's head and the first `sent`
    /// bytes of its body (at most all but one), then nothing for `stall`
    /// (real time, at most [`MAX_STALL`]), then close the connection. A
    /// client whose timeout is shorter than the stall times out; one whose
    /// timeout is longer sees a body that breaks off.
    ///
    /// An answer without a body (`204`) is sent whole, `stall` after its
    /// head.
    StalledBody {
        /// Body bytes sent before the stall.
        sent: usize,
        /// How long nothing is sent.
        stall: Duration,
        /// How the head announces the body.
        framing: Framing,
    },
    /// Answer with this redirect status, a `Location: location` header and
    /// an empty body, without running the operation. `location` is sent as
    /// given: a path, or a URL on another origin.
    Redirect {
        /// `301`, `302`, `303`, `307` or `308`.
        status: u16,
        /// Value of the `Location` header.
        location: String,
    },
    /// Answer `200` with a body of `len` bytes made of `filler`, announced
    /// as `framing` says, without running the operation. The body is
    /// generated in chunks while it is sent and never held whole, so it can
    /// be far larger than memory; it stops when the client stops reading.
    /// A [`Filler::Json`] body is at least 13 bytes (`{"filler":""}`); a
    /// smaller `len` is raised to that.
    HugeBody {
        /// Body length in bytes.
        len: u64,
        /// What the body is made of.
        filler: Filler,
        /// How the head announces the body.
        framing: Framing,
    },
}

impl Fault {
    /// A failure with this status and no `Retry-After`.
    pub fn status(status: u16) -> Fault {
        Fault::Status {
            status,
            retry_after: None,
        }
    }

    /// A failure with this status and a `Retry-After` header.
    pub fn status_with_retry_after(status: u16, retry_after: Duration) -> Fault {
        Fault::Status {
            status,
            retry_after: Some(retry_after),
        }
    }

    /// A body announced with `Content-Length` and cut after `sent` bytes;
    /// see [`Fault::CutBody`].
    pub fn cut_body(sent: usize) -> Fault {
        Fault::CutBody {
            sent,
            framing: Framing::ContentLength,
        }
    }

    /// A body announced with `Content-Length` that stalls for `stall` after
    /// `sent` bytes; see [`Fault::StalledBody`].
    pub fn stalled_body(sent: usize, stall: Duration) -> Fault {
        Fault::StalledBody {
            sent,
            stall,
            framing: Framing::ContentLength,
        }
    }

    /// A redirect with this status to `location`; see [`Fault::Redirect`].
    pub fn redirect(status: u16, location: impl Into<String>) -> Fault {
        Fault::Redirect {
            status,
            location: location.into(),
        }
    }

    /// A JSON body of `len` bytes announced with `Content-Length`; see
    /// [`Fault::HugeBody`].
    pub fn huge_body(len: u64) -> Fault {
        Fault::HugeBody {
            len,
            filler: Filler::Json,
            framing: Framing::ContentLength,
        }
    }
}

/// Statuses a [`Fault::Redirect`] may have.
const REDIRECT_STATUSES: [u16; 5] = [301, 302, 303, 307, 308];

/// How the next run ends instead of completing.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunFault {
    /// The run ends `FAILED` with this error, halfway through its work.
    Failed(String),
    /// The run ends `CRASHED` halfway through its work.
    Crashed,
}

/// Why a fault could not be armed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultError {
    /// No operation has this client method name.
    UnknownOperation(String),
    /// A [`Fault::Status`] outside 400..=599.
    InvalidStatus(u16),
    /// A [`Fault::Redirect`] whose status is not 301, 302, 303, 307 or 308.
    InvalidRedirectStatus(u16),
    /// A [`Fault::Redirect`] whose location cannot be a header value (it
    /// has a control character such as a line break).
    InvalidLocation(String),
}

impl fmt::Display for FaultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultError::UnknownOperation(name) => write!(
                f,
                "unknown operation `{name}`: use a client method name such as `icp_list`"
            ),
            FaultError::InvalidStatus(status) => {
                write!(
                    f,
                    "fault status {status} is not an error status (400..=599)"
                )
            }
            FaultError::InvalidRedirectStatus(status) => write!(
                f,
                "redirect status {status} is not one of 301, 302, 303, 307, 308"
            ),
            FaultError::InvalidLocation(location) => write!(
                f,
                "redirect location {location:?} is not a valid header value"
            ),
        }
    }
}

impl std::error::Error for FaultError {}

/// A shared handle on a server's armed faults. Clones share the same faults.
#[derive(Clone, Default)]
pub struct Faults {
    inner: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    responses: HashMap<String, VecDeque<(Fault, u32)>>,
    runs: VecDeque<RunFault>,
}

impl fmt::Debug for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        let mut armed: Vec<_> = state
            .responses
            .iter()
            .map(|(op, queue)| (op.clone(), queue.iter().map(|(_, n)| n).sum::<u32>()))
            .filter(|(_, n)| *n > 0)
            .collect();
        armed.sort();
        f.debug_struct("Faults")
            .field("responses", &armed)
            .field("runs", &state.runs)
            .finish()
    }
}

impl Faults {
    /// Makes the next `times` responses of `operation` (a client method
    /// name) suffer `fault`. Faults armed for the same operation apply in
    /// the order they were armed.
    ///
    /// # Errors
    ///
    /// [`FaultError::UnknownOperation`] for a name that is not one of the 46
    /// operations, [`FaultError::InvalidStatus`] for a status fault that is
    /// not an error status, [`FaultError::InvalidRedirectStatus`] and
    /// [`FaultError::InvalidLocation`] for a redirect that could not be sent.
    pub fn inject(&self, operation: &str, fault: Fault, times: u32) -> Result<(), FaultError> {
        if linkt::Operation::find(operation).is_none() {
            return Err(FaultError::UnknownOperation(operation.to_owned()));
        }
        match &fault {
            Fault::Status { status, .. } if !(400..=599).contains(status) => {
                return Err(FaultError::InvalidStatus(*status));
            }
            Fault::Redirect { status, .. } if !REDIRECT_STATUSES.contains(status) => {
                return Err(FaultError::InvalidRedirectStatus(*status));
            }
            Fault::Redirect { location, .. }
                if axum::http::HeaderValue::from_str(location).is_err() =>
            {
                return Err(FaultError::InvalidLocation(location.clone()));
            }
            _ => {}
        }
        if times > 0 {
            self.lock()
                .responses
                .entry(operation.to_owned())
                .or_default()
                .push_back((fault, times));
        }
        Ok(())
    }

    /// Makes the next run created end as `fault` says. Several calls queue up.
    pub fn fail_next_run(&self, fault: RunFault) {
        self.lock().runs.push_back(fault);
    }

    /// How many responses of `operation` still have a fault armed.
    pub fn pending(&self, operation: &str) -> u32 {
        self.lock()
            .responses
            .get(operation)
            .map_or(0, |queue| queue.iter().map(|(_, n)| n).sum())
    }

    /// Disarms every fault.
    pub fn clear(&self) {
        let mut state = self.lock();
        state.responses.clear();
        state.runs.clear();
    }

    /// Consumes the next fault armed for `operation`, if any.
    pub(crate) fn take(&self, operation: &str) -> Option<Fault> {
        let mut state = self.lock();
        let queue = state.responses.get_mut(operation)?;
        let (fault, remaining) = queue.front_mut()?;
        let fault = fault.clone();
        *remaining -= 1;
        if *remaining == 0 {
            queue.pop_front();
        }
        Some(fault)
    }

    /// Consumes the next run fault, if any.
    pub(crate) fn take_run(&self) -> Option<RunFault> {
        self.lock().runs.pop_front()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_consumed_in_order() {
        let faults = Faults::default();
        faults
            .inject("icp_list", Fault::status(503), 2)
            .expect("arm");
        faults
            .inject("icp_list", Fault::MalformedBody, 1)
            .expect("arm");
        assert_eq!(faults.pending("icp_list"), 3);
        assert_eq!(faults.take("icp_list"), Some(Fault::status(503)));
        assert_eq!(faults.take("icp_list"), Some(Fault::status(503)));
        assert_eq!(faults.take("icp_list"), Some(Fault::MalformedBody));
        assert_eq!(faults.take("icp_list"), None);
        assert_eq!(faults.take("icp_create"), None);
    }

    #[test]
    fn unknown_operations_and_statuses_are_refused() {
        let faults = Faults::default();
        let err = faults
            .inject("icp_lsit", Fault::status(500), 1)
            .expect_err("unknown");
        assert_eq!(err, FaultError::UnknownOperation("icp_lsit".into()));
        assert!(err.to_string().contains("icp_lsit"));
        assert_eq!(
            faults.inject("icp_list", Fault::status(200), 1),
            Err(FaultError::InvalidStatus(200))
        );
    }

    #[test]
    fn run_faults_queue_up() {
        let faults = Faults::default();
        faults.fail_next_run(RunFault::Crashed);
        faults.fail_next_run(RunFault::Failed("boom".into()));
        assert_eq!(faults.take_run(), Some(RunFault::Crashed));
        assert_eq!(faults.take_run(), Some(RunFault::Failed("boom".into())));
        assert_eq!(faults.take_run(), None);
        faults.fail_next_run(RunFault::Crashed);
        faults.clear();
        assert_eq!(faults.take_run(), None);
    }
}
