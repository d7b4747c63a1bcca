//! Durable jobs: completion, retries into the dead-letter state, transactional enqueue,
//! unique keys, snoozing, panics, lease rescue, shutdown, and no overlap across workers.

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use levee::config::{Config, Duration as ConfigDuration};
use levee::jobs::{Enqueue, JobKind, JobState, Outcome, Registry, store};
use sea_orm::TransactionTrait;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

#[derive(Serialize, Deserialize)]
struct Work {
    /// What the handler should do.
    action: String,
}

impl JobKind for Work {
    const NAME: &'static str = "test.work";
}

fn work(action: &str) -> Work {
    Work {
        action: action.into(),
    }
}

/// An app whose workers do not run (the test drives the queue itself).
async fn spawn_without_workers(backend: Backend) -> Option<TestApp> {
    TestApp::spawn_with_jobs(
        backend,
        |c| c.jobs.run_in_serve = false,
        handlers(Arc::default()),
    )
    .await
}

fn fast(c: &mut Config) {
    c.jobs.poll_interval = ConfigDuration::millis(50);
    c.jobs.retry_base_delay = ConfigDuration::millis(100);
    c.jobs.lease = ConfigDuration::millis(600);
    c.jobs.shutdown_timeout = ConfigDuration::millis(500);
}

/// Runs `action`s: "ok", "fail", "fail-hard", "panic", "snooze-once", "sleep-3s", and
/// "fail-until-fixed" (fails for good until `fixed` is set).
fn handlers(runs: Arc<AtomicUsize>) -> impl FnOnce(&mut Registry) {
    handlers_fixed(runs, Arc::default())
}

fn handlers_fixed(runs: Arc<AtomicUsize>, fixed: Arc<AtomicBool>) -> impl FnOnce(&mut Registry) {
    move |registry: &mut Registry| {
        let snoozed = Arc::new(Mutex::new(std::collections::HashSet::new()));
        registry.register::<Work, _, _>(move |job, ctx| {
            let (runs, snoozed, fixed) = (runs.clone(), snoozed.clone(), fixed.clone());
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                match job.action.as_str() {
                    "ok" => Outcome::Done,
                    "fail" => Outcome::Retry(format!("failed on attempt {}", ctx.attempt)),
                    "fail-hard" => Outcome::Fail("cannot ever work".into()),
                    "panic" => panic!("handler panicked on purpose"),
                    "snooze-once" if snoozed.lock().expect("lock").insert(ctx.id) => {
                        Outcome::Snooze(Duration::from_millis(100))
                    }
                    "fail-until-fixed" if !fixed.load(Ordering::SeqCst) => {
                        Outcome::Fail("not fixed yet".into())
                    }
                    "sleep-3s" => {
                        tokio::time::sleep(Duration::from_secs(3)).await;
                        Outcome::Done
                    }
                    _ => Outcome::Done,
                }
            }
        });
    }
}

async fn enqueue(app: &TestApp, action: &str, options: Enqueue) -> levee::jobs::Model {
    app.state
        .jobs()
        .enqueue(app.state.db().write(), &work(action), options)
        .await
        .expect("enqueue")
}

