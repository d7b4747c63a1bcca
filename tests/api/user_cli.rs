//! The `levee user` command: creating the first admin and resetting a password while
//! `levee serve` runs, with passwords read from stdin.

use crate::helpers::{CHEAP_HASHING_TOML, LeveeProcess, PASSWORD, levee_command};
use serde_json::{Value, json};
use std::io::Write;
use std::process::Stdio;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_creates_the_first_admin_while_serve_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let levee = LeveeProcess::serve_sqlite(dir.path(), CHEAP_HASHING_TOML);
    let config = dir.path().join("levee.toml");
    let run = move |args: &[&str], stdin: &str| {
        let mut all = vec!["--config", config.to_str().expect("utf-8")];
        all.extend_from_slice(args);
        let mut child = levee_command(&all)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("write");
        child.wait_with_output().expect("output")
    };
    let created = tokio::task::spawn_blocking({
        let run = run.clone();
        move || {
            run(
                &[
                    "user",
                    "create",
                    "--email",
                    "Root@Example.com",
                    "--role",
                    "admin",
                ],
                &format!("{PASSWORD}\n{PASSWORD}\n"),
            )
        }
    })
    .await
    .expect("run");
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(String::from_utf8_lossy(&created.stdout).contains("created admin root@example.com"));

    let client = reqwest::Client::new();
    let login = client
        .post(levee.url("/auth/login"))
        .json(&json!({"email": "root@example.com", "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), 200);
    let token: Value = login.json().await.expect("json");
    let me: Value = client
        .get(levee.url("/me"))
        .bearer_auth(token["access_token"].as_str().expect("token"))
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    assert_eq!(me["role"], "admin");
    assert!(
        me["email_verified_at"].is_string(),
        "an admin vouches for the address: {me}"
    );
    assert_eq!(
        me["name"], "root",
        "the name defaults to the email's local part"
    );

    let new_password = "a brand new passphrase";
    let reset = tokio::task::spawn_blocking({
        let run = run.clone();
        move || {
            run(
                &["user", "reset-password", "--email", "root@example.com"],
                &format!("{new_password}\n"),
            )
        }
    })
    .await
    .expect("run");
    assert!(
        reset.status.success(),
        "{}",
        String::from_utf8_lossy(&reset.stderr)
    );
    let refresh = client
        .post(levee.url("/auth/refresh"))
        .json(&json!({"refresh_token": token["refresh_token"]}))
        .send()
        .await
        .expect("refresh");
    assert_eq!(refresh.status(), 401, "the reset signed every session out");
    let relogin = client
        .post(levee.url("/auth/login"))
        .json(&json!({"email": "root@example.com", "password": new_password}))
        .send()
        .await
        .expect("login");
    assert_eq!(relogin.status(), 200);

    let mismatch = tokio::task::spawn_blocking({
        let run = run.clone();
        move || {
            run(
                &["user", "create", "--email", "two@example.com"],
                "first password\nsecond password\n",
            )
        }
    })
    .await
    .expect("run");
    assert_eq!(mismatch.status.code(), Some(2));
    let bad_role = tokio::task::spawn_blocking(move || {
        run(
            &[
                "user",
                "create",
                "--email",
                "x@example.com",
                "--role",
                "god",
            ],
            "",
        )
    })
    .await
    .expect("run");
    assert_eq!(bad_role.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("--role"));
}
