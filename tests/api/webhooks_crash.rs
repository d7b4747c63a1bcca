//! Webhook deliveries survive `kill -9` of the worker: events are emitted by the API in
//! the test process (`jobs.run_in_serve = false`), a `levee worker` process delivers them to
//! a slow receiver and dies with deliveries in flight, and a second worker delivers the
//! rest from the jobs whose lease expired. Every event reaches the receiver at least once,
//! always under its own event id, and every delivery ends `delivered`.

use crate::backend_tests;
use crate::helpers::orders::{eventually_within, product};
use crate::helpers::receiver::{Receiver, Reply};
use crate::helpers::{Backend, LeveeProcess, TestApp};
use levee::users::Role;
use levee::webhooks::DeliveryStatus;
use levee::webhooks::entity::{delivery, event};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

backend_tests!(a_worker_killed_mid_delivery_loses_no_event);

/// Edits made, each one event.
const EVENTS: usize = 30;

/// `levee worker` on the app's database and Redis, delivering to the receiver's host only,
/// with quick polls and a short lease.
fn worker_config(dir: &Path, app: &TestApp) -> PathBuf {
    let redis = app.redis_toml();
    let toml = format!(
        "[database]\nurl = \"{}\"\nacquire_timeout = \"60s\"\n{redis}\
         [jobs]\ncron = []\npoll_interval = \"50ms\"\nlease = \"2s\"\n\
         [jobs.queues]\ndefault = 8\n\
         [webhooks]\nallow_private = true\nallowed_hosts = [\"127.0.0.1\"]\n\
         timeout = \"5s\"\nretry_schedule = [\"100ms\", \"100ms\", \"100ms\", \"100ms\"]\n",
        app.db_url
    );
    let path = dir.join("worker.toml");
    std::fs::write(&path, toml).expect("write config");
    path
}

async fn delivered(app: &TestApp) -> u64 {
    delivery::Entity::find()
        .filter(delivery::Column::Status.eq(DeliveryStatus::Delivered))
        .count(app.state.db().write())
        .await
        .expect("count")
}

async fn a_worker_killed_mid_delivery_loses_no_event(backend: Backend) {
    let receiver = Receiver::start().await;
    receiver.set_default(Reply::Slow(Duration::from_millis(300)));
    let tweak = |c: &mut levee::config::Config| {
        c.jobs.run_in_serve = false;
    };
    let Some(app) = receiver.app(backend, tweak).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    product(&app, "CRASH-HOOK", 500, "EUR", 1).await;
    app.register_webhook(&admin.access, &receiver.url, &["product.updated"])
        .await;
    for i in 0..EVENTS {
        let body = json!({"name": format!("Edit {i}")});
        let resp = app
            .send_as(
                Method::PATCH,
                "/products/CRASH-HOOK",
                &admin.access,
                Some(body),
            )
            .await;
        assert_eq!(resp.status(), 200);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let config = worker_config(dir.path(), &app);

    let mut first = LeveeProcess::worker(&config);
    receiver.wait_for(8, Duration::from_secs(60)).await;
    first.signal("KILL");
    let status = first.child.wait().expect("reap");
    assert!(!status.success(), "killed: {status}");
    let at_kill = receiver.received().len();
    let done_at_kill = delivered(&app).await;
    eprintln!("kill -9 after {at_kill} requests, {done_at_kill} deliveries recorded");
    assert!(
        done_at_kill < EVENTS as u64,
        "killed before every event was delivered"
    );

    let _second = LeveeProcess::worker(&config);
    let all_delivered = || async { delivered(&app).await == EVENTS as u64 };
    eventually_within(
        Duration::from_secs(90),
        "every delivery delivered",
        all_delivered,
    )
    .await;

    let events: HashSet<String> = event::Entity::find()
        .all(app.state.db().write())
        .await
        .expect("events")
        .into_iter()
        .map(|e| e.id.to_string())
        .collect();
    assert_eq!(events.len(), EVENTS);
    let mut per_event: HashMap<String, usize> = HashMap::new();
    for request in receiver.received() {
        let payload = request.json();
        assert_eq!(
            payload["id"].as_str(),
            Some(request.event_id.as_str()),
            "header and body agree"
        );
        assert!(
            events.contains(&request.event_id),
            "an event emitted here: {}",
            request.event_id
        );
        *per_event.entry(request.event_id).or_default() += 1;
    }
    assert_eq!(per_event.len(), EVENTS, "every event reached the receiver");
    let twice = per_event.values().filter(|&&n| n > 1).count();
    eprintln!("{twice} events were delivered more than once (same id each time)");
}
