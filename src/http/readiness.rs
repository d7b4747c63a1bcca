//! The readiness checker: a background task that probes the dependencies every
//! `server.ready_interval` and publishes the outcome, which `/ready` answers from — so
//! however often load balancers probe, the database and Redis see one round per interval.
//! Each round also exports `levee_dependency_up{dependency}` (1 up, 0 down), so dashboards
//! see a dependency that `/ready` only reports as degraded.

use crate::config::Config;
use crate::state::{AppState, DependencyReport};
use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

/// How long each probe may take before it counts as failed.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Probes once per `server.ready_interval` until aborted. The composition root runs the
/// first round with [`check`] before serving, so this starts one interval later.
pub async fn run(state: AppState) {
    let period = state.config().server.ready_interval.get();
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        check(&state).await;
    }
}

/// One round: probes the primary, the migrations and Redis, publishes the report and
/// exports each dependency's gauge (replicas as the replica monitor last saw them).
pub async fn check(state: &AppState) {
    let mut report = DependencyReport {
        checks: BTreeMap::new(),
        failing: Vec::new(),
        degraded: Vec::new(),
    };
    let database = bounded(state.db().ping()).await;
    export("database", database.is_ok());
    if record(&mut report, "database", database, true) {
        let migrations = bounded(crate::db::migrate::check(state.db())).await;
        record(&mut report, "migrations", migrations, true);
    }
    if let Some(redis) = state.redis() {
        let ping = bounded(redis.ping()).await;
        export("redis", ping.is_ok());
        record(
            &mut report,
            "redis",
            ping,
            redis_is_required(state.config()),
        );
    }
    for (name, up) in state.db().replica_reachability() {
        export(&format!("replica:{name}"), up);
    }
    state.readiness().publish(report);
}

/// Without Redis the cache is bypassed and a fail-open limiter counts per process, so
/// requests still succeed; only a limiter that fails closed turns them all into 503s.
fn redis_is_required(config: &Config) -> bool {
    config.rate_limit.enabled && !config.rate_limit.fail_open
}

/// Adds `name`'s outcome to the report (`required` decides whether a failure makes the
/// instance unready or degraded); true when it passed.
fn record<T>(
    report: &mut DependencyReport,
    name: &str,
    result: Result<T, String>,
    required: bool,
) -> bool {
    let passed = result.is_ok();
    let outcome = match result {
        Ok(_) => "ok".to_string(),
        Err(reason) => {
            let list = if required {
                &mut report.failing
            } else {
                &mut report.degraded
            };
            list.push(name.to_string());
            reason
        }
    };
    report.checks.insert(name.to_string(), outcome);
    passed
}

fn export(dependency: &str, up: bool) {
    metrics::gauge!("levee_dependency_up", "dependency" => dependency.to_string())
        .set(f64::from(u8::from(up)));
}

async fn bounded<T, E: std::fmt::Display>(
    check: impl Future<Output = Result<T, E>>,
) -> Result<T, String> {
    match tokio::time::timeout(CHECK_TIMEOUT, check).await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(_) => Err(format!("no answer within {}s", CHECK_TIMEOUT.as_secs())),
    }
}
