//! Test harness: `TestApp::spawn` starts the real application on a random port against a
//! fresh database (a SQLite file, or a PostgreSQL database cloned from a migrated template)
//! with its own Redis key prefix; `LeveeProcess` runs the compiled binary for tests that
//! need signals or stdout.

use levee::config::Config;
use levee::{AppState, Application};
use sea_orm::sqlx::postgres::PgConnection;
use sea_orm::sqlx::{self, Connection};
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const DB_ENV: &str = "LEVEE_TEST_DATABASE_URL";
pub const REDIS_ENV: &str = "LEVEE_TEST_REDIS_URL";
pub const PGBOUNCER_ENV: &str = "LEVEE_TEST_PGBOUNCER_URL";
/// Set (to anything) to run every app's PostgreSQL pool through the pgbouncer at
/// `LEVEE_TEST_PGBOUNCER_URL`, with `direct_url` on the server itself (the documented setup).
pub const VIA_PGBOUNCER_ENV: &str = "LEVEE_TEST_VIA_PGBOUNCER";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates one `#[tokio::test]` per backend for each listed async fn taking a `Backend`.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::helpers::Backend::Postgres).await
            }
        }
    )*};
}

/// Prints a skip notice past libtest's capture. Under `CI=true` a skip is a failure.
pub fn skip(what: &str, variable: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{what} must run in CI but {variable} is not set");
    }
    let _ = writeln!(
        std::io::stderr().lock(),
        "skipped: {what} ({variable} not set)"
    );
}

pub fn env_url(variable: &str) -> Option<String> {
    std::env::var(variable).ok().filter(|v| !v.is_empty())
}

/// A database that exists for one test.
pub enum TestDb {
    /// The directory is removed when the test ends.
    Sqlite(#[expect(dead_code, reason = "held for its Drop")] tempfile::TempDir),
    Postgres {
        admin_url: String,
        name: String,
    },
}

impl TestDb {
    /// A fresh, migrated database, or `None` (after printing a skip) when the backend
    /// is not available here.
    pub async fn create(backend: Backend) -> Option<(TestDb, String)> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("tempdir");
                let url = format!("sqlite:{}", dir.path().join("levee.db").display());
                Some((TestDb::Sqlite(dir), url))
            }
            Backend::Postgres => {
                let Some(admin_url) = env_url(DB_ENV) else {
                    skip("PostgreSQL variant", DB_ENV);
                    return None;
                };
                let name = format!("levee_test_{}", uuid::Uuid::new_v4().simple());
                clone_template(&admin_url, &name, true).await;
                let url = db_url(&admin_url, &name);
                Some((TestDb::Postgres { admin_url, name }, url))
            }
        }
    }

    /// An empty PostgreSQL database (no migrations), for migration tests.
    pub async fn empty_postgres() -> Option<(TestDb, String)> {
        let Some(admin_url) = env_url(DB_ENV) else {
            skip("PostgreSQL variant", DB_ENV);
            return None;
        };
        let name = format!("levee_test_{}", uuid::Uuid::new_v4().simple());
        clone_template(&admin_url, &name, false).await;
        let url = db_url(&admin_url, &name);
        Some((TestDb::Postgres { admin_url, name }, url))
    }

    /// Drops a PostgreSQL test database now (simulating an unreachable database).
    pub async fn drop_now(&self) {
        if let TestDb::Postgres { admin_url, name } = self {
            drop_database(admin_url, name).await;
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { admin_url, name } = self {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs inside the test's runtime; use a separate one on its own thread.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(drop_database(&admin_url, &name));
            })
            .join();
        }
    }
}

