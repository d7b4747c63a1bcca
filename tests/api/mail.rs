//! The welcome email (`email.send`): enqueued with the registration, delivered to the
//! outbox (read through the admin API) or over SMTP to a local sink; SMTP refusals retry
//! (4xx) or kill the job (5xx); a failed registration sends nothing.

use crate::backend_tests;
use crate::helpers::{Backend, PASSWORD, TestApp, unique_email};
use crate::smtp_sink::{Received, SmtpSink};
use levee::config::{Config, Duration as ConfigDuration};
use levee::job_admin::service::{self, JobFilter};
use levee::jobs::{JobState, Model};
use levee::users::Role;
use serde_json::{Value, json};
use std::future::Future;
use std::time::{Duration, Instant};

pub(crate) fn fast(c: &mut Config) {
    c.jobs.poll_interval = ConfigDuration::millis(50);
    c.jobs.retry_base_delay = ConfigDuration::millis(100);
}

/// Polls `probe` until it yields something or 10 seconds pass.
pub(crate) async fn eventually<T, F: Future<Output = Option<T>>>(
    what: &str,
    probe: impl Fn() -> F,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn register(app: &TestApp, email: &str, name: &str) -> reqwest::Response {
    app.post_json(
        "/auth/register",
        json!({"email": email, "password": PASSWORD, "name": name}),
    )
    .await
}

async fn email_jobs(app: &TestApp) -> Vec<Model> {
    let filter = JobFilter {
        kind: Some("email.send".into()),
        ..JobFilter::default()
    };
    service::list(app.state.db().write(), filter, 100)
        .await
        .expect("list jobs")
}

/// The only `email.send` job, once it has run at least once and is not running now.
async fn settled_email_job(app: &TestApp) -> Model {
    eventually("the email job to run", || async {
        let jobs = email_jobs(app).await;
        assert!(jobs.len() <= 1, "one registration, one email job");
        jobs.into_iter()
            .next()
            .filter(|j| j.attempt >= 1 && j.state != JobState::Running)
    })
    .await
}

pub(crate) async fn outbox(app: &TestApp, token: &str, to: &str) -> Vec<Value> {
    let resp = app
        .get_as(
            &format!("/mail/outbox?to={}", to.replace('+', "%2B")),
            token,
        )
        .await;
    assert_eq!(resp.status(), 200);
    let page: Value = resp.json().await.expect("json");
    page["items"].as_array().cloned().unwrap_or_default()
}

async fn registration_puts_the_welcome_email_in_the_outbox_once(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, fast, None).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    let email = unique_email("ada");
    assert_eq!(register(&app, &email, "Ada <Lovelace>").await.status(), 201);

    let message = eventually("the outbox message", || async {
        outbox(&app, &admin.access, &email).await.into_iter().next()
    })
    .await;
    assert_eq!(message["to"], email.as_str());
    assert_eq!(message["subject"], "Welcome to Levee");
    let text = message["text_body"].as_str().expect("text");
    assert!(text.contains("Hello Ada <Lovelace>,"), "{text}");
    let html = message["html_body"].as_str().expect("html");
    assert!(html.contains("Ada &#60;Lovelace&#62;"), "{html}");
    let id = message["id"].as_str().expect("id");
    let one = app
        .get_as(&format!("/mail/outbox/{id}"), &admin.access)
        .await;
    assert_eq!(one.status(), 200);
    assert_eq!(
        one.json::<Value>().await.expect("json")["job_id"],
        message["job_id"]
    );

    // At least once: the same job running again stores no second copy.
    let job = settled_email_job(&app).await;
    assert_eq!(job.state, JobState::Completed);
    let retried = app
        .send_as(
            reqwest::Method::POST,
            &format!("/jobs/{}/retry", job.id),
            &admin.access,
            None,
        )
        .await;
    assert_eq!(retried.status(), 200);
    eventually("the job to complete again", || async {
        let job = service::find(app.state.db().write(), job.id)
            .await
            .expect("find")?;
        (job.state == JobState::Completed).then_some(())
    })
    .await;
    assert_eq!(outbox(&app, &admin.access, &email).await.len(), 1);

    let customer = app.customer().await;
    let path = format!("/mail/outbox/{id}");
    assert_eq!(app.get_as(&path, &customer.access).await.status(), 403);
    assert_eq!(app.get("/mail/outbox").await.status(), 401);
    assert_eq!(
        app.get_as(
            "/mail/outbox/0190a8c2-0000-7000-8000-000000000000",
            &admin.access
        )
        .await
        .status(),
        404
    );
}

