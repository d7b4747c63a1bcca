//! The command line: config errors, `--print-config`, `levee health`.

use crate::helpers::{LeveeProcess, levee_command};
use std::process::Output;

fn run(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = levee_command(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("run levee")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).trim().to_string()
}

#[test]
fn an_unknown_key_exits_2_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[server]\nprot = 8080\n").expect("write");
    let out = run(&["serve", "--config", path.to_str().expect("utf-8")], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.starts_with("levee: server.prot: unknown key"), "{err}");
    assert_eq!(err.lines().count(), 1, "one plain line: {err}");
}

#[test]
fn a_bad_value_exits_2_naming_the_key_and_the_form() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[database]\nmax_connections = \"lots\"\n").expect("write");
    let out = run(&["serve", "--config", path.to_str().expect("utf-8")], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "levee: database.max_connections: expected integer 1..=1000, got \"lots\""
    );
}

#[test]
fn a_missing_config_file_and_a_missing_tls_file_are_named() {
    let out = run(&["serve", "--config", "/nonexistent/levee.toml"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("/nonexistent/levee.toml"));

    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite:{}/levee.db", dir.path().display());
    let out = run(
        &["serve"],
        &[
            ("LEVEE_DATABASE__URL", &db),
            ("LEVEE_SERVER__PORT", "0"),
            ("LEVEE_SERVER__TLS__CERT", "/nonexistent/cert.pem"),
            ("LEVEE_SERVER__TLS__KEY", "/nonexistent/key.pem"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("server.tls.cert") && err.contains("/nonexistent/cert.pem"),
        "{err}"
    );
}

#[test]
fn levee_config_selects_the_file_and_test_variables_are_not_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("custom.toml");
    std::fs::write(
        &path,
        "[server]\nport = 9123\n[database]\nurl = \"postgres://app:hunter2@db/levee\"\n[redis]\nurl = \"redis://cache/0?password=hunter3\"\n",
    )
    .expect("write");
    let out = run(
        &["serve", "--print-config"],
        &[
            ("LEVEE_CONFIG", path.to_str().expect("utf-8")),
            ("LEVEE_TEST_DATABASE_URL", "postgres://elsewhere"),
            ("LEVEE_TEST_SOMETHING", "1"),
            ("LEVEE_LOG__LEVEL", "debug"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("port = 9123"), "{shown}");
    assert!(shown.contains("level = \"debug\""));
    assert!(!shown.contains("hunter2"), "secrets are redacted: {shown}");
    assert!(!shown.contains("hunter3"), "query passwords too: {shown}");
    assert!(shown.contains(&path.display().to_string()));
}

#[test]
fn a_bad_environment_override_names_the_variable() {
    let out = run(
        &["serve", "--print-config"],
        &[("LEVEE_SERVER__PORT", "eighty")],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.starts_with("levee: server.port:") && err.ends_with("(set by LEVEE_SERVER__PORT)"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_exits_0_for_a_ready_instance_and_1_otherwise() {
    let dir = tempfile::tempdir().expect("tempdir");
    let levee = LeveeProcess::serve_sqlite(dir.path(), "");
    let base = levee.url("");
    let ok = tokio::task::spawn_blocking(move || run(&["health", "--url", &base], &[]))
        .await
        .expect("run");
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("ready:"));

    let down = tokio::task::spawn_blocking(|| {
        run(
            &["health", "--url", "http://127.0.0.1:1", "--timeout", "2s"],
            &[],
        )
    })
    .await
    .expect("run");
    assert_eq!(down.status.code(), Some(1));
    assert_eq!(stderr(&down).lines().count(), 1);
}

#[test]
fn version_names_the_release_and_the_git_revision() {
    let out = run(&["--version"], &[]);
    assert!(out.status.success());
    let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let expected_rev = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or("unknown".into(), |o| {
            String::from_utf8_lossy(&o.stdout).trim().to_string()
        });
    assert_eq!(
        line,
        format!("levee {} (rev {expected_rev})", env!("CARGO_PKG_VERSION"))
    );
}
