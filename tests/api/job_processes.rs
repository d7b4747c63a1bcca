//! The job queue across real processes: `kill -9` mid-run and SIGTERM during a long job
//! lose nothing, and two worker processes share a queue without running a job twice.

use crate::backend_tests;
use crate::helpers::{Backend, LeveeProcess, TestDb, count, test_config};
use levee::db::Db;
use levee::jobs::{Enqueue, JobQueue, Probe};
use std::path::Path;
use std::time::{Duration, Instant};

const CONCURRENCY: i64 = 8;
/// Jobs claimed ahead per slot.
const LOCAL_QUEUE: i64 = 1;

/// A migrated database for the binary and a handle on it for the test.
async fn database(backend: Backend) -> Option<(TestDb, String, Db)> {
    let (test_db, url) = TestDb::create(backend).await?;
    let db = Db::connect(&test_config(&url).database)
        .await
        .expect("connect");
    levee::db::migrate::up(&db).await.expect("migrate");
    Some((test_db, url, db))
}

/// A config file for `levee serve|worker` on `url` with fast polling and short leases.
fn write_config(dir: &Path, url: &str, shutdown_timeout: &str) -> std::path::PathBuf {
    let path = dir.join(format!("levee-{shutdown_timeout}.toml"));
    let toml = format!(
        "[database]\nurl = \"{url}\"\n[server]\nport = 0\n\
         [jobs]\ncron = []\nlocal_queue = {LOCAL_QUEUE}\npoll_interval = \"100ms\"\nlease = \"2s\"\nshutdown_timeout = \"{shutdown_timeout}\"\n\
         [jobs.queues]\ndefault = {CONCURRENCY}\n"
    );
    std::fs::write(&path, toml).expect("write config");
    path
}

async fn enqueue_probes(db: &Db, count: usize, probe: Probe) {
    let queue = JobQueue::default();
    let mut left = count;
    while left > 0 {
        let batch = left.min(500);
        left -= batch;
        let txn = db.begin_write().await.expect("begin");
        for _ in 0..batch {
            queue
                .enqueue(&txn, &probe, Enqueue::default())
                .await
                .expect("enqueue");
        }
        txn.commit().await.expect("commit");
    }
}

