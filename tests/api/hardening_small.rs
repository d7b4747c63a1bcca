//! Issue 14 hardening: bounded stock adjustments, pruning of auth and cron rows, job kinds
//! left for the workers that know them.

use crate::backend_tests;
use crate::helpers::jobs::{enqueue, fast, handlers, run_job, wait_for_state};
use crate::helpers::{Backend, TestApp, pointers};
use chrono::{Duration as Age, Utc};
use levee::auth::entity::refresh_token;
use levee::job_admin::service;
use levee::jobs::{Enqueue, JobState};
use levee::users::Role;
use reqwest::Method;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use serde_json::{Value, json};
use uuid::Uuid;

/// The documented bound on a delta and on the units on hand.
const MAX_STOCK: i64 = 1_000_000_000;

async fn stock_adjustments_are_bounded(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    let product = json!({"sku": "BIG", "name": "Big", "price": {"amount": 1, "currency": "EUR"}, "stock": MAX_STOCK - 5});
    let resp = app
        .send_as(Method::POST, "/products", &admin.access, Some(product))
        .await;
    assert_eq!(resp.status(), 201);
    let too_much = json!({"sku": "HUGE", "name": "Huge", "price": {"amount": 1, "currency": "EUR"}, "stock": i64::MAX});
    let resp = app
        .send_as(Method::POST, "/products", &admin.access, Some(too_much))
        .await;
    assert_eq!(resp.status(), 422);
    assert_eq!(
        pointers(&resp.json::<Value>().await.expect("json")),
        ["/stock"]
    );

    let adjust = |delta: i64| {
        app.send_as(
            Method::POST,
            "/products/BIG/stock-adjustments",
            &admin.access,
            Some(json!({"delta": delta, "reason": "count"})),
        )
    };
    for delta in [i64::MAX, i64::MIN, MAX_STOCK + 1, -MAX_STOCK - 1, 6] {
        let resp = adjust(delta).await;
        assert_eq!(resp.status(), 422, "delta {delta}");
        let body: Value = resp.json().await.expect("json");
        assert_eq!(pointers(&body), ["/delta"], "delta {delta}: {body}");
    }
    let resp = adjust(5).await;
    assert_eq!(resp.status(), 200);
    let stock: Value = resp.json().await.expect("json");
    assert_eq!(
        stock["on_hand"],
        json!(MAX_STOCK),
        "stored as an integer: {stock}"
    );
    let product: Value = app.get("/products/BIG").await.json().await.expect("json");
    assert_eq!(product["available"], json!(MAX_STOCK), "{product}");
}

async fn old_refresh_tokens_and_cron_slots_are_pruned(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, fast, None).await else {
        return;
    };
    let user = app.account(Role::Customer).await;
    let db = app.state.db().write();
    let now = Utc::now();
    let token = |name: &str, expires: Age, revoked: Option<Age>| {
        let model = refresh_token::ActiveModel {
            id: Set(Uuid::now_v7()),
            family_id: Set(Uuid::now_v7()),
            user_id: Set(user.user_id.into()),
            token_hash: Set(format!("hash-{name}")),
            created_at: Set(now - Age::days(60)),
            expires_at: Set(now + expires),
            used_at: Set(None),
            revoked_at: Set(revoked.map(|age| now - age)),
            successor_salt: Set(None),
        };
        async move { model.insert(db).await.expect("insert").id }
    };
    let old_expired = token("old-expired", -Age::days(30), None).await;
    let old_revoked = token("old-revoked", Age::days(5), Some(Age::days(30))).await;
    let recent_expired = token("recent-expired", -Age::hours(1), None).await;
    let recent_revoked = token("recent-revoked", Age::days(5), Some(Age::hours(1))).await;
    for (name, age) in [("old-slot", Age::days(3)), ("recent-slot", Age::minutes(5))] {
        let insert = app.state.db().statement(
            "INSERT INTO cron_slots (name, slot, job_id) VALUES ($1, $2, $3)",
            vec![name.into(), (now - age).into(), Uuid::now_v7().into()],
        );
        db.execute_raw(insert).await.expect("insert slot");
    }

    run_job(&app, "jobs.prune").await;
    run_job(&app, "auth.prune").await;

    let kept = |id| async move {
        refresh_token::Entity::find_by_id(id)
            .one(db)
            .await
            .expect("find")
            .is_some()
    };
    assert!(!kept(old_expired).await, "expired long ago");
    assert!(!kept(old_revoked).await, "revoked long ago");
    assert!(kept(recent_expired).await, "expired recently");
    assert!(kept(recent_revoked).await, "revoked recently");
    let signed_in = app
        .post_json("/auth/refresh", json!({"refresh_token": user.refresh}))
        .await;
    assert_eq!(signed_in.status(), 200, "live sessions are untouched");
    let slots = app
        .state
        .db()
        .statement("SELECT name FROM cron_slots ORDER BY name", vec![]);
    let names: Vec<String> = db
        .query_all_raw(slots)
        .await
        .expect("slots")
        .iter()
        .map(|row| row.try_get("", "name").expect("name"))
        .collect();
    assert_eq!(names, ["recent-slot"]);
}

async fn unknown_kinds_wait_for_a_worker_that_knows_them(backend: Backend) {
    // An instance of the previous release: its workers run, but it has no `test.work`.
    let Some(old) = TestApp::spawn_with(backend, fast, None).await else {
        return;
    };
    let id = enqueue(&old, "ok", Enqueue::default()).await.id;
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    let job = service::find(old.state.db().write(), id)
        .await
        .expect("find")
        .expect("job");
    assert_eq!(
        (job.state, job.attempt),
        (JobState::Available, 0),
        "left for another worker: {job:?}"
    );

    let _new = old
        .spawn_sibling_with_jobs(backend, fast, handlers(Default::default()))
        .await;
    let job = wait_for_state(&old, id, JobState::Completed, 10).await;
    assert_eq!((job.state, job.attempt), (JobState::Completed, 1));
}

backend_tests!(
    stock_adjustments_are_bounded,
    old_refresh_tokens_and_cron_slots_are_pruned,
    unknown_kinds_wait_for_a_worker_that_knows_them,
);
