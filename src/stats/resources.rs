//! Snapshot sections of the operations pages — cache tiers, database pools, replica lag
//! over time, rate-limit decisions over time — each recorded beside the metrics `/metrics`
//! reports, and each mergeable so a fleet's snapshots add up to one view.

use super::histogram::Histogram;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Lookups of one cache namespace since the process started.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamespaceLookups {
    pub namespace: String,
    pub l1_hits: u64,
    pub l2_hits: u64,
    /// Hits (either tier) served stale while one refresh ran.
    pub stale: u64,
    /// Loads from the database: misses and background refreshes.
    pub fetches: u64,
}

/// Merges `theirs` into `ours`: a row `same` as one of ours is absorbed into it, any
/// other is added.
fn merge_rows<T: Clone>(
    ours: &mut Vec<T>,
    theirs: &[T],
    same: impl Fn(&T, &T) -> bool,
    absorb: impl Fn(&mut T, &T),
) {
    for row in theirs {
        match ours.iter_mut().find(|mine| same(mine, row)) {
            Some(mine) => absorb(mine, row),
            None => ours.push(row.clone()),
        }
    }
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

impl NamespaceLookups {
    pub fn lookups(&self) -> u64 {
        self.l1_hits + self.l2_hits + self.fetches
    }

    /// L1 hits among all lookups.
    pub fn l1_ratio(&self) -> Option<f64> {
        ratio(self.l1_hits, self.lookups())
    }

    /// L2 hits among the lookups L1 missed.
    pub fn l2_ratio(&self) -> Option<f64> {
        ratio(self.l2_hits, self.l2_hits + self.fetches)
    }

    /// Hits of either tier among all lookups.
    pub fn hit_ratio(&self) -> Option<f64> {
        ratio(self.l1_hits + self.l2_hits, self.lookups())
    }

    fn merge(&mut self, other: &Self) {
        self.l1_hits += other.l1_hits;
        self.l2_hits += other.l2_hits;
        self.stale += other.stale;
        self.fetches += other.fetches;
    }
}

/// The cache beyond its hit ratio: per namespace, L1's size, and Redis errors.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheDetail {
    /// Sorted by namespace.
    pub namespaces: Vec<NamespaceLookups>,
    pub l1_entries: u64,
    pub l1_bytes: u64,
    /// Entries L1 dropped to stay within `cache.l1_capacity`.
    pub l1_evictions: u64,
    /// Failed Redis calls by user (`cache`, `jobs`), since the process started.
    pub redis_errors: BTreeMap<String, u64>,
}

impl CacheDetail {
    pub fn merge(&mut self, other: &Self) {
        merge_rows(
            &mut self.namespaces,
            &other.namespaces,
            |a, b| a.namespace == b.namespace,
            NamespaceLookups::merge,
        );
        self.namespaces
            .sort_by(|a, b| a.namespace.cmp(&b.namespace));
        self.l1_entries += other.l1_entries;
        self.l1_bytes += other.l1_bytes;
        self.l1_evictions += other.l1_evictions;
        for (user, errors) in &other.redis_errors {
            *self.redis_errors.entry(user.clone()).or_default() += errors;
        }
    }
}

/// One connection pool now, with its sampled acquire times since start.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PoolStats {
    pub name: String,
    /// What it serves: `write`, `read`, or `write, read`.
    pub role: String,
    pub in_use: u64,
    pub idle: u64,
    pub max: u64,
    /// Acquires the sampler timed while the pool had no idle connection.
    pub acquire: Histogram,
    /// Sampled acquires that timed out.
    pub timeouts: u64,
}

impl PoolStats {
    /// Merges `other`'s pools into `ours` by name: a fleet's pools of one name add up.
    pub fn merge(ours: &mut Vec<PoolStats>, other: &[PoolStats]) {
        merge_rows(
            ours,
            other,
            |a, b| a.name == b.name,
            |pool, theirs| {
                pool.in_use += theirs.in_use;
                pool.idle += theirs.idle;
                pool.max += theirs.max;
                pool.acquire.merge(&theirs.acquire);
                pool.timeouts += theirs.timeouts;
            },
        );
    }
}

