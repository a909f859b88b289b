//! Waiting for runs: execute a task, poll its run until it reaches a terminal
//! status, and report a typed [`RunOutcome`].
//!
//! This module holds [`RunWaiter`] (built by [`Client::wait_for_run`] and
//! [`Client::execute_and_wait`]), the run view [`Run`] and [`RunStatus`], the
//! [`CancelHandle`] and the progress report [`Progress`]. It polls with
//! `run_retrieve` (and optionally `run_get_queue`) and cancels with
//! `run_cancel`; retries of the individual calls are the client's business.
//!
//! ```no_run
//! use std::time::Duration;
//! use linkt::{RunOutcome, types};
//!
//! # async fn example(client: &linkt::Client, task_id: &str) -> Result<(), linkt::Error> {
//! let body: types::ExecuteTaskRequest = serde_json::from_value(serde_json::json!({
//!     "icp_id": "507f1f77bcf86cd799439011",
//!     "parameters": { "num_results": 25 }
//! }))
//! .expect("a valid body");
//! let execute = client.task_execute().task_id(task_id).body(body);
//! let outcome = client
//!     .execute_and_wait(execute)
//!     .deadline(Duration::from_secs(30 * 60))
//!     .cancel_on_deadline(true)
//!     .on_progress(|p| eprintln!("run {}: {}", p.run_id, p.status))
//!     .await?;
//! match outcome {
//!     RunOutcome::Completed(run) => println!("run {} completed", run.id),
//!     RunOutcome::Failed { status, error, .. } => eprintln!("{status}: {error:?}"),
//!     RunOutcome::Cancelled(run) => eprintln!("run {} was cancelled", run.id),
//!     RunOutcome::TimedOut { last_status, .. } => eprintln!("still {last_status}"),
//!     _ => {}
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Time
//!
//! The waiter sleeps between polls through the client's sleep function (see
//! [`ClientBuilder::sleep_with`](crate::ClientBuilder::sleep_with)), so a test
//! that advances a simulated clock instead of sleeping never waits on the wall
//! clock. The deadline is measured the same way: the time spent in requests
//! (wall clock) plus the delays the waiter asked the sleep function for. With
//! the default sleep this is the wall-clock time since [`RunWaiter::wait`]
//! was called.
//!
//! # Cancellation
//!
//! Dropping the future stops polling and leaves the run alone. To stop the run
//! itself, call [`CancelHandle::cancel`] (the waiter sends `run_cancel` and
//! keeps polling until the run is terminal or the deadline passes) or set
//! [`RunWaiter::cancel_on_deadline`].

use std::fmt;
use std::future::IntoFuture;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures::future::{BoxFuture, Either};
use progenitor_client::ClientInfo as _;
use serde_json::{Map, Value};
use tokio::sync::Notify;

use crate::{Client, Error, builder};

/// Default delay before the second poll; it doubles after every poll.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Default upper bound of the delay between polls.
pub const DEFAULT_MAX_POLL_INTERVAL: Duration = Duration::from_secs(30);
/// Shortest delay between polls, whatever is configured.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Status of a run, as reported in the run document's `status` field.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RunStatus {
    /// Created, waiting to be picked up.
    Scheduled,
    /// Picked up, about to start.
    Pending,
    /// In progress.
    Running,
    /// Paused; may resume.
    Paused,
    /// Finished successfully (terminal).
    Completed,
    /// Finished with an error (terminal).
    Failed,
    /// Cancelled (terminal).
    Canceled,
    /// The workflow engine lost the run (terminal).
    Crashed,
    /// A status this client does not know; treated as not terminal.
    Other(String),
}

