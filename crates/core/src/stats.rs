//! Counters and latency histograms cheap enough for the hot path, and the snapshots the
//! metrics exposition reads.
//!
//! A counter bumped by every request on every worker is a cache line the cores fight over: a
//! [`Striped`] counter keeps one line per stripe and each thread adds to its own, so an
//! increment is an uncontended relaxed add; reading sums the stripes.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Stripes per counter: more than the workers of a small machine, few enough to sum quickly.
pub const STRIPES: usize = 8;

/// The upper bounds of the latency buckets, in microseconds: from a cached answer (tens of
/// microseconds) to a store call at its timeout (seconds).
pub const LATENCY_BUCKETS_US: [u64; 14] = [
    50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000, 5_000_000,
];

/// The bucket a duration of `us` microseconds falls in; the last index is past every bound.
pub fn bucket_of(us: u64) -> usize {
    LATENCY_BUCKETS_US
        .iter()
        .position(|bound| us <= *bound)
        .unwrap_or(LATENCY_BUCKETS_US.len())
}

/// This thread's stripe: threads take stripes in turn as they first count.
pub fn stripe() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static STRIPE: usize = NEXT.fetch_add(1, Ordering::Relaxed) % STRIPES;
    }
    STRIPE.with(|s| *s)
}

#[repr(align(128))]
#[derive(Default)]
struct Line(AtomicU64);

/// A counter each thread adds to on its own cache line.
#[derive(Default)]
pub struct Striped {
    lines: [Line; STRIPES],
}

impl std::fmt::Debug for Striped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Striped").field(&self.get()).finish()
    }
}

impl Striped {
    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.lines[stripe()].0.fetch_add(n, Ordering::Relaxed);
    }

    /// The sum over every stripe.
    pub fn get(&self) -> u64 {
        self.lines.iter().map(|l| l.0.load(Ordering::Relaxed)).sum()
    }
}

/// A latency histogram as read: per-bucket counts (not cumulative), the last one past every
/// bound, and the sum of the durations.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Latency {
    /// Observations per bucket of [`LATENCY_BUCKETS_US`], plus one past the last bound.
    pub buckets: [u64; LATENCY_BUCKETS_US.len() + 1],
    /// The sum of the observed durations, in microseconds.
    pub sum_us: u64,
}

impl Latency {
    /// Observations in all.
    pub fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }

    /// Adds one observation of `us` microseconds.
    pub fn observe(&mut self, us: u64) {
        self.buckets[bucket_of(us)] += 1;
        self.sum_us = self.sum_us.saturating_add(us);
    }

    /// Adds `other`'s observations.
    pub fn merge(&mut self, other: &Latency) {
        for (mine, theirs) in self.buckets.iter_mut().zip(other.buckets) {
            *mine += theirs;
        }
        self.sum_us = self.sum_us.saturating_add(other.sum_us);
    }
}

/// What one cache has seen since start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheStats {
    /// The cache's name (`tokens`, `profiles`, ...).
    pub name: &'static str,
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups the cache could not answer (absent or expired).
    pub misses: u64,
    /// Entries held now, expired ones included until they are replaced or emptied.
    pub entries: u64,
}

/// What one kind of store call has cost since start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreCallStats {
    /// The store method (`membership`, `apply`, ...).
    pub name: &'static str,
    /// `read`, `write` or `probe`.
    pub kind: &'static str,
    /// Calls that failed, timeouts included.
    pub errors: u64,
    /// Calls that did not answer within the store timeout.
    pub timeouts: u64,
    /// How long the calls took, failed ones included.
    pub latency: Latency,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_bounded_above_and_include_their_bound() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(50), 0);
        assert_eq!(bucket_of(51), 1);
        assert_eq!(bucket_of(5_000_000), LATENCY_BUCKETS_US.len() - 1);
        assert_eq!(bucket_of(u64::MAX), LATENCY_BUCKETS_US.len());
    }

    #[test]
    fn striped_counts_sum_over_threads() {
        let c = std::sync::Arc::new(Striped::default());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let c = c.clone();
                std::thread::spawn(move || (0..1000).for_each(|_| c.add(1)))
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(c.get(), 4000);
    }

    #[test]
    fn latency_counts_sums_and_merges() {
        let mut a = Latency::default();
        a.observe(40);
        a.observe(3_000);
        let mut b = Latency::default();
        b.observe(10_000_000);
        a.merge(&b);
        assert_eq!(a.count(), 3);
        assert_eq!(a.sum_us, 10_003_040);
        assert_eq!(a.buckets[0], 1);
        assert_eq!(a.buckets[6], 1);
        assert_eq!(a.buckets[LATENCY_BUCKETS_US.len()], 1);
    }
}
