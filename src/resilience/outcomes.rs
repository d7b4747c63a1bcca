//! What a breaker counts: the outcomes of the last calls while it is closed, and of its
//! probes while it is half-open — and what they decide.

use super::state::{BreakerSettings, State};
use std::collections::VecDeque;

/// The outcomes of the last `window` calls.
#[derive(Default)]
pub struct Window {
    failed: VecDeque<bool>,
    failures: u32,
}

impl Window {
    pub fn record(&mut self, failed: bool, size: u32) {
        self.failed.push_back(failed);
        self.failures += u32::from(failed);
        if self.failed.len() > size as usize && self.failed.pop_front() == Some(true) {
            self.failures -= 1;
        }
    }

    pub fn calls(&self) -> u32 {
        self.failed.len() as u32
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Whether the window holds enough calls and enough of them failed to open.
    pub fn tripped(&self, settings: &BreakerSettings) -> bool {
        let calls = self.calls();
        calls >= settings.minimum_calls
            && f64::from(self.failures) >= settings.failure_rate * f64::from(calls)
    }
}

/// The probes of a half-open breaker: let through, and reported.
pub struct Probes {
    admitted: u32,
    succeeded: u32,
    failed: u32,
}

impl Probes {
    /// The tally once the first probe is let through.
    pub fn first() -> Self {
        Self {
            admitted: 1,
            succeeded: 0,
            failed: 0,
        }
    }

    /// Lets one more probe through if fewer than `limit` are.
    pub fn admit(&mut self, limit: u32) -> bool {
        let room = self.admitted < limit;
        self.admitted += u32::from(room);
        room
    }

    /// A probe whose caller gave up: its slot is free again.
    pub fn abandon(&mut self) {
        self.admitted = self.admitted.saturating_sub(1);
    }

    pub fn record(&mut self, failed: bool) {
        if failed {
            self.failed += 1;
        } else {
            self.succeeded += 1;
        }
    }

    /// Open once the failures alone reach the rate of all `half_open_calls` probes; closed
    /// once they can no longer reach it whatever the probes still out report.
    pub fn verdict(&self, settings: &BreakerSettings) -> Option<State> {
        let probes = f64::from(settings.half_open_calls);
        let unreported = probes - f64::from(self.succeeded + self.failed);
        let threshold = settings.failure_rate * probes;
        if f64::from(self.failed) >= threshold {
            Some(State::Open)
        } else if f64::from(self.failed) + unreported < threshold {
            Some(State::Closed)
        } else {
            None
        }
    }
}
