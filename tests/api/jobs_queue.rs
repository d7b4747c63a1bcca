//! Durable jobs on one instance: completion, retries into the dead-letter state, permanent
//! failures and panics, transactional enqueue, unique keys, snoozing.

use crate::backend_tests;
use crate::helpers::jobs::{enqueue, fast, handlers, spawn_without_workers, wait_for_state, work};
use crate::helpers::{Backend, TestApp};
use levee::job_admin::service;
use levee::jobs::{Enqueue, JobState};
use sea_orm::TransactionTrait;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

async fn jobs_complete(backend: Backend) {
    let runs = Arc::new(AtomicUsize::new(0));
    let Some(app) = TestApp::spawn_with_jobs(backend, fast, handlers(runs.clone())).await else {
        return;
    };
    let mut ids = Vec::new();
    for _ in 0..30 {
        ids.push(enqueue(&app, "ok", Enqueue::default()).await.id);
    }
    for id in ids {
        let job = wait_for_state(&app, id, JobState::Completed, 10).await;
        assert_eq!(job.state, JobState::Completed);
        assert_eq!(job.attempt, 1);
    }
    assert_eq!(runs.load(Ordering::SeqCst), 30);
}

async fn failures_retry_with_growing_delays_then_die(backend: Backend) {
    let Some(app) = TestApp::spawn_with_jobs(backend, fast, handlers(Arc::default())).await else {
        return;
    };
    let id = enqueue(&app, "fail", Enqueue::default()).await.id;
    let job = wait_for_state(&app, id, JobState::Dead, 10).await;
    assert_eq!(job.state, JobState::Dead, "dead after max attempts");
    assert_eq!(job.attempt, 3);
    let errors: Vec<serde_json::Value> = serde_json::from_str(&job.errors).expect("error history");
    assert_eq!(errors.len(), 3);
    let at = |i: usize| {
        chrono::DateTime::parse_from_rfc3339(errors[i]["at"].as_str().expect("at")).expect("time")
    };
    let (first_gap, second_gap) = (at(1) - at(0), at(2) - at(1));
    assert!(
        second_gap >= first_gap * 4 / 5,
        "delays grow: {first_gap} then {second_gap}"
    );
    assert_eq!(errors[2]["error"], "failed on attempt 3");
    let mut gauges = String::new();
    for _ in 0..40 {
        gauges = app.get("/metrics").await.text().await.expect("metrics");
        if gauges.contains(r#"levee_jobs_depth{queue="default",state="dead"}"#) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        gauges.contains(r#"levee_jobs_depth{queue="default",state="dead"}"#),
        "queue depth is exported"
    );
    assert!(gauges.contains("levee_jobs_processed_total"));

    let hard = enqueue(&app, "fail-hard", Enqueue::default()).await.id;
    let job = wait_for_state(&app, hard, JobState::Dead, 5).await;
    assert_eq!(
        (job.state, job.attempt),
        (JobState::Dead, 1),
        "a permanent failure skips retries"
    );

    let panicking = enqueue(&app, "panic", Enqueue::default()).await.id;
    let job = wait_for_state(&app, panicking, JobState::Dead, 10).await;
    assert_eq!(job.state, JobState::Dead, "panics count as failures");
    assert!(job.errors.contains("panicked"));
}

async fn enqueue_in_a_rolled_back_transaction_leaves_no_job(backend: Backend) {
    let Some(app) = TestApp::spawn_with_jobs(backend, fast, handlers(Arc::default())).await else {
        return;
    };
    let txn = app.state.db().begin_write().await.expect("txn");
    let job = app
        .state
        .jobs()
        .enqueue(&txn, &work("ok"), Enqueue::default())
        .await
        .expect("enqueue");
    txn.rollback().await.expect("rollback");
    assert!(
        service::find(app.state.db().write(), job.id)
            .await
            .expect("find")
            .is_none()
    );

    let txn = app.state.db().write().begin().await.expect("txn");
    let kept = app
        .state
        .jobs()
        .enqueue(&txn, &work("ok"), Enqueue::default())
        .await
        .expect("enqueue");
    txn.commit().await.expect("commit");
    let job = wait_for_state(&app, kept.id, JobState::Completed, 5).await;
    assert_eq!(job.state, JobState::Completed);
}

async fn a_unique_key_blocks_duplicates_while_pending(backend: Backend) {
    let Some(app) = spawn_without_workers(backend).await else {
        return;
    };
    let options = || Enqueue {
        unique_key: Some("welcome:42".into()),
        ..Default::default()
    };
    let first = enqueue(&app, "ok", options()).await;
    let second = enqueue(&app, "ok", options()).await;
    assert_eq!(first.id, second.id, "the duplicate returns the pending job");
    let other = enqueue(
        &app,
        "ok",
        Enqueue {
            unique_key: Some("welcome:43".into()),
            ..Default::default()
        },
    )
    .await;
    assert_ne!(other.id, first.id);
}

async fn snoozing_does_not_use_an_attempt(backend: Backend) {
    let Some(app) = TestApp::spawn_with_jobs(backend, fast, handlers(Arc::default())).await else {
        return;
    };
    let id = enqueue(&app, "snooze-once", Enqueue::default()).await.id;
    let job = wait_for_state(&app, id, JobState::Completed, 5).await;
    assert_eq!((job.state, job.attempt), (JobState::Completed, 1));
}

backend_tests!(
    jobs_complete,
    failures_retry_with_growing_delays_then_die,
    enqueue_in_a_rolled_back_transaction_leaves_no_job,
    a_unique_key_blocks_duplicates_while_pending,
    snoozing_does_not_use_an_attempt,
);
