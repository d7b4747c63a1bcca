//! The data cache's Redis tier: fleet-wide stampede protection, cross-instance
//! invalidation, and reads surviving a Redis outage with hits resuming after it.

use crate::cache::{concurrent_gets, published};
use crate::helpers::{Backend, REDIS_ENV, TestApp, env_url, skip};
use levee::config::{Config, Duration as ConfigDuration};
use levee::users::Role;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};

/// Two instances on one PostgreSQL database and one Redis prefix.
pub(crate) async fn fleet(tweak: impl Fn(&mut Config) + Clone) -> Option<(TestApp, TestApp)> {
    if env_url(REDIS_ENV).is_none() {
        skip("shared Redis cache", REDIS_ENV);
        return None;
    }
    let first = TestApp::spawn_with(Backend::Postgres, tweak.clone(), None).await?;
    let second = first.spawn_sibling_with(Backend::Postgres, tweak).await;
    Some((first, second))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_fetch_a_cold_key_at_most_twice() {
    let Some((a, b)) = fleet(|_| {}).await else {
        return;
    };
    let editor = a.account(Role::Editor).await;
    let slug = published(&a, &editor, "Fleet stampede").await;
    let before = a.state.cache().fetch_count() + b.state.cache().fetch_count();
    let statuses = concurrent_gets(&[&a, &b], &format!("/posts/{slug}"), 200).await;
    assert!(statuses.iter().all(|s| *s == 200));
    let fetches = a.state.cache().fetch_count() + b.state.cache().fetch_count() - before;
    assert!(
        (1..=2).contains(&fetches),
        "{fetches} fetches across two instances"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_on_one_instance_reaches_the_other_within_a_second() {
    // A long L1 TTL: only the invalidation message can make B drop its copy.
    let Some((a, b)) = fleet(|c: &mut Config| c.cache.l1_ttl = ConfigDuration::secs(300)).await
    else {
        return;
    };
    let editor = a.account(Role::Editor).await;
    let slug = published(&a, &editor, "Propagation").await;
    let path = format!("/posts/{slug}");
    assert_eq!(
        b.get(&path).await.json::<Value>().await.expect("json")["body"],
        "v1"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        a.send_as(
            Method::PATCH,
            &path,
            &editor.access,
            Some(json!({"body": "v2"}))
        )
        .await
        .status(),
        200
    );
    let changed = Instant::now();
    let mut seen_new = false;
    while changed.elapsed() < Duration::from_secs(1) {
        let body = b.get(&path).await.json::<Value>().await.expect("json")["body"].clone();
        if body == "v2" {
            seen_new = true;
        } else {
            assert!(!seen_new, "B served the old version after the new one");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(seen_new, "B served v2 within 1 s");
    assert_eq!(
        b.get(&path).await.json::<Value>().await.expect("json")["body"],
        "v2"
    );
}

/// A TCP proxy in front of Redis that can be cut and restored, standing in for Redis going
/// down and coming back.
pub(crate) struct Switch {
    pub(crate) addr: std::net::SocketAddr,
    pub(crate) up: tokio::sync::watch::Sender<bool>,
}

pub(crate) async fn redis_switch() -> Switch {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (up, watch) = tokio::sync::watch::channel(true);
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let mut watch = watch.clone();
            if !*watch.borrow() {
                continue;
            }
            tokio::spawn(async move {
                let Ok(mut server) = TcpStream::connect("127.0.0.1:6379").await else {
                    return;
                };
                tokio::select! {
                    _ = copy_bidirectional(&mut client, &mut server) => {}
                    _ = watch.wait_for(|up| !*up) => {}
                }
            });
        }
    });
    Switch { addr, up }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_survive_redis_going_down_and_hits_resume_when_it_returns() {
    if env_url(REDIS_ENV).is_none() {
        skip("Redis outage", REDIS_ENV);
        return;
    }
    let switch = redis_switch().await;
    let url = format!("redis://{}", switch.addr);
    let tweak = move |c: &mut Config| {
        c.redis.url = Some(url.clone());
        c.redis.backoff = ConfigDuration::millis(300);
        c.redis.command_timeout = ConfigDuration::millis(200);
        c.cache.l1_ttl = ConfigDuration::millis(50);
    };
    let Some(app) = TestApp::spawn_with(Backend::Postgres, tweak, None).await else {
        return;
    };
    let editor = app.account(Role::Editor).await;
    let slug = published(&app, &editor, "Outage").await;
    let path = format!("/posts/{slug}");
    assert_eq!(app.get(&path).await.status(), 200);

    switch.up.send_replace(false);
    for _ in 0..20 {
        assert_eq!(
            app.get(&path).await.status(),
            200,
            "reads keep succeeding without Redis"
        );
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    let metrics = app.get("/metrics").await.text().await.expect("metrics");
    assert!(
        metrics.contains(r#"levee_redis_errors_total{user="cache"}"#),
        "errors are counted"
    );

    switch.up.send_replace(true);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let hits = |m: &str| {
        m.lines()
            .filter(|l| {
                l.starts_with(
                    r#"levee_cache_requests_total{tier="l2",namespace="post",result="hit"}"#,
                )
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum::<u64>()
    };
    let before = hits(&app.get("/metrics").await.text().await.expect("metrics"));
    for _ in 0..10 {
        assert_eq!(app.get(&path).await.status(), 200);
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    let after = hits(&app.get("/metrics").await.text().await.expect("metrics"));
    assert!(after > before, "Redis hits resumed ({before} → {after})");
}
