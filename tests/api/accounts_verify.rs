//! Email verification: the welcome email's link verifies the address, a resend replaces
//! it, and `auth.require_verified_email` keeps unverified customers from ordering.

use crate::accounts_reset::{emails, refused, token_in};
use crate::backend_tests;
use crate::helpers::orders::basket;
use crate::helpers::{Backend, TestApp, problem};
use crate::mail::fast;
use levee::config::Config;
use levee::users::Role;
use serde_json::{Value, json};

async fn verify(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json("/auth/verify-email", json!({"token": token}))
        .await
}

async fn resend(app: &TestApp, access: &str) -> reqwest::Response {
    app.send_as(
        reqwest::Method::POST,
        "/auth/verify-email/resend",
        access,
        None,
    )
    .await
}

async fn verified_at(app: &TestApp, access: &str) -> Value {
    let me: Value = app.get_as("/me", access).await.json().await.expect("json");
    me["email_verified_at"].clone()
}

fn strict(c: &mut Config) {
    fast(c);
    c.auth.require_verified_email = true;
}

async fn the_welcome_link_verifies_and_unlocks_ordering(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, strict, None).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    let customer = app.customer().await;
    assert_eq!(verified_at(&app, &customer.access).await, Value::Null);

    // An unknown SKU is 422 once the caller may order; before that, 403 of its own type.
    let unverified = app.place_order(&customer.access, basket(&[("NOPE", 1)]));
    let body = problem(unverified.await, 403).await;
    assert_eq!(body["type"], "urn:levee:problem:email-unverified");
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("/auth/verify-email/resend"), "{body}");
    let staff = app.account(Role::Editor).await;
    let staff_order = app.place_order(&staff.access, basket(&[("NOPE", 1)])).await;
    assert_eq!(staff_order.status(), 422, "only customers are asked");

    let welcome = emails(&app, &admin, &customer.email, "Welcome to", 1).await;
    let text = welcome[0]["text_body"].as_str().expect("text");
    assert!(text.contains("/verify-email?token="), "{text}");
    assert!(text.contains("for 2 days"), "{text}");
    let token = token_in(text);
    assert_eq!(verify(&app, &token).await.status(), 204);
    assert!(verified_at(&app, &customer.access).await.is_string());
    let unlocked = app
        .place_order(&customer.access, basket(&[("NOPE", 1)]))
        .await;
    assert_eq!(unlocked.status(), 422);

    refused(verify(&app, &token).await, 400, "already used").await;
    refused(
        resend(&app, &customer.access).await,
        409,
        "already verified",
    )
    .await;

    // The admin views show it too.
    let user: Value = app
        .get_as(&format!("/users/{}", customer.user_id), &admin.access)
        .await
        .json()
        .await
        .expect("json");
    assert!(user["email_verified_at"].is_string(), "{user}");
}

async fn a_resent_link_replaces_the_first(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, fast, None).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    let customer = app.customer().await;
    let welcome = emails(&app, &admin, &customer.email, "Welcome to", 1).await;
    let first = token_in(welcome[0]["text_body"].as_str().expect("text"));

    let resp = resend(&app, &customer.access).await;
    assert_eq!(resp.status(), 202);
    let body: Value = resp.json().await.expect("json");
    assert!(body["detail"].is_string(), "{body}");
    let mails = emails(
        &app,
        &admin,
        &customer.email,
        "Confirm your email address",
        1,
    )
    .await;
    let second = token_in(mails[0]["text_body"].as_str().expect("text"));

    refused(verify(&app, &first).await, 400, "replaced").await;
    assert_eq!(verify(&app, &second).await.status(), 204);
    assert!(verified_at(&app, &customer.access).await.is_string());

    assert_eq!(
        app.post_json("/auth/verify-email/resend", json!({}))
            .await
            .status(),
        401
    );
    refused(verify(&app, "bogus").await, 400, "not valid").await;
}

backend_tests!(
    the_welcome_link_verifies_and_unlocks_ordering,
    a_resent_link_replaces_the_first,
);
