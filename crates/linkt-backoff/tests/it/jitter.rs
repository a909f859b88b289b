//! The jitter sources: `RandomJitter` (the default) draws spread values in
//! `[0, 1)`, reproducibly for a seed; `FixedJitter` repeats its number.

use std::collections::BTreeSet;
use std::time::Duration;

use linkt_backoff::{FixedJitter, Jitter, RandomJitter, RetryPolicy};

/// `n` draws of `jitter`, each checked to be in `[0, 1)`.
fn draws(jitter: &mut impl Jitter, n: usize) -> Vec<f64> {
    (0..n)
        .map(|_| {
            let r = jitter.next_unit();
            assert!((0.0..1.0).contains(&r), "{r}");
            r
        })
        .collect()
}

#[test]
fn random_jitter_spreads_over_the_unit_interval() {
    for mut jitter in [RandomJitter::new(), RandomJitter::default()] {
        let values = draws(&mut jitter, 1_000);
        let distinct: BTreeSet<u64> = values.iter().map(|r| r.to_bits()).collect();
        assert!(distinct.len() > 990, "{} distinct draws", distinct.len());
        // Both halves of the interval are reached.
        assert!(values.iter().any(|&r| r < 0.25));
        assert!(values.iter().any(|&r| r > 0.75));
    }
}

#[test]
fn a_seed_makes_the_sequence_reproducible() {
    let a = draws(&mut RandomJitter::with_seed(7), 50);
    assert_eq!(a, draws(&mut RandomJitter::with_seed(7), 50));
    assert_ne!(a, draws(&mut RandomJitter::with_seed(8), 50));
}

#[test]
fn default_backoff_lands_anywhere_in_its_band() {
    // The production default: a jittered delay before the first retry lies
    // in 75–100 % of 0.5 s, and clients do not all pick the same one.
    let policy = RetryPolicy::new();
    let mut jitter = RandomJitter::new();
    let delays: BTreeSet<Duration> = (0..200)
        .map(|_| policy.backoff(0, &mut jitter))
        .inspect(|d| {
            assert!(
                (Duration::from_millis(375)..=Duration::from_millis(500)).contains(d),
                "{d:?}"
            );
        })
        .collect();
    assert!(delays.len() > 150, "{} distinct delays", delays.len());
}

#[test]
fn fixed_jitter_repeats_its_number_through_a_reference() {
    let mut fixed = FixedJitter(0.5);
    let mut by_ref = &mut fixed;
    assert_eq!(draws(&mut by_ref, 3), [0.5, 0.5, 0.5]);
    assert_eq!(
        RetryPolicy::new().backoff(0, &mut FixedJitter(0.5)),
        Duration::from_micros(437_500)
    );
}
