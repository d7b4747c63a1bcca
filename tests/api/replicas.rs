//! Read replicas with a real streaming standby (`.ci/topology`): reads go to the replica,
//! move to the primary while it lags and come back, read-your-writes while it is paused,
//! and a cache filled from a lagging replica is invalidated again. The helpers here serve
//! the failover tests in `replicas_failover.rs` too.

use crate::helpers::{Backend, TestApp, env_url, skip};
use levee::config::{Config, Duration as ConfigDuration};
use levee::users::Role;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

const REPLICA_ENV: &str = "LEVEE_TEST_REPLICA_URL";

/// One replica serves every test: those that pause it or cut it off take turns.
static REPLICA: Mutex<()> = Mutex::const_new(());

/// The app's database on the replica (same name as on the primary).
fn replica_url(config: &Config, replica: &str) -> String {
    let primary = url::Url::parse(&config.database.url).expect("url");
    let mut url = url::Url::parse(replica).expect("replica url");
    url.set_path(primary.path());
    url.to_string()
}

pub(crate) async fn spawn_with_replica(
    replica: &str,
    tweak: impl FnOnce(&mut Config),
) -> Option<(TestApp, String, String)> {
    let replica = replica.to_string();
    let name = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let seen = name.clone();
    let app = TestApp::spawn_with(
        Backend::Postgres,
        move |c| {
            let url = replica_url(c, &replica);
            c.database.replicas = vec![url.clone()];
            c.database.replica_check_interval = ConfigDuration::millis(200);
            let u = url::Url::parse(&url).expect("url");
            *seen.lock().expect("lock") = format!(
                "{}:{}{}",
                u.host_str().expect("host"),
                u.port().unwrap_or(5432),
                u.path()
            );
            tweak(c);
        },
        None,
    )
    .await?;
    let name = name.lock().expect("lock").clone();
    let label = format!("replica=\"{name}\"");
    wait_for_rotation(&app, &label, 1.0).await;
    Some((app, name, label))
}

/// Waits until the replica is in (1.0) or out of (0.0) rotation.
pub(crate) async fn wait_for_rotation(app: &TestApp, label: &str, want: f64) {
    let metric = "levee_db_replica_in_rotation";
    wait_for_metric(app, metric, label, want, Duration::from_secs(10)).await;
}

/// The replica's URL and this test's turn on it, or `None` (after a skip notice).
pub(crate) async fn replica_turn() -> Option<(String, tokio::sync::MutexGuard<'static, ()>)> {
    let Some(url) = env_url(REPLICA_ENV) else {
        skip("replica tests", REPLICA_ENV);
        return None;
    };
    Some((url, REPLICA.lock().await))
}

/// The value of the sample `name{…label="value"…}` in the Prometheus text, if present.
pub(crate) async fn metric(app: &TestApp, name: &str, label: &str) -> Option<f64> {
    let body = app.get("/metrics").await.text().await.expect("text");
    body.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) && l.contains(label))
        .find_map(|l| l.rsplit(' ').next()?.parse().ok())
}

pub(crate) async fn wait_for_metric(
    app: &TestApp,
    name: &str,
    label: &str,
    want: f64,
    limit: Duration,
) {
    let deadline = Instant::now() + limit;
    loop {
        let value = metric(app, name, label).await;
        if value == Some(want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{name}{{{label}}} is {value:?}, expected {want}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn pool(name: &str) -> String {
    format!("pool=\"{name}\"")
}

/// Reads routed to `pool` so far.
pub(crate) async fn routed(app: &TestApp, pool_name: &str) -> f64 {
    metric(app, "levee_db_reads_routed_total", &pool(pool_name))
        .await
        .unwrap_or(0.0)
}

/// Pauses WAL replay on the replica until dropped (resumed even if the test fails).
struct ReplayPause(DatabaseConnection);

impl ReplayPause {
    async fn start(replica_admin: &str) -> Self {
        let conn = Database::connect(replica_admin).await.expect("replica");
        conn.execute_unprepared("SELECT pg_wal_replay_pause()")
            .await
            .expect("pause replay");
        ReplayPause(conn)
    }

    async fn resume(self) {
        self.0
            .execute_unprepared("SELECT pg_wal_replay_resume()")
            .await
            .expect("resume replay");
    }
}

impl Drop for ReplayPause {
    fn drop(&mut self) {
        let conn = self.0.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                let _ = conn
                    .execute_unprepared("SELECT pg_wal_replay_resume()")
                    .await;
            });
        })
        .join();
    }
}