impl RunStatus {
    /// Parses a status name, ignoring ASCII case (`CANCELLED` is accepted as
    /// [`RunStatus::Canceled`]).
    pub fn parse(status: &str) -> RunStatus {
        match status.to_ascii_uppercase().as_str() {
            "SCHEDULED" => RunStatus::Scheduled,
            "PENDING" => RunStatus::Pending,
            "RUNNING" => RunStatus::Running,
            "PAUSED" => RunStatus::Paused,
            "COMPLETED" => RunStatus::Completed,
            "FAILED" => RunStatus::Failed,
            "CANCELED" | "CANCELLED" => RunStatus::Canceled,
            "CRASHED" => RunStatus::Crashed,
            _ => RunStatus::Other(status.to_owned()),
        }
    }

    /// The status as the API spells it, e.g. `RUNNING`.
    pub fn as_str(&self) -> &str {
        match self {
            RunStatus::Scheduled => "SCHEDULED",
            RunStatus::Pending => "PENDING",
            RunStatus::Running => "RUNNING",
            RunStatus::Paused => "PAUSED",
            RunStatus::Completed => "COMPLETED",
            RunStatus::Failed => "FAILED",
            RunStatus::Canceled => "CANCELED",
            RunStatus::Crashed => "CRASHED",
            RunStatus::Other(status) => status,
        }
    }

    /// Whether the run will not change any more: `COMPLETED`, `FAILED`,
    /// `CANCELED` or `CRASHED`.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            RunStatus::Completed | RunStatus::Failed | RunStatus::Canceled | RunStatus::Crashed
        )
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A run as last seen: its id, status and the whole (free-form) document.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Run {
    /// The run's id.
    pub id: String,
    /// The run's status.
    pub status: RunStatus,
    /// The run document as the server returned it.
    pub document: Map<String, Value>,
}

impl Run {
    /// The run's error message, from the document's `error` (a string, or an
    /// object's `message`) or `error_message` field.
    pub fn error(&self) -> Option<String> {
        let text = |value: &Value| match value {
            Value::Null => None,
            Value::String(text) => Some(text.clone()),
            Value::Object(object) => Some(
                object
                    .get("message")
                    .and_then(Value::as_str)
                    .map_or_else(|| value.to_string(), str::to_owned),
            ),
            other => Some(other.to_string()),
        };
        ["error", "error_message"]
            .iter()
            .find_map(|key| self.document.get(*key).and_then(text))
    }

    fn from_document(id: &str, document: Map<String, Value>) -> Result<Run, Error> {
        let status = match document.get("status") {
            Some(Value::String(status)) => RunStatus::parse(status),
            _ => {
                let body = serde_json::to_vec(&document).unwrap_or_default();
                let err = <serde_json::Error as serde::de::Error>::custom(
                    "run document has no string `status`",
                );
                return Err(Error::decode(
                    err,
                    &body,
                    &linkt_error::CallContext::new().with_operation_id("run_retrieve"),
                ));
            }
        };
        Ok(Run {
            id: id.to_owned(),
            status,
            document,
        })
    }
}

/// How a wait ended.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum RunOutcome {
    /// The run reached `COMPLETED`.
    Completed(Run),
    /// The run reached `FAILED` or `CRASHED`.
    Failed {
        /// `FAILED` or `CRASHED`.
        status: RunStatus,
        /// The run's error message, if it has one (see [`Run::error`]).
        error: Option<String>,
        /// The run.
        run: Run,
    },
    /// The run reached `CANCELED`, by this waiter's request or another's.
    Cancelled(Run),
    /// The deadline passed before the run reached a terminal status.
    TimedOut {
        /// The last status seen.
        last_status: RunStatus,
        /// The run as last seen.
        run: Run,
        /// Whether the waiter asked the server to cancel the run
        /// ([`RunWaiter::cancel_on_deadline`] or [`CancelHandle::cancel`]).
        cancel_requested: bool,
    },
}

impl RunOutcome {
    /// The run as last seen.
    pub fn run(&self) -> &Run {
        match self {
            RunOutcome::Completed(run)
            | RunOutcome::Cancelled(run)
            | RunOutcome::Failed { run, .. }
            | RunOutcome::TimedOut { run, .. } => run,
        }
    }

    /// Whether the run completed successfully.
    pub fn is_completed(&self) -> bool {
        matches!(self, RunOutcome::Completed(_))
    }

