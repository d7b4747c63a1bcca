//! The console's queues page: a dead probe job made by `levee jobs probe` shows up with
//! its error, its Retry button (with the session's CSRF token) makes it run and complete,
//! Cancel and Replay-all act like the API, and only admins get in.

use crate::backend_tests;
use crate::helpers::jobs::{fast, wait_for_state};
use crate::helpers::{Backend, TestApp, csrf_field, levee_command};
use levee::db::ids::JobId;
use levee::jobs::{Enqueue, JobState, Probe};
use levee::users::Role;
use std::time::Duration;

backend_tests!(
    the_cli_probe_dies_then_the_console_retry_completes_it,
    cancel_and_replay_all_act_on_the_queue,
    queue_actions_need_the_csrf_token_and_an_admin,
);

/// `levee jobs probe` against the app's database; its stdout and exit status.
async fn cli_probe(app: &TestApp, args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("levee.toml");
    let toml = format!("[database]\nurl = \"{}\"\n", app.db_url);
    std::fs::write(&config, toml).expect("write config");
    let mut all = vec!["--config", config.to_str().expect("utf-8"), "jobs", "probe"];
    all.extend_from_slice(args);
    let args: Vec<String> = all.into_iter().map(String::from).collect();
    tokio::task::spawn_blocking(move || {
        let out = levee_command(&args.iter().map(String::as_str).collect::<Vec<_>>())
            .output()
            .expect("run levee");
        drop(dir);
        out
    })
    .await
    .expect("join")
}

/// A probe failing until `fail_for` from now, with one attempt, enqueued in-process.
async fn dying_probe(app: &TestApp, fail_for: Duration, run_at: Option<Duration>) -> JobId {
    let until = chrono::Utc::now() + chrono::Duration::from_std(fail_for).expect("duration");
    let probe = Probe {
        fail_until: Some(until.timestamp() + 1),
        ..Probe::default()
    };
    let options = Enqueue {
        max_attempts: Some(1),
        run_at: run_at.map(|d| chrono::Utc::now() + chrono::Duration::from_std(d).expect("d")),
        ..Enqueue::default()
    };
    let job = app
        .state
        .jobs()
        .enqueue(app.state.db().write(), &probe, options);
    job.await.expect("enqueue").id
}

async fn page(app: &TestApp, path: &str, cookie: &str) -> String {
    let resp = app.get_with_cookie(path, Some(cookie)).await;
    assert_eq!(resp.status(), 200, "{path}");
    resp.text().await.expect("body")
}

fn location(resp: &reqwest::Response) -> String {
    let header = resp.headers().get("location").expect("a Location header");
    header.to_str().expect("ascii").to_string()
}

/// The stored state the job page shows.
fn shown_state(html: &str) -> &str {
    let marker = r#"<span data-field="state">"#;
    let start = html.find(marker).expect("a state field") + marker.len();
    html[start..].split('<').next().unwrap_or_default()
}