/// A per-minute row that merges with the row of the same minute from another process.
trait Minute: Clone {
    fn minute(&self) -> u64;
    fn absorb(&mut self, other: &Self);
}

/// `ours` and `theirs` (each oldest first) as one list by minute, the newest `keep`.
fn merge_minutes<T: Minute>(ours: &mut Vec<T>, theirs: &[T], keep: usize) {
    merge_rows(ours, theirs, |a, b| a.minute() == b.minute(), T::absorb);
    ours.sort_by_key(Minute::minute);
    let excess = ours.len().saturating_sub(keep);
    ours.drain(..excess);
}

/// One minute of a replica's lag samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LagMinute {
    /// Minutes since the Unix epoch.
    pub minute: u64,
    pub samples: u64,
    /// Samples that could not reach it.
    pub unreachable: u64,
    /// Samples after which it was out of rotation.
    pub out_of_rotation: u64,
    /// The largest lag sampled, in microseconds.
    pub max_lag_us: u64,
}

impl LagMinute {
    /// `[samples, unreachable, out_of_rotation, max_lag_us]`, as a `MinuteRing` counts them.
    pub fn from_counts((minute, [samples, unreachable, out, lag]): (u64, [u64; 4])) -> Self {
        Self {
            minute,
            samples,
            unreachable,
            out_of_rotation: out,
            max_lag_us: lag,
        }
    }

    /// The largest lag in milliseconds; `None` when no sample reached the replica.
    pub fn max_lag_ms(&self) -> Option<f64> {
        (self.samples > self.unreachable).then(|| self.max_lag_us as f64 / 1000.0)
    }
}

impl Minute for LagMinute {
    fn minute(&self) -> u64 {
        self.minute
    }
    fn absorb(&mut self, other: &Self) {
        self.samples += other.samples;
        self.unreachable += other.unreachable;
        self.out_of_rotation += other.out_of_rotation;
        self.max_lag_us = self.max_lag_us.max(other.max_lag_us);
    }
}

/// A replica's lag, minute by minute, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaHistory {
    pub name: String,
    pub minutes: Vec<LagMinute>,
}

impl ReplicaHistory {
    /// Merges by replica name and minute: the worst lag, all the samples.
    pub fn merge(ours: &mut Vec<ReplicaHistory>, other: &[ReplicaHistory]) {
        merge_rows(
            ours,
            other,
            |a, b| a.name == b.name,
            |mine, theirs| {
                merge_minutes(&mut mine.minutes, &theirs.minutes, super::MINUTES);
            },
        );
    }
}

/// One minute of a rate-limit policy's decisions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionMinute {
    /// Minutes since the Unix epoch.
    pub minute: u64,
    pub allowed: u64,
    pub rejected: u64,
}

impl DecisionMinute {
    /// `[allowed, rejected]`, as a `MinuteRing` counts them.
    pub fn from_counts((minute, [allowed, rejected]): (u64, [u64; 2])) -> Self {
        Self {
            minute,
            allowed,
            rejected,
        }
    }
}

impl Minute for DecisionMinute {
    fn minute(&self) -> u64 {
        self.minute
    }
    fn absorb(&mut self, other: &Self) {
        self.allowed += other.allowed;
        self.rejected += other.rejected;
    }
}

/// A rate-limit policy with its decisions per minute, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyDecisions {
    pub policy: String,
    pub quota: u64,
    pub window_secs: u64,
    pub minutes: Vec<DecisionMinute>,
}

impl PolicyDecisions {
    /// Merges by policy name and minute: the fleet's decisions add up.
    pub fn merge(ours: &mut Vec<PolicyDecisions>, other: &[PolicyDecisions]) {
        merge_rows(
            ours,
            other,
            |a, b| a.policy == b.policy,
            |mine, theirs| {
                merge_minutes(&mut mine.minutes, &theirs.minutes, super::MINUTES);
            },
        );
    }

    pub fn allowed(&self) -> u64 {
        self.minutes.iter().map(|m| m.allowed).sum()
    }

    pub fn rejected(&self) -> u64 {
        self.minutes.iter().map(|m| m.rejected).sum()
    }
}

#[cfg(test)]
mod tests;
