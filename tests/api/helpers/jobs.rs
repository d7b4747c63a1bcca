//! A job kind for tests (`test.work`), handlers that do what its `action` says, and
//! enqueueing and waiting for job states.

use super::app::TestApp;
use super::databases::Backend;
use levee::config::{Config, Duration as ConfigDuration};
use levee::db::ids::JobId;
use levee::job_admin::service;
use levee::jobs::{Enqueue, JobKind, JobState, NewJob, Outcome, Registry, store};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Serialize, Deserialize)]
pub struct Work {
    /// What the handler should do.
    pub action: String,
}

impl JobKind for Work {
    const NAME: &'static str = "test.work";
}

pub fn work(action: &str) -> Work {
    Work {
        action: action.into(),
    }
}

/// An app whose workers do not run (the test drives the queue itself).
pub async fn spawn_without_workers(backend: Backend) -> Option<TestApp> {
    TestApp::spawn_with_jobs(
        backend,
        |c| c.jobs.run_in_serve = false,
        handlers(Arc::default()),
    )
    .await
}

pub fn fast(c: &mut Config) {
    c.jobs.poll_interval = ConfigDuration::millis(50);
    c.jobs.retry_base_delay = ConfigDuration::millis(100);
    c.jobs.lease = ConfigDuration::millis(600);
    c.jobs.shutdown_timeout = ConfigDuration::millis(500);
}

/// Runs `action`s: "ok", "fail", "fail-hard", "panic", "snooze-once", and
/// "fail-until-fixed" (fails for good until `fixed` is set).
pub fn handlers(runs: Arc<AtomicUsize>) -> impl FnOnce(&mut Registry) {
    handlers_fixed(runs, Arc::default())
}

pub fn handlers_fixed(
    runs: Arc<AtomicUsize>,
    fixed: Arc<AtomicBool>,
) -> impl FnOnce(&mut Registry) {
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
                    _ => Outcome::Done,
                }
            }
        });
    }
}

pub async fn enqueue(app: &TestApp, action: &str, options: Enqueue) -> levee::jobs::Model {
    app.state
        .jobs()
        .enqueue(app.state.db().write(), &work(action), options)
        .await
        .expect("enqueue")
}

/// The job once `done` holds for it (or as it is after `limit`).
pub async fn wait_for(
    app: &TestApp,
    id: JobId,
    done: impl Fn(&levee::jobs::Model) -> bool,
    limit: Duration,
) -> levee::jobs::Model {
    let deadline = Instant::now() + limit;
    loop {
        let job = service::find(app.state.db().write(), id)
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
pub async fn wait_for_state(
    app: &TestApp,
    id: JobId,
    state: JobState,
    secs: u64,
) -> levee::jobs::Model {
    wait_for(app, id, |j| j.state == state, Duration::from_secs(secs)).await
}

/// Runs one job of `kind` (empty payload) on the app's workers and waits until it completes.
pub async fn run_job(app: &TestApp, kind: &str) {
    let new = NewJob {
        kind: kind.into(),
        queue: "default".into(),
        payload: serde_json::json!({}),
        priority: 0,
        max_attempts: 1,
        run_at: None,
        unique_key: None,
    };
    let job = store::enqueue(app.state.db().write(), new)
        .await
        .expect("enqueue");
    let job = wait_for_state(app, job.id, JobState::Completed, 10).await;
    assert_eq!(job.state, JobState::Completed, "{kind}: {job:?}");
}
