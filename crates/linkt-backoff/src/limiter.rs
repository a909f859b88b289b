//! Client-side pacing, so that a busy loop never earns a 429.
//!
//! [`RateLimiter`] tracks the requests sent against the plan's per-minute and
//! per-day quotas and tells a caller how long to wait before sending the
//! next one. It also honours the server's own word: after a response saying
//! no requests are left, later reservations wait for the reset.
//!
//! Time is always passed in (`now: Instant`); the limiter never reads a
//! clock, so tests drive it with made-up instants. Reading rate-limit
//! headers is [`RateLimit`]'s job; retrying is [`run`](crate::run())'s.
//!
//! # Model
//!
//! Each quota is a **sliding window**: in any span of 60 s (or 24 h) at most
//! `per_minute` (or `per_day`) requests are sent. Requests are not spread
//! out: a fresh Free-plan limiter lets 60 requests go at once, and the 61st
//! waits until the first of them is 60 s old. A sliding window is stricter
//! than the fixed windows most servers count in, so pacing by it never
//! exceeds a fixed-window quota either.
//!
//! The log of sent requests is exact up to 1,024 distinct send times per
//! window; beyond that the two closest entries are merged into the later
//! one, which can only make the limiter wait longer, never shorter.
//!
//! # Waiting and its cap
//!
//! A reservation never waits longer than [`max_wait`](RateLimiter::max_wait)
//! (default 60 s, enough for the minute window). When the daily quota is
//! used up the wait is until the day window frees a slot, which may be hours
//! away; beyond the cap, [`try_reserve`](RateLimiter::try_reserve) refuses
//! with [`LimitExceeded`] and records nothing, while
//! [`reserve`](RateLimiter::reserve) does not wait for the quota and lets the
//! server answer (most likely with a 429).

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::backend::ReserveError;
use crate::rate_limit::RateLimit;

/// Send times kept per window before the closest two are merged.
const MAX_ENTRIES: usize = 1024;

const MINUTE: Duration = Duration::from_secs(60);
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// A Linkt plan's request quotas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Plan {
    /// 60 requests per minute and 1,000 per day.
    Free,
    /// 300 requests per minute and 10,000 per day.
    Pro,
    /// Custom quotas (Enterprise); 0 turns that window's pacing off.
    Custom {
        /// Requests per minute.
        per_minute: u32,
        /// Requests per day.
        per_day: u32,
    },
}

impl Plan {
    /// Requests allowed per minute (0: not paced).
    pub const fn per_minute(&self) -> u32 {
        match *self {
            Self::Free => 60,
            Self::Pro => 300,
            Self::Custom { per_minute, .. } => per_minute,
        }
    }

    /// Requests allowed per day (0: not paced).
    pub const fn per_day(&self) -> u32 {
        match *self {
            Self::Free => 1_000,
            Self::Pro => 10_000,
            Self::Custom { per_day, .. } => per_day,
        }
    }
}

/// One of the plan's quota windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Window {
    /// The 60-second window.
    Minute,
    /// The 24-hour window.
    Day,
}

impl Window {
    /// The window's length.
    pub const fn length(self) -> Duration {
        match self {
            Self::Minute => MINUTE,
            Self::Day => DAY,
        }
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Minute => "per-minute",
            Self::Day => "daily",
        })
    }
}

/// A quota is used up and its next free slot is further away than the
/// limiter's [`max_wait`](RateLimiter::max_wait).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{window} limit of {limit} requests reached: next slot in {wait:?}, beyond the {max_wait:?} wait cap"
)]
#[non_exhaustive]
pub struct LimitExceeded {
    /// The quota that is used up.
    pub window: Window,
    /// Its size.
    pub limit: u32,
    /// How long until it frees a slot ([`Duration::MAX`] if too far to
    /// represent).
    pub wait: Duration,
    /// The limiter's cap on waiting.
    pub max_wait: Duration,
}

/// Why `reserve_inner` refused.
enum Refusal {
    /// A quota's next slot is beyond the cap (only without `send_anyway`).
    Cap(LimitExceeded),
    /// The wait is longer than the caller's `within`.
    Deadline { wait: Duration, within: Duration },
}

