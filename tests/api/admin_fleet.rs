//! The overview's fleet view: every process publishes its statistics to the shared store
//! (Redis with PostgreSQL, the database on SQLite or while Redis is down), and any
//! instance's overview lists them all, totals their traffic and marks a silent one stale.

use crate::backend_tests;
use crate::helpers::{Backend, LeveeProcess, TestApp, metric_in};
use levee::admin::fleet::instance_snapshot;
use levee::config::{Config, Duration};
use levee::users::Role;
use sea_orm::EntityTrait;
use std::time::Instant;

backend_tests!(
    the_overview_of_two_instances_lists_both_and_totals_their_traffic,
    a_stopped_instance_turns_stale_and_stays_listed,
    a_worker_process_is_listed_beside_the_server,
);

pub fn fast_publish(config: &mut Config) {
    config.admin.publish_interval = Duration::secs(1);
}

/// An instance's row on the overview: (id, role, state, requests).
type Row = (String, String, String, u64);

fn rows(html: &str) -> Vec<Row> {
    let attr = |chunk: &str, name: &str| -> String {
        let marker = format!(r#"{name}=""#);
        let start = chunk
            .find(&marker)
            .map_or(chunk.len(), |i| i + marker.len());
        chunk[start..]
            .split('"')
            .next()
            .unwrap_or_default()
            .to_string()
    };
    html.split("<tr data-instance=\"")
        .skip(1)
        .map(|chunk| {
            let requests = chunk
                .split(r#"data-field="requests">"#)
                .nth(1)
                .and_then(|r| r.split('<').next()?.parse().ok())
                .expect("a request count");
            let id = chunk.split('"').next().unwrap_or_default().to_string();
            (
                id,
                attr(chunk, "data-role"),
                attr(chunk, "data-state"),
                requests,
            )
        })
        .collect()
}

/// Reloads `app`'s overview until `done` holds for its rows (10 s at most); the last page.
async fn overview_until(app: &TestApp, cookie: &str, done: impl Fn(&[Row]) -> bool) -> String {
    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let page = app.get_with_cookie("/admin/", Some(cookie)).await;
        assert_eq!(page.status(), 200);
        let html = page.text().await.expect("body");
        if done(&rows(&html)) || Instant::now() > deadline {
            return html;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

async fn stored_rows(app: &TestApp) -> usize {
    let rows = instance_snapshot::Entity::find()
        .all(app.state.db().write())
        .await
        .expect("snapshots");
    rows.len()
}

async fn the_overview_of_two_instances_lists_both_and_totals_their_traffic(backend: Backend) {
    let Some(first) = TestApp::spawn_with(backend, fast_publish, None).await else {
        return;
    };
    let second = first.spawn_sibling_with(backend, fast_publish).await;
    let (_, console) = first.console(Role::Admin).await;
    for _ in 0..5 {
        assert_eq!(second.get("/health").await.status(), 200);
    }
    let second_id = second.state.instance().id.clone();
    let html = overview_until(&first, &console.cookie, |rows| {
        rows.iter()
            .any(|(id, _, _, requests)| *id == second_id && *requests == 5)
    })
    .await;
    let rows = rows(&html);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].0, first.state.instance().id, "this process first");
    assert!(
        rows.iter()
            .all(|(_, role, state, _)| role == "serve" && state == "alive")
    );
    assert!(
        rows.iter().any(|r| r.0 == second_id && r.3 == 5),
        "{rows:?}"
    );
    let total: u64 = rows.iter().map(|r| r.3).sum();
    assert_eq!(metric_in(&html, "requests_total"), total.to_string());
    assert_eq!(metric_in(&html, "instances_alive"), "2");
    let with_redis = first.state.config().redis.url.is_some();
    assert_eq!(
        stored_rows(&first).await > 0,
        !with_redis,
        "Redis holds the snapshots when configured, else the database"
    );
}

async fn a_stopped_instance_turns_stale_and_stays_listed(backend: Backend) {
    let Some(first) = TestApp::spawn_with(backend, fast_publish, None).await else {
        return;
    };
    let second = first.spawn_sibling_with(backend, fast_publish).await;
    let second_id = second.state.instance().id.clone();
    let (_, console) = first.console(Role::Admin).await;
    let listed = |state: &'static str| {
        let id = second_id.clone();
        move |rows: &[Row]| rows.iter().any(|r| r.0 == id && r.2 == state)
    };
    let html = overview_until(&first, &console.cookie, listed("alive")).await;
    assert!(listed("alive")(&rows(&html)), "the sibling published");
    second.stop().await.expect("stopped");
    let stopped = Instant::now();
    let html = overview_until(&first, &console.cookie, listed("stale")).await;
    assert!(listed("stale")(&rows(&html)), "{:?}", rows(&html));
    assert!(
        stopped.elapsed() >= std::time::Duration::from_secs(2),
        "stale only after three missed publishes"
    );
    assert_eq!(metric_in(&html, "instances_alive"), "1");
}

/// A `levee worker` on `app`'s database and Redis, publishing every second; the directory
/// holds its config and must outlive it.
pub fn worker_beside(app: &TestApp) -> (tempfile::TempDir, LeveeProcess) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = app.state.config();
    let redis = match &config.redis.url {
        Some(url) => format!(
            "[redis]\nurl = \"{url}\"\nkey_prefix = \"{}\"\n",
            config.redis.key_prefix
        ),
        None => String::new(),
    };
    let path = dir.path().join("worker.toml");
    let toml = format!(
        "[database]\nurl = \"{}\"\n[jobs]\ncron = []\n[admin]\npublish_interval = \"1s\"\n{redis}",
        app.db_url
    );
    std::fs::write(&path, toml).expect("write config");
    let worker = LeveeProcess::worker(&path);
    (dir, worker)
}

async fn a_worker_process_is_listed_beside_the_server(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, fast_publish, None).await else {
        return;
    };
    let _worker = worker_beside(&app);
    let (_, console) = app.console(Role::Admin).await;
    let html = overview_until(&app, &console.cookie, |rows| {
        rows.iter().any(|r| r.1 == "worker")
    })
    .await;
    let rows = rows(&html);
    let roles: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(roles, ["serve", "worker"], "{rows:?}");
    assert_eq!(rows[1].2, "alive");
}

/// Redis down: every instance publishes to the database instead, and the console reads it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn during_a_redis_outage_the_fleet_is_kept_in_the_database() {
    let unreachable = |c: &mut Config| {
        fast_publish(c);
        c.redis.url = Some("redis://127.0.0.1:1".into());
    };
    let Some(first) = TestApp::spawn_with(Backend::Sqlite, unreachable, None).await else {
        return;
    };
    let second = first.spawn_sibling_with(Backend::Sqlite, unreachable).await;
    let (_, console) = first.console(Role::Admin).await;
    let second_id = second.state.instance().id.clone();
    let html = overview_until(&first, &console.cookie, |rows| {
        rows.iter().any(|r| r.0 == second_id)
    })
    .await;
    assert_eq!(rows(&html).len(), 2, "{:?}", rows(&html));
    assert!(
        stored_rows(&first).await >= 2,
        "both published to the database"
    );
}
