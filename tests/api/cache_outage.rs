//! Invalidations while Redis is unreachable: they wait in a bounded backlog and are
//! replayed when Redis answers; meanwhile no instance serves an edited post past
//! `cache.l1_ttl`. Past the bound the cache steps aside until Redis has been flushed.

use crate::cache::{change_behind_the_cache, edit_body, published};
use crate::cache_redis::{Switch, fleet, redis_switch};
use crate::helpers::{Backend, REDIS_ENV, TestApp, env_url, skip};
use levee::config::{Config, Duration as ConfigDuration, IntIn};
use levee::users::Role;
use std::time::{Duration, Instant};

const L1_TTL: Duration = Duration::from_millis(1000);
/// Scheduling slack on a loaded machine.
const SLACK: Duration = Duration::from_millis(400);

async fn switch_or_skip(what: &str) -> Option<Switch> {
    if env_url(REDIS_ENV).is_none() {
        skip(what, REDIS_ENV);
        return None;
    }
    Some(redis_switch().await)
}

/// Instances that reach Redis through `switch`, give up on it quickly, and hold at most
/// `backlog` invalidations for it.
fn behind(switch: &Switch, l1_ttl: Duration, backlog: u64) -> impl Fn(&mut Config) + Clone {
    let url = format!("redis://{}", switch.addr);
    move |c: &mut Config| {
        c.redis.url = Some(url.clone());
        c.redis.backoff = ConfigDuration::millis(300);
        c.redis.command_timeout = ConfigDuration::millis(200);
        c.cache.l1_ttl = ConfigDuration(l1_ttl);
        c.cache.invalidation_backlog = IntIn::new_checked(backlog);
    }
}

/// Whether Redis holds the cached post `slug` (asked directly, not through the switch).
async fn l2_holds(app: &TestApp, slug: &str) -> bool {
    let client = redis::Client::open(env_url(REDIS_ENV).expect("redis url")).expect("client");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let key = format!("{}cache:post:{slug}", app.state.config().redis.key_prefix);
    redis::AsyncCommands::exists(&mut conn, key)
        .await
        .expect("exists")
}

async fn wait_until_l2_drops(app: &TestApp, slug: &str, why: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while l2_holds(app, slug).await {
        assert!(Instant::now() < deadline, "{why}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An unlabelled sample from `/metrics` (0 before it is first recorded).
async fn sample(app: &TestApp, name: &str) -> f64 {
    let body = app.get("/metrics").await.text().await.expect("metrics");
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

async fn body(app: &TestApp, path: &str) -> String {
    app.get_json(path).await["body"]
        .as_str()
        .expect("body")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_while_redis_is_down_is_seen_within_l1_ttl_and_replayed_when_it_returns() {
    let Some(switch) = switch_or_skip("invalidation replay").await else {
        return;
    };
    let Some((a, b)) = fleet(behind(&switch, L1_TTL, 10_000)).await else {
        return;
    };
    let editor = a.account(Role::Editor).await;
    let slug = published(&a, &editor, "Edited in an outage").await;
    let path = format!("/posts/{slug}");
    // B's read fills Redis. On a loaded machine that write can miss the 200 ms command
    // timeout (the cache then carries on without L2); B's next fill, once its L1 entry
    // expired, writes it again.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert_eq!(body(&b, &path).await, "v1");
        if l2_holds(&a, &slug).await {
            break;
        }
        assert!(Instant::now() < deadline, "B never filled Redis");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    switch.up.send_replace(false);
    edit_body(&a, &editor, &path, "v2").await;
    let edited = Instant::now();
    let mut last_old = None;
    while edited.elapsed() < L1_TTL * 2 {
        if body(&b, &path).await == "v1" {
            last_old = Some(edited.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        last_old.is_none_or(|at| at <= L1_TTL + SLACK),
        "B served the old body {last_old:?} after the edit"
    );
    assert_eq!(body(&b, &path).await, "v2");
    assert!(l2_holds(&a, &slug).await, "the delete could not be sent");
    assert!(
        a.get("/metrics")
            .await
            .text()
            .await
            .expect("metrics")
            .contains("levee_cache_invalidations_pending"),
        "the backlog is exported"
    );

    switch.up.send_replace(true);
    wait_until_l2_drops(&a, &slug, "the delete is replayed once Redis answers").await;
    assert_eq!(body(&b, &path).await, "v2");
    assert_eq!(body(&a, &path).await, "v2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_backlog_bound_the_cache_steps_aside_until_redis_is_flushed() {
    let Some(switch) = switch_or_skip("invalidation backlog overflow").await else {
        return;
    };
    // A long L1 TTL: only clearing L1 can make a changed post visible.
    let tweak = behind(&switch, Duration::from_secs(300), 1);
    let Some(a) = TestApp::spawn_with(Backend::Postgres, tweak, None).await else {
        return;
    };
    let editor = a.account(Role::Editor).await;
    let edited = published(&a, &editor, "Overflowing edit").await;
    let bystander = published(&a, &editor, "Bystander").await;
    let bystander_path = format!("/posts/{bystander}");
    assert_eq!(body(&a, &bystander_path).await, "v1");
    assert!(l2_holds(&a, &bystander).await);
    let dropped = sample(&a, "levee_cache_invalidations_dropped_total").await;

    switch.up.send_replace(false);
    // Two invalidations (the post and the first page) against a bound of one.
    edit_body(&a, &editor, &format!("/posts/{edited}"), "v2").await;
    assert!(sample(&a, "levee_cache_invalidations_dropped_total").await >= dropped + 2.0);
    change_behind_the_cache(&a, &bystander, "v2").await;
    assert_eq!(
        body(&a, &bystander_path).await,
        "v2",
        "L1 was cleared and the cache is bypassed"
    );

    switch.up.send_replace(true);
    wait_until_l2_drops(&a, &bystander, "Redis is flushed once it answers").await;
    let cache = a.state.cache();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let before = cache.fetch_count();
        assert_eq!(body(&a, &bystander_path).await, "v2");
        assert_eq!(body(&a, &bystander_path).await, "v2");
        if cache.fetch_count() - before == 1 {
            break; // the second read was a hit: caching resumed
        }
        assert!(Instant::now() < deadline, "caching resumes after the flush");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
