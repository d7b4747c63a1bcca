//! The workers' local queue of prefetched jobs: it is bounded, prefetched jobs keep their
//! leases while they wait, a shutdown returns them at once (not counted as an attempt) for
//! other workers to run, and jobs that waited too long go back so a later, more urgent
//! job is not starved.

use crate::backend_tests;
use crate::helpers::jobs::{Work, enqueue, fast, handlers, wait_for_state};
use crate::helpers::{Backend, TestApp};
use levee::config::{Config, Duration as ConfigDuration, IntIn};
use levee::jobs::entity::{Column, Entity as Jobs};
use levee::jobs::{Enqueue, JobState, Outcome, Registry};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Handlers for `test.work` whose "block" action waits until `open` is set, and whose
/// "slow" action takes 300 ms; every run is recorded in `started`, in order.
#[derive(Clone, Default)]
struct Gate {
    open: Arc<AtomicBool>,
    started: Arc<Mutex<Vec<String>>>,
    runs: Arc<Mutex<HashMap<String, usize>>>,
}

impl Gate {
    fn register(self) -> impl FnOnce(&mut Registry) {
        move |registry: &mut Registry| {
            registry.register::<Work, _, _>(move |job, _ctx| {
                let gate = self.clone();
                async move {
                    gate.started.lock().expect("lock").push(job.action.clone());
                    *gate
                        .runs
                        .lock()
                        .expect("lock")
                        .entry(job.action.clone())
                        .or_default() += 1;
                    match job.action.as_str() {
                        a if a.starts_with("block") => {
                            while !gate.open.load(Ordering::SeqCst) {
                                tokio::time::sleep(Duration::from_millis(10)).await;
                            }
                        }
                        a if a.starts_with("slow") => {
                            tokio::time::sleep(Duration::from_millis(300)).await
                        }
                        _ => {}
                    }
                    Outcome::Done
                }
            });
        }
    }

    fn runs_of(&self, action: &str) -> usize {
        self.runs
            .lock()
            .expect("lock")
            .get(action)
            .copied()
            .unwrap_or(0)
    }
}

/// `fast` with one queue of `concurrency` slots and `per_slot` jobs claimed ahead per slot.
fn local_queue(concurrency: u64, per_slot: u64) -> impl Fn(&mut Config) {
    move |c: &mut Config| {
        fast(c);
        c.jobs.queues = [("default".to_string(), IntIn::new(concurrency))].into();
        c.jobs.local_queue = IntIn::new(per_slot);
        c.jobs.local_queue_max_age = ConfigDuration::secs(30);
    }
}

/// Jobs leased (running or prefetched) by anyone.
async fn leased(app: &TestApp) -> u64 {
    Jobs::find()
        .filter(Column::State.eq(JobState::Running))
        .count(app.state.db().write())
        .await
        .expect("count")
}

async fn wait_until_leased(app: &TestApp, jobs: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while leased(app).await < jobs && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn the_local_queue_is_bounded(backend: Backend) {
    // 2 slots × 3 ahead: 2 running and 6 waiting in memory, never more.
    let gate = Gate::default();
    let Some(app) =
        TestApp::spawn_with_jobs(backend, local_queue(2, 3), gate.clone().register()).await
    else {
        return;
    };
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(
            enqueue(&app, &format!("block-{i}"), Enqueue::default())
                .await
                .id,
        );
    }
    wait_until_leased(&app, 8).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(leased(&app).await, 8, "2 running + 2 × 3 prefetched");
    assert_eq!(
        gate.started.lock().expect("lock").len(),
        2,
        "only the slots run"
    );
    gate.open.store(true, Ordering::SeqCst);
    for id in ids {
        let job = wait_for_state(&app, id, JobState::Completed, 10).await;
        assert_eq!((job.state, job.attempt), (JobState::Completed, 1));
    }
}

