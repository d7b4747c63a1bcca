//! A circuit breaker. Closed, it lets every call through and counts consecutive failures;
//! at `failure_threshold` it opens and rejects calls at once for `open_for`. Then it is
//! half-open: one call at a time goes through as a probe — its success closes the breaker,
//! its failure opens it for another `open_for` — and the others are rejected meanwhile.
//!
//! Only the probe decides while the breaker is not closed: calls let through before it
//! opened may finish late, and their outcomes say nothing about the dependency now. A probe
//! whose caller gave up (its future was dropped) proved nothing either; it frees the slot
//! for the next call.

use std::future::Future;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use tokio::time::Instant;

/// How long callers are told to wait while a probe is running.
const PROBE_RETRY_AFTER: Duration = Duration::from_secs(1);

/// When a breaker opens and how long it stays open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerSettings {
    /// Consecutive failures that open the breaker (1 opens it on the first).
    pub failure_threshold: u32,
    /// How long it rejects calls before it admits a probe.
    pub open_for: Duration,
}

/// What a breaker does with the next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Calls go through.
    Closed,
    /// Calls are rejected until the cool-down ends.
    Open,
    /// One probe at a time goes through; the other calls are rejected.
    HalfOpen,
}

impl State {
    /// The value of a state gauge: 0 closed, 1 open, 2 half-open.
    pub fn gauge_value(self) -> f64 {
        match self {
            State::Closed => 0.0,
            State::Open => 1.0,
            State::HalfOpen => 2.0,
        }
    }
}

/// A call the breaker did not let through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("circuit breaker {breaker} is open; retry in {} s", self.retry_after_secs())]
pub struct Rejected {
    pub breaker: String,
    /// Time until a call may go through again.
    pub retry_after: Duration,
}

impl Rejected {
    /// `retry_after` in whole seconds, rounded up and at least 1 (a `Retry-After` value).
    pub fn retry_after_secs(&self) -> u64 {
        let secs = self.retry_after.as_secs() + u64::from(self.retry_after.subsec_nanos() > 0);
        secs.max(1)
    }
}

/// Where a breaker reports itself.
pub struct BreakerMetrics {
    /// Set to [`State::gauge_value`] on every transition, and only then: a gauge reads 0
    /// (closed) from its registration, and several breakers sharing one gauge (test apps
    /// in one process) do not reset each other's state when they are created.
    pub state: metrics::Gauge,
    /// Incremented once per rejected call.
    pub rejections: metrics::Counter,
}

impl BreakerMetrics {
    /// Reports nowhere.
    pub fn noop() -> Self {
        Self {
            state: metrics::Gauge::noop(),
            rejections: metrics::Counter::noop(),
        }
    }
}

enum Phase {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probing: bool },
}

pub struct Breaker {
    name: String,
    settings: BreakerSettings,
    phase: Mutex<Phase>,
    metrics: BreakerMetrics,
}

impl std::fmt::Debug for Breaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Breaker")
            .field("name", &self.name)
            .field("state", &self.state())
            .finish()
    }
}

