//! The resilience page: each outside provider's circuit breaker and bulkhead in every
//! process of the fleet, and the guards' effective configuration. A breaker belongs to
//! the process that calls the provider (a worker, or `serve` with its in-process workers),
//! so the page reads the fleet's snapshots as the overview does — this process live, the
//! others as last published, stale ones marked — and lists each process's own.

use super::figures::{percent, ratio};
use super::fleet::{FleetView, InstanceRow};
use super::overview::Level;
use super::pages::Chrome;
use crate::config::{Config, GuardConfig, ProviderConfig, ProviderKind};
use crate::resilience::{DependencyView, State, Transition};
use askama::Template;

/// A breaker state in words (never colour alone) and the badge it wears.
fn shown(state: State) -> (&'static str, Level) {
    match state {
        State::Closed => ("closed", Level::Ok),
        State::HalfOpen => ("half-open", Level::Warn),
        State::Open => ("open", Level::Critical),
    }
}

/// One transition of a breaker.
pub struct TransitionRow {
    /// RFC 3339, for `<time datetime>`.
    pub at: String,
    pub shown_at: String,
    pub ago: String,
    pub to: &'static str,
    pub level: Level,
}

impl TransitionRow {
    fn new(transition: &Transition, now: u64) -> Self {
        let at = chrono::DateTime::from_timestamp(i64::try_from(transition.at).unwrap_or(0), 0)
            .unwrap_or_default();
        let (to, level) = shown(transition.to);
        let ago = std::time::Duration::from_secs(now.saturating_sub(transition.at));
        Self {
            at: at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            shown_at: at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            ago: humantime::format_duration(ago).to_string(),
            to,
            level,
        }
    }
}

/// One provider's guards in one process.
pub struct DependencyRow {
    pub name: String,
    pub state: &'static str,
    pub level: Level,
    /// Calls in the closed breaker's window and how many of them failed (0 unless closed).
    pub window_calls: u32,
    pub window_failures: u32,
    pub failure_share: String,
    pub rejections: u64,
    pub bulkhead_in_use: u32,
    pub bulkhead_max: u32,
    /// Newest first.
    pub transitions: Vec<TransitionRow>,
}

impl DependencyRow {
    fn new(view: &DependencyView, now: u64) -> Self {
        let breaker = &view.breaker;
        let (state, level) = shown(breaker.state);
        let calls = u64::from(breaker.window_calls);
        Self {
            name: view.name.clone(),
            state,
            level,
            window_calls: breaker.window_calls,
            window_failures: breaker.window_failures,
            failure_share: percent(ratio(u64::from(breaker.window_failures), calls)),
            rejections: breaker.rejections,
            bulkhead_in_use: view.bulkhead_in_use,
            bulkhead_max: view.bulkhead_max,
            transitions: breaker
                .transitions
                .iter()
                .rev()
                .map(|t| TransitionRow::new(t, now))
                .collect(),
        }
    }
}

/// One process and its providers' guards.
pub struct InstancePanel {
    pub instance: InstanceRow,
    pub dependencies: Vec<DependencyRow>,
}

/// One provider's effective guards, as configured in this process.
pub struct GuardRow {
    pub name: &'static str,
    pub kind: &'static str,
    pub window: u64,
    pub minimum_calls: u64,
    pub failure_rate: String,
    pub open_for: String,
    pub half_open_calls: u64,
    pub max_concurrent: u64,
    pub max_wait: String,
    pub timeout: String,
}

impl GuardRow {
    fn new(name: &'static str, provider: &ProviderConfig, guard: &GuardConfig) -> Self {
        let duration = |d: crate::config::Duration| humantime::format_duration(d.get()).to_string();
        Self {
            name,
            kind: match provider.kind {
                ProviderKind::Simulated => "simulated",
                ProviderKind::Http => "http",
            },
            window: guard.window.get(),
            minimum_calls: guard.minimum_calls.get(),
            failure_rate: percent(Some(guard.failure_rate)),
            open_for: duration(guard.open_for),
            half_open_calls: guard.half_open_calls.get(),
            max_concurrent: guard.max_concurrent.get(),
            max_wait: duration(guard.max_wait),
            timeout: duration(provider.timeout),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/resilience.html")]
pub struct ResiliencePage {
    pub chrome: Chrome,
    pub instances: Vec<InstancePanel>,
    /// Breakers not closed (open or half-open) across the fleet, and all of them.
    pub tripped: usize,
    pub breakers: usize,
    /// The fleet store could not be read: only this process is listed.
    pub store_failed: bool,
    pub guards: Vec<GuardRow>,
}

impl ResiliencePage {
    pub fn new(chrome: Chrome, fleet: &FleetView, config: &Config) -> Self {
        let now = crate::stats::epoch_seconds(std::time::SystemTime::now());
        let instances: Vec<InstancePanel> = fleet
            .rows()
            .into_iter()
            .zip(&fleet.members)
            .map(|(instance, member)| InstancePanel {
                instance,
                dependencies: member
                    .snapshot
                    .dependencies
                    .iter()
                    .map(|d| DependencyRow::new(d, now))
                    .collect(),
            })
            .collect();
        let all = instances.iter().flat_map(|i| &i.dependencies);
        let tripped = all.clone().filter(|d| d.level != Level::Ok).count();
        let (providers, resilience) = (&config.providers, &config.resilience);
        Self {
            chrome,
            breakers: all.count(),
            tripped,
            instances,
            store_failed: fleet.store_failed,
            guards: vec![
                GuardRow::new("payment", &providers.payment, &resilience.payment()),
                GuardRow::new("shipping", &providers.shipping, &resilience.shipping()),
            ],
        }
    }
}