/// Paces requests to a [`Plan`]'s quotas; clones share one state.
///
/// ```
/// use std::time::{Duration, Instant};
/// use linkt_backoff::{Plan, RateLimiter};
///
/// let limiter = RateLimiter::new(Plan::Free);
/// let t0 = Instant::now();
/// for _ in 0..60 {
///     assert_eq!(limiter.reserve(t0), Duration::ZERO);
/// }
/// assert_eq!(limiter.reserve(t0), Duration::from_secs(60));
/// ```
#[derive(Debug, Clone)]
pub struct RateLimiter {
    plan: Plan,
    max_wait: Duration,
    state: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    minute: Log,
    day: Log,
    /// Set by [`RateLimiter::observe`]: no request before this instant.
    hold_until: Option<Instant>,
}

/// Send times in one sliding window, oldest first, with a count per time.
#[derive(Debug)]
struct Log {
    window: Window,
    limit: u32,
    entries: VecDeque<(Instant, u64)>,
}

impl Log {
    fn new(window: Window, limit: u32) -> Self {
        Self {
            window,
            limit,
            entries: VecDeque::new(),
        }
    }

    /// Drops sends that no longer count at `now`.
    fn prune(&mut self, now: Instant) {
        while let Some(&(at, _)) = self.entries.front() {
            match at.checked_add(self.window.length()) {
                Some(end) if end <= now => {
                    self.entries.pop_front();
                }
                _ => break,
            }
        }
    }

    /// The earliest instant from `now` on at which one more send fits, or
    /// `None` if that is too far away to represent.
    ///
    /// Every logged send after `t − length` is counted, including sends
    /// reserved for later than `t`: a superset of any window that contains
    /// `t`, so the answer is never too early.
    fn earliest(&self, now: Instant) -> Option<Instant> {
        if self.limit == 0 {
            return Some(now);
        }
        let total: u64 = self.entries.iter().map(|&(_, n)| n).sum();
        let limit = u64::from(self.limit);
        if total < limit {
            return Some(now);
        }
        let must_expire = total - limit + 1;
        let mut expired = 0;
        for &(at, n) in &self.entries {
            expired += n;
            if expired >= must_expire {
                return at.checked_add(self.window.length()).map(|t| t.max(now));
            }
        }
        None
    }

    fn record(&mut self, at: Instant) {
        if self.limit == 0 {
            return;
        }
        let pos = self.entries.partition_point(|&(t, _)| t <= at);
        match pos.checked_sub(1).and_then(|i| self.entries.get_mut(i)) {
            Some((t, n)) if *t == at => *n += 1,
            _ => self.entries.insert(pos, (at, 1)),
        }
        if self.entries.len() > MAX_ENTRIES {
            self.merge_closest();
        }
    }

    /// Folds the entry closest to its successor into that successor (the
    /// later time), which only ever delays expiry.
    fn merge_closest(&mut self) {
        let closest = self
            .entries
            .iter()
            .zip(self.entries.iter().skip(1))
            .enumerate()
            .min_by_key(|(_, (a, b))| b.0.saturating_duration_since(a.0))
            .map(|(i, _)| i);
        if let Some(i) = closest
            && let Some((_, n)) = self.entries.remove(i)
            && let Some(next) = self.entries.get_mut(i)
        {
            next.1 += n;
        }
    }
}

impl RateLimiter {
    /// A limiter for `plan`, waiting at most 60 s per reservation.
    pub fn new(plan: Plan) -> Self {
        Self {
            plan,
            max_wait: MINUTE,
            state: Arc::new(Mutex::new(State {
                minute: Log::new(Window::Minute, plan.per_minute()),
                day: Log::new(Window::Day, plan.per_day()),
                hold_until: None,
            })),
        }
    }