async fn wait_until(db: &Db, sql: &str, at_least: i64, limit: Duration) -> i64 {
    let deadline = Instant::now() + limit;
    loop {
        let n = count(db, sql).await;
        if n >= at_least || Instant::now() > deadline {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const RUNS: &str = "SELECT COUNT(*) AS n FROM job_probe_runs";
const COMPLETED: &str = "SELECT COUNT(*) AS n FROM jobs WHERE state = 'completed'";

/// PostgreSQL: `levee worker`; SQLite: `levee serve` with in-process workers.
fn start(backend: Backend, config: &Path) -> LeveeProcess {
    match backend {
        Backend::Postgres => LeveeProcess::worker(config),
        Backend::Sqlite => LeveeProcess::serve(config),
    }
}

async fn kill_9_mid_run_loses_no_job(backend: Backend) {
    let Some((_test_db, url, db)) = database(backend).await else {
        return;
    };
    let jobs = 2000;
    let probe = Probe {
        sleep_ms: 10,
        record: true,
        ..Probe::default()
    };
    enqueue_probes(&db, jobs, probe).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), &url, "10s");

    let mut first = start(backend, &config);
    let before_kill = wait_until(&db, RUNS, 600, Duration::from_secs(60)).await;
    first.child.kill().expect("kill -9");
    first.child.wait().expect("reap");
    assert!(
        before_kill >= 600 && count(&db, COMPLETED).await < jobs as i64,
        "killed mid-way: {before_kill} runs before the kill"
    );

    let _second = start(backend, &config);
    let completed = wait_until(&db, COMPLETED, jobs as i64, Duration::from_secs(90)).await;
    assert_eq!(
        completed, jobs as i64,
        "every job completes after the restart"
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM jobs").await,
        jobs as i64
    );
    let ran = count(
        &db,
        "SELECT COUNT(DISTINCT job_id) AS n FROM job_probe_runs",
    )
    .await;
    assert_eq!(ran, jobs as i64, "every job ran");
    let repeated = count(
        &db,
        "SELECT COUNT(*) AS n FROM (SELECT job_id FROM job_probe_runs GROUP BY job_id HAVING COUNT(*) > 1) AS r",
    )
    .await;
    eprintln!("kill -9 after {before_kill} runs; {repeated} jobs ran twice");
    // A slot is freed once its handler returns, before the (batched) completion is
    // written; at most CONCURRENCY × (1 + LOCAL_QUEUE) runs wait for theirs.
    assert!(
        repeated <= CONCURRENCY * (2 + LOCAL_QUEUE),
        "only jobs running or finishing at the kill may run twice: {repeated} did"
    );
    assert_eq!(
        count(&db, RUNS).await - jobs as i64,
        repeated,
        "a repeated job ran exactly twice"
    );
    db.close().await;
}

async fn sigterm_during_a_3s_job_completes_it_or_returns_it(backend: Backend) {
    let Some((_test_db, url, db)) = database(backend).await else {
        return;
    };
    let probe = Probe {
        sleep_ms: 3000,
        record: true,
        ..Probe::default()
    };
    enqueue_probes(&db, 1, probe).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let state = "SELECT COUNT(*) AS n FROM jobs WHERE state = 'available' AND finished_at IS NULL";

    // Too short a drain: the job goes back to the queue.
    let mut hasty = LeveeProcess::serve(&write_config(dir.path(), &url, "300ms"));
    assert_eq!(wait_until(&db, RUNS, 1, Duration::from_secs(30)).await, 1);
    hasty.signal("TERM");
    assert_eq!(
        hasty.wait(Duration::from_secs(10)),
        Some(0),
        "exits cleanly"
    );
    assert_eq!(
        count(&db, state).await,
        1,
        "the unfinished job is back in the queue"
    );

    // A long enough drain: the job finishes before the process exits.
    let mut patient = LeveeProcess::serve(&write_config(dir.path(), &url, "10s"));
    assert_eq!(wait_until(&db, RUNS, 2, Duration::from_secs(30)).await, 2);
    let signalled = Instant::now();
    patient.signal("TERM");
    assert_eq!(
        patient.wait(Duration::from_secs(15)),
        Some(0),
        "exits cleanly"
    );
    assert!(
        signalled.elapsed() >= Duration::from_secs(1),
        "waited for the running job"
    );
    assert_eq!(count(&db, COMPLETED).await, 1, "the job completed");
    db.close().await;
}

/// Two `levee worker` processes on one PostgreSQL database share the queue and never run
/// a job twice (SKIP LOCKED claims; a second run would show as a second probe row).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_worker_processes_share_the_queue_without_running_a_job_twice() {
    let Some((_test_db, url, db)) = database(Backend::Postgres).await else {
        return;
    };
    let jobs = 1000;
    let probe = Probe {
        sleep_ms: 5,
        record: true,
        ..Probe::default()
    };
    enqueue_probes(&db, jobs, probe).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), &url, "10s");
    let first = LeveeProcess::worker(&config);
    let _second = LeveeProcess::worker(&config);
    let completed = wait_until(&db, COMPLETED, jobs as i64, Duration::from_secs(60)).await;
    assert_eq!(completed, jobs as i64);
    assert_eq!(
        count(&db, RUNS).await,
        jobs as i64,
        "each job ran exactly once"
    );
    let workers = count(
        &db,
        "SELECT COUNT(DISTINCT worker) AS n FROM job_probe_runs",
    )
    .await;
    assert_eq!(workers, 2, "both processes took jobs");
    // This config works only `default`, so the `mail` queue's kind is flagged.
    let unworked = first.log_lines().into_iter().any(|line| {
        line.contains("no worker in this process works") && line.contains("email.send")
    });
    assert!(unworked, "a kind whose queue nobody here works is reported");
    db.close().await;
}

/// `levee worker` with `metrics.listen` answers health probes and exports its job metrics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_serves_health_and_metrics_on_metrics_listen() {
    let Some((_test_db, url, db)) = database(Backend::Sqlite).await else {
        return;
    };
    enqueue_probes(&db, 5, Probe::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), &url, "10s");
    let mut toml = std::fs::read_to_string(&config).expect("read config");
    toml.push_str("[metrics]\nlisten = \"127.0.0.1:0\"\n");
    std::fs::write(&config, toml).expect("write config");
    let worker = LeveeProcess::worker(&config);
    assert_eq!(
        wait_until(&db, COMPLETED, 5, Duration::from_secs(30)).await,
        5
    );

    let client = reqwest::Client::new();
    let health: serde_json::Value = client
        .get(worker.url("/health"))
        .send()
        .await
        .expect("health")
        .json()
        .await
        .expect("json");
    assert_eq!(health["role"], "worker");
    let metrics = client
        .get(worker.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let processed =
        r#"levee_jobs_processed_total{queue="default",kind="jobs.probe",outcome="completed"} 5"#;
    assert!(metrics.contains(processed), "{metrics}");
    db.close().await;
}

backend_tests!(
    kill_9_mid_run_loses_no_job,
    sigterm_during_a_3s_job_completes_it_or_returns_it,
);