async fn prefetched_jobs_are_returned_on_shutdown_and_run_by_another_worker(backend: Backend) {
    let gate = Gate::default();
    let Some(mut a) =
        TestApp::spawn_with_jobs(backend, local_queue(1, 4), gate.clone().register()).await
    else {
        return;
    };
    let urgent = Enqueue {
        priority: 10,
        ..Enqueue::default()
    };
    let blocked = enqueue(&a, "block", urgent).await.id;
    let mut prefetched = Vec::new();
    for i in 0..4 {
        prefetched.push(enqueue(&a, &format!("ok-{i}"), Enqueue::default()).await.id);
    }
    wait_until_leased(&a, 5).await;
    assert_eq!(
        leased(&a).await,
        5,
        "one running, four waiting in A's memory"
    );
    // B polls often but finds nothing while A holds every job.
    let b_runs = Arc::new(AtomicUsize::new(0));
    let b = a
        .spawn_sibling_with_jobs(backend, fast, handlers(b_runs.clone()))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(b_runs.load(Ordering::SeqCst), 0, "A's leases keep B away");

    let _keep_database = a.db.take();
    let stopping = Instant::now();
    a.stop().await.expect("stop");
    for &id in prefetched.iter().chain([&blocked]) {
        let job = wait_for_state(&b, id, JobState::Completed, 10).await;
        assert_eq!(
            (job.state, job.attempt),
            (JobState::Completed, 1),
            "run once by B; A's claim did not count as an attempt"
        );
    }
    assert_eq!(b_runs.load(Ordering::SeqCst), 5);
    assert_eq!(
        gate.runs_of("block"),
        1,
        "A started only the job in its slot"
    );
    assert!(
        (0..4).all(|i| gate.runs_of(&format!("ok-{i}")) == 0),
        "A never ran what it had only prefetched"
    );
    assert!(
        stopping.elapsed() < Duration::from_secs(5),
        "returned at once, not after their leases"
    );
}

async fn prefetched_jobs_keep_their_leases_while_they_wait(backend: Backend) {
    // The lease is 1 s; the prefetched job waits 3 s behind a blocked one. Without renewal
    // the rescue would take it back and it would run a second time.
    let gate = Gate::default();
    let tweak = |c: &mut Config| {
        local_queue(1, 1)(c);
        c.jobs.lease = ConfigDuration::secs(1);
    };
    let Some(app) = TestApp::spawn_with_jobs(backend, tweak, gate.clone().register()).await else {
        return;
    };
    let first = Enqueue {
        priority: 10,
        ..Enqueue::default()
    };
    let blocked = enqueue(&app, "block", first).await.id;
    let waiting = enqueue(&app, "ok", Enqueue::default()).await.id;
    wait_until_leased(&app, 2).await;
    let claimed = wait_for_state(&app, waiting, JobState::Running, 5).await;
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let still = wait_for_state(&app, waiting, JobState::Running, 0).await;
    assert_eq!(
        (still.state, still.attempt, &still.lease_owner),
        (JobState::Running, 1, &claimed.lease_owner),
        "still held by the same worker after three leases"
    );
    assert!(still.lease_expires_at > claimed.lease_expires_at, "renewed");
    assert_eq!(gate.runs_of("ok"), 0, "it has not run yet");
    gate.open.store(true, Ordering::SeqCst);
    for id in [blocked, waiting] {
        let job = wait_for_state(&app, id, JobState::Completed, 10).await;
        assert_eq!((job.state, job.attempt), (JobState::Completed, 1));
    }
    assert_eq!(gate.runs_of("ok"), 1, "ran exactly once");
}

async fn an_urgent_job_does_not_wait_behind_a_full_local_queue(backend: Backend) {
    // One slot, held by a blocked job, and 10 jobs prefetched behind it. Behind a full local
    // queue an urgent job would be claimed only once 5 of them had run; prefetched jobs go
    // back after 200 ms, so the next claim, in priority order, brings it first.
    let gate = Gate::default();
    let tweak = |c: &mut Config| {
        local_queue(1, 10)(c);
        c.jobs.local_queue_max_age = ConfigDuration::millis(200);
    };
    let Some(app) = TestApp::spawn_with_jobs(backend, tweak, gate.clone().register()).await else {
        return;
    };
    let first = Enqueue {
        priority: 5,
        ..Enqueue::default()
    };
    enqueue(&app, "block", first).await;
    for i in 0..10 {
        enqueue(&app, &format!("ok-{i}"), Enqueue::default()).await;
    }
    wait_until_leased(&app, 11).await;
    let urgent = Enqueue {
        priority: 10,
        ..Enqueue::default()
    };
    let id = enqueue(&app, "urgent", urgent).await.id;
    let claimed = wait_for_state(&app, id, JobState::Running, 5).await;
    assert_eq!(
        claimed.state,
        JobState::Running,
        "claimed while the slot is still busy"
    );
    gate.open.store(true, Ordering::SeqCst);
    let job = wait_for_state(&app, id, JobState::Completed, 10).await;
    assert_eq!(job.state, JobState::Completed);
    let started = gate.started.lock().expect("lock").clone();
    assert_eq!(
        started.get(..2),
        Some(&["block".to_string(), "urgent".to_string()][..]),
        "the urgent job ran next: {started:?}"
    );
}

backend_tests!(
    the_local_queue_is_bounded,
    prefetched_jobs_are_returned_on_shutdown_and_run_by_another_worker,
    prefetched_jobs_keep_their_leases_while_they_wait,
    an_urgent_job_does_not_wait_behind_a_full_local_queue,
);
