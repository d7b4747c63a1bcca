//! Latency histograms with fixed bucket bounds: the recording side is lock-free atomics,
//! the snapshot side a plain value that serialises, merges and answers percentiles.

use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the buckets, in milliseconds; one more bucket counts everything above
/// the last bound. Fixed so that snapshots of every process merge bucket by bucket.
pub const BOUNDS_MS: [f64; 16] = [
    1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 150.0, 200.0, 300.0, 500.0, 750.0, 1000.0, 2500.0,
    5000.0, 10000.0,
];
const BUCKETS: usize = BOUNDS_MS.len() + 1;

/// The recording side: one atomic counter per bucket.
#[derive(Default)]
pub struct AtomicHistogram {
    counts: [AtomicU64; BUCKETS],
    sum_micros: AtomicU64,
}

impl AtomicHistogram {
    pub fn record(&self, elapsed: Duration) {
        let ms = elapsed.as_secs_f64() * 1000.0;
        let bucket = BOUNDS_MS.partition_point(|bound| *bound < ms);
        self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Histogram {
        Histogram {
            counts: self
                .counts
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .collect(),
            sum_micros: self.sum_micros.load(Ordering::Relaxed),
        }
    }

    pub fn reset(&self) {
        for count in &self.counts {
            count.store(0, Ordering::Relaxed);
        }
        self.sum_micros.store(0, Ordering::Relaxed);
    }
}

/// A histogram's counts at one moment: `counts[i]` observations at most `BOUNDS_MS[i]`
/// (and above the bound before it); the last entry counts those above every bound.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Histogram {
    pub counts: Vec<u64>,
    pub sum_micros: u64,
}

impl Histogram {
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Adds another histogram's counts (instances of a fleet, minutes of an hour).
    pub fn merge(&mut self, other: &Histogram) {
        if self.counts.len() < other.counts.len() {
            self.counts.resize(other.counts.len(), 0);
        }
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.sum_micros += other.sum_micros;
    }

    /// The `q`-quantile (0 < q ≤ 1) in milliseconds, interpolated linearly inside its
    /// bucket as Prometheus' `histogram_quantile` does; observations above the last bound
    /// answer the last bound. `None` without observations.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * total as f64;
        let mut below = 0u64;
        for (i, &count) in self.counts.iter().enumerate() {
            if count > 0 && (below + count) as f64 >= rank {
                let Some(&upper) = BOUNDS_MS.get(i) else {
                    return BOUNDS_MS.last().copied();
                };
                let lower = if i == 0 { 0.0 } else { BOUNDS_MS[i - 1] };
                let within = (rank - below as f64) / count as f64;
                return Some(lower + (upper - lower) * within);
            }
            below += count;
        }
        BOUNDS_MS.last().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(millis: &[u64]) -> Histogram {
        let histogram = AtomicHistogram::default();
        for ms in millis {
            histogram.record(Duration::from_millis(*ms));
        }
        histogram.snapshot()
    }

    #[test]
    fn observations_land_in_the_bucket_whose_bound_covers_them() {
        let h = recorded(&[1, 3, 200, 201, 20_000]);
        assert_eq!(h.counts.len(), BOUNDS_MS.len() + 1);
        assert_eq!(h.counts[0], 1, "1 ms is at most the 1 ms bound");
        assert_eq!(h.counts[2], 1, "3 ms is in (2, 5]");
        assert_eq!(h.counts[8], 1, "200 ms is in (150, 200]");
        assert_eq!(h.counts[9], 1, "201 ms is in (200, 300]");
        assert_eq!(h.counts[BOUNDS_MS.len()], 1, "20 s is above every bound");
        assert_eq!(h.sum_micros, 20_405_000);
    }

    #[test]
    fn quantiles_interpolate_inside_the_bucket() {
        // 100 observations of 40 ms: all in (20, 50]; the median is halfway through it.
        let h = recorded(&[40; 100]);
        assert_eq!(h.quantile_ms(0.5), Some(35.0));
        assert_eq!(h.quantile_ms(1.0), Some(50.0));
        // 90 fast and 10 slow: p95 falls among the slow ones, p50 among the fast.
        let mut mixed = vec![3; 90];
        mixed.extend([600; 10]);
        let h = recorded(&mixed);
        assert!(h.quantile_ms(0.5).is_some_and(|p| p > 2.0 && p <= 5.0));
        assert_eq!(
            h.quantile_ms(0.95),
            Some(625.0),
            "(500, 750], half of the way"
        );
        assert_eq!(Histogram::default().quantile_ms(0.5), None);
        assert_eq!(recorded(&[60_000]).quantile_ms(0.99), Some(10_000.0));
    }

    #[test]
    fn merged_histograms_add_bucket_by_bucket() {
        let mut a = recorded(&[1, 100]);
        a.merge(&recorded(&[100, 5000]));
        assert_eq!(a.count(), 4);
        assert_eq!(a.counts[6], 2);
        assert_eq!(a, recorded(&[1, 100, 100, 5000]));
        let mut empty = Histogram::default();
        empty.merge(&a);
        assert_eq!(empty, a);
    }
}