async fn with_smtp(backend: Backend, sink: &SmtpSink) -> Option<TestApp> {
    let url = sink.url();
    TestApp::spawn_with(
        backend,
        move |c| {
            fast(c);
            c.mail.smtp_url = Some(url);
            c.server.public_url = Some("https://shop.example".into());
        },
        None,
    )
    .await
}

fn header<'a>(message: &'a Received, name: &str) -> Option<&'a str> {
    message.data.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

async fn registration_sends_the_welcome_email_over_smtp(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = with_smtp(backend, &sink).await else {
        return;
    };
    let email = unique_email("grace");
    assert_eq!(register(&app, &email, "Grace Hopper").await.status(), 201);

    let message = eventually("the SMTP delivery", || async {
        sink.messages().into_iter().next()
    })
    .await;
    assert_eq!(message.rcpt_to, vec![format!("<{email}>")]);
    assert_eq!(message.mail_from, "<no-reply@localhost>");
    assert_eq!(header(&message, "To"), Some(email.as_str()));
    assert_eq!(header(&message, "Subject"), Some("Welcome to Levee"));
    assert!(
        header(&message, "Content-Type").is_some_and(|v| v.starts_with("multipart/alternative")),
        "{}",
        message.data
    );
    assert!(
        message.data.contains("Hello Grace Hopper,"),
        "{}",
        message.data
    );
    let job = settled_email_job(&app).await;
    assert_eq!(job.state, JobState::Completed);
    assert_eq!(
        header(&message, "Message-ID"),
        Some(format!("<{}@localhost>", job.id).as_str()),
        "receivers can drop a redelivered copy by its Message-ID"
    );
    let admin = app.account(Role::Admin).await;
    assert!(outbox(&app, &admin.access, &email).await.is_empty());
}

async fn a_deferral_retries_and_a_refusal_kills_the_email_job(backend: Backend) {
    for (refusal, state) in [
        ("451 4.3.0 try again later", JobState::Retryable),
        ("550 5.1.1 no such mailbox", JobState::Dead),
    ] {
        let sink = SmtpSink::answering_data_with(Some(refusal)).await;
        let url = sink.url();
        let Some(app) = TestApp::spawn_with(
            backend,
            move |c| {
                fast(c);
                // Long enough that the first retry is still pending when we look.
                c.jobs.retry_base_delay = ConfigDuration::secs(30);
                c.mail.smtp_url = Some(url);
                c.server.public_url = Some("https://shop.example".into());
            },
            None,
        )
        .await
        else {
            return;
        };
        assert_eq!(
            register(&app, &unique_email("bounce"), "Bounce")
                .await
                .status(),
            201
        );
        let job = settled_email_job(&app).await;
        assert_eq!((job.state, job.attempt), (state, 1), "after {refusal}");
        assert!(job.errors.contains(&refusal[..3]), "{}", job.errors);
        assert!(sink.messages().is_empty());
    }
}

async fn a_failed_registration_enqueues_no_email(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, fast, None).await else {
        return;
    };
    let email = unique_email("twice");
    assert_eq!(register(&app, &email, "First").await.status(), 201);
    assert_eq!(register(&app, &email, "Second").await.status(), 409);
    let jobs = email_jobs(&app).await;
    assert_eq!(jobs.len(), 1, "only the first registration sends a welcome");
    let payload: Value = serde_json::from_str(&jobs[0].payload).expect("payload");
    assert!(
        payload["text"]
            .as_str()
            .is_some_and(|t| t.contains("First"))
    );
}

backend_tests!(
    registration_puts_the_welcome_email_in_the_outbox_once,
    registration_sends_the_welcome_email_over_smtp,
    a_deferral_retries_and_a_refusal_kills_the_email_job,
    a_failed_registration_enqueues_no_email,
);
