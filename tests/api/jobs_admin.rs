//! Job administration: admins inspect, retry, cancel and replay jobs through the API, and
//! pruning deletes only old finished jobs.

use crate::backend_tests;
use crate::helpers::jobs::{enqueue, fast, handlers_fixed, spawn_without_workers, wait_for_state};
use crate::helpers::{Backend, TestApp};
use levee::db::ids::JobId;
use levee::job_admin::service;
use levee::jobs::{Enqueue, JobState, store};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use uuid::Uuid;

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
    let detail: serde_json::Value = app
        .get_as(&format!("/jobs/{broken}"), &admin.access)
        .await
        .json()
        .await
        .expect("json");
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

backend_tests!(
    admins_inspect_retry_cancel_and_replay_jobs,
    prune_deletes_only_old_finished_jobs,
);
