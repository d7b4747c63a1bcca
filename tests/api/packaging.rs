//! What `packaging/` ships against what levee does: every metric the Grafana dashboard and
//! the Prometheus rules query is exported by a running levee.

use crate::helpers::{Backend, PASSWORD, TestApp, env_url, skip, unique_email};
use crate::replicas::{replica_turn, spawn_with_replica};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// Metric names (`levee_…`, `http_server_…`) in a dashboard or rules file.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for prefix in ["levee_", "http_server_"] {
        for (at, _) in text.match_indices(prefix) {
            let before = text[..at].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
                continue; // inside a longer name or a recording rule (levee:…)
            }
            let name: String = text[at..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            names.insert(name);
        }
    }
    names
}

/// Series only a PostgreSQL app with replicas exports (breakers guard PostgreSQL pools).
const NEED_REPLICAS: [&str; 3] = [
    "levee_db_replica",
    "levee_db_breaker",
    "levee_db_reads_routed",
];

fn shipped(path: &str) -> String {
    let file = format!("{}/packaging/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn exported(metrics: &str) -> BTreeSet<String> {
    metrics
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn every_metric_the_dashboard_and_the_alerts_query_is_exported() {
    let mut wanted = metric_names(&shipped("grafana/levee-dashboard.json"));
    wanted.extend(metric_names(&shipped("prometheus/levee.rules.yml")));
    assert!(wanted.len() > 20, "found only {wanted:?}");

    // Traffic, a cache fill, a login, a job run and rate-limit decisions on the embedded
    // default; the recorder is process-wide, so one scrape shows them all.
    let app = TestApp::spawn_with_jobs(Backend::Sqlite, |c| c.rate_limit.enabled = true, |_| {})
        .await
        .expect("sqlite");
    for _ in 0..3 {
        assert_eq!(app.get("/posts").await.status(), 200);
    }
    let email = unique_email("dashboard");
    assert_eq!(app.register(&email, PASSWORD).await.status(), 201);
    app.login(&email, PASSWORD).await;
    // Replica and breaker series exist only on PostgreSQL (breakers) with replicas.
    let replica_turn = replica_turn().await;
    let replica_app = match &replica_turn {
        Some((url, _turn)) => spawn_with_replica(url, |_| {}).await.map(|(app, _, _)| app),
        None => None,
    };
    if let Some(replica_app) = &replica_app {
        assert_eq!(replica_app.get("/posts").await.status(), 200);
    } else {
        wanted.retain(|name| !NEED_REPLICAS.iter().any(|p| name.starts_with(p)));
    }

    let deadline = Instant::now() + Duration::from_secs(20);
    let missing = loop {
        let text = app.get("/metrics").await.text().await.expect("metrics");
        let have = exported(&text);
        let missing: Vec<_> = wanted.iter().filter(|n| !have.contains(*n)).collect();
        if missing.is_empty() || Instant::now() > deadline {
            break format!("{missing:?}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(missing, "[]", "queried by packaging/ but not exported");
    if env_url("LEVEE_TEST_REPLICA_URL").is_none() {
        skip(
            "replica and breaker metrics of the dashboard",
            "LEVEE_TEST_REPLICA_URL",
        );
    }
}

#[test]
fn names_are_read_whole() {
    let names = metric_names(
        r#"rate(levee_jobs_depth{a="b"}[5m]) / levee:cache_hit:ratio http_server_x_count"#,
    );
    let expected: BTreeSet<String> = ["levee_jobs_depth", "http_server_x_count"]
        .map(String::from)
        .into();
    assert_eq!(names, expected);
}
