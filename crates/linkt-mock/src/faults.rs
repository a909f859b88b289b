//! Fault injection: making the next responses of an operation fail, and the
//! next runs end badly.
//!
//! A fault is armed for an operation by its client method name (`icp_list`,
//! `task_execute`, ...) and consumed by the next requests that reach that
//! operation with a valid key, in order. Run faults are consumed by the next
//! run that an execution (or a legacy `POST /v1/run`) creates.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The longest [`Fault::Delay`] the server waits; longer delays are cut to it.
pub const MAX_DELAY: Duration = Duration::from_secs(5);

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
}

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
    /// not an error status.
    pub fn inject(&self, operation: &str, fault: Fault, times: u32) -> Result<(), FaultError> {
        if linkt::Operation::find(operation).is_none() {
            return Err(FaultError::UnknownOperation(operation.to_owned()));
        }
        if let Fault::Status { status, .. } = fault
            && !(400..=599).contains(&status)
        {
            return Err(FaultError::InvalidStatus(status));
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
