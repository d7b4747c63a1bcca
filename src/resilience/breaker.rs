//! A circuit breaker on resilience4j's count-based model. Closed, it lets every call
//! through and remembers the outcomes of the last `window` calls; once it has seen at
//! least `minimum_calls` of them and the share of failures reaches `failure_rate`, it
//! opens and rejects calls at once for `open_for`. Then it is half-open: `half_open_calls`
//! probes go through and the others are rejected; as soon as the probes' outcomes settle
//! the question (their failure share is at or above the rate, or can no longer reach it)
//! the breaker opens again or closes.
//!
//! Database pools use the special case [`BreakerSettings::consecutive`]: a window of `n`
//! calls that must all fail, and one probe.
//!
//! Only calls admitted in the current phase decide: calls let through before it opened may
//! finish late, and their outcomes say nothing about the dependency now. A probe whose
//! caller gave up (its future was dropped) proved nothing either; it frees its slot.

use super::outcomes::{Probes, Window};
pub use super::state::{BreakerMetrics, BreakerSettings, BreakerView, Rejected, State, Transition};
use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use tokio::time::Instant;

/// How long callers are told to wait while the probes are running.
const PROBE_RETRY_AFTER: Duration = Duration::from_secs(1);
/// Transitions kept for the console.
const RECENT_TRANSITIONS: usize = 20;

enum Phase {
    Closed(Window),
    Open { until: Instant },
    HalfOpen(Probes),
}

struct Inner {
    phase: Phase,
    /// Bumped on every transition; a permit from another generation does not decide.
    generation: u64,
    rejections: u64,
    transitions: VecDeque<Transition>,
}

pub struct Breaker {
    name: String,
    settings: BreakerSettings,
    inner: Mutex<Inner>,
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
            inner: Mutex::new(Inner {
                phase: Phase::Closed(Window::default()),
                generation: 0,
                rejections: 0,
                transitions: VecDeque::new(),
            }),
            metrics,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The state as of now: an open breaker whose cool-down has ended reads half-open,
    /// since the next call would be its probe.
    pub fn state(&self) -> State {
        match self.inner().phase {
            Phase::Closed(_) => State::Closed,
            Phase::Open { until } if Instant::now() < until => State::Open,
            Phase::Open { .. } | Phase::HalfOpen { .. } => State::HalfOpen,
        }
    }

    /// While the breaker is open, rejects a call at once (counted like any rejection);
    /// otherwise `None`, without taking a permit — so a caller can check before preparing
    /// a call, and a cool-down that is over starts no probe here.
    pub fn reject_if_open(&self) -> Option<Rejected> {
        let mut inner = self.inner();
        match inner.phase {
            Phase::Open { until } if Instant::now() < until => {
                Some(self.reject(&mut inner, until - Instant::now()))
            }
            _ => None,
        }
    }

    /// The state, the closed window's figures and the recent transitions.
    pub fn view(&self) -> BreakerView {
        let state = self.state();
        let inner = self.inner();
        let (window_calls, window_failures) = match &inner.phase {
            Phase::Closed(window) => (window.calls(), window.failures()),
            _ => (0, 0),
        };
        BreakerView {
            state,
            window_calls,
            window_failures,
            rejections: inner.rejections,
            transitions: inner.transitions.iter().copied().collect(),
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
        let mut inner = self.inner();
        let probes = self.settings.half_open_calls;
        match inner.phase {
            Phase::Closed(_) => {}
            Phase::Open { until } => {
                let now = Instant::now();
                if now < until {
                    return Err(self.reject(&mut inner, until - now));
                }
                self.enter(&mut inner, State::HalfOpen);
                tracing::info!(breaker = %self.name, probes, "circuit breaker half-open: probing");
                inner.phase = Phase::HalfOpen(Probes::first());
            }
            Phase::HalfOpen(ref mut tally) => {
                if !tally.admit(probes) {
                    return Err(self.reject(&mut inner, PROBE_RETRY_AFTER));
                }
            }
        }
        Ok(Permit {
            breaker: self,
            generation: inner.generation,
            reported: false,
        })
    }

    fn reject(&self, inner: &mut Inner, retry_after: Duration) -> Rejected {
        inner.rejections += 1;
        self.metrics.rejections.increment(1);
        Rejected {
            breaker: self.name.clone(),
            retry_after,
        }
    }

    fn report(&self, generation: u64, failed: bool) {
        let mut inner = self.inner();
        // Late outcomes of calls let through in an earlier phase.
        if generation != inner.generation {
            return;
        }
        let settings = self.settings;
        let next = match &mut inner.phase {
            Phase::Closed(window) => {
                window.record(failed, settings.window);
                let tripped = window.tripped(&settings);
                if tripped {
                    tracing::warn!(
                        breaker = %self.name,
                        calls = window.calls(),
                        failures = window.failures(),
                        open_for = ?settings.open_for,
                        "circuit breaker opened: calls are rejected until probes succeed"
                    );
                }
                tripped.then_some(State::Open)
            }
            Phase::HalfOpen(probes) => {
                probes.record(failed);
                let verdict = probes.verdict(&settings);
                match verdict {
                    Some(State::Open) => {
                        tracing::warn!(breaker = %self.name, "circuit breaker probes failed; open again")
                    }
                    Some(_) => {
                        tracing::info!(breaker = %self.name, "circuit breaker closed: the probes succeeded")
                    }
                    None => {}
                }
                verdict
            }
            Phase::Open { .. } => None,
        };
        match next {
            Some(State::Open) => {
                self.enter(&mut inner, State::Open);
                inner.phase = Phase::Open {
                    until: Instant::now() + settings.open_for,
                };
            }
            Some(State::Closed) => {
                self.enter(&mut inner, State::Closed);
                inner.phase = Phase::Closed(Window::default());
            }
            Some(State::HalfOpen) | None => {}
        }
    }

    /// Records a transition to `to`; the caller sets the phase.
    fn enter(&self, inner: &mut Inner, to: State) {
        inner.generation += 1;
        if inner.transitions.len() == RECENT_TRANSITIONS {
            inner.transitions.pop_front();
        }
        let at = crate::stats::epoch_seconds(std::time::SystemTime::now());
        inner.transitions.push_back(Transition { at, to });
        self.metrics.state.set(to.gauge_value());
        self.metrics.transitions[to.gauge_value() as usize].increment(1);
    }

    fn release_probe(&self, generation: u64) {
        let mut inner = self.inner();
        if generation != inner.generation {
            return;
        }
        if let Phase::HalfOpen(probes) = &mut inner.phase {
            probes.abandon();
        }
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        // The state is plain values, valid whatever a panicking holder was doing.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One call let through by a [`Breaker`].
#[must_use = "report the call's outcome, or the breaker cannot learn from it"]
pub struct Permit<'a> {
    breaker: &'a Breaker,
    generation: u64,
    reported: bool,
}

impl Permit<'_> {
    /// The dependency did its part (the call may still have failed for its own reasons).
    pub fn succeeded(mut self) {
        self.reported = true;
        self.breaker.report(self.generation, false);
    }

    /// The dependency failed: unreachable, lost, timed out.
    pub fn failed(mut self) {
        self.reported = true;
        self.breaker.report(self.generation, true);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.reported {
            self.breaker.release_probe(self.generation);
        }
    }
}

#[cfg(test)]
#[path = "breaker_tests.rs"]
mod tests;
