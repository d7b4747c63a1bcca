//! Login limits that hold against password spraying: every policy of a route must allow a
//! login (per client address, and per address and email), IPv6 clients count by /64, and a
//! policy can key on a field of a JSON or form body.

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, header, problem, unique_email};
use levee::config::{Config, Duration as ConfigDuration, IntIn, KeyKind, PolicyConfig, RouteRule};
use serde_json::json;

/// Default limits, behind a trusted proxy on 127.0.0.1 that names each client.
fn behind_proxy(c: &mut Config) {
    c.rate_limit.enabled = true;
    c.server.trusted_proxies = vec!["127.0.0.1/32".parse().expect("cidr")];
}

/// A failed login for `email` as if from `ip`.
pub(crate) async fn login_from(app: &TestApp, ip: &str, email: &str) -> reqwest::Response {
    let sent = app
        .client
        .post(app.url("/auth/login"))
        .header("x-forwarded-for", ip)
        .json(&json!({"email": email, "password": "wrong password!"}));
    sent.send().await.expect("login")
}

/// 120 logins for 120 different accounts, the i-th from `address(i)`; their statuses.
async fn spray(app: &TestApp, address: impl Fn(u32) -> String) -> Vec<u16> {
    let mut statuses = Vec::new();
    for i in 0..120 {
        let email = unique_email(&format!("victim{i}"));
        statuses.push(login_from(app, &address(i), &email).await.status().as_u16());
    }
    statuses
}

async fn spraying_from_one_ipv6_64_meets_429s(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, behind_proxy, None).await else {
        return;
    };
    let statuses = spray(&app, |i| format!("2001:db8:1:2::{:x}", i + 1)).await;
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert!(
        refused >= 90,
        "120 addresses of one /64 are one client: {statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        120 - refused
    );
    let body = problem(
        login_from(&app, "2001:db8:1:2::ffff", "x@example.com").await,
        429,
    )
    .await;
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("\"login_ip\""), "{detail}");
    let other_64 = login_from(&app, "2001:db8:1:3::1", "x@example.com").await;
    assert_eq!(other_64.status(), 401, "another /64 is another client");
}

async fn spraying_from_one_ipv4_address_meets_429s(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, behind_proxy, None).await else {
        return;
    };
    let first = login_from(&app, "198.51.100.9", &unique_email("first")).await;
    // Both policies allowed it; the login policy (5 per address and email) has fewer left.
    assert_eq!(header(&first, "ratelimit-policy"), "\"login\";q=5;w=60");
    assert!(header(&first, "ratelimit").starts_with("\"login\";r=4;"));
    let statuses = spray(&app, |_| "198.51.100.9".to_string()).await;
    assert!(
        statuses.iter().filter(|s| **s == 429).count() >= 90,
        "{statuses:?}"
    );
    let refused = login_from(&app, "198.51.100.9", &unique_email("last")).await;
    assert_eq!(
        header(&refused, "ratelimit-policy"),
        "\"login_ip\";q=30;w=60"
    );
    assert_eq!(
        login_from(&app, "198.51.100.10", &unique_email("other"))
            .await
            .status(),
        401,
        "other addresses keep their quota"
    );
}

/// `POST /auth/login` limited only by `body:email`, 2 at once, behind the proxy.
fn keyed_on_the_email_field(c: &mut Config) {
    behind_proxy(c);
    let by_email = PolicyConfig {
        key: KeyKind::try_from("body:email".to_string()).expect("key kind"),
        quota: IntIn::new_checked(2),
        period: ConfigDuration::secs(60),
        burst: IntIn::new_checked(2),
    };
    c.rate_limit.policies.insert("by_email".into(), by_email);
    c.rate_limit.routes = vec![RouteRule {
        path: "/auth/login".into(),
        methods: vec!["POST".into()],
        policies: vec!["by_email".into()],
    }];
}

async fn a_form_body_field_keys_a_policy_like_its_json_spelling(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, keyed_on_the_email_field, None).await else {
        return;
    };
    let form = |ip: &str, email: &str| {
        let sent = app
            .client
            .post(app.url("/auth/login"))
            .header("x-forwarded-for", ip)
            .form(&[("email", email), ("password", "wrong password!")]);
        sent.send()
    };
    // The login API takes JSON: a form gets 415 from the handler, but only once the
    // limiter has counted it.
    let first = form("198.51.100.1", "Reset@Example.com")
        .await
        .expect("form");
    assert_ne!(first.status(), 429);
    assert_eq!(
        login_from(&app, "198.51.100.2", " reset@example.COM ")
            .await
            .status(),
        401,
        "the JSON spelling counts in the same bucket, from any address"
    );
    let third = form("198.51.100.3", "reset@example.com")
        .await
        .expect("form");
    let body = problem(third, 429).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("\"by_email\"")
    );
    let other = form("198.51.100.3", "someone@example.com")
        .await
        .expect("form");
    assert_ne!(other.status(), 429, "another email has its own quota");
}

backend_tests!(
    spraying_from_one_ipv6_64_meets_429s,
    spraying_from_one_ipv4_address_meets_429s,
    a_form_body_field_keys_a_policy_like_its_json_spelling,
);