/// Keeps WAL moving on the primary (a paused replica only lags when there is something
/// to replay).
async fn write_on_primary(app: &TestApp) {
    app.state
        .db()
        .write()
        .execute_unprepared("SELECT pg_logical_emit_message(false, 'levee-test', 'tick')")
        .await
        .expect("write WAL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_use_the_replica_and_move_to_the_primary_while_it_lags() {
    let Some((replica, _turn)) = replica_turn().await else {
        return;
    };
    let Some((app, name, in_rotation)) =
        spawn_with_replica(&replica, |c| c.cache.enabled = false).await
    else {
        return;
    };

    let (replica_before, primary_before) =
        (routed(&app, &name).await, routed(&app, "primary").await);
    for _ in 0..20 {
        assert_eq!(app.get("/posts").await.status(), 200);
    }
    assert!(
        routed(&app, &name).await >= replica_before + 20.0,
        "reads go to the replica"
    );
    assert_eq!(
        routed(&app, "primary").await,
        primary_before,
        "and not to the primary"
    );

    let pause = ReplayPause::start(&replica).await;
    let paused_at = Instant::now();
    let deadline = paused_at + Duration::from_secs(15);
    while metric(&app, "levee_db_replica_in_rotation", &in_rotation).await != Some(0.0) {
        assert!(
            Instant::now() < deadline,
            "the lagging replica leaves the rotation"
        );
        write_on_primary(&app).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let lag = metric(&app, "levee_db_replica_lag_seconds", &in_rotation)
        .await
        .expect("lag");
    assert!(lag > 1.0, "lag {lag}s is over database.max_replica_lag");
    assert!(
        metric(&app, "levee_db_replica_lag_bytes", &in_rotation)
            .await
            .expect("bytes")
            > 0.0
    );
    let history = app.state.db().replica_history(std::time::SystemTime::now());
    let minutes = &history[0].minutes;
    assert!(
        minutes.iter().any(|m| m.out_of_rotation > 0),
        "the console's history has it out of rotation"
    );
    let worst = minutes
        .iter()
        .filter_map(|m| m.max_lag_ms())
        .fold(0.0, f64::max);
    assert!(worst > 1000.0, "and its lag: {worst} ms");
    eprintln!(
        "replica left the rotation {:?} after the pause, lag {lag:.2}s",
        paused_at.elapsed()
    );

    let (replica_before, primary_before) =
        (routed(&app, &name).await, routed(&app, "primary").await);
    for _ in 0..20 {
        assert_eq!(app.get("/posts").await.status(), 200);
    }
    assert_eq!(
        routed(&app, &name).await,
        replica_before,
        "no reads on the lagging replica"
    );
    assert!(
        routed(&app, "primary").await >= primary_before + 20.0,
        "reads use the primary"
    );

    pause.resume().await;
    wait_for_rotation(&app, &in_rotation, 1.0).await;
    let replica_before = routed(&app, &name).await;
    for _ in 0..5 {
        assert_eq!(app.get("/posts").await.status(), 200);
    }
    assert!(
        routed(&app, &name).await >= replica_before + 5.0,
        "back on the replica"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_reads_its_own_writes_while_the_replica_is_paused() {
    let Some((replica, _turn)) = replica_turn().await else {
        return;
    };
    let Some((app, _, _)) = spawn_with_replica(&replica, |_| {}).await else {
        return;
    };
    let editor = app.account(Role::Editor).await;
    let pause = ReplayPause::start(&replica).await;

    let post = crate::posts::created(&app, &editor, "Fresh news").await;
    let slug = post["slug"].as_str().expect("slug").to_string();
    let resp = crate::posts::publish_response(&app, &editor, &slug).await;
    let token = resp
        .headers()
        .get("levee-consistency-token")
        .and_then(|v| v.to_str().ok())
        .expect("a consistency token")
        .to_string();
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("levee_consistency="))
        .expect("a consistency cookie")
        .split(';')
        .next()
        .expect("pair")
        .to_string();

    // The replica has not replayed the post; the token sends these reads to the primary.
    let with_header = app
        .client
        .get(app.url(&format!("/posts/{slug}")))
        .header("levee-consistency-token", &token)
        .send()
        .await
        .expect("request");
    assert_eq!(
        with_header.status(),
        200,
        "the writer sees the published post"
    );
    let with_cookie = app
        .client
        .get(app.url("/posts?limit=100"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("request");
    let page: Value = with_cookie.json().await.expect("json");
    assert!(page.to_string().contains(&slug), "and finds it in the list");

    // Without the token the read goes to the (stale) replica.
    let anonymous = app.get(&format!("/posts/{slug}")).await;
    assert_eq!(
        anonymous.status(),
        404,
        "the paused replica has not seen the post yet"
    );
    pause.resume().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_fill_from_a_lagging_replica_is_invalidated_again() {
    let Some((replica, _turn)) = replica_turn().await else {
        return;
    };
    let Some((app, _, in_rotation)) = spawn_with_replica(&replica, |_| {}).await else {
        return;
    };
    let editor = app.account(Role::Editor).await;
    let post = crate::posts::created(&app, &editor, "Cached twice").await;
    let slug = post["slug"].as_str().expect("slug").to_string();
    crate::posts::publish_response(&app, &editor, &slug).await;
    let path = format!("/posts/{slug}");
    let body_of = |resp: Value| resp["body"].as_str().map(str::to_string);
    // The replica has the post once it is back in step.
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.get(&path).await.status() != 200 {
        assert!(Instant::now() < deadline, "the replica replays the post");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let pause = ReplayPause::start(&replica).await;
    let edit = app
        .send_as(
            reqwest::Method::PATCH,
            &path,
            &editor.access,
            Some(serde_json::json!({"body": "v2"})),
        )
        .await;
    assert_eq!(edit.status(), 200);
    // A reader right after the edit: the stale replica fills the cache with the old body.
    let stale: Value = app.get(&path).await.json().await.expect("json");
    assert_eq!(
        body_of(stale).as_deref(),
        Some("text"),
        "served by the paused replica"
    );
    pause.resume().await;
    wait_for_rotation(&app, &in_rotation, 1.0).await;
    // max_replica_lag (1 s) + one sample (200 ms) after the edit, the cache forgets again;
    // well inside the L1 TTL (5 s), so only the second invalidation explains a fresh read.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let fresh: Value = app.get(&path).await.json().await.expect("json");
    assert_eq!(body_of(fresh).as_deref(), Some("v2"));
}
