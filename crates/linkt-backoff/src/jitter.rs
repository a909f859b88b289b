//! Randomness for jitter, injectable so tests get exact delays.
//!
//! Only the source of random numbers lives here; how much jitter a delay
//! gets is the policy's business ([`RetryPolicy::with_jitter`](crate::RetryPolicy::with_jitter)).

/// A source of numbers in `[0, 1)` used to jitter computed delays.
///
/// Values outside `[0, 1]` (and NaN) are clamped by the policy, so a faulty
/// implementation cannot produce a delay outside the documented range.
pub trait Jitter {
    /// The next number in `[0, 1)`.
    fn next_unit(&mut self) -> f64;
}

impl<J: Jitter + ?Sized> Jitter for &mut J {
    fn next_unit(&mut self) -> f64 {
        (**self).next_unit()
    }
}

/// The default jitter source: a `fastrand` generator.
#[derive(Debug, Clone)]
pub struct RandomJitter(fastrand::Rng);

impl RandomJitter {
    /// A generator seeded from the thread-local `fastrand` generator.
    pub fn new() -> Self {
        Self(fastrand::Rng::new())
    }

    /// A generator with a fixed seed, for reproducible sequences.
    pub fn with_seed(seed: u64) -> Self {
        Self(fastrand::Rng::with_seed(seed))
    }
}

impl Default for RandomJitter {
    fn default() -> Self {
        Self::new()
    }
}

impl Jitter for RandomJitter {
    fn next_unit(&mut self) -> f64 {
        self.0.f64()
    }
}

/// A jitter source that always returns the same number; for tests.
///
/// `FixedJitter(0.0)` leaves computed delays at their full value;
/// `FixedJitter(0.5)` with the default 25 % jitter shortens them to 87.5 %.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FixedJitter(pub f64);

impl Jitter for FixedJitter {
    fn next_unit(&mut self) -> f64 {
        self.0
    }
}