    fn terminal(run: Run) -> RunOutcome {
        match run.status {
            RunStatus::Completed => RunOutcome::Completed(run),
            RunStatus::Canceled => RunOutcome::Cancelled(run),
            _ => RunOutcome::Failed {
                status: run.status.clone(),
                error: run.error(),
                run,
            },
        }
    }
}

/// Number of entities per state in a run's queue (`run_get_queue`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueueCounts {
    /// Waiting to be processed.
    pub queued: u64,
    /// Being processed.
    pub processing: u64,
    /// Processed.
    pub completed: u64,
    /// Dropped, e.g. not matching the ICP.
    pub discarded: u64,
}

impl QueueCounts {
    /// All entities the run has seen so far.
    pub fn total(&self) -> u64 {
        self.queued + self.processing + self.completed + self.discarded
    }

    fn add(&mut self, state: &str, count: u64) {
        match state {
            "queued" => self.queued += count,
            "processing" => self.processing += count,
            "completed" => self.completed += count,
            "discarded" => self.discarded += count,
            _ => {}
        }
    }
}

/// What a progress callback is told: after the first poll, and whenever the
/// status or the queue counts change.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Progress {
    /// The run's id.
    pub run_id: String,
    /// The run's current status.
    pub status: RunStatus,
    /// The status reported before, if any.
    pub previous: Option<RunStatus>,
    /// Time since the wait started (see the [module docs](crate::wait)).
    pub elapsed: Duration,
    /// Number of polls so far.
    pub polls: u32,
    /// Queue counts, when [`RunWaiter::queue_counts`] is on and the queue
    /// request succeeded.
    pub queue: Option<QueueCounts>,
}

/// Asks a running [`RunWaiter`] to cancel its run; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct CancelHandle {
    state: Arc<CancelState>,
}

#[derive(Debug, Default)]
struct CancelState {
    requested: AtomicBool,
    wake: Notify,
}

impl CancelHandle {
    /// Asks the waiter to cancel the run: it stops sleeping, sends
    /// `run_cancel` once, and keeps polling until the run is terminal (usually
    /// [`RunOutcome::Cancelled`]) or the deadline passes.
    pub fn cancel(&self) {
        self.state.requested.store(true, Ordering::SeqCst);
        self.state.wake.notify_one();
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.state.requested.load(Ordering::SeqCst)
    }
}

type ProgressFn<'a> = Box<dyn FnMut(&Progress) + Send + 'a>;

/// Which run to wait for.
enum Start<'a> {
    Run(String),
    Execute(builder::TaskExecute<'a>),
}

/// Waits for a run to reach a terminal status; built by
/// [`Client::wait_for_run`] or [`Client::execute_and_wait`], run by
/// [`wait`](Self::wait) or `.await`.
///
/// # Defaults
///
/// - poll interval: 1 s, doubling after every poll up to 30 s;
/// - no deadline;
/// - the run is not cancelled on the deadline;
/// - no queue counts, no progress callback.
#[must_use = "a waiter does nothing until awaited"]
pub struct RunWaiter<'a> {
    client: &'a Client,
    start: Start<'a>,
    poll_interval: Duration,
    max_poll_interval: Duration,
    deadline: Option<Duration>,
    cancel_on_deadline: bool,
    queue_counts: bool,
    progress: Option<ProgressFn<'a>>,
    cancel: CancelHandle,
}

