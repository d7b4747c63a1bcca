//! The vocabulary of circuit breakers: their settings, states, rejections, metrics, and
//! the view the console shows of one.

use std::time::Duration;

/// When a breaker opens, how long it stays open, and how it tests the dependency again.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerSettings {
    /// Outcomes remembered while closed: the last `window` calls.
    pub window: u32,
    /// Calls the window must hold before their failure share may open the breaker.
    pub minimum_calls: u32,
    /// The share of failed calls, in (0, 1], that opens it.
    pub failure_rate: f64,
    /// How long it rejects calls before it admits probes.
    pub open_for: Duration,
    /// Probes let through while half-open.
    pub half_open_calls: u32,
}

impl BreakerSettings {
    /// Opens after `failures` failures in a row; one probe decides whether it closes.
    pub fn consecutive(failures: u32, open_for: Duration) -> Self {
        Self {
            window: failures,
            minimum_calls: failures,
            failure_rate: 1.0,
            open_for,
            half_open_calls: 1,
        }
    }
}

/// What a breaker does with the next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Calls go through.
    Closed,
    /// A few probes go through; the other calls are rejected.
    HalfOpen,
    /// Calls are rejected until the cool-down ends.
    Open,
}

impl State {
    /// Every state, in gauge order.
    pub const ALL: [State; 3] = [State::Closed, State::HalfOpen, State::Open];

    /// The value of a state gauge: 0 closed, 1 half-open, 2 open.
    pub fn gauge_value(self) -> f64 {
        match self {
            State::Closed => 0.0,
            State::HalfOpen => 1.0,
            State::Open => 2.0,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::HalfOpen => "half_open",
            State::Open => "open",
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
    /// Incremented once per transition, by the state entered: closed, half-open, open.
    pub transitions: [metrics::Counter; 3],
}

impl BreakerMetrics {
    /// Reports nowhere.
    pub fn noop() -> Self {
        Self {
            state: metrics::Gauge::noop(),
            rejections: metrics::Counter::noop(),
            transitions: State::ALL.map(|_| metrics::Counter::noop()),
        }
    }
}

/// A transition, as the console lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Transition {
    /// Seconds since the Unix epoch.
    pub at: u64,
    pub to: State,
}

/// A breaker as of now, for the console.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BreakerView {
    pub state: State,
    /// Outcomes in the closed window, and how many of them failed.
    pub window_calls: u32,
    pub window_failures: u32,
    pub rejections: u64,
    /// The most recent last.
    pub transitions: Vec<Transition>,
}
