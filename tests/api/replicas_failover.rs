//! Replica failover with a real streaming standby (`.ci/topology`): a replica cut off
//! behind a proxy, or whose process is killed, costs at most one read (its breaker opens on
//! that read) and leaves readiness green; a restarted replica rejoins the rotation.

use crate::helpers::{env_url, skip};
use crate::replicas::{
    metric, replica_turn, routed, spawn_with_replica, wait_for_metric, wait_for_rotation,
};
use levee::config::Duration as ConfigDuration;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vanished_replica_leaves_reads_on_the_primary_and_ready_green() {
    let Some((replica, _turn)) = replica_turn().await else {
        return;
    };
    let target = url::Url::parse(&replica).expect("url");
    let upstream = format!(
        "{}:{}",
        target.host_str().expect("host"),
        target.port().unwrap_or(5432)
    );
    let proxy = crate::tcp_proxy::TcpProxy::start(&upstream).await;
    let through_proxy = {
        let mut url = target.clone();
        url.set_port(Some(proxy.port())).expect("port");
        url.to_string()
    };
    // Samples are rare here, so what reacts first is the failed read itself.
    let Some((app, _, label)) = spawn_with_replica(&through_proxy, |c| {
        c.cache.enabled = false;
        c.database.replica_check_interval = ConfigDuration::secs(3);
    })
    .await
    else {
        return;
    };
    assert_eq!(app.get("/posts").await.status(), 200);

    proxy.kill();
    let mut statuses = Vec::new();
    for _ in 0..20 {
        statuses.push(app.get("/posts").await.status().as_u16());
    }
    eprintln!("reads right after the replica vanished: {statuses:?}");
    let failed: Vec<u16> = statuses.iter().copied().filter(|s| *s != 200).collect();
    assert!(
        failed.len() <= 1 && failed.iter().all(|s| *s == 503),
        "at most the read that found the replica gone fails, with a retryable 503: {statuses:?}"
    );
    assert_eq!(
        metric(&app, "levee_db_replica_in_rotation", &label).await,
        Some(0.0),
        "out of rotation without waiting for a sample"
    );
    let breaker = label.replace("replica=\"", "pool=\"replica:");
    assert_eq!(
        metric(&app, "levee_db_breaker_state", &breaker).await,
        Some(2.0),
        "the replica's breaker opened on the failed read"
    );
    let primary_before = routed(&app, "primary").await;
    for _ in 0..20 {
        assert_eq!(app.get("/posts").await.status(), 200, "reads keep working");
    }
    assert!(routed(&app, "primary").await >= primary_before + 20.0);
    wait_for_metric(
        &app,
        "levee_db_replica_up",
        &label,
        0.0,
        Duration::from_secs(10),
    )
    .await;
    let dependency = label.replace("replica=\"", "dependency=\"replica:");
    wait_for_metric(
        &app,
        "levee_dependency_up",
        &dependency,
        0.0,
        Duration::from_secs(10),
    )
    .await;
    let ready = app.get("/ready").await;
    assert_eq!(
        ready.status(),
        200,
        "a replica is not required for readiness"
    );
}

const TOPOLOGY_ENV: &str = "LEVEE_TEST_TOPOLOGY";

/// Runs `.ci/topology <command>` (the script that built the replica).
fn topology(script: &str, command: &str) {
    let status = std::process::Command::new(script)
        .arg(command)
        .status()
        .expect("run .ci/topology");
    assert!(status.success(), ".ci/topology {command} failed");
}

/// Starts the replica again when dropped, so later tests find it even if this one fails.
struct RestartReplica(String);

impl Drop for RestartReplica {
    fn drop(&mut self) {
        topology(&self.0, "replica-start");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_replica_process_costs_at_most_one_read_and_rejoins() {
    let Some(script) = env_url(TOPOLOGY_ENV) else {
        skip("the replica crash test", TOPOLOGY_ENV);
        return;
    };
    let Some((replica, _turn)) = replica_turn().await else {
        return;
    };
    let Some((app, _, label)) = spawn_with_replica(&replica, |c| {
        c.cache.enabled = false;
        c.database.replica_check_interval = ConfigDuration::millis(500);
    })
    .await
    else {
        return;
    };
    assert_eq!(app.get("/posts").await.status(), 200);

    topology(&script, "replica-kill");
    let restart = RestartReplica(script);
    let mut statuses = Vec::new();
    for _ in 0..20 {
        statuses.push(app.get("/posts").await.status().as_u16());
    }
    eprintln!("reads right after kill -9 of the replica: {statuses:?}");
    let failed: Vec<u16> = statuses.iter().copied().filter(|s| *s != 200).collect();
    assert!(
        failed.len() <= 1 && failed.iter().all(|s| *s == 503),
        "at most one read fails, with a retryable 503: {statuses:?}"
    );
    wait_for_metric(
        &app,
        "levee_db_replica_up",
        &label,
        0.0,
        Duration::from_secs(10),
    )
    .await;
    wait_for_rotation(&app, &label, 0.0).await;
    for _ in 0..10 {
        assert_eq!(
            app.get("/posts").await.status(),
            200,
            "reads use the primary"
        );
    }
    assert_eq!(
        app.get("/ready").await.status(),
        200,
        "a replica is not required"
    );

    drop(restart);
    wait_for_rotation(&app, &label, 1.0).await;
    let before = routed(&app, &label_pool(&label)).await;
    assert_eq!(app.get("/posts").await.status(), 200);
    assert!(
        routed(&app, &label_pool(&label)).await > before,
        "reads are back on it"
    );
}

/// The pool name inside a `replica="…"` label.
fn label_pool(label: &str) -> String {
    label
        .trim_start_matches("replica=\"")
        .trim_end_matches('"')
        .to_string()
}