pub fn db_url(admin_url: &str, name: &str) -> String {
    let mut url = url::Url::parse(admin_url).expect("LEVEE_TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

async fn drop_database(admin_url: &str, name: &str) {
    if let Ok(mut conn) = PgConnection::connect(admin_url).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await;
        let _ = conn.close().await;
    }
}

/// Creates `name` as a copy of a template database, migrated (`migrated = true`) or empty.
/// The migrated template is built once per schema version under an advisory lock, then
/// every test clones it, which is far faster than migrating each database.
async fn clone_template(admin_url: &str, name: &str, migrated: bool) {
    let template = if migrated {
        format!("levee_tpl_{}", schema_fingerprint())
    } else {
        "template0".into()
    };
    let mut admin = PgConnection::connect(admin_url)
        .await
        .expect("connect to LEVEE_TEST_DATABASE_URL");
    sqlx::query("SELECT pg_advisory_lock(7315)")
        .execute(&mut admin)
        .await
        .expect("lock");
    let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&template)
        .fetch_optional(&mut admin)
        .await
        .expect("query pg_database");
    if exists.is_none() {
        // Build under a temporary name and rename, so a crashed build never leaves a
        // half-migrated template behind.
        let building = format!("{template}_building");
        drop_database(admin_url, &building).await;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE \"{building}\""
        )))
        .execute(&mut admin)
        .await
        .expect("create template");
        let mut config = Config::default();
        config.database.url = db_url(admin_url, &building);
        let db = levee::db::Db::connect(&config.database)
            .await
            .expect("connect template");
        levee::db::migrate::up(&db).await.expect("migrate template");
        db.close().await;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER DATABASE \"{building}\" RENAME TO \"{template}\""
        )))
        .execute(&mut admin)
        .await
        .expect("rename template");
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""
    )))
    .execute(&mut admin)
    .await
    .expect("clone template");
    let _ = sqlx::query("SELECT pg_advisory_unlock(7315)")
        .execute(&mut admin)
        .await;
    let _ = admin.close().await;
}

fn schema_fingerprint() -> String {
    use levee_migrations::MigratorTrait;
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for m in levee_migrations::Migrator::migrations() {
        m.name().hash(&mut hasher);
    }
    format!("{:016x}", hasher.finish())
}