async fn wait_for(
    app: &TestApp,
    id: Uuid,
    done: impl Fn(&levee::jobs::Model) -> bool,
    limit: Duration,
) -> levee::jobs::Model {
    let deadline = Instant::now() + limit;
    loop {
        let job = store::find(app.state.db().write(), id)
            .await
            .expect("find")
            .expect("job");
        if done(&job) || Instant::now() > deadline {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The job once it reaches `state` (or as it is after `secs` seconds).
async fn wait_for_state(app: &TestApp, id: Uuid, state: JobState, secs: u64) -> levee::jobs::Model {
    wait_for(app, id, |j| j.state == state, Duration::from_secs(secs)).await
}

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
        store::find(app.state.db().write(), job.id)
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

async fn jobs_of_a_vanished_worker_are_rescued(backend: Backend) {
    // A runs no workers; a "ghost" worker claims the job and vanishes; B's workers rescue it.
    let Some(a) = spawn_without_workers(backend).await else {
        return;
    };
    let id = enqueue(&a, "ok", Enqueue::default()).await.id;
    let ghost = store::claim(
        a.state.db(),
        "default",
        "ghost",
        Duration::from_millis(100),
        1,
    )
    .await
    .expect("claim");
    assert_eq!(ghost.len(), 1);
    let _b = a
        .spawn_sibling_with_jobs(backend, fast, handlers(Arc::default()))
        .await;
    let job = wait_for_state(&a, id, JobState::Completed, 10).await;
    assert_eq!(
        job.state,
        JobState::Completed,
        "the lease expired and another worker ran it"
    );
    assert_eq!(job.attempt, 2);
}

async fn shutdown_returns_unfinished_jobs_to_the_queue(backend: Backend) {
    let runs = Arc::new(AtomicUsize::new(0));
    let Some(mut app) = TestApp::spawn_with_jobs(backend, fast, handlers(runs.clone())).await
    else {
        return;
    };
    let id = enqueue(&app, "sleep-3s", Enqueue::default()).await.id;
    wait_for_state(&app, id, JobState::Running, 5).await;
    let url = app.db_url.clone();
    let _keep_database = app.db.take();
    app.stop().await.expect("stop");
    let db = levee::db::Db::connect(&crate::helpers::test_config(&url).database)
        .await
        .expect("connect");
    let job = store::find(db.write(), id)
        .await
        .expect("find")
        .expect("job");
    assert_eq!(
        job.state,
        JobState::Available,
        "never lost: back in the queue"
    );
    assert_eq!(job.attempt, 0, "the interrupted run does not count");
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
    let cancelled = app
        .send_as(
            reqwest::Method::POST,
            &format!("/jobs/{later}/cancel"),
            &admin.access,
            None,
        )
        .await;
    assert_eq!(
        cancelled.json::<serde_json::Value>().await.expect("json")["state"],
        "cancelled"
    );
    let again = app
        .send_as(
            reqwest::Method::POST,
            &format!("/jobs/{later}/cancel"),
            &admin.access,
            None,
        )
        .await;
    assert_eq!(again.status(), 409);
    let retried = app
        .send_as(
            reqwest::Method::POST,
            &format!("/jobs/{later}/retry"),
            &admin.access,
            None,
        )
        .await;
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

backend_tests!(
    admins_inspect_retry_cancel_and_replay_jobs,
    jobs_complete,
    failures_retry_with_growing_delays_then_die,
    enqueue_in_a_rolled_back_transaction_leaves_no_job,
    a_unique_key_blocks_duplicates_while_pending,
    snoozing_does_not_use_an_attempt,
    jobs_of_a_vanished_worker_are_rescued,
    shutdown_returns_unfinished_jobs_to_the_queue,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_never_run_one_job_at_the_same_time() {
    let running: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let overlaps = Arc::new(AtomicUsize::new(0));
    let runs = Arc::new(AtomicUsize::new(0));
    let register = |running: Arc<Mutex<HashMap<String, usize>>>,
                    overlaps: Arc<AtomicUsize>,
                    runs: Arc<AtomicUsize>| {
        move |registry: &mut Registry| {
            registry.register::<Work, _, _>(move |job, _ctx| {
                let (running, overlaps, runs) = (running.clone(), overlaps.clone(), runs.clone());
                async move {
                    let now = {
                        let mut map = running.lock().expect("lock");
                        let count = map.entry(job.action.clone()).or_default();
                        *count += 1;
                        *count
                    };
                    if now > 1 {
                        overlaps.fetch_add(1, Ordering::SeqCst);
                    }
                    runs.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    *running.lock().expect("lock").entry(job.action).or_default() -= 1;
                    Outcome::Done
                }
            });
        }
    };
    let Some(a) = TestApp::spawn_with_jobs(
        Backend::Postgres,
        fast,
        register(running.clone(), overlaps.clone(), runs.clone()),
    )
    .await
    else {
        return;
    };
    let b = a
        .spawn_sibling_with_jobs(
            Backend::Postgres,
            fast,
            register(running.clone(), overlaps.clone(), runs.clone()),
        )
        .await;
    for i in 0..200 {
        a.state
            .jobs()
            .enqueue(
                a.state.db().write(),
                &work(&format!("job-{i}")),
                Enqueue::default(),
            )
            .await
            .expect("enqueue");
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while runs.load(Ordering::SeqCst) < 200 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        runs.load(Ordering::SeqCst),
        200,
        "every job ran exactly once"
    );
    assert_eq!(overlaps.load(Ordering::SeqCst), 0);
    drop(b);
}

async fn cron_fires_each_slot_exactly_once_with_two_instances(backend: Backend) {
    let every_second = |c: &mut Config| {
        fast(c);
        c.jobs.cron = vec![levee::config::CronEntry {
            name: "tick".into(),
            schedule: "* * * * * *".into(),
            kind: Work::NAME.into(),
        }];
    };
    let Some(a) = TestApp::spawn_with_jobs(backend, every_second, handlers(Arc::default())).await
    else {
        return;
    };
    let b = a
        .spawn_sibling_with_jobs(backend, every_second, handlers(Arc::default()))
        .await;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let jobs = store::list(
        a.state.db().write(),
        store::JobFilter {
            kind: Some(Work::NAME.into()),
            ..Default::default()
        },
        100,
    )
    .await
    .expect("jobs");
    #[derive(sea_orm::FromQueryResult)]
    struct Slot {
        job_id: Uuid,
    }
    let backend_kind = sea_orm::ConnectionTrait::get_database_backend(a.state.db().write());
    let slots =
        <Slot as sea_orm::FromQueryResult>::find_by_statement(sea_orm::Statement::from_string(
            backend_kind,
            "SELECT job_id FROM cron_slots WHERE name = 'tick'",
        ))
        .all(a.state.db().write())
        .await
        .expect("slots");
    assert!(slots.len() >= 2, "slots fired: {}", slots.len());
    assert_eq!(jobs.len(), slots.len(), "one job per slot, never two");
    let mut ids: Vec<Uuid> = slots.iter().map(|s| s.job_id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), slots.len());
    drop(b);
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
            db.get_database_backend(),
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
    assert!(store::find(db, old).await.expect("find").is_none());
    assert!(store::find(db, fresh).await.expect("find").is_some());
    assert!(store::find(db, waiting).await.expect("find").is_some());
}

backend_tests!(
    cron_fires_each_slot_exactly_once_with_two_instances,
    prune_deletes_only_old_finished_jobs
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enqueue_wakes_workers_in_other_processes_through_redis() {
    if crate::helpers::env_url(crate::helpers::REDIS_ENV).is_none() {
        crate::helpers::skip("cross-process job wake-ups", crate::helpers::REDIS_ENV);
        return;
    }
    enqueues_wake_another_process(|_| {}).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enqueue_wakes_workers_in_other_processes_through_postgres_notify() {
    enqueues_wake_another_process(|c| c.redis.url = None).await;
}

/// A only enqueues; B works with a poll interval far longer than the test, so only a
/// wake-up from A's enqueue can start the job in time.
async fn enqueues_wake_another_process(fleet: fn(&mut Config)) {
    let Some(a) = TestApp::spawn_with_jobs(
        Backend::Postgres,
        |c| {
            fleet(c);
            c.jobs.run_in_serve = false;
        },
        handlers(Arc::default()),
    )
    .await
    else {
        return;
    };
    let slow_poll = |c: &mut Config| {
        fleet(c);
        fast(c);
        c.jobs.poll_interval = ConfigDuration::secs(60);
    };
    let _b = a
        .spawn_sibling_with_jobs(Backend::Postgres, slow_poll, handlers(Arc::default()))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let id = enqueue(&a, "ok", Enqueue::default()).await.id;
    let job = wait_for_state(&a, id, JobState::Completed, 5).await;
    assert_eq!(job.state, JobState::Completed);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "woken by the enqueue, not by the 60 s poll: {:?}",
        started.elapsed()
    );
}
