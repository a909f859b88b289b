//! Where a rate limiter keeps its state: the [`LimiterBackend`] trait.
//!
//! The client asks a backend for a slot before every attempt and tells it
//! when a response says the server's quota is used up. [`RateLimiter`]
//! (state in this process, shared by clones) is one backend; a backend whose
//! state lives elsewhere (for instance in Redis, shared by many processes:
//! the `linkt-ratelimit-redis` crate) is another. This module holds the
//! trait and what a reservation can fail with, nothing about any store.
//!
//! # The contract
//!
//! A backend paces to a [`Plan`] the way [`RateLimiter`] does: a
//! reservation returns how long to wait before sending and counts the
//! request as sent at the end of that wait; a quota whose next slot is
//! beyond the backend's cap on waiting is not waited for (the request is
//! counted at once and the server answers). Given `within`, the longest the
//! caller can wait (what is left of the call's deadline), a reservation
//! whose wait would be longer is refused with [`ReserveError::PastDeadline`]
//! and records nothing; so is one whose quota is beyond the cap and beyond
//! `within` (rather than sent for the server to refuse).

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use crate::limiter::{Plan, RateLimiter};
use crate::rate_limit::RateLimit;

/// A boxed future a [`LimiterBackend`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a reservation was not granted. Nothing was recorded for it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReserveError {
    /// The next slot is further away than the caller can wait.
    #[error(
        "the rate limit's next slot is in {wait:?}, past the call's deadline ({within:?} left)"
    )]
    PastDeadline {
        /// How long until the slot.
        wait: Duration,
        /// How long the caller could wait.
        within: Duration,
    },
    /// The backend's store could not be asked, and the backend is
    /// configured to fail rather than pace in this process alone.
    #[error("the shared rate limiter is unavailable: {0}")]
    Unavailable(#[source] Box<dyn StdError + Send + Sync + 'static>),
}

impl ReserveError {
    /// The wait that was refused, for [`ReserveError::PastDeadline`].
    pub fn wait(&self) -> Option<Duration> {
        match self {
            Self::PastDeadline { wait, .. } => Some(*wait),
            Self::Unavailable(_) => None,
        }
    }
}

/// Where a rate limiter keeps its state; see the [module docs](self).
///
/// Implementations are shared (`Arc<dyn LimiterBackend>`) by every clone of
/// a client, so they take `&self` and synchronize inside.
pub trait LimiterBackend: fmt::Debug + Send + Sync + 'static {
    /// The plan being paced.
    fn plan(&self) -> Plan;

    /// Reserves a slot for one request and returns how long to wait before
    /// sending it. With `within`, a wait longer than it is refused
    /// ([`ReserveError::PastDeadline`]), recording nothing.
    fn reserve(&self, within: Option<Duration>) -> BoxFuture<'_, Result<Duration, ReserveError>>;

    /// Takes a response's rate-limit headers into account. The client calls
    /// it only for headers saying no requests are left
    /// ([`RateLimit::is_exhausted`]): later reservations wait for the reset
    /// (within the backend's cap on waiting). Failures are the backend's to
    /// report (a log line); the call goes on.
    fn observe<'a>(&'a self, rate_limit: &'a RateLimit) -> BoxFuture<'a, ()>;
}

/// The in-process limiter as a backend: state in this process, the clock
/// [`Instant::now`]. The client uses [`RateLimiter`] directly, without a
/// boxed future, when it is given one through `ClientBuilder::rate_limit`.
impl LimiterBackend for RateLimiter {
    fn plan(&self) -> Plan {
        RateLimiter::plan(self)
    }

    fn reserve(&self, within: Option<Duration>) -> BoxFuture<'_, Result<Duration, ReserveError>> {
        Box::pin(std::future::ready(
            self.reserve_within(Instant::now(), within),
        ))
    }

    fn observe<'a>(&'a self, rate_limit: &'a RateLimit) -> BoxFuture<'a, ()> {
        RateLimiter::observe(self, rate_limit, Instant::now());
        Box::pin(std::future::ready(()))
    }
}
