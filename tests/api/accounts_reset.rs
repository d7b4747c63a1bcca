//! Password reset through the outbox: request → email → confirm → sessions gone → sign in
//! with the new password; used, expired and replaced links refused with a reason; known
//! and unknown addresses answered alike, with no email for the unknown (or disabled) one.

use crate::backend_tests;
use crate::helpers::{Backend, PASSWORD, Session, TestApp, pointers, problem, unique_email};
use crate::mail::{eventually, fast, outbox};
use levee::job_admin::service::{self, JobFilter};
use levee::jobs::JobState;
use levee::users::Role;
use serde_json::{Value, json};

pub(crate) const NEW_PASSWORD: &str = "a brand new horse battery";

/// The token of the link in an email's text part.
pub(crate) fn token_in(text: &str) -> String {
    let start = text.find("token=").expect("a link with a token") + "token=".len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// The messages to `to` whose subject starts with `subject`, once there are `count`.
pub(crate) async fn emails(
    app: &TestApp,
    admin: &Session,
    to: &str,
    subject: &str,
    count: usize,
) -> Vec<Value> {
    eventually(&format!("{count} \"{subject}\" emails"), || async {
        let found: Vec<Value> = outbox(app, &admin.access, to)
            .await
            .into_iter()
            .filter(|m| {
                m["subject"]
                    .as_str()
                    .is_some_and(|s| s.starts_with(subject))
            })
            .collect();
        (found.len() >= count).then_some(found)
    })
    .await
}

/// Waits until every job of `kind` has completed, and then the emails they enqueued.
pub(crate) async fn settled(app: &TestApp, kind: &str) {
    for kind in [kind, "email.send"] {
        eventually(&format!("{kind} jobs to complete"), || async {
            let filter = JobFilter {
                kind: Some(kind.into()),
                ..JobFilter::default()
            };
            let jobs = service::list(app.state.db().write(), filter, 100)
                .await
                .expect("list jobs");
            jobs.iter()
                .all(|j| j.state == JobState::Completed)
                .then_some(())
        })
        .await;
    }
}

/// Asserts `resp` is a problem with `status` whose `detail` mentions `why`.
pub(crate) async fn refused(resp: reqwest::Response, status: u16, why: &str) {
    let body = problem(resp, status).await;
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(why), "expected {why:?} in {body}");
}

pub(crate) async fn request_reset(app: &TestApp, email: &str) -> reqwest::Response {
    app.post_json("/auth/password-reset", json!({"email": email}))
        .await
}

pub(crate) async fn confirm(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    app.post_json(
        "/auth/password-reset/confirm",
        json!({"token": token, "new_password": password}),
    )
    .await
}

/// Asks for a reset of `email` and returns the token of the `nth` (1-based) reset email.
async fn reset_token(app: &TestApp, admin: &Session, email: &str, nth: usize) -> String {
    assert_eq!(request_reset(app, email).await.status(), 202);
    let mails = emails(app, admin, email, "Reset your", nth).await;
    // The outbox is newest first.
    token_in(mails[0]["text_body"].as_str().expect("text"))
}

async fn a_reset_link_sets_a_new_password_and_ends_every_session(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, fast, None).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    let customer = app.customer().await;
    let token = reset_token(&app, &admin, &customer.email, 1).await;
    let mail = &emails(&app, &admin, &customer.email, "Reset your", 1).await[0];
    let text = mail["text_body"].as_str().expect("text");
    assert!(
        text.contains(&format!("/reset-password?token={token}")),
        "{text}"
    );
    assert!(text.contains("for 30 minutes"), "{text}");
    assert_eq!(token.len(), 43, "32 random bytes, base64url");

    // The policy applies, and a refused password leaves the token usable.
    let short = problem(confirm(&app, &token, "short").await, 422).await;
    assert_eq!(pointers(&short), vec!["/new_password".to_string()]);
    assert_eq!(confirm(&app, &token, NEW_PASSWORD).await.status(), 204);

    assert_eq!(app.refresh(&customer.refresh).await.status(), 401);
    assert_eq!(app.login(&customer.email, PASSWORD).await.status(), 401);
    let session = app.session(&customer.email, NEW_PASSWORD).await;
    let me: Value = app
        .get_as("/me", &session.access)
        .await
        .json()
        .await
        .expect("json");
    assert!(
        me["email_verified_at"].is_string(),
        "a reset link verifies: {me}"
    );

    let notice = emails(
        &app,
        &admin,
        &customer.email,
        "Your Levee password was changed",
        1,
    )
    .await;
    let notice_text = notice[0]["text_body"].as_str().expect("text");
    assert!(notice_text.contains("was just"), "{notice_text}");
    assert!(!notice_text.contains(&token), "{notice_text}");

    refused(
        confirm(&app, &token, "yet another password").await,
        400,
        "already used",
    )
    .await;
}