impl fmt::Debug for RunWaiter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let start = match &self.start {
            Start::Run(id) => format!("run {id}"),
            Start::Execute(_) => "execute".to_owned(),
        };
        f.debug_struct("RunWaiter")
            .field("start", &start)
            .field("poll_interval", &self.poll_interval)
            .field("max_poll_interval", &self.max_poll_interval)
            .field("deadline", &self.deadline)
            .field("cancel_on_deadline", &self.cancel_on_deadline)
            .field("queue_counts", &self.queue_counts)
            .field("cancel", &self.cancel)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Waits for an existing run to reach a terminal status.
    pub fn wait_for_run(&self, run_id: impl Into<String>) -> RunWaiter<'_> {
        RunWaiter::new(self, Start::Run(run_id.into()))
    }

    /// Executes a task (`task_execute`), then waits for the run it started.
    ///
    /// `request` must be built on this client, e.g.
    /// `client.execute_and_wait(client.task_execute().task_id(id).body(body))`.
    pub fn execute_and_wait<'a>(&'a self, request: builder::TaskExecute<'a>) -> RunWaiter<'a> {
        RunWaiter::new(self, Start::Execute(request))
    }
}

impl<'a> RunWaiter<'a> {
    fn new(client: &'a Client, start: Start<'a>) -> Self {
        Self {
            client,
            start,
            poll_interval: DEFAULT_POLL_INTERVAL,
            max_poll_interval: DEFAULT_MAX_POLL_INTERVAL,
            deadline: None,
            cancel_on_deadline: false,
            queue_counts: false,
            progress: None,
            cancel: CancelHandle::default(),
        }
    }

    /// Delay before the second poll (1 s by default); it doubles after every
    /// poll up to [`max_poll_interval`](Self::max_poll_interval). Delays
    /// shorter than [`MIN_POLL_INTERVAL`] are raised to it.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Upper bound of the delay between polls (30 s by default).
    pub fn max_poll_interval(mut self, interval: Duration) -> Self {
        self.max_poll_interval = interval;
        self
    }

    /// Give up once this much time has passed (see the
    /// [module docs](crate::wait) for how time is measured); the last sleep is
    /// shortened to end at the deadline, followed by a last poll.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Ask the server to cancel the run when the deadline passes (off by
    /// default: the run keeps going).
    pub fn cancel_on_deadline(mut self, cancel: bool) -> Self {
        self.cancel_on_deadline = cancel;
        self
    }

    /// Also read the run's queue (`run_get_queue`) on every poll and report
    /// its counts in [`Progress::queue`]. A failed queue request does not end
    /// the wait; that poll reports no counts.
    pub fn queue_counts(mut self, enabled: bool) -> Self {
        self.queue_counts = enabled;
        self
    }

    /// Called after the first poll and whenever the status or queue counts
    /// change.
    pub fn on_progress(mut self, progress: impl FnMut(&Progress) + Send + 'a) -> Self {
        self.progress = Some(Box::new(progress));
        self
    }

    /// A handle that cancels the run while this waiter waits for it.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.cancel.clone()
    }

    /// Waits for the run. Errors of the calls (after the client's retries)
    /// end the wait; a run document without a `status` is a
    /// [`Decode`](crate::ErrorKind::Decode) error.
    pub async fn wait(self) -> Result<RunOutcome, Error> {
        let Self {
            client,
            start,
            poll_interval,
            max_poll_interval,
            deadline,
            cancel_on_deadline,
            queue_counts,
            mut progress,
            cancel,
        } = self;
        let mut clock = Clock::start(client);
        let run_id = match start {
            Start::Run(run_id) => run_id,
            Start::Execute(request) => request.send().await?.into_inner().run_id,
        };

        let max_poll_interval = max_poll_interval.max(MIN_POLL_INTERVAL);
        let mut interval = poll_interval.clamp(MIN_POLL_INTERVAL, max_poll_interval);
        let mut polls = 0_u32;
        let mut cancel_sent = false;
        let mut reported: Option<(RunStatus, Option<QueueCounts>)> = None;
        loop {
            let document = client
                .run_retrieve()
                .run_id(run_id.as_str())
                .send()
                .await?
                .into_inner()
                .0;
            let run = Run::from_document(&run_id, document)?;
            polls = polls.saturating_add(1);
            let queue = if queue_counts {
                queue_of(client, &run_id).await
            } else {
                None
            };
            if let Some(callback) = progress.as_mut() {
                let changed = reported
                    .as_ref()
                    .is_none_or(|(status, counts)| *status != run.status || *counts != queue);
                if changed {
                    callback(&Progress {
                        run_id: run_id.clone(),
                        status: run.status.clone(),
                        previous: reported.as_ref().map(|(status, _)| status.clone()),
                        elapsed: clock.elapsed(),
                        polls,
                        queue,
                    });
                    reported = Some((run.status.clone(), queue));
                }
            }

            if run.status.is_terminal() {
                return Ok(RunOutcome::terminal(run));
            }
            if cancel.is_cancelled() && !cancel_sent {
                send_cancel(client, &run_id).await?;
                cancel_sent = true;
                // Look again at once: the cancel usually takes effect at once.
                continue;
            }

            let delay = match deadline {
                Some(deadline) => {
                    let remaining = deadline.saturating_sub(clock.elapsed());
                    if remaining.is_zero() {
                        if cancel_on_deadline && !cancel_sent {
                            send_cancel(client, &run_id).await?;
                            cancel_sent = true;
                        }
                        return Ok(RunOutcome::TimedOut {
                            last_status: run.status.clone(),
                            run,
                            cancel_requested: cancel_sent,
                        });
                    }
                    interval.min(remaining)
                }
                None => interval,
            };
            // Once the cancel is sent there is nothing left to interrupt for.
            clock.sleep(delay, (!cancel_sent).then_some(&cancel)).await;
            interval = interval.saturating_mul(2).min(max_poll_interval);
        }
    }
}