impl Breaker {
    /// A closed breaker; `name` appears in its logs and rejections.
    pub fn new(
        name: impl Into<String>,
        settings: BreakerSettings,
        metrics: BreakerMetrics,
    ) -> Self {
        Self {
            name: name.into(),
            settings,
            phase: Mutex::new(Phase::Closed { failures: 0 }),
            metrics,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The state as of now: an open breaker whose cool-down has ended reads half-open,
    /// since the next call would be its probe.
    pub fn state(&self) -> State {
        match *self.phase() {
            Phase::Closed { .. } => State::Closed,
            Phase::Open { until } if Instant::now() < until => State::Open,
            Phase::Open { .. } | Phase::HalfOpen { .. } => State::HalfOpen,
        }
    }

    /// Runs `work` unless the breaker rejects it; an error for which `is_failure` holds
    /// counts against the dependency, any other outcome for it.
    pub async fn call<T, E: From<Rejected>>(
        &self,
        work: impl Future<Output = Result<T, E>>,
        is_failure: impl FnOnce(&E) -> bool,
    ) -> Result<T, E> {
        let permit = self.permit()?;
        let result = work.await;
        match &result {
            Err(e) if is_failure(e) => permit.failed(),
            _ => permit.succeeded(),
        }
        result
    }

    /// Lets one call through, or says how long to wait. Report the call's outcome on the
    /// permit; dropping it unreported frees a probe's slot.
    pub fn permit(&self) -> Result<Permit<'_>, Rejected> {
        let mut phase = self.phase();
        let probe = match *phase {
            Phase::Closed { .. } => false,
            Phase::Open { until } => {
                let now = Instant::now();
                if now < until {
                    return Err(self.reject(until - now));
                }
                *phase = Phase::HalfOpen { probing: true };
                self.metrics.state.set(State::HalfOpen.gauge_value());
                tracing::info!(breaker = %self.name, "circuit breaker half-open: probing");
                true
            }
            Phase::HalfOpen { probing: false } => {
                *phase = Phase::HalfOpen { probing: true };
                true
            }
            Phase::HalfOpen { probing: true } => return Err(self.reject(PROBE_RETRY_AFTER)),
        };
        Ok(Permit {
            breaker: self,
            probe,
            reported: false,
        })
    }

    fn reject(&self, retry_after: Duration) -> Rejected {
        self.metrics.rejections.increment(1);
        Rejected {
            breaker: self.name.clone(),
            retry_after,
        }
    }

    fn report(&self, probe: bool, failed: bool) {
        let mut phase = self.phase();
        match (&mut *phase, probe, failed) {
            (Phase::Closed { failures }, _, false) => *failures = 0,
            (Phase::Closed { failures }, _, true) => {
                *failures += 1;
                if *failures >= self.settings.failure_threshold {
                    tracing::warn!(
                        breaker = %self.name,
                        failures = *failures,
                        open_for = ?self.settings.open_for,
                        "circuit breaker opened: calls are rejected until a probe succeeds"
                    );
                    self.open(&mut phase);
                }
            }
            (Phase::HalfOpen { .. }, true, false) => {
                *phase = Phase::Closed { failures: 0 };
                self.metrics.state.set(State::Closed.gauge_value());
                tracing::info!(breaker = %self.name, "circuit breaker closed: the probe succeeded");
            }
            (Phase::HalfOpen { .. }, true, true) => {
                tracing::warn!(breaker = %self.name, "circuit breaker probe failed; open again");
                self.open(&mut phase);
            }
            // Late outcomes of calls let through before the breaker opened.
            (Phase::Open { .. } | Phase::HalfOpen { .. }, false, _)
            | (Phase::Open { .. }, _, _) => {}
        }
    }

    fn open(&self, phase: &mut Phase) {
        *phase = Phase::Open {
            until: Instant::now() + self.settings.open_for,
        };
        self.metrics.state.set(State::Open.gauge_value());
    }

    fn release_probe(&self) {
        let mut phase = self.phase();
        if let Phase::HalfOpen { probing } = &mut *phase {
            *probing = false;
        }
    }

    fn phase(&self) -> MutexGuard<'_, Phase> {
        // The phase is a plain value, valid whatever a panicking holder was doing.
        self.phase.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One call let through by a [`Breaker`].
#[must_use = "report the call's outcome, or the breaker cannot learn from it"]
pub struct Permit<'a> {
    breaker: &'a Breaker,
    probe: bool,
    reported: bool,
}

impl Permit<'_> {
    /// The dependency did its part (the call may still have failed for its own reasons).
    pub fn succeeded(mut self) {
        self.reported = true;
        self.breaker.report(self.probe, false);
    }

    /// The dependency failed: unreachable, lost, timed out.
    pub fn failed(mut self) {
        self.reported = true;
        self.breaker.report(self.probe, true);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if self.probe && !self.reported {
            self.breaker.release_probe();
        }
    }
}

#[cfg(test)]
#[path = "breaker_tests.rs"]
mod tests;
