//! Job administration: admins inspect, retry, cancel and replay jobs through the API (a
//! probe that fails on purpose makes a dead job to practise on), and pruning deletes only
//! old finished jobs.

use crate::backend_tests;
use crate::helpers::jobs::{
    enqueue, fast, handlers_fixed, spawn_without_workers, wait_for, wait_for_state,
};
use crate::helpers::{Backend, TestApp};
use levee::db::ids::JobId;
use levee::job_admin::service;
use levee::jobs::{Enqueue, JobState, Probe, store};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use uuid::Uuid;

/// `GET /jobs/{id}` as `access`: the job with its error history.
async fn job_detail(app: &TestApp, access: &str, id: JobId) -> serde_json::Value {
    let detail = app.get_as(&format!("/jobs/{id}"), access).await;
    detail.json().await.expect("json")
}

/// `POST /jobs/{id}/{action}` as `access`.
async fn job_action(app: &TestApp, access: &str, id: JobId, action: &str) -> reqwest::Response {
    let path = format!("/jobs/{id}/{action}");
    app.send_as(reqwest::Method::POST, &path, access, None)
        .await
}

async fn admins_inspect_retry_cancel_and_replay_jobs(backend: Backend) {
    let fixed = Arc::new(AtomicBool::new(false));
    let Some(app) =
        TestApp::spawn_with_jobs(backend, fast, handlers_fixed(Arc::default(), fixed.clone()))
            .await
    else {
        return;
    };
    let admin = app.account(levee::users::Role::Admin).await;
    let customer = app.customer().await;
    let broken = enqueue(&app, "fail-until-fixed", Enqueue::default())
        .await
        .id;
    wait_for_state(&app, broken, JobState::Dead, 5).await;

    let dead: serde_json::Value = app
        .get_as("/jobs?state=dead&kind=test.work", &admin.access)
        .await
        .json()
        .await
        .expect("json");
    assert!(
        dead["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|j| j["id"] == broken.to_string())
    );
    let detail = job_detail(&app, &admin.access, broken).await;
    assert_eq!(detail["errors"][0]["error"], "not fixed yet");
    assert_eq!(app.get_as("/jobs", &customer.access).await.status(), 403);

    fixed.store(true, Ordering::SeqCst);
    let replayed = app
        .send_as(
            reqwest::Method::POST,
            "/jobs/replay",
            &admin.access,
            Some(serde_json::json!({"kind": "test.work"})),
        )
        .await;
    assert!(
        replayed.json::<serde_json::Value>().await.expect("json")["replayed"]
            .as_u64()
            .expect("count")
            >= 1
    );
    let job = wait_for_state(&app, broken, JobState::Completed, 5).await;
    assert_eq!(job.state, JobState::Completed, "the replayed job completes");

    let later = enqueue(
        &app,
        "ok",
        Enqueue {
            run_at: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
            ..Default::default()
        },
    )
    .await
    .id;
    let cancelled = job_action(&app, &admin.access, later, "cancel").await;
    assert_eq!(
        cancelled.json::<serde_json::Value>().await.expect("json")["state"],
        "cancelled"
    );
    let again = job_action(&app, &admin.access, later, "cancel").await;
    assert_eq!(again.status(), 409);
    let retried = job_action(&app, &admin.access, later, "retry").await;
    assert_eq!(retried.status(), 200);
    let job = wait_for_state(&app, later, JobState::Completed, 5).await;
    assert_eq!(
        job.state,
        JobState::Completed,
        "a cancelled job can be retried"
    );
    assert_eq!(
        app.get_as(&format!("/jobs/{}", Uuid::new_v4()), &admin.access)
            .await
            .status(),
        404
    );
}

async fn prune_deletes_only_old_finished_jobs(backend: Backend) {
    let Some(app) = spawn_without_workers(backend).await else {
        return;
    };
    let old = enqueue(&app, "ok", Enqueue::default()).await.id;
    let fresh = enqueue(&app, "ok", Enqueue::default()).await.id;
    let waiting = enqueue(&app, "ok", Enqueue::default()).await.id;
    let db = app.state.db().write();
    for (id, finished) in [
        (old, chrono::Utc::now() - chrono::Duration::days(2)),
        (fresh, chrono::Utc::now()),
    ] {
        let sql = "UPDATE jobs SET state = 'completed', finished_at = $1 WHERE id = $2";
        let statement = sea_orm::Statement::from_sql_and_values(
            sea_orm::ConnectionTrait::get_database_backend(db),
            sql,
            [finished.into(), id.into()],
        );
        sea_orm::ConnectionTrait::execute_raw(db, statement)
            .await
            .expect("mark finished");
    }
    let deleted = store::prune(
        app.state.db(),
        Duration::from_secs(24 * 3600),
        Duration::from_secs(30 * 24 * 3600),
    )
    .await
    .expect("prune");
    assert_eq!(deleted, 1);
    assert!(service::find(db, old).await.expect("find").is_none());
    assert!(service::find(db, fresh).await.expect("find").is_some());
    assert!(service::find(db, waiting).await.expect("find").is_some());
}

/// The admin console's way to make a dead job: a probe that fails on purpose.
async fn a_probe_told_to_fail_ends_dead_and_can_be_retried(backend: Backend) {
    let Some(app) = TestApp::spawn_with_jobs(backend, fast, |_| {}).await else {
        return;
    };
    let admin = app.account(levee::users::Role::Admin).await;
    let probe = Probe {
        fail_with: Some("failing on purpose".into()),
        ..Probe::default()
    };
    let id = app
        .state
        .jobs()
        .enqueue(app.state.db().write(), &probe, Enqueue::default())
        .await
        .expect("enqueue")
        .id;
    let dead = wait_for_state(&app, id, JobState::Dead, 10).await;
    assert_eq!(dead.state, JobState::Dead, "every attempt failed");
    let detail = job_detail(&app, &admin.access, id).await;
    let errors = detail["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 3, "one error per attempt: {detail}");
    assert!(
        errors
            .iter()
            .enumerate()
            .all(|(i, e)| e["error"] == "failing on purpose" && e["attempt"] == i + 1),
        "{detail}"
    );

    let retried = job_action(&app, &admin.access, id, "retry").await;
    assert_eq!(retried.status(), 200);
    let again = wait_for(
        &app,
        id,
        |j| j.state == JobState::Dead && j.errors.matches("failing on purpose").count() == 6,
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(
        (again.state, again.attempt),
        (JobState::Dead, 3),
        "the retry ran all attempts again and kept the history: {}",
        again.errors
    );
}

backend_tests!(
    a_probe_told_to_fail_ends_dead_and_can_be_retried,
    admins_inspect_retry_cancel_and_replay_jobs,
    prune_deletes_only_old_finished_jobs,
);