impl<'a> IntoFuture for RunWaiter<'a> {
    type Output = Result<RunOutcome, Error>;
    type IntoFuture = BoxFuture<'a, Result<RunOutcome, Error>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.wait())
    }
}

async fn send_cancel(client: &Client, run_id: &str) -> Result<(), Error> {
    client.run_cancel().run_id(run_id).send().await?;
    Ok(())
}

async fn queue_of(client: &Client, run_id: &str) -> Option<QueueCounts> {
    let queue = client
        .run_get_queue()
        .run_id(run_id)
        .include_history(true)
        .send()
        .await
        .ok()?
        .into_inner();
    let mut counts = QueueCounts::default();
    match &queue.state_counts {
        Some(states) => {
            for (state, count) in states {
                counts.add(state, u64::try_from(*count).unwrap_or(0));
            }
        }
        None => {
            for entry in &queue.entities {
                if let Some(state) = entry.get("state").and_then(Value::as_str) {
                    counts.add(state, 1);
                }
            }
        }
    }
    Some(counts)
}

/// Elapsed time as the waiter sees it: wall-clock time outside sleeps plus the
/// delays it slept through the client's sleep function.
struct Clock<'a> {
    client: &'a Client,
    started: Instant,
    slept_wall: Duration,
    slept_asked: Duration,
}

impl<'a> Clock<'a> {
    fn start(client: &'a Client) -> Self {
        Self {
            client,
            started: Instant::now(),
            slept_wall: Duration::ZERO,
            slept_asked: Duration::ZERO,
        }
    }

    fn elapsed(&self) -> Duration {
        self.started
            .elapsed()
            .saturating_sub(self.slept_wall)
            .saturating_add(self.slept_asked)
    }

    /// Sleeps for `delay` through the client's sleep function, or until
    /// `cancel` (if given) is cancelled.
    async fn sleep(&mut self, delay: Duration, cancel: Option<&CancelHandle>) {
        let before = Instant::now();
        let sleep = (self.client.inner().sleep)(delay);
        let slept = match cancel {
            Some(cancel) if cancel.is_cancelled() => Duration::ZERO,
            Some(cancel) => {
                let woken = Box::pin(cancel.state.wake.notified());
                match futures::future::select(sleep, woken).await {
                    Either::Left(((), _)) => delay,
                    Either::Right(((), _)) => before.elapsed(),
                }
            }
            None => {
                sleep.await;
                delay
            }
        };
        self.slept_wall = self.slept_wall.saturating_add(before.elapsed());
        self.slept_asked = self.slept_asked.saturating_add(slept);
    }
}