/// `database_url` with the host and port of `server` (e.g. a pgbouncer in front of it).
pub fn through(server: &str, database_url: &str) -> String {
    let server = url::Url::parse(server).expect("server URL");
    let mut url = url::Url::parse(database_url).expect("database URL");
    url.set_host(server.host_str()).expect("host");
    url.set_port(server.port()).expect("port");
    url.to_string()
}

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
        extra: Option<poem::endpoint::BoxEndpoint<'static>>,
    ) -> Option<TestApp> {
        levee::install_crypto_provider();
        let (db, url) = TestDb::create(backend).await?;
        let redis_prefix = format!("levee-test:{}:", uuid::Uuid::new_v4().simple());
        let mut app = TestApp::start(&url, backend, &redis_prefix, tweak, extra, |_| {}).await;
        app.db = Some(db);
        Some(app)
    }

    /// Spawns with job handlers registered (and workers running in the app).
    pub async fn spawn_with_jobs(
        backend: Backend,
        tweak: impl FnOnce(&mut Config),
        register: impl FnOnce(&mut levee::jobs::Registry),
    ) -> Option<TestApp> {
        levee::install_crypto_provider();
        let (db, url) = TestDb::create(backend).await?;
        let redis_prefix = format!("levee-test:{}:", uuid::Uuid::new_v4().simple());
        let mut app = TestApp::start(&url, backend, &redis_prefix, tweak, None, register).await;
        app.db = Some(db);
        Some(app)
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

    /// A second instance on the same database and Redis prefix: a two-process fleet.
    pub async fn spawn_sibling(&self, backend: Backend) -> TestApp {
        self.spawn_sibling_with(backend, |_| {}).await
    }

    pub async fn spawn_sibling_with(
        &self,
        backend: Backend,
        tweak: impl FnOnce(&mut Config),
    ) -> TestApp {
        let prefix = self.state.config().redis.key_prefix.clone();
        TestApp::start(&self.db_url, backend, &prefix, tweak, None, |_| {}).await
    }

    async fn start(
        url: &str,
        backend: Backend,
        redis_prefix: &str,
        tweak: impl FnOnce(&mut Config),
        extra: Option<poem::endpoint::BoxEndpoint<'static>>,
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
        TestApp {
            addr,
            db_url: url.to_string(),
            metrics_addr,
            client,
            state,
            db: None,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    /// Starts a GET in the background (for requests that must overlap others).
    pub fn spawn_get(
        &self,
        path: &str,
    ) -> tokio::task::JoinHandle<reqwest::Result<reqwest::Response>> {
        let (client, url) = (self.client.clone(), self.url(path));
        tokio::spawn(async move { client.get(url).send().await })
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

/// The `levee` binary running as a child process, its stdout collected line by line.
pub struct LeveeProcess {
    pub child: Child,
    pub addr: Option<SocketAddr>,
    lines: Arc<Mutex<Vec<String>>>,
}

pub fn levee_command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_levee"));
    cmd.args(args)
        .env_remove("LEVEE_CONFIG")
        .env_remove("RUST_LOG");
    cmd
}

impl LeveeProcess {
    /// Starts `levee serve` on a random port with a fresh SQLite database in `dir`, plus
    /// any extra TOML appended to the config file.
    pub fn serve_sqlite(dir: &std::path::Path, extra_toml: &str) -> LeveeProcess {
        let config = dir.join("levee.toml");
        let toml = format!(
            "[database]\nurl = \"sqlite:{}/levee.db\"\n[server]\nport = 0\n{extra_toml}",
            dir.display()
        );
        std::fs::write(&config, toml).expect("write config");
        LeveeProcess::serve(&config)
    }

    /// Starts `levee serve --config <config_path>` and waits until it is listening.
    pub fn serve(config_path: &std::path::Path) -> LeveeProcess {
        Self::start("serve", config_path, "levee is serving")
    }

    /// Starts `levee worker --config <config_path>` and waits until its workers run.
    pub fn worker(config_path: &std::path::Path) -> LeveeProcess {
        Self::start("worker", config_path, "job workers started")
    }

    /// Starts `levee <command> --config <config_path>` and waits for the log line `ready`.
    fn start(command: &str, config_path: &std::path::Path, ready: &'static str) -> LeveeProcess {
        let config = config_path.to_str().expect("utf-8 path");
        let mut child = levee_command(&[command, "--config", config])
            .env("LEVEE_LOG__FORMAT", "json")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn levee");
        let stdout = child.stdout.take().expect("stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let sink = lines.clone();
        std::thread::spawn(move || {
            // The address is the last `addr` logged up to the ready line (serve logs it on
            // that line, the worker on its probe listener's line before it).
            let mut addr: Option<SocketAddr> = None;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                    if let Some(a) = v["addr"].as_str().and_then(|a| a.parse().ok()) {
                        addr = Some(a);
                    }
                    if v["message"] == ready {
                        let _ = addr_tx.send(addr);
                    }
                }
                sink.lock().expect("lines").push(line);
            }
        });
        let addr = addr_rx.recv_timeout(Duration::from_secs(60)).ok().flatten();
        LeveeProcess { child, addr, lines }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr.expect("levee is listening"))
    }

    pub fn log_lines(&self) -> Vec<String> {
        self.lines.lock().expect("lines").clone()
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args(["-s", signal, &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Waits for the process to exit; returns its exit code.
    pub fn wait(&mut self, limit: Duration) -> Option<i32> {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for LeveeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Asserts `resp` is an RFC 9457 problem with `status`, carrying the request id, and
/// returns its body.
pub async fn problem(resp: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(resp.status().as_u16(), status);
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    assert_eq!(content_type.as_deref(), Some("application/problem+json"));
    let request_id = resp
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body: serde_json::Value = resp.json().await.expect("json body");
    for member in ["type", "title", "detail", "instance"] {
        assert!(body[member].is_string(), "{member} missing in {body}");
    }
    assert_eq!(body["status"], status);
    assert_eq!(body["request_id"].as_str(), request_id.as_deref());
    body
}

/// The JSON pointers named in a problem's `errors`.
pub fn pointers(body: &serde_json::Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["pointer"].as_str().map(str::to_string))
        .collect()
}
