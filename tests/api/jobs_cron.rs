//! Cron: with two instances on one database, each schedule slot enqueues exactly one job.

use crate::backend_tests;
use crate::helpers::jobs::{Work, fast, handlers};
use crate::helpers::{Backend, TestApp};
use levee::config::Config;
use levee::job_admin::service;
use levee::jobs::JobKind;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

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
    let jobs = service::list(
        a.state.db().write(),
        service::JobFilter {
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

backend_tests!(cron_fires_each_slot_exactly_once_with_two_instances);