async fn the_cli_probe_dies_then_the_console_retry_completes_it(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, fast, None).await else {
        return;
    };
    let bad = cli_probe(&app, &["--fail-for", "soon"]).await;
    assert_eq!(
        bad.status.code(),
        Some(2),
        "a bad duration is a usage error"
    );

    let out = cli_probe(&app, &["--fail-for", "2s", "--max-attempts", "1"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = JobId(stdout.trim().parse().expect("a bare UUID line"));
    let dead = wait_for_state(&app, id, JobState::Dead, 10).await;
    assert_eq!(
        dead.state,
        JobState::Dead,
        "one failed attempt makes it dead"
    );
    assert_eq!((dead.kind.as_str(), dead.max_attempts), ("jobs.probe", 1));

    let (_, console) = app.console(Role::Admin).await;
    let html = page(&app, "/admin/queues", &console.cookie).await;
    assert!(html.contains("<h1>Queues</h1>"));
    assert!(html.contains(&format!(
        r#"<tr data-job-id="{id}" data-kind="jobs.probe">"#
    )));
    assert!(html.contains(&format!(r#"action="/admin/queues/jobs/{id}/retry""#)));
    assert!(html.contains(r#"data-action="replay-kind""#));
    assert!(
        html.contains("probe fails until"),
        "the last error is shown"
    );
    let job_page = page(&app, &format!("/admin/queues/jobs/{id}"), &console.cookie).await;
    assert_eq!(shown_state(&job_page), "dead");
    assert!(job_page.contains("probe fails until"), "the error history");

    // Past `fail_until` (rounded up to the second, plus one), a retry succeeds.
    tokio::time::sleep(Duration::from_millis(3_100)).await;
    let csrf = csrf_field(&html);
    let retry = format!("/admin/queues/jobs/{id}/retry");
    let resp = app
        .post_form(&retry, &console.cookie, &[("csrf_token", &csrf)])
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(
        location(&resp),
        format!("/admin/queues/jobs/{id}?notice=retried")
    );
    let done = wait_for_state(&app, id, JobState::Completed, 10).await;
    assert_eq!(done.state, JobState::Completed);
    let job_page = page(&app, &location(&resp), &console.cookie).await;
    assert!(job_page.contains("The job runs again with fresh attempts."));
    let job_page = page(&app, &format!("/admin/queues/jobs/{id}"), &console.cookie).await;
    assert_eq!(shown_state(&job_page), "completed");

    // The completion counts in the hour's throughput, read back from the jobs table.
    let html = page(&app, "/admin/queues", &console.cookie).await;
    assert!(
        html.contains(r#"<span data-field="completed">1</span>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<td data-field="per-minute">0.02</td>"#),
        "{html}"
    );
    assert!(html.contains("The dead-letter queue is empty."));
}

async fn cancel_and_replay_all_act_on_the_queue(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, fast, None).await else {
        return;
    };
    let (_, console) = app.console(Role::Admin).await;
    let html = page(&app, "/admin/queues", &console.cookie).await;
    let csrf = csrf_field(&html);

    let later = dying_probe(&app, Duration::ZERO, Some(Duration::from_secs(3600))).await;
    let cancel = format!("/admin/queues/jobs/{later}/cancel");
    let form = [("csrf_token", csrf.as_str())];
    let resp = app.post_form(&cancel, &console.cookie, &form).await;
    assert_eq!(resp.status(), 303);
    let job_page = page(&app, &location(&resp), &console.cookie).await;
    assert_eq!(shown_state(&job_page), "cancelled");
    // The queue's own rule: a finished job cannot be cancelled again; the page says so.
    let resp = app.post_form(&cancel, &console.cookie, &form).await;
    assert_eq!(resp.status(), 303);
    let job_page = page(&app, &location(&resp), &console.cookie).await;
    assert!(
        job_page.contains("Only a job that has not started can be cancelled."),
        "{job_page}"
    );

    let first = dying_probe(&app, Duration::from_secs(1), None).await;
    let second = dying_probe(&app, Duration::from_secs(1), None).await;
    for id in [first, second] {
        assert_eq!(
            wait_for_state(&app, id, JobState::Dead, 10).await.state,
            JobState::Dead
        );
    }
    let html = page(&app, "/admin/queues", &console.cookie).await;
    assert!(
        html.contains(
            r#"<tr data-dead-kind="jobs.probe"><td><code>jobs.probe</code></td><td>2</td>"#
        )
    );
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let form = [("csrf_token", csrf.as_str()), ("kind", "jobs.probe")];
    let resp = app
        .post_form("/admin/queues/replay", &console.cookie, &form)
        .await;
    assert_eq!(resp.status(), 303);
    let back = location(&resp);
    assert_eq!(back, "/admin/queues?notice=replayed&replayed=2");
    for id in [first, second] {
        let job = wait_for_state(&app, id, JobState::Completed, 10).await;
        assert_eq!(job.state, JobState::Completed, "replayed");
    }
    let html = page(&app, &back, &console.cookie).await;
    assert!(html.contains("2 dead job(s) run again."), "{html}");
    let made_up = "/admin/queues?notice=Call+555-0100+now";
    let html = page(&app, made_up, &console.cookie).await;
    assert!(
        !html.contains("data-notice"),
        "only fixed notices are shown"
    );

    let missing = format!("/admin/queues/jobs/{}", uuid::Uuid::new_v4());
    let resp = app.get_with_cookie(&missing, Some(&console.cookie)).await;
    assert_eq!(resp.status(), 404);
    let token = [("csrf_token", csrf.as_str())];
    for path in [
        format!("{missing}/retry"),
        format!("/admin/queues/jobs/{first}/explode"),
    ] {
        let resp = app.post_form(&path, &console.cookie, &token).await;
        assert_eq!(resp.status(), 404, "{path}");
    }
}

async fn queue_actions_need_the_csrf_token_and_an_admin(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, fast, None).await else {
        return;
    };
    let job = dying_probe(&app, Duration::ZERO, Some(Duration::from_secs(3600))).await;
    let (_, admin) = app.console(Role::Admin).await;
    let cancel = format!("/admin/queues/jobs/{job}/cancel");
    for fields in [vec![], vec![("csrf_token", "forged")]] {
        let resp = app.post_form(&cancel, &admin.cookie, &fields).await;
        assert_eq!(resp.status(), 403);
    }
    let replay = app
        .post_form(
            "/admin/queues/replay",
            &admin.cookie,
            &[("kind", "jobs.probe")],
        )
        .await;
    assert_eq!(replay.status(), 403);
    assert_eq!(
        wait_for_state(&app, job, JobState::Scheduled, 0)
            .await
            .state,
        JobState::Scheduled,
        "nothing changed"
    );

    let (_, editor) = app.console(Role::Editor).await;
    let home = page(&app, "/admin/", &editor.cookie).await;
    assert!(
        !home.contains(r#"href="/admin/queues""#),
        "not in an editor's menu"
    );
    assert!(home.contains(r#"href="/admin/content""#));
    for path in [
        "/admin/queues".to_string(),
        format!("/admin/queues/jobs/{job}"),
    ] {
        let resp = app.get_with_cookie(&path, Some(&editor.cookie)).await;
        assert_eq!(resp.status(), 403, "{path}");
    }
    let csrf = csrf_field(&home);
    let resp = app
        .post_form(&cancel, &editor.cookie, &[("csrf_token", &csrf)])
        .await;
    assert_eq!(resp.status(), 403);
}
