//! Cron: with two instances on one database, each schedule slot enqueues exactly one job.

use crate::backend_tests;
use crate::helpers::jobs::{Work, fast, handlers};
use crate::helpers::{Backend, TestApp};
use levee::config::Config;
use levee::jobs::JobKind;
use std::sync::Arc;
use std::time::Duration;

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
    // One statement, so slots and jobs come from one snapshot: both instances keep firing
    // while the test counts (two queries once saw a sixth slot but only five jobs).
    #[derive(sea_orm::FromQueryResult)]
    struct Counts {
        slots: i64,
        slot_jobs: i64,
        jobs: i64,
    }
    let backend_kind = sea_orm::ConnectionTrait::get_database_backend(a.state.db().write());
    let counts = <Counts as sea_orm::FromQueryResult>::find_by_statement(
        sea_orm::Statement::from_sql_and_values(
            backend_kind,
            "SELECT (SELECT count(*) FROM cron_slots WHERE name = 'tick') AS slots, \
             (SELECT count(DISTINCT job_id) FROM cron_slots WHERE name = 'tick') AS slot_jobs, \
             (SELECT count(*) FROM jobs WHERE kind = $1) AS jobs",
            [Work::NAME.into()],
        ),
    )
    .one(a.state.db().write())
    .await
    .expect("counts")
    .expect("one row");
    assert!(counts.slots >= 2, "slots fired: {}", counts.slots);
    assert_eq!(counts.jobs, counts.slots, "one job per slot, never two");
    assert_eq!(counts.slot_jobs, counts.slots, "each slot its own job");
    drop(b);
}

backend_tests!(cron_fires_each_slot_exactly_once_with_two_instances);
