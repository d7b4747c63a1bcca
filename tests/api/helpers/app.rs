//! `TestApp`: the real application on a random port inside the test process, on a fresh
//! database with its own Redis key prefix; `test_config`, the base config for tests.

use super::databases::{
    Backend, PGBOUNCER_ENV, REDIS_ENV, TestDb, VIA_PGBOUNCER_ENV, env_url, through,
};
use levee::config::Config;
use levee::{AppState, Application};
use poem::endpoint::BoxEndpoint;
use std::net::SocketAddr;
use std::time::Duration;

/// A base config for tests: random port, quiet, the given database.
pub fn test_config(database_url: &str) -> Config {
    let mut config = Config::default();
    config.server.port = 0;
    config.database.url = database_url.to_string();
    if database_url.starts_with("postgres")
        && std::env::var_os(VIA_PGBOUNCER_ENV).is_some()
        && let Some(bouncer) = env_url(PGBOUNCER_ENV)
    {
        config.database.url = through(&bouncer, database_url);
        config.database.direct_url = Some(database_url.to_string());
    }
    config.database.max_connections = levee::config::IntIn::new(5);
    // Cheap hashing: tests log in constantly; production cost is measured in the bench.
    config.auth.password_hash.memory_kib = levee::config::IntIn::new(64);
    config.auth.password_hash.iterations = levee::config::IntIn::new(1);
    // Tests send many requests from one address; the rate-limit tests switch it back on.
    config.rate_limit.enabled = false;
    // The built-in maintenance schedule fires at fixed minutes of the hour: a test that
    // counts jobs or cron slots must not depend on the wall clock (jobs_cron sets its own).
    config.jobs.cron = Vec::new();
    config
}

/// The same cheap hashing for the binary, as TOML.
pub const CHEAP_HASHING_TOML: &str =
    "[auth.password_hash]\nmemory_kib = 64\niterations = 1\n[rate_limit]\nenabled = false\n";

/// A running application inside the test process.
pub struct TestApp {
    pub addr: SocketAddr,
    /// The database URL, for a second instance sharing it.
    pub db_url: String,
    /// The separate metrics listener, when `metrics.listen` is set.
    pub metrics_addr: Option<SocketAddr>,
    pub client: reqwest::Client,
    pub state: AppState,
    /// `None` for an instance sharing another's database.
    pub db: Option<TestDb>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), levee::app::AppError>>>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        TestApp::spawn_with(backend, |_| {}, None).await
    }

    /// Spawns with a config tweak and optional extra routes (mounted at `/__test`).
    pub async fn spawn_with(
        backend: Backend,
        tweak: impl FnOnce(&mut Config),
        extra: Option<BoxEndpoint<'static>>,
    ) -> Option<TestApp> {
        TestApp::spawn_fresh(backend, tweak, extra, |_| {}).await
    }

    /// Spawns with job handlers registered (and workers running in the app).
    pub async fn spawn_with_jobs(
        backend: Backend,
        tweak: impl FnOnce(&mut Config),
        register: impl FnOnce(&mut levee::jobs::Registry),
    ) -> Option<TestApp> {
        TestApp::spawn_fresh(backend, tweak, None, register).await
    }

    /// A second instance on the same database and Redis prefix: a two-process fleet.
    pub async fn spawn_sibling(&self, backend: Backend) -> TestApp {
        self.spawn_sibling_with(backend, |_| {}).await
    }

    pub async fn spawn_sibling_with(
        &self,
        backend: Backend,
        tweak: impl FnOnce(&mut Config),
    ) -> TestApp {
        self.spawn_sibling_with_jobs(backend, tweak, |_| {}).await
    }

    /// A second instance on the same database with its own job handlers.
    pub async fn spawn_sibling_with_jobs(
        &self,
        backend: Backend,
        tweak: impl FnOnce(&mut Config),
        register: impl FnOnce(&mut levee::jobs::Registry),
    ) -> TestApp {
        let prefix = self.state.config().redis.key_prefix.clone();
        TestApp::start(&self.db_url, backend, &prefix, tweak, None, register).await
    }

    /// Starts on a fresh database with a fresh Redis prefix, or `None` after a skip notice.
    async fn spawn_fresh(
        backend: Backend,
        tweak: impl FnOnce(&mut Config),
        extra: Option<BoxEndpoint<'static>>,
        register: impl FnOnce(&mut levee::jobs::Registry),
    ) -> Option<TestApp> {
        levee::install_crypto_provider();
        let (db, url) = TestDb::create(backend).await?;
        let redis_prefix = format!("levee-test:{}:", uuid::Uuid::new_v4().simple());
        let mut app = TestApp::start(&url, backend, &redis_prefix, tweak, extra, register).await;
        app.db = Some(db);
        Some(app)
    }

    async fn start(
        url: &str,
        backend: Backend,
        redis_prefix: &str,
        tweak: impl FnOnce(&mut Config),
        extra: Option<BoxEndpoint<'static>>,
        register: impl FnOnce(&mut levee::jobs::Registry),
    ) -> TestApp {
        let mut config = test_config(url);
        if backend == Backend::Postgres {
            // The fleet configuration: PostgreSQL plus Redis when available.
            if let Some(redis) = env_url(REDIS_ENV) {
                config.redis.url = Some(redis);
                config.redis.key_prefix = redis_prefix.to_string();
            }
        }
        tweak(&mut config);
        let mut app = Application::build(config)
            .await
            .expect("application builds")
            .register_jobs(register);
        if let Some(extra) = extra {
            app = app.mount("/__test", extra);
        }
        let addr = app.local_addr();
        let metrics_addr = app.metrics_addr();
        let state = app.state();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let app = TestApp {
            addr,
            db_url: url.to_string(),
            metrics_addr,
            client,
            state,
            db: None,
            stop: Some(stop),
            task: Some(task),
        };
        app.cache_subscribed().await;
        app
    }

    /// Waits (a few seconds at most) until the cache listens for invalidations. The
    /// subscriber clears L1 when it subscribes, so a fill racing it is dropped; a test that
    /// fills the cache right after start would then find nothing cached (seen on a busy
    /// machine). Without Redis, or with Redis unreachable, it returns at once.
    async fn cache_subscribed(&self) {
        let Some(redis) = self.state.cache().redis() else {
            return;
        };
        let channel = redis.key(levee::cache::INVALIDATION_CHANNEL);
        let mut conn = redis.connection();
        for _ in 0..250 {
            let counts: redis::RedisResult<(String, u64)> = redis::cmd("PUBSUB")
                .arg("NUMSUB")
                .arg(&channel)
                .query_async(&mut conn)
                .await;
            match counts {
                Err(_) => return,
                Ok((_, 0)) => tokio::time::sleep(Duration::from_millis(20)).await,
                Ok(_) => {
                    // Subscribed; the clear follows the acknowledgement at once.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    return;
                }
            }
        }
    }

    /// The `[redis]` section a `levee` process needs to share this app's Redis and key
    /// prefix (empty without Redis).
    pub fn redis_toml(&self) -> String {
        let redis = &self.state.config().redis;
        match &redis.url {
            Some(url) => format!(
                "[redis]\nurl = \"{url}\"\nkey_prefix = \"{}\"\n",
                redis.key_prefix
            ),
            None => String::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Signals shutdown and waits for the server to drain and stop.
    pub async fn stop(mut self) -> Result<(), levee::app::AppError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.expect("server task"),
            None => Ok(()),
        }
    }
}
