//! An outside dependency (a payment or shipping provider) behind the three guards every
//! call to it passes: its circuit breaker (fail fast while it is down), its bulkhead (a
//! bounded number of calls in flight) and a timeout per call (a slow call is a failed
//! one). Exports `levee_breaker_state{dependency}`, `levee_breaker_transitions_total
//! {dependency,to}`, `levee_bulkhead_in_use{dependency}` and
//! `levee_dependency_calls_total{dependency,outcome}`.

use super::breaker::{Breaker, BreakerMetrics, BreakerSettings, BreakerView, Rejected, State};
use super::bulkhead::{Bulkhead, Full};
use std::future::Future;
use std::time::Duration;

/// How one dependency is guarded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DependencySettings {
    pub breaker: BreakerSettings,
    /// Calls in flight at most, and how long a call waits for a free slot.
    pub max_concurrent: u32,
    pub max_wait: Duration,
    /// Longest time one call may take; longer counts as a failure.
    pub timeout: Duration,
}

/// Why a guarded call did not return the dependency's own answer.
#[derive(Debug, thiserror::Error)]
pub enum CallError<E> {
    /// The breaker is open: the call was not made.
    #[error(transparent)]
    Rejected(#[from] Rejected),
    /// Every slot stayed busy: the call was not made.
    #[error(transparent)]
    Full(#[from] Full),
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
    /// The dependency's own error.
    #[error(transparent)]
    Failed(E),
}

/// A dependency as of now, for the console.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DependencyView {
    pub name: String,
    pub breaker: BreakerView,
    pub bulkhead_in_use: u32,
    pub bulkhead_max: u32,
}

pub struct Dependency {
    name: &'static str,
    breaker: Breaker,
    bulkhead: Bulkhead,
    timeout: Duration,
}

fn calls(dependency: &'static str, outcome: &'static str) -> metrics::Counter {
    metrics::counter!("levee_dependency_calls_total", "dependency" => dependency, "outcome" => outcome)
}

/// The outcomes `levee_dependency_calls_total` counts.
const OUTCOMES: [&str; 5] = [
    "answered",
    "failed",
    "timed_out",
    "rejected",
    "bulkhead_full",
];

impl Dependency {
    /// `name` labels its metrics: a fixed word, never a value from outside.
    pub fn new(name: &'static str, settings: DependencySettings) -> Self {
        let metrics = BreakerMetrics {
            state: metrics::gauge!("levee_breaker_state", "dependency" => name),
            rejections: calls(name, "rejected"),
            transitions: State::ALL.map(|to| {
                metrics::counter!("levee_breaker_transitions_total", "dependency" => name, "to" => to.as_str())
            }),
        };
        // Series at zero from the start, so dashboards and alerts see every dependency.
        for outcome in OUTCOMES {
            calls(name, outcome).increment(0);
        }
        for counter in &metrics.transitions {
            counter.increment(0);
        }
        let in_use = metrics::gauge!("levee_bulkhead_in_use", "dependency" => name);
        in_use.set(0.0);
        Self {
            name,
            breaker: Breaker::new(name, settings.breaker, metrics),
            bulkhead: Bulkhead::new(name, settings.max_concurrent, settings.max_wait, in_use),
            timeout: settings.timeout,
        }
    }

    /// Runs `work` past the breaker, the bulkhead and the timeout. An error for which
    /// `is_failure` holds counts against the dependency (as does a timeout); any other
    /// outcome shows it working.
    pub async fn call<T, E>(
        &self,
        work: impl Future<Output = Result<T, E>>,
        is_failure: impl FnOnce(&E) -> bool,
    ) -> Result<T, CallError<E>> {
        let permit = self.breaker.permit().inspect_err(|_| {
            tracing::debug!(dependency = self.name, "call rejected: the breaker is open");
        })?;
        // Turned away before calling: the permit goes back unreported.
        let slot = self.bulkhead.enter().await.inspect_err(|_| {
            calls(self.name, "bulkhead_full").increment(1);
        })?;
        let answer = tokio::time::timeout(self.timeout, work).await;
        drop(slot);
        let (result, outcome) = match answer {
            Err(_) => (Err(CallError::TimedOut(self.timeout)), "timed_out"),
            Ok(Err(e)) if is_failure(&e) => (Err(CallError::Failed(e)), "failed"),
            Ok(result) => (result.map_err(CallError::Failed), "answered"),
        };
        calls(self.name, outcome).increment(1);
        if outcome == "answered" {
            permit.succeeded();
        } else {
            permit.failed();
        }
        result
    }

    /// While its breaker is open, rejects a call at once (see `Breaker::reject_if_open`).
    pub fn reject_if_open(&self) -> Option<Rejected> {
        self.breaker.reject_if_open()
    }

    pub fn view(&self) -> DependencyView {
        DependencyView {
            name: self.name.to_string(),
            breaker: self.breaker.view(),
            bulkhead_in_use: self.bulkhead.in_use_now(),
            bulkhead_max: self.bulkhead.max_concurrent(),
        }
    }
}

#[cfg(test)]
#[path = "dependency_tests.rs"]
mod tests;
