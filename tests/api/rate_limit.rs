//! Rate limits: quotas with standard headers, refill, per-route policies, trusted proxies,
//! a quota shared by two processes through Redis, and Redis failing open or closed.

use crate::backend_tests;
use crate::helpers::{
    Backend, LeveeProcess, PASSWORD, REDIS_ENV, TestApp, env_url, header, problem, skip,
};
use levee::config::{Config, Duration as ConfigDuration, IntIn, KeyKind, PolicyConfig};

pub(crate) fn limited(policy: (u64, u64, u64)) -> impl FnOnce(&mut Config) {
    move |c: &mut Config| {
        c.rate_limit.enabled = true;
        let (quota, secs, burst) = policy;
        c.rate_limit.policies.insert(
            "public".into(),
            PolicyConfig {
                key: KeyKind::Ip,
                quota: IntIn::new_checked(quota),
                period: ConfigDuration::secs(secs),
                burst: IntIn::new_checked(burst),
            },
        );
    }
}

/// A policy of `quota` requests a minute, all of them available at once.
pub(crate) fn per_minute(key: KeyKind, quota: u64) -> PolicyConfig {
    PolicyConfig {
        key,
        quota: IntIn::new_checked(quota),
        period: ConfigDuration::secs(60),
        burst: IntIn::new_checked(quota),
    }
}

/// The `r=` and `t=` of a RateLimit header.
fn remaining_and_reset(value: &str) -> (u64, u64) {
    let field = |name: &str| {
        value
            .split(';')
            .find_map(|p| p.strip_prefix(name))
            .and_then(|v| v.parse().ok())
            .expect("field")
    };
    (field("r="), field("t="))
}

async fn the_101st_request_gets_429_with_standard_headers(backend: Backend) {
    // A one-hour window: a token refills every 36 s, so a slow, loaded machine cannot
    // refill one mid-loop and shift the counts (it did with a one-minute window).
    let Some(app) = TestApp::spawn_with(backend, limited((100, 3600, 100)), None).await else {
        return;
    };
    for i in 0..100u64 {
        let resp = app.get("/posts").await;
        assert_eq!(resp.status(), 200, "request {i}");
        assert_eq!(header(&resp, "ratelimit-policy"), "\"public\";q=100;w=3600");
        assert_eq!(remaining_and_reset(&header(&resp, "ratelimit")).0, 99 - i);
    }
    let rejected = app.get("/posts").await;
    let retry_after: u64 = header(&rejected, "retry-after")
        .parse()
        .expect("Retry-After seconds");
    let (remaining, reset) = remaining_and_reset(&header(&rejected, "ratelimit"));
    assert_eq!(remaining, 0);
    assert!(
        retry_after >= reset && retry_after >= 1,
        "Retry-After {retry_after} never earlier than reset {reset}"
    );
    let body = problem(rejected, 429).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("\"public\""),
        "{body}"
    );
    assert_eq!(app.get("/health").await.status(), 200, "probes are exempt");
    let metrics = app.get("/metrics").await.text().await.expect("metrics");
    assert!(
        metrics
            .contains(r#"levee_rate_limit_decisions_total{policy="public",decision="rejected"}"#)
    );
}

async fn tokens_refill_over_time(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, limited((2, 1, 2)), None).await else {
        return;
    };
    assert_eq!(app.get("/posts").await.status(), 200);
    assert_eq!(app.get("/posts").await.status(), 200);
    assert_eq!(app.get("/posts").await.status(), 429);
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(
        app.get("/posts").await.status(),
        200,
        "one token came back after half a second"
    );
}

async fn the_login_limit_is_per_ip_and_email(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |c| c.rate_limit.enabled = true, None).await
    else {
        return;
    };
    let (alice, bob) = (app.customer().await, app.customer().await);
    // customer() already logged each in once: 4 more fit in the default 5 per minute.
    for _ in 0..4 {
        assert_ne!(
            app.login(&alice.email, "wrong password!").await.status(),
            429
        );
    }
    let limited = app.login(&alice.email, PASSWORD).await;
    assert_eq!(header(&limited, "ratelimit-policy"), "\"login\";q=5;w=60");
    problem(limited, 429).await;
    assert_eq!(
        app.login(&bob.email, PASSWORD).await.status(),
        200,
        "another email from the same address is not locked out"
    );
}

/// The status of `GET /posts` sent as if from `ip` through a proxy.
async fn forwarded_get(app: &TestApp, ip: &str) -> u16 {
    let sent = app
        .client
        .get(app.url("/posts"))
        .header("x-forwarded-for", ip);
    sent.send().await.expect("request").status().as_u16()
}

