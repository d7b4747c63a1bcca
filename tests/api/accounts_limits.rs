//! Rate limits of account self-service: reset requests per client address (IPv6 by /64)
//! and per email, and verification resends per user.

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, problem, unique_email};
use levee::config::Config;
use serde_json::json;

/// Default limits, behind a trusted proxy on 127.0.0.1 that names each client.
fn behind_proxy(c: &mut Config) {
    c.rate_limit.enabled = true;
    c.server.trusted_proxies = vec!["127.0.0.1/32".parse().expect("cidr")];
}

async fn reset_from(app: &TestApp, ip: &str, email: &str) -> u16 {
    let sent = app
        .client
        .post(app.url("/auth/password-reset"))
        .header("x-forwarded-for", ip)
        .json(&json!({"email": email}));
    sent.send().await.expect("request").status().as_u16()
}

async fn reset_requests_are_limited_per_64_and_per_email(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, behind_proxy, None).await else {
        return;
    };
    // Per /64: a burst of 5, whatever the address inside it and the email.
    let mut statuses = Vec::new();
    for i in 1..=6 {
        let email = unique_email(&format!("r{i}"));
        statuses.push(reset_from(&app, &format!("2001:db8:1:2::{i:x}"), &email).await);
    }
    assert_eq!(
        statuses,
        [202, 202, 202, 202, 202, 429],
        "one /64 is one client"
    );
    assert_eq!(
        reset_from(&app, "2001:db8:1:3::1", &unique_email("other")).await,
        202,
        "the next /64 is another client"
    );

    // Per email: 3, whichever addresses ask.
    let victim = unique_email("victim");
    let statuses: Vec<u16> = statuses_for_email(&app, &victim).await;
    assert_eq!(statuses, [202, 202, 202, 429]);
    let resp = app
        .client
        .post(app.url("/auth/password-reset"))
        .header("x-forwarded-for", "198.51.100.99")
        .json(&json!({"email": victim.to_uppercase()}))
        .send()
        .await
        .expect("request");
    let body = problem(resp, 429).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("password_reset"),
        "{body}"
    );
}

/// Four reset requests for `email`, each from its own IPv4 address.
async fn statuses_for_email(app: &TestApp, email: &str) -> Vec<u16> {
    let mut statuses = Vec::new();
    for i in 1..=4 {
        statuses.push(reset_from(app, &format!("198.51.100.{i}"), email).await);
    }
    statuses
}

async fn verification_resends_are_limited_per_user(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, behind_proxy, None).await else {
        return;
    };
    let customer = app.customer().await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let resp = app
            .send_as(
                reqwest::Method::POST,
                "/auth/verify-email/resend",
                &customer.access,
                None,
            )
            .await;
        statuses.push(resp.status().as_u16());
    }
    assert_eq!(statuses, [202, 202, 202, 429]);
}

backend_tests!(
    reset_requests_are_limited_per_64_and_per_email,
    verification_resends_are_limited_per_user,
);
