//! `levee migrate` on both backends, concurrent migrators, and schema/binary mismatches.

use crate::helpers::{Backend, TestDb, levee_command};
use levee_migrations::MigratorTrait;
use std::process::Output;

fn migrate(url: &str, args: &[&str]) -> Output {
    let mut all = vec!["migrate"];
    all.extend_from_slice(args);
    levee_command(&all)
        .env("LEVEE_DATABASE__URL", url)
        .output()
        .expect("run levee")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `levee serve` against `url` (it is expected to refuse to start).
fn serve(url: &str, envs: &[(&str, &str)]) -> Output {
    let mut cmd = levee_command(&["serve"]);
    cmd.env("LEVEE_DATABASE__URL", url)
        .env("LEVEE_SERVER__PORT", "0");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("run levee")
}

fn migration_names() -> Vec<String> {
    levee_migrations::Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect()
}

async fn empty_database(backend: Backend) -> Option<(TestDb, String)> {
    match backend {
        Backend::Sqlite => TestDb::create(Backend::Sqlite).await,
        Backend::Postgres => TestDb::empty_postgres().await,
    }
}

async fn status_up_and_down_round_trip(backend: Backend) {
    let Some((_db, url)) = empty_database(backend).await else {
        return;
    };
    let names = migration_names();
    let first = &names[0];

    let status = migrate(&url, &["status"]);
    assert!(status.status.success(), "{}", text(&status));
    assert!(
        text(&status).contains(&format!("pending  {first}")),
        "{}",
        text(&status)
    );

    let up = migrate(&url, &["up"]);
    assert!(up.status.success(), "{}", text(&up));
    assert!(text(&up).contains(&format!("applied {first}")));
    assert!(text(&migrate(&url, &["status"])).contains(&format!("applied  {first}")));
    assert!(text(&migrate(&url, &["up"])).contains("nothing to do"));

    let down = migrate(&url, &["down", &names.len().to_string()]);
    assert!(down.status.success(), "{}", text(&down));
    assert!(text(&down).contains(&format!("reverted {first}")));
    assert!(text(&migrate(&url, &["status"])).contains(&format!("pending  {first}")));

    let bad = migrate(&url, &["down", "0"]);
    assert_eq!(bad.status.code(), Some(2));
}

crate::backend_tests!(
    status_up_and_down_round_trip,
    serve_refuses_a_schema_newer_than_itself,
    serve_without_auto_migrate_names_pending_migrations
);

async fn serve_refuses_a_schema_newer_than_itself(backend: Backend) {
    let Some((_db, url)) = TestDb::create(backend).await else {
        return;
    };
    let db = levee::db::Db::connect(&crate::helpers::test_config(&url).database)
        .await
        .expect("connect");
    levee::db::migrate::up(&db).await.expect("migrate");
    sea_orm::ConnectionTrait::execute_unprepared(
        db.write(),
        "INSERT INTO seaql_migrations (version, applied_at) VALUES ('m29990101_000001_from_the_future', 0)",
    )
    .await
    .expect("insert");
    db.close().await;
    let out = serve(&url, &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out);
    assert!(
        err.contains("newer than this binary") && err.contains("m29990101_000001_from_the_future"),
        "{err}"
    );
}

async fn serve_without_auto_migrate_names_pending_migrations(backend: Backend) {
    let Some((_db, url)) = empty_database(backend).await else {
        return;
    };
    let out = serve(&url, &[("LEVEE_DATABASE__AUTO_MIGRATE", "false")]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out);
    assert!(
        err.contains("pending migration") && err.contains(&migration_names()[0]),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_migrators_on_postgres_apply_the_schema_once() {
    let Some((_db, url)) = TestDb::empty_postgres().await else {
        return;
    };
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || migrate(&url, &["up"]))
        })
        .collect();
    let outputs: Vec<Output> = runs
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .collect();
    for out in &outputs {
        assert!(out.status.success(), "{}", text(out));
    }
    let applied = outputs
        .iter()
        .filter(|o| text(o).contains("applied "))
        .count();
    assert_eq!(applied, 1, "exactly one migrator applied the schema");
    let db = levee::db::Db::connect(&crate::helpers::test_config(&url).database)
        .await
        .expect("connect");
    let status = levee::db::migrate::status(&db).await.expect("status");
    assert!(status.iter().all(|m| m.applied()));
    db.close().await;
}
