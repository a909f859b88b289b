//! The simulated clock that every time-dependent behaviour of the server reads.
//!
//! Run states, entity creation, file processing, signal timestamps and rate
//! limit windows are all computed from [`Clock::now`]; nothing in the server
//! reads the wall clock for them. A test moves time with [`Clock::advance`].
//! A server started for interactive use can instead let simulated time flow
//! with the wall clock at a chosen speed ([`Clock::scaled`]). A server's
//! clock starts at the wall-clock time it starts at ([`default_start`])
//! unless it is given a start.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Timelike as _, Utc};

/// The instant a server's clock starts at unless told otherwise: the
/// wall-clock time now, to the whole second (so records created at once
/// carry today's date, and time filters written from the wall clock, such as
/// "created in the last hour", match them).
///
/// Each call reads the wall clock again. A test that needs the same times
/// on every run gives its server an explicit start instead, with
/// [`MockServerBuilder::start_time`](crate::MockServerBuilder::start_time).
pub fn default_start() -> DateTime<Utc> {
    let now = Utc::now();
    now.with_nanosecond(0).unwrap_or(now)
}

/// A shared handle on a server's simulated time. Clones share the same time.
///
/// ```
/// use std::time::Duration;
/// let clock = linkt_mock::Clock::manual(linkt_mock::clock::default_start());
/// let before = clock.now();
/// clock.advance(Duration::from_secs(90));
/// assert_eq!((clock.now() - before).num_seconds(), 90);
/// ```
#[derive(Clone)]
pub struct Clock {
    inner: Arc<Mutex<State>>,
}

struct State {
    /// Simulated time at `anchor` (manual advances are added here).
    base: DateTime<Utc>,
    /// With a speed: the wall-clock instant `base` refers to.
    anchor: Option<(Instant, f64)>,
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Clock")
            .field("now", &self.now_locked(&state))
            .field("speed", &state.anchor.map(|(_, speed)| speed))
            .finish()
    }
}

impl Clock {
    /// A clock that stands still until [`advance`](Self::advance)d.
    pub fn manual(start: DateTime<Utc>) -> Clock {
        Clock {
            inner: Arc::new(Mutex::new(State {
                base: start,
                anchor: None,
            })),
        }
    }

    /// A clock that flows `speed` times as fast as the wall clock (1.0 is
    /// real time), and can still be advanced by hand. A speed that is not a
    /// positive finite number gives a manual clock.
    pub fn scaled(start: DateTime<Utc>, speed: f64) -> Clock {
        let anchor = (speed.is_finite() && speed > 0.0).then(|| (Instant::now(), speed));
        Clock {
            inner: Arc::new(Mutex::new(State {
                base: start,
                anchor,
            })),
        }
    }

    /// The current simulated time.
    pub fn now(&self) -> DateTime<Utc> {
        let state = self.lock();
        self.now_locked(&state)
    }

    /// Moves simulated time forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut state = self.lock();
        let by = chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
        state.base = state.base.checked_add_signed(by).unwrap_or(state.base);
    }

    /// Moves simulated time forward to `to`; an instant in the past is
    /// ignored (time never goes backwards).
    pub fn advance_to(&self, to: DateTime<Utc>) {
        let mut state = self.lock();
        let now = self.now_locked(&state);
        if to > now {
            let delta = to - now;
            state.base = state.base.checked_add_signed(delta).unwrap_or(state.base);
        }
    }

    /// Whether time also flows with the wall clock.
    pub fn is_scaled(&self) -> bool {
        self.lock().anchor.is_some()
    }

    fn now_locked(&self, state: &State) -> DateTime<Utc> {
        match state.anchor {
            None => state.base,
            Some((anchor, speed)) => {
                let elapsed = anchor.elapsed().as_secs_f64() * speed;
                let elapsed = chrono::Duration::from_std(
                    Duration::try_from_secs_f64(elapsed).unwrap_or(Duration::ZERO),
                )
                .unwrap_or(chrono::Duration::zero());
                state.base.checked_add_signed(elapsed).unwrap_or(state.base)
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    /// 2025-01-06T09:00:00Z.
    fn start() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 6, 9, 0, 0)
            .single()
            .expect("a valid instant")
    }

    #[test]
    fn manual_clock_moves_only_when_advanced() {
        let clock = Clock::manual(start());
        assert_eq!(clock.now(), start());
        clock.advance(Duration::from_millis(1500));
        assert_eq!((clock.now() - start()).num_milliseconds(), 1500);
        clock.advance_to(start());
        assert_eq!((clock.now() - start()).num_milliseconds(), 1500);
        assert!(!clock.is_scaled());
    }

    #[test]
    fn clones_share_time() {
        let clock = Clock::manual(start());
        let other = clock.clone();
        other.advance(Duration::from_secs(5));
        assert_eq!(clock.now(), other.now());
    }

    #[test]
    fn the_default_start_is_the_wall_clock_now_to_the_second() {
        let before = Utc::now();
        let start = default_start();
        let after = Utc::now();
        assert_eq!(start.nanosecond(), 0);
        assert!(start <= after, "{start} is not after {after}");
        assert!(
            before - start < chrono::Duration::seconds(1),
            "{start} is a second or more before {before}"
        );
    }

    #[test]
    fn nonsense_speed_gives_a_manual_clock() {
        assert!(!Clock::scaled(start(), f64::NAN).is_scaled());
        assert!(!Clock::scaled(start(), 0.0).is_scaled());
        assert!(Clock::scaled(start(), 2.0).is_scaled());
    }
}