async fn replaced_expired_and_unknown_links_are_refused_with_a_reason(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, fast, None).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    let customer = app.customer().await;
    let first = reset_token(&app, &admin, &customer.email, 1).await;
    let second = reset_token(&app, &admin, &customer.email, 2).await;
    assert_ne!(first, second);
    refused(
        confirm(&app, &first, NEW_PASSWORD).await,
        400,
        "replaced by a newer one",
    )
    .await;

    let db = app.state.db();
    let past = chrono::Utc::now() - chrono::Duration::minutes(1);
    let expire = db.statement(
        "UPDATE account_tokens SET expires_at = $1",
        vec![past.into()],
    );
    sea_orm::ConnectionTrait::execute_raw(db.write(), expire)
        .await
        .expect("expire the tokens");
    refused(confirm(&app, &second, NEW_PASSWORD).await, 400, "expired").await;
    for unknown in ["", "not-a-token", &"x".repeat(500)] {
        refused(confirm(&app, unknown, NEW_PASSWORD).await, 400, "not valid").await;
    }
    assert_eq!(app.login(&customer.email, PASSWORD).await.status(), 200);

    // A password changed any other way cancels pending links too.
    let third = reset_token(&app, &admin, &customer.email, 3).await;
    let changed = app
        .send_as(
            reqwest::Method::PATCH,
            "/me",
            &customer.access,
            Some(json!({"password": NEW_PASSWORD, "current_password": PASSWORD})),
        )
        .await;
    assert_eq!(changed.status(), 200);
    refused(
        confirm(&app, &third, "one more new password").await,
        400,
        "password changed",
    )
    .await;
}

async fn known_and_unknown_addresses_get_the_same_answer_and_only_one_email(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, fast, None).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    let known = app.customer().await;
    let unknown = unique_email("nobody");
    let (disabled, disabled_email) = app.new_account(Role::Customer).await;
    let off = json!({"status": "disabled"});
    let path = format!("/users/{}", disabled.id.0);
    let resp = app
        .send_as(reqwest::Method::PATCH, &path, &admin.access, Some(off))
        .await;
    assert_eq!(resp.status(), 200);

    let mut answers = Vec::new();
    for email in [&known.email, &unknown, &disabled_email] {
        let resp = request_reset(&app, email).await;
        let status = resp.status();
        let content_type = resp.headers().get("content-type").cloned();
        answers.push((status, content_type, resp.bytes().await.expect("body")));
    }
    assert_eq!(answers[0].0, 202);
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");

    settled(&app, "accounts.password_reset").await;
    assert_eq!(outbox(&app, &admin.access, &unknown).await.len(), 0);
    assert_eq!(outbox(&app, &admin.access, &disabled_email).await.len(), 0);
    let known_mail = outbox(&app, &admin.access, &known.email).await;
    let resets = known_mail
        .iter()
        .filter(|m| m["subject"] == "Reset your Levee password")
        .count();
    assert_eq!(resets, 1);

    let bad = problem(request_reset(&app, "not-an-email").await, 422).await;
    assert_eq!(pointers(&bad), vec!["/email".to_string()]);
}

backend_tests!(
    a_reset_link_sets_a_new_password_and_ends_every_session,
    replaced_expired_and_unknown_links_are_refused_with_a_reason,
    known_and_unknown_addresses_get_the_same_answer_and_only_one_email,
);