    /// Sets the longest wait a reservation may impose, and the longest
    /// server reset [`observe`](Self::observe) will honour. Applies to this
    /// handle (and clones made from it afterwards); the quota state stays
    /// shared.
    pub fn with_max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = max_wait;
        self
    }

    /// The plan being paced.
    pub fn plan(&self) -> Plan {
        self.plan
    }

    /// The cap on waiting.
    pub fn max_wait(&self) -> Duration {
        self.max_wait
    }

    /// Reserves a slot for one request: returns how long to wait before
    /// sending it, and counts it as sent at `now` plus that wait.
    ///
    /// When a quota's next free slot is beyond [`max_wait`](Self::max_wait),
    /// this does not wait for it: the request is counted as sent at once (or
    /// once a server-imposed hold ends) and the server gets to answer. Use
    /// [`try_reserve`](Self::try_reserve) to refuse instead.
    pub fn reserve(&self, now: Instant) -> Duration {
        match self.reserve_inner(now, true, None) {
            Ok(wait) => wait,
            // `send_anyway` without `within` never refuses.
            Err(_) => Duration::ZERO,
        }
    }

    /// Like [`reserve`](Self::reserve), but refuses with
    /// [`ReserveError::PastDeadline`], recording nothing, when the wait
    /// would be longer than `within` (what is left of a call's deadline),
    /// including a quota's wait beyond [`max_wait`](Self::max_wait) that
    /// [`reserve`](Self::reserve) would not wait for. With `within` =
    /// `None` it is [`reserve`](Self::reserve).
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use linkt_backoff::{Plan, RateLimiter, ReserveError};
    ///
    /// let limiter = RateLimiter::new(Plan::Custom { per_minute: 1, per_day: 0 });
    /// let t0 = Instant::now();
    /// assert_eq!(limiter.reserve_within(t0, Some(Duration::from_secs(5))).ok(), Some(Duration::ZERO));
    /// let refused = limiter.reserve_within(t0, Some(Duration::from_secs(5)));
    /// assert!(matches!(refused, Err(ReserveError::PastDeadline { wait, .. }) if wait == Duration::from_secs(60)));
    /// // Nothing was recorded: the next slot is still 60 s away, not 120 s.
    /// assert_eq!(limiter.reserve(t0), Duration::from_secs(60));
    /// ```
    pub fn reserve_within(
        &self,
        now: Instant,
        within: Option<Duration>,
    ) -> Result<Duration, ReserveError> {
        self.reserve_inner(now, true, within)
            .map_err(|refusal| match refusal {
                Refusal::Deadline { wait, within } => ReserveError::PastDeadline { wait, within },
                // `send_anyway` never refuses for the cap.
                Refusal::Cap(limit) => ReserveError::PastDeadline {
                    wait: limit.wait,
                    within: limit.max_wait,
                },
            })
    }

    /// Like [`reserve`](Self::reserve), but refuses with [`LimitExceeded`],
    /// recording nothing, when a quota's next free slot is beyond
    /// [`max_wait`](Self::max_wait).
    pub fn try_reserve(&self, now: Instant) -> Result<Duration, LimitExceeded> {
        self.reserve_inner(now, false, None)
            .map_err(|refusal| match refusal {
                Refusal::Cap(limit) => limit,
                // Only given a `within`.
                Refusal::Deadline { wait, within } => LimitExceeded {
                    window: Window::Minute,
                    limit: self.plan.per_minute(),
                    wait,
                    max_wait: within,
                },
            })
    }

    fn reserve_inner(
        &self,
        now: Instant,
        send_anyway: bool,
        within: Option<Duration>,
    ) -> Result<Duration, Refusal> {
        let mut state = self.lock();
        if state.hold_until.is_some_and(|h| h <= now) {
            state.hold_until = None;
        }
        let hold = state.hold_until.unwrap_or(now).max(now);
        state.minute.prune(now);
        state.day.prune(now);

        let mut at = hold;
        let mut refused = None;
        for log in [&state.minute, &state.day] {
            let slot = log.earliest(now);
            let wait = slot.map_or(Duration::MAX, |t| t.saturating_duration_since(now));
            match slot {
                Some(slot) if wait <= self.max_wait => at = at.max(slot),
                _ => {
                    let worse = refused
                        .as_ref()
                        .is_none_or(|r: &LimitExceeded| wait > r.wait);
                    if worse {
                        refused = Some(LimitExceeded {
                            window: log.window,
                            limit: log.limit,
                            wait,
                            max_wait: self.max_wait,
                        });
                    }
                }
            }
        }
        if let Some(refusal) = refused {
            if !send_anyway {
                return Err(Refusal::Cap(refusal));
            }
            // A slot past the caller's deadline too: refuse rather than let
            // the server answer a call that cannot succeed in time.
            if let Some(within) = within
                && refusal.wait > within
            {
                return Err(Refusal::Deadline {
                    wait: refusal.wait,
                    within,
                });
            }
            // Let the server answer, once its own hold (if any) is over.
            at = hold;
        }
        let wait = at.saturating_duration_since(now);
        if let Some(within) = within
            && wait > within
        {
            return Err(Refusal::Deadline { wait, within });
        }
        state.minute.record(at);
        state.day.record(at);
        Ok(wait)
    }

    /// Takes the server's word into account: when `rate_limit` says no
    /// requests are left and gives a reset within
    /// [`max_wait`](Self::max_wait), no reservation is granted before that
    /// reset. A longer (or missing) reset is ignored, leaving the server to
    /// answer. Holds only ever extend; a later response with requests left
    /// does not shorten one.
    pub fn observe(&self, rate_limit: &RateLimit, now: Instant) {
        if !rate_limit.is_exhausted() {
            return;
        }
        let Some(reset) = rate_limit.reset else {
            return;
        };
        if reset.is_zero() || reset > self.max_wait {
            return;
        }
        let Some(until) = now.checked_add(reset) else {
            return;
        };
        let mut state = self.lock();
        state.hold_until = Some(state.hold_until.map_or(until, |h| h.max(until)));
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while the lock is held; if something ever did, the
        // log is still consistent enough to keep pacing.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_keeps_the_count_and_moves_later() {
        let t0 = Instant::now();
        let mut log = Log::new(Window::Day, 100_000);
        for i in 0..(MAX_ENTRIES as u64 + 10) {
            log.record(t0 + Duration::from_millis(i * 10));
        }
        assert_eq!(log.entries.len(), MAX_ENTRIES);
        let total: u64 = log.entries.iter().map(|&(_, n)| n).sum();
        assert_eq!(total, MAX_ENTRIES as u64 + 10);
        assert!(
            log.entries
                .iter()
                .zip(log.entries.iter().skip(1))
                .all(|(a, b)| a.0 < b.0)
        );
    }

    #[test]
    fn a_quota_beyond_the_cap_is_sent_anyway_unless_past_the_deadline() {
        let limiter = RateLimiter::new(Plan::Custom {
            per_minute: 0,
            per_day: 2,
        });
        let t0 = Instant::now();
        let within = Some(Duration::from_secs(30));
        assert_eq!(
            limiter.reserve_within(t0, within).ok(),
            Some(Duration::ZERO)
        );
        assert_eq!(
            limiter.reserve_within(t0, within).ok(),
            Some(Duration::ZERO)
        );
        // The day is used up: a day away, past both the cap and the deadline.
        match limiter.reserve_within(t0, within) {
            Err(ReserveError::PastDeadline { wait, within }) => {
                assert_eq!((wait, within), (DAY, Duration::from_secs(30)));
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(
            limiter
                .lock()
                .day
                .entries
                .iter()
                .map(|&(_, n)| n)
                .sum::<u64>(),
            2
        );
        // Without a deadline: sent anyway, for the server to answer.
        assert_eq!(limiter.reserve_within(t0, None).ok(), Some(Duration::ZERO));
    }

    #[test]
    fn disabled_window_never_waits() {
        let limiter = RateLimiter::new(Plan::Custom {
            per_minute: 0,
            per_day: 0,
        });
        let t0 = Instant::now();
        for _ in 0..10_000 {
            assert_eq!(limiter.try_reserve(t0), Ok(Duration::ZERO));
        }
        assert!(limiter.lock().minute.entries.is_empty());
    }
}