async fn forwarded_addresses_count_only_from_trusted_proxies(backend: Backend) {
    let untrusted = TestApp::spawn_with(backend, limited((1, 60, 1)), None).await;
    let Some(app) = untrusted else { return };
    assert_eq!(forwarded_get(&app, "198.51.100.1").await, 200);
    assert_eq!(
        forwarded_get(&app, "198.51.100.2").await,
        429,
        "an untrusted X-Forwarded-For is ignored"
    );

    let trusting = |c: &mut Config| {
        limited((1, 60, 1))(c);
        c.server.trusted_proxies = vec!["127.0.0.1/32".parse().expect("cidr")];
    };
    let Some(app) = TestApp::spawn_with(backend, trusting, None).await else {
        return;
    };
    assert_eq!(forwarded_get(&app, "198.51.100.1").await, 200);
    assert_eq!(
        forwarded_get(&app, "198.51.100.2").await,
        200,
        "each client behind the proxy has its own quota"
    );
    assert_eq!(forwarded_get(&app, "198.51.100.1").await, 429);
}

async fn signed_in_callers_use_their_own_quota(backend: Backend) {
    let tweak = |c: &mut Config| {
        limited((1, 60, 1))(c);
        c.rate_limit
            .policies
            .insert("authenticated".into(), per_minute(KeyKind::User, 3));
    };
    let Some(app) = TestApp::spawn_with(backend, tweak, None).await else {
        return;
    };
    let session = app.customer().await;
    for _ in 0..3 {
        let resp = app.get_as("/me", &session.access).await;
        assert_eq!(
            header(&resp, "ratelimit-policy"),
            "\"authenticated\";q=3;w=60"
        );
    }
    assert_eq!(app.get_as("/me", &session.access).await.status(), 429);
}

async fn disabled_limits_send_no_headers(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let resp = app.get("/posts").await;
    assert!(!resp.headers().contains_key("ratelimit"));
}

backend_tests!(
    the_101st_request_gets_429_with_standard_headers,
    tokens_refill_over_time,
    the_login_limit_is_per_ip_and_email,
    forwarded_addresses_count_only_from_trusted_proxies,
    signed_in_callers_use_their_own_quota,
    disabled_limits_send_no_headers,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_sharing_redis_enforce_one_quota() {
    if env_url(REDIS_ENV).is_none() {
        skip("shared Redis quota", REDIS_ENV);
        return;
    }
    let Some(first) = TestApp::spawn_with(Backend::Postgres, limited((10, 60, 10)), None).await
    else {
        return;
    };
    // The second instance is a separate `levee serve` process with the same Redis prefix.
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("levee.toml");
    let settings = first.state.config();
    let toml = format!(
        "[server]\nport = 0\n[database]\nurl = \"{}\"\n[redis]\nurl = \"{}\"\nkey_prefix = \"{}\"\n\
         [rate_limit.policies.public]\nkey = \"ip\"\nquota = 10\nperiod = \"60s\"\nburst = 10\n",
        first.db_url,
        settings.redis.url.as_deref().expect("redis url"),
        settings.redis.key_prefix
    );
    std::fs::write(&config, toml).expect("config");
    let second = LeveeProcess::serve(&config);
    let mut allowed = 0;
    for i in 0..30 {
        let resp = if i % 2 == 0 {
            first.get("/posts").await
        } else {
            first
                .client
                .get(second.url("/posts"))
                .send()
                .await
                .expect("request")
        };
        if resp.status() == 200 {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 10, "the quota is shared across both processes");
}

async fn with_dead_redis(backend: Backend, fail_open: bool) -> Option<TestApp> {
    TestApp::spawn_with(
        backend,
        move |c| {
            limited((100, 60, 100))(c);
            c.redis.url = Some("redis://127.0.0.1:1".into());
            c.redis.command_timeout = ConfigDuration::millis(200);
            c.rate_limit.fail_open = fail_open;
        },
        None,
    )
    .await
}

async fn redis_down_fails_open_by_default(backend: Backend) {
    let Some(app) = with_dead_redis(backend, true).await else {
        return;
    };
    let resp = app.get("/posts").await;
    assert_eq!(resp.status(), 200, "served under fail-open");
    assert_eq!(
        remaining_and_reset(&header(&resp, "ratelimit")).0,
        99,
        "limited per process meanwhile"
    );
    let metrics = app.get("/metrics").await.text().await.expect("metrics");
    assert!(metrics.contains("levee_rate_limit_backend_errors_total"));
}

async fn redis_down_fails_closed_when_configured(backend: Backend) {
    let Some(app) = with_dead_redis(backend, false).await else {
        return;
    };
    let body = problem(app.get("/posts").await, 503).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("rate limiter")
    );
    assert_eq!(app.get("/health").await.status(), 200);
}

backend_tests!(
    redis_down_fails_open_by_default,
    redis_down_fails_closed_when_configured
);
