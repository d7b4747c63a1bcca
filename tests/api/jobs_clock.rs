//! Leases and due times follow the database's clock: a claim leases until the database's
//! now plus the lease, a lease still valid on that clock is not rescued, and a worker
//! process whose own clock runs two hours ahead neither steals a lease nor runs a job early.

use crate::backend_tests;
use crate::helpers::jobs::{enqueue, spawn_without_workers};
use crate::helpers::{Backend, LeveeProcess, TestApp, skip};
use levee::db::clock;
use levee::db::ids::JobId;
use levee::job_admin::service;
use levee::jobs::{Enqueue, JobState, Model, Probe, store};
use sea_orm::ConnectionTrait;
use std::time::{Duration, Instant};

async fn job(app: &TestApp, id: JobId) -> Model {
    service::find(app.state.db().write(), id)
        .await
        .expect("find")
        .expect("job")
}

async fn a_claim_leases_until_the_database_clock_plus_the_lease(backend: Backend) {
    let Some(app) = spawn_without_workers(backend).await else {
        return;
    };
    let db = app.state.db();
    let id = enqueue(&app, "ok", Enqueue::default()).await.id;
    let lease = Duration::from_secs(600);
    let before = clock::now(db.write()).await.expect("now");
    let claimed = store::claim(db, "default", &["test.work"], "me", lease, 1)
        .await
        .expect("claim");
    let after = clock::now(db.write()).await.expect("now");
    assert_eq!(claimed.iter().map(|j| j.id).collect::<Vec<_>>(), vec![id]);
    let expires = claimed[0].lease_expires_at.expect("a lease");
    assert!(
        before + lease <= expires && expires <= after + lease,
        "{before} + {lease:?} <= {expires} <= {after} + {lease:?}"
    );
    // Same machine here, so the two clocks agree: the database's time is read as UTC.
    let skew = (chrono::Utc::now() - before).num_seconds().abs();
    assert!(skew < 5, "the database clock is {skew} s off");
}

async fn a_lease_still_valid_on_the_database_clock_is_not_rescued(backend: Backend) {
    let Some(app) = spawn_without_workers(backend).await else {
        return;
    };
    let db = app.state.db();
    let id = enqueue(&app, "ok", Enqueue::default()).await.id;
    let hour = Duration::from_secs(3600);
    store::claim(db, "default", &["test.work"], "ghost", hour, 1)
        .await
        .expect("claim");
    assert_eq!(store::rescue_expired(db).await.expect("rescue"), 0);
    assert_eq!(job(&app, id).await.state, JobState::Running);

    let expired = clock::now(db.write()).await.expect("now") - chrono::Duration::seconds(1);
    let sql = "UPDATE jobs SET lease_expires_at = $1 WHERE id = $2";
    db.write()
        .execute_raw(db.statement(sql, vec![expired.into(), id.into()]))
        .await
        .expect("expire the lease");
    assert_eq!(store::rescue_expired(db).await.expect("rescue"), 1);
    let rescued = job(&app, id).await;
    assert_eq!(
        (rescued.state, rescued.lease_owner),
        (JobState::Retryable, None)
    );
}

backend_tests!(
    a_claim_leases_until_the_database_clock_plus_the_lease,
    a_lease_still_valid_on_the_database_clock_is_not_rescued,
);

/// Where Debian's `faketime` package puts the preload library.
const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// A real `levee worker` under libfaketime, its clock two hours ahead of the database's
/// (PostgreSQL: on SQLite the database clock is the process's own by construction). With
/// leases on the process clock it would rescue a lease with an hour left and run a job due
/// in half an hour.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_whose_clock_runs_ahead_steals_no_lease_and_runs_no_job_early() {
    if !std::path::Path::new(LIBFAKETIME).exists() {
        skip(
            "a worker with a skewed clock",
            "libfaketime (apt-get install faketime)",
        );
        return;
    }
    let Some(app) = spawn_without_workers(Backend::Postgres).await else {
        return;
    };
    let (state, db) = (&app.state, app.state.db());
    let enqueue_probe = |run_at: Option<chrono::DateTime<chrono::Utc>>| async move {
        let probe = Probe {
            record: true,
            ..Probe::default()
        };
        let options = Enqueue {
            run_at,
            ..Enqueue::default()
        };
        let queue = state.jobs();
        queue
            .enqueue(db.write(), &probe, options)
            .await
            .expect("enqueue")
            .id
    };
    let held = enqueue_probe(None).await;
    let hour = Duration::from_secs(3600);
    store::claim(db, "default", &["jobs.probe"], "ghost", hour, 1)
        .await
        .expect("claim");
    let in_half_an_hour =
        clock::now(db.write()).await.expect("now") + chrono::Duration::minutes(30);
    let later = enqueue_probe(Some(in_half_an_hour)).await;
    let due = enqueue_probe(None).await;

    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("levee.toml");
    let toml = format!(
        "[database]\nurl = \"{}\"\n[server]\nport = 0\n[jobs]\ncron = []\npoll_interval = \"100ms\"\nlease = \"1s\"\n[jobs.queues]\ndefault = 4\n",
        app.db_url
    );
    std::fs::write(&config, toml).expect("write config");
    let env = [
        ("LD_PRELOAD", LIBFAKETIME),
        ("FAKETIME", "+2h"),
        ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
    ];
    let _worker = LeveeProcess::worker_with_env(&config, &env);

    let deadline = Instant::now() + Duration::from_secs(30);
    while job(&app, due).await.state != JobState::Completed && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        job(&app, due).await.state,
        JobState::Completed,
        "the worker works"
    );
    // Several lease-upkeep rounds (every third of the 1 s lease) and polls.
    tokio::time::sleep(Duration::from_millis(2000)).await;

    let row = db
        .write()
        .query_one_raw(db.statement(
            "SELECT started_at FROM job_probe_runs WHERE job_id = $1",
            vec![due.into()],
        ))
        .await
        .expect("query")
        .expect("the due probe's run");
    let started: chrono::DateTime<chrono::Utc> = row.try_get("", "started_at").expect("started_at");
    let ahead = started - clock::now(db.write()).await.expect("now");
    assert!(
        ahead > chrono::Duration::minutes(90),
        "the worker's clock is skewed: {ahead}"
    );
    let held = job(&app, held).await;
    assert_eq!(
        (held.state, held.lease_owner.as_deref()),
        (JobState::Running, Some("ghost")),
        "an hour of lease left on the database's clock: not rescued"
    );
    assert_eq!(
        job(&app, later).await.state,
        JobState::Scheduled,
        "not due yet"
    );
}
