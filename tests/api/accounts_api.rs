//! Registration input checks, user administration, API keys, fleets sharing tokens, the
//! `levee user` command, and secrets staying out of logs.

use crate::backend_tests;
use crate::helpers::{
    Backend, CHEAP_HASHING_TOML, LeveeProcess, PASSWORD, TestApp, levee_command, pointers, problem,
    unique_email,
};
use levee::users::Role;
use reqwest::Method;
use serde_json::{Value, json};
use std::io::Write;
use std::process::Stdio;

async fn bad_registrations_name_the_field_and_create_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let email = unique_email("eve");
    let cases = [
        (
            json!({"email": "not-an-email", "password": PASSWORD, "name": "Eve"}),
            "/email",
        ),
        (
            json!({"email": email, "password": "short", "name": "Eve"}),
            "/password",
        ),
        (
            json!({"email": email, "password": PASSWORD, "name": "x".repeat(101)}),
            "/name",
        ),
        (
            json!({"email": format!("{}@example.com", "e".repeat(300)), "password": PASSWORD, "name": "Eve"}),
            "/email",
        ),
        (
            json!({"email": email, "password": "p".repeat(2000), "name": "Eve"}),
            "/password",
        ),
    ];
    for (body, pointer) in cases {
        let resp = app.post_json("/auth/register", body).await;
        assert_eq!(
            pointers(&problem(resp, 422).await),
            vec![pointer.to_string()]
        );
    }
    assert_eq!(
        app.login(&email, PASSWORD).await.status(),
        401,
        "no account was created"
    );

    assert_eq!(app.register(&email, PASSWORD).await.status(), 201);
    let duplicate = app.register(&email.to_uppercase(), PASSWORD).await;
    assert_eq!(
        pointers(&problem(duplicate, 409).await),
        vec!["/email".to_string()]
    );
}

async fn admins_list_and_filter_users_with_cursor_pages(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    for _ in 0..5 {
        app.customer().await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/users?role=customer&limit=2&cursor={c}"),
            None => "/users?role=customer&limit=2".to_string(),
        };
        let page: Value = app
            .get_as(&path, &admin.access)
            .await
            .json()
            .await
            .expect("json");
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 2);
        seen.extend(
            items
                .iter()
                .map(|u| u["email"].as_str().expect("email").to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5, "every customer exactly once: {seen:?}");
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted);

    let by_prefix: Value = app
        .get_as("/users?email_prefix=admin-", &admin.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(by_prefix["items"].as_array().map(Vec::len), Some(1));
    problem(app.get_as("/users?limit=0", &admin.access).await, 422).await;
    problem(
        app.get_as("/users?cursor=garbage", &admin.access).await,
        422,
    )
    .await;
}

async fn api_keys_are_scoped_and_revocable(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    let customer = app.customer().await;
    let created = app
        .send_as(
            Method::POST,
            "/api-keys",
            &admin.access,
            Some(json!({"name": "reporting", "scopes": ["users:read"]})),
        )
        .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.expect("json");
    let key = created["key"].as_str().expect("key shown once").to_string();
    assert!(
        key.starts_with("lvk_") && key.starts_with(created["prefix"].as_str().expect("prefix"))
    );

    assert_eq!(
        app.get_as("/users", &key).await.status(),
        200,
        "users:read allows listing"
    );
    let body = problem(
        app.send_as(
            Method::PATCH,
            &format!("/users/{}", customer.user_id),
            &key,
            Some(json!({"role": "admin"})),
        )
        .await,
        403,
    )
    .await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("users:write")
    );
    problem(app.get_as("/me", &key).await, 403).await;
    problem(
        app.send_as(
            Method::POST,
            "/api-keys",
            &key,
            Some(json!({"name": "x", "scopes": []})),
        )
        .await,
        403,
    )
    .await;

    let listed: Value = app
        .get_as("/api-keys", &admin.access)
        .await
        .json()
        .await
        .expect("json");
    let listed_key = &listed["items"][0];
    assert!(
        listed_key.get("key").is_none(),
        "the secret is never listed"
    );
    assert!(listed_key["last_used_at"].is_string(), "use is tracked");

    let id = created["id"].as_str().expect("id");
    assert_eq!(
        app.send_as(
            Method::DELETE,
            &format!("/api-keys/{id}"),
            &admin.access,
            None
        )
        .await
        .status(),
        204
    );
    problem(app.get_as("/users", &key).await, 401).await;
    problem(
        app.send_as(
            Method::DELETE,
            &format!("/api-keys/{}", uuid::Uuid::new_v4()),
            &admin.access,
            None,
        )
        .await,
        404,
    )
    .await;

    let bad = app
        .send_as(
            Method::POST,
            "/api-keys",
            &admin.access,
            Some(json!({"name": "", "scopes": ["users:read", "everything"]})),
        )
        .await;
    assert_eq!(
        pointers(&problem(bad, 422).await),
        vec!["/name".to_string(), "/scopes/1".to_string()]
    );
    problem(
        app.send_as(
            Method::POST,
            "/api-keys",
            &customer.access,
            Some(json!({"name": "x", "scopes": []})),
        )
        .await,
        403,
    )
    .await;
}

