//! Email change: `PATCH /me` mails a link to the new address and a notice to the old one;
//! the address changes only when the link is used, and then every other session ends while
//! the one that asked stays signed in. Uniqueness is checked when asking and again when
//! confirming.

use crate::accounts_reset::{emails, refused, token_in};
use crate::backend_tests;
use crate::helpers::{Backend, PASSWORD, Session, TestApp, pointers, problem, unique_email};
use crate::mail::fast;
use levee::users::Role;
use serde_json::{Value, json};

const NOTICE: &str = "A change of your Levee email address";
const CONFIRM: &str = "Confirm your new email address";

async fn ask(app: &TestApp, who: &Session, body: Value) -> reqwest::Response {
    app.send_as(reqwest::Method::PATCH, "/me", &who.access, Some(body))
        .await
}

async fn confirm(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json("/auth/email-change/confirm", json!({"token": token}))
        .await
}

async fn me(app: &TestApp, who: &Session) -> Value {
    let resp = app.get_as("/me", &who.access).await;
    assert_eq!(resp.status(), 200);
    resp.json().await.expect("json")
}

/// Asks to move `who` to `new` and returns the token of the link mailed to `new`.
async fn change_token(app: &TestApp, admin: &Session, who: &Session, new: &str) -> String {
    let body = json!({"email": new, "current_password": PASSWORD});
    let resp = ask(app, who, body).await;
    assert_eq!(resp.status(), 200);
    let answer: Value = resp.json().await.expect("json");
    assert_eq!(
        answer["email"],
        who.email.as_str(),
        "unchanged until confirmed"
    );
    let mails = emails(app, admin, new, CONFIRM, 1).await;
    token_in(mails[0]["text_body"].as_str().expect("text"))
}

async fn a_confirmed_change_moves_the_address_and_keeps_only_the_asking_session(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, fast, None).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    let asking = app.customer().await;
    let other = app.session(&asking.email, PASSWORD).await;
    let new = unique_email("moved");

    let bare = problem(ask(&app, &asking, json!({"email": new})).await, 422).await;
    assert_eq!(pointers(&bare), vec!["/current_password".to_string()]);
    let wrong = json!({"email": new, "current_password": "not my password"});
    let wrong = problem(ask(&app, &asking, wrong).await, 422).await;
    assert_eq!(pointers(&wrong), vec!["/current_password".to_string()]);

    let token = change_token(&app, &admin, &asking, &new).await;
    let link = &emails(&app, &admin, &new, CONFIRM, 1).await[0];
    let text = link["text_body"].as_str().expect("text");
    assert!(
        text.contains(&format!("/confirm-email?token={token}")),
        "{text}"
    );
    assert!(text.contains(&new), "{text}");
    let notice = &emails(&app, &admin, &asking.email, NOTICE, 1).await[0];
    let notice_text = notice["text_body"].as_str().expect("text");
    assert!(notice_text.contains("asked to change"), "{notice_text}");
    assert!(!notice_text.contains(&token), "{notice_text}");
    assert_eq!(app.login(&new, PASSWORD).await.status(), 401, "not yet");

    assert_eq!(confirm(&app, &token).await.status(), 204);
    let moved = me(&app, &asking).await;
    assert_eq!(moved["email"], new.as_str());
    assert!(moved["email_verified_at"].is_string(), "{moved}");
    assert_eq!(
        app.refresh(&other.refresh).await.status(),
        401,
        "other session ended"
    );
    assert_eq!(
        app.refresh(&asking.refresh).await.status(),
        200,
        "asking session kept"
    );
    assert_eq!(app.login(&asking.email, PASSWORD).await.status(), 401);
    assert_eq!(app.login(&new, PASSWORD).await.status(), 200);
    refused(confirm(&app, &token).await, 400, "already used").await;
}

async fn uniqueness_is_checked_when_asking_and_when_confirming(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, fast, None).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    let customer = app.customer().await;
    let neighbour = app.customer().await;

    let taken = json!({"email": neighbour.email.to_uppercase(), "current_password": PASSWORD});
    let body = problem(ask(&app, &customer, taken).await, 409).await;
    assert_eq!(pointers(&body), vec!["/email".to_string()]);
    let same = json!({"email": customer.email, "current_password": PASSWORD});
    let body = problem(ask(&app, &customer, same).await, 422).await;
    assert_eq!(pointers(&body), vec!["/email".to_string()]);

    // The address was free when asked for, and is taken before the link is used.
    let contested = unique_email("contested");
    let token = change_token(&app, &admin, &customer, &contested).await;
    assert_eq!(app.register(&contested, PASSWORD).await.status(), 201);
    refused(confirm(&app, &token).await, 409, "already exists").await;
    assert_eq!(me(&app, &customer).await["email"], customer.email.as_str());
    assert_eq!(app.refresh(&customer.refresh).await.status(), 200);

    // A newer request replaces the link; bogus tokens are refused with a reason.
    let first = change_token(&app, &admin, &customer, &unique_email("first")).await;
    let later = unique_email("later");
    let second = change_token(&app, &admin, &customer, &later).await;
    refused(confirm(&app, &first).await, 400, "replaced").await;
    refused(confirm(&app, "bogus").await, 400, "not valid").await;
    assert_eq!(confirm(&app, &second).await.status(), 204);
    assert_eq!(me(&app, &customer).await["email"], later.as_str());
}

backend_tests!(
    a_confirmed_change_moves_the_address_and_keeps_only_the_asking_session,
    uniqueness_is_checked_when_asking_and_when_confirming,
);
