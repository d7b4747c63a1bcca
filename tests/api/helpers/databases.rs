//! A database per test: a SQLite file in a temporary directory, or a PostgreSQL database
//! cloned from a migrated template; the `LEVEE_TEST_*` variables that point at services.

use levee::config::Config;
use sea_orm::sqlx::postgres::PgConnection;
use sea_orm::sqlx::{self, Connection};
use std::io::Write;

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
            Backend::Postgres => TestDb::postgres(true).await,
        }
    }

    /// An empty PostgreSQL database (no migrations), for migration tests.
    pub async fn empty_postgres() -> Option<(TestDb, String)> {
        TestDb::postgres(false).await
    }

    /// A new PostgreSQL database, migrated or empty, or `None` after a skip notice.
    async fn postgres(migrated: bool) -> Option<(TestDb, String)> {
        let Some(admin_url) = env_url(DB_ENV) else {
            skip("PostgreSQL variant", DB_ENV);
            return None;
        };
        let name = format!("levee_test_{}", uuid::Uuid::new_v4().simple());
        clone_template(&admin_url, &name, migrated).await;
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

/// The `n` a counting query (`SELECT COUNT(*) AS n …`) answers, on the primary.
pub async fn count(db: &levee::db::Db, sql: &str) -> i64 {
    use sea_orm::ConnectionTrait;
    let row = db
        .write()
        .query_one_raw(db.statement(sql, vec![]))
        .await
        .expect("query")
        .expect("a row");
    row.try_get::<i64>("", "n").expect("n")
}
