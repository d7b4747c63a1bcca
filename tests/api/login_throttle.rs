//! The failed-login throttle: an IPv6 client is its /64, and with Redis the counters are
//! the fleet's — failures on one instance lock the account on another — while a failing
//! Redis follows `rate_limit.fail_open`.

use crate::backend_tests;
use crate::helpers::{Backend, PASSWORD, REDIS_ENV, TestApp, env_url, problem, skip, unique_email};
use crate::login_limits::login_from;
use levee::config::{Config, Duration as ConfigDuration, IntIn};

async fn failed_logins_from_one_ipv6_64_lock_it_out(backend: Backend) {
    let tweak = |c: &mut Config| {
        // The rate limiter stays off (the test default): only the throttle counts here.
        c.server.trusted_proxies = vec!["127.0.0.1/32".parse().expect("cidr")];
        c.auth.max_failed_logins_per_ip = IntIn::new(20);
    };
    let Some(app) = TestApp::spawn_with(backend, tweak, None).await else {
        return;
    };
    let mut statuses = Vec::new();
    for i in 0..30 {
        let ip = format!("2001:db8:7:7::{:x}", i + 1);
        let email = unique_email(&format!("victim{i}"));
        statuses.push(login_from(&app, &ip, &email).await.status().as_u16());
    }
    assert_eq!(statuses[..20], [401; 20], "{statuses:?}");
    assert_eq!(statuses[20..], [429; 10], "the /64 is locked: {statuses:?}");
    let body = problem(
        login_from(&app, "2001:db8:7:7::abc", "x@example.com").await,
        429,
    )
    .await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("failed logins")
    );
    let elsewhere = login_from(&app, "2001:db8:7:8::1", "x@example.com").await;
    assert_eq!(elsewhere.status(), 401, "another /64 is not locked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_on_one_instance_lock_the_account_on_another() {
    if env_url(REDIS_ENV).is_none() {
        skip("fleet-wide login lockout", REDIS_ENV);
        return;
    }
    // PostgreSQL test apps share Redis (and its key prefix) with their siblings.
    let Some(first) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let second = first.spawn_sibling(Backend::Postgres).await;
    let victim = first.customer().await;
    for _ in 0..5 {
        let resp = first.login(&victim.email, "wrong password!").await;
        assert_eq!(resp.status(), 401);
    }
    let locked = second.login(&victim.email, PASSWORD).await;
    assert!(
        locked.headers().contains_key("retry-after"),
        "the lockout says how long it lasts"
    );
    problem(locked, 429).await;
    let bystander = second.customer().await;
    assert_eq!(second.login(&bystander.email, PASSWORD).await.status(), 200);
}

async fn with_dead_redis(backend: Backend, fail_open: bool) -> Option<TestApp> {
    let tweak = move |c: &mut Config| {
        c.redis.url = Some("redis://127.0.0.1:1".into());
        c.redis.command_timeout = ConfigDuration::millis(200);
        c.rate_limit.fail_open = fail_open;
    };
    TestApp::spawn_with(backend, tweak, None).await
}

async fn a_failing_redis_counts_failed_logins_in_process_when_failing_open(backend: Backend) {
    let Some(app) = with_dead_redis(backend, true).await else {
        return;
    };
    let email = unique_email("victim");
    for _ in 0..5 {
        assert_eq!(app.login(&email, "wrong password!").await.status(), 401);
    }
    problem(app.login(&email, "wrong password!").await, 429).await;
}

async fn a_failing_redis_refuses_logins_when_failing_closed(backend: Backend) {
    let Some(app) = with_dead_redis(backend, false).await else {
        return;
    };
    let body = problem(app.login(&unique_email("any"), PASSWORD).await, 503).await;
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("cannot be counted"), "{detail}");
}

backend_tests!(
    failed_logins_from_one_ipv6_64_lock_it_out,
    a_failing_redis_counts_failed_logins_in_process_when_failing_open,
    a_failing_redis_refuses_logins_when_failing_closed,
);
