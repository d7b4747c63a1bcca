//! Job workers across instances: leases of a vanished worker are rescued, shutdown stops
//! the handlers it gave up on and returns their jobs to the queue, two workers never run one job at once, and an enqueue
//! wakes workers in other processes (through Redis or PostgreSQL NOTIFY).

use crate::backend_tests;
use crate::helpers::jobs::{
    Work, enqueue, fast, handlers, spawn_without_workers, wait_for_state, work,
};
use crate::helpers::{Backend, TestApp};
use levee::config::{Config, Duration as ConfigDuration};
use levee::job_admin::service;
use levee::jobs::{Enqueue, JobState, Outcome, Registry, store};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

async fn jobs_of_a_vanished_worker_are_rescued(backend: Backend) {
    // A runs no workers; a "ghost" worker claims the job and vanishes; B's workers rescue it.
    let Some(a) = spawn_without_workers(backend).await else {
        return;
    };
    let id = enqueue(&a, "ok", Enqueue::default()).await.id;
    let ghost = store::claim(
        a.state.db(),
        "default",
        &["test.work"],
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

async fn shutdown_aborts_the_handler_it_gave_up_on(backend: Backend) {
    // The handler's side effect comes after 1.5 s of work; the drain gives up after 0.5 s.
    let (started, finished) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (on_start, on_finish) = (started.clone(), finished.clone());
    let register = move |registry: &mut Registry| {
        registry.register::<Work, _, _>(move |_job, _ctx| {
            let (started, finished) = (on_start.clone(), on_finish.clone());
            async move {
                started.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(1500)).await;
                finished.fetch_add(1, Ordering::SeqCst);
                Outcome::Done
            }
        });
    };
    let Some(mut app) = TestApp::spawn_with_jobs(backend, fast, register).await else {
        return;
    };
    let id = enqueue(&app, "slow", Enqueue::default()).await.id;
    wait_for_state(&app, id, JobState::Running, 5).await;
    let url = app.db_url.clone();
    let _keep_database = app.db.take();
    app.stop().await.expect("stop");
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(started.load(Ordering::SeqCst), 1);
    assert_eq!(
        finished.load(Ordering::SeqCst),
        0,
        "the abandoned handler was stopped, not left running"
    );
    let db = levee::db::Db::connect(&crate::helpers::test_config(&url).database)
        .await
        .expect("connect");
    let job = service::find(db.write(), id)
        .await
        .expect("find")
        .expect("job");
    assert_eq!(
        (job.state, job.attempt),
        (JobState::Available, 0),
        "never lost: back in the queue, the interrupted run not counted"
    );
    let again = store::claim(
        &db,
        "default",
        &["test.work"],
        "next",
        Duration::from_secs(60),
        1,
    )
    .await
    .expect("claim");
    assert_eq!(
        again.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![id],
        "the job is runnable again at once"
    );
    assert_eq!(
        again[0].attempt, 1,
        "the aborted run did not use up an attempt"
    );
}

backend_tests!(
    jobs_of_a_vanished_worker_are_rescued,
    shutdown_aborts_the_handler_it_gave_up_on,
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
