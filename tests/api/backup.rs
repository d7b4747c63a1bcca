//! `levee backup` and `levee restore` on the embedded database: an online backup while
//! `serve` runs, a restore refused while any process holds the database, and a restore
//! that brings back exactly what the backup held.

use crate::helpers::{LeveeProcess, levee_command};
use serde_json::json;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

const PASSWORD: &str = "correct horse battery staple";

fn levee(config: &Path, args: &[&str]) -> Output {
    let mut all = vec!["--config", config.to_str().expect("utf-8")];
    all.extend_from_slice(args);
    levee_command(&all).output().expect("run levee")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).trim().to_string()
}

async fn post(levee: &LeveeProcess, path: &str, email: &str) -> u16 {
    reqwest::Client::new()
        .post(levee.url(path))
        .json(&json!({"email": email, "password": PASSWORD, "name": "Backup Test"}))
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

fn stop(mut levee: LeveeProcess) {
    levee.signal("TERM");
    assert_eq!(levee.wait(Duration::from_secs(30)), Some(0));
}

#[tokio::test]
async fn an_online_backup_restores_exactly_what_it_held() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("levee.toml");
    let copy = dir.path().join("copy.db");
    let copy_arg = copy.to_str().expect("utf-8");

    let server = LeveeProcess::serve_sqlite(dir.path(), "");
    assert_eq!(
        post(&server, "/auth/register", "before@example.com").await,
        201
    );
    let out = levee(&config, &["backup", copy_arg]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("backup written to"));
    assert_eq!(
        post(&server, "/auth/register", "after@example.com").await,
        201
    );

    // A second backup to the same file never overwrites it.
    let again = levee(&config, &["backup", copy_arg]);
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );

    // Refused while serve holds the database, and nothing changes.
    let refused = levee(&config, &["restore", copy_arg]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("stop it before restoring"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(stderr(&refused).lines().count(), 1);
    stop(server);

    let restored = levee(&config, &["restore", copy_arg]);
    assert!(restored.status.success(), "{}", stderr(&restored));
    let kept = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(Result::ok)
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("levee.db.replaced-")
        });
    assert!(
        kept,
        "the replaced database is kept beside the restored one"
    );

    let server = LeveeProcess::serve_sqlite(dir.path(), "");
    assert_eq!(
        post(&server, "/auth/login", "before@example.com").await,
        200
    );
    assert_eq!(post(&server, "/auth/login", "after@example.com").await, 401);
    stop(server);
}

#[test]
fn restore_refuses_a_file_that_is_not_a_levee_backup() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("levee.toml");
    let db = format!(
        "[database]\nurl = \"sqlite:{}/levee.db\"\n",
        dir.path().display()
    );
    std::fs::write(&config, db).expect("config");
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, "not a database").expect("junk");
    let out = levee(&config, &["restore", junk.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).ends_with("junk.db is not a SQLite database"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("levee.db").exists(), "nothing was written");
}

#[test]
fn on_postgresql_backup_prints_the_recipe_and_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("levee.toml");
    std::fs::write(
        &config,
        "[database]\nurl = \"postgres://levee@127.0.0.1:1/levee\"\n",
    )
    .expect("config");
    let out = levee(&config, &["backup", "/tmp/never-written.db"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("pg_dump"));
    assert!(
        stderr(&out).contains("database.url is PostgreSQL"),
        "{}",
        stderr(&out)
    );
    assert!(!Path::new("/tmp/never-written.db").exists());
}