async fn two_instances_accept_each_others_tokens(backend: Backend) {
    let Some(first) = TestApp::spawn(backend).await else {
        return;
    };
    let second = first.spawn_sibling(backend).await;
    let session = first.customer().await;
    assert_eq!(second.get_as("/me", &session.access).await.status(), 200);
    let rotated: Value = second
        .refresh(&session.refresh)
        .await
        .json()
        .await
        .expect("json");
    let access = rotated["access_token"].as_str().expect("access");
    assert_eq!(first.get_as("/me", access).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_separate_levee_process_accepts_the_fleets_tokens() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let session = app.customer().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("levee.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nport = 0\n[database]\nurl = \"{}\"\n{CHEAP_HASHING_TOML}",
            app.db_url
        ),
    )
    .expect("config");
    let other = LeveeProcess::serve(&config);
    let client = reqwest::Client::new();
    let me = client
        .get(other.url("/me"))
        .bearer_auth(&session.access)
        .send()
        .await
        .expect("me");
    assert_eq!(
        me.status(),
        200,
        "a token issued by one process is accepted by another"
    );
    let login: Value = client
        .post(other.url("/auth/login"))
        .json(&json!({"email": session.email, "password": PASSWORD}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let access = login["access_token"].as_str().expect("access");
    assert_eq!(
        app.get_as("/me", access).await.status(),
        200,
        "and the other way round"
    );
}

backend_tests!(
    bad_registrations_name_the_field_and_create_nothing,
    admins_list_and_filter_users_with_cursor_pages,
    api_keys_are_scoped_and_revocable,
    two_instances_accept_each_others_tokens,
);

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_the_logs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let levee = LeveeProcess::serve_sqlite(
        dir.path(),
        &format!("[log]\nlevel = \"debug\"\n{CHEAP_HASHING_TOML}"),
    );
    let client = reqwest::Client::new();
    let password = "a-very-distinctive-passphrase-9137";
    let email = unique_email("secret");
    let register = client
        .post(levee.url("/auth/register"))
        .json(&json!({"email": email, "password": password, "name": "S"}))
        .send()
        .await
        .expect("register");
    assert_eq!(register.status(), 201);
    let tokens: Value = client
        .post(levee.url("/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_string();
    let access = tokens["access_token"].as_str().expect("access").to_string();
    let rotated: Value = client
        .post(levee.url("/auth/refresh"))
        .json(&json!({"refresh_token": refresh}))
        .send()
        .await
        .expect("refresh")
        .json()
        .await
        .expect("json");
    client
        .get(levee.url("/me"))
        .bearer_auth(&access)
        .send()
        .await
        .expect("me");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let logs = levee.log_lines().join("\n");
    assert!(logs.contains("request served"), "logs were captured");
    for secret in [
        password,
        &refresh,
        &access,
        rotated["refresh_token"].as_str().expect("refresh"),
    ] {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
}
