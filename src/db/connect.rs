//! Building connection pools for each backend.

use super::DbError;
use crate::config::{DatabaseConfig, redact_url};
use sea_orm::sqlx;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sea_orm::sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sea_orm::{DatabaseConnection, SqlxPostgresConnector, SqlxSqliteConnector};
use std::str::FromStr;
use std::time::Duration;

/// How long a SQLite connection waits on a lock held by another process (e.g. `levee user`
/// while `serve` runs) before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
const REPLICA_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);

/// SQLite: one write connection (writers queue in the pool instead of failing with
/// SQLITE_BUSY) and a pool of read-only connections, all in WAL mode.
pub(super) async fn sqlite(
    location: &str,
    config: &DatabaseConfig,
) -> Result<(DatabaseConnection, DatabaseConnection), DbError> {
    let path = super::sqlite_file::path_of(location);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| DbError::CreateDir {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let connect_error = |source| DbError::Connect {
        target: format!("sqlite:{}", path.display()),
        source,
    };
    let base = SqliteConnectOptions::new()
        .filename(&path)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .foreign_keys(true)
        .synchronous(SqliteSynchronous::Normal);
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .acquire_timeout(config.acquire_timeout.get())
        .idle_timeout(None)
        .connect_with(
            base.clone()
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal),
        )
        .await
        .map_err(connect_error)?;
    let readers = SqlitePoolOptions::new()
        .max_connections(config.max_connections.get_u32())
        .min_connections(config.min_connections.get_u32())
        .acquire_timeout(config.acquire_timeout.get())
        .idle_timeout(config.idle_timeout.get())
        .connect_with(base.read_only(true))
        .await
        .map_err(connect_error)?;
    Ok((
        SqlxSqliteConnector::from_sqlx_sqlite_pool(writer),
        SqlxSqliteConnector::from_sqlx_sqlite_pool(readers),
    ))
}

/// PostgreSQL: a pool with bounded acquire time and a server-side statement timeout.
pub(super) async fn postgres(
    url: &str,
    config: &DatabaseConfig,
) -> Result<DatabaseConnection, DbError> {
    let (pool, options) = postgres_pool(url, config)?;
    let pool = pool
        .connect_with(options)
        .await
        .map_err(|source| connect_error(url, source))?;
    Ok(SqlxPostgresConnector::from_sqlx_postgres_pool(pool))
}

/// A replica pool: connects on first use (a replica may be down at start-up) and waits
/// at most a second for a connection — sqlx retries refused connections until the acquire
/// timeout, and a read is better failed fast (taking the replica out of rotation) than
/// held for `database.acquire_timeout`.
pub(super) fn replica(url: &str, config: &DatabaseConfig) -> Result<DatabaseConnection, DbError> {
    let (pool, options) = postgres_pool(url, config)?;
    let pool = pool.acquire_timeout(REPLICA_ACQUIRE_TIMEOUT.min(config.acquire_timeout.get()));
    Ok(SqlxPostgresConnector::from_sqlx_postgres_pool(
        pool.connect_lazy_with(options),
    ))
}

fn connect_error(url: &str, source: sea_orm::sqlx::Error) -> DbError {
    DbError::Connect {
        target: redact_url(url),
        source,
    }
}

fn postgres_pool(
    url: &str,
    config: &DatabaseConfig,
) -> Result<(PgPoolOptions, PgConnectOptions), DbError> {
    let options = PgConnectOptions::from_str(url).map_err(|e| connect_error(url, e))?;
    // Set per connection rather than as a startup option, which PgBouncer drops.
    let set_timeout = format!(
        "SET statement_timeout = {}",
        config.statement_timeout.get().as_millis()
    );
    let pool = PgPoolOptions::new()
        .max_connections(config.max_connections.get_u32())
        .min_connections(config.min_connections.get_u32())
        .acquire_timeout(config.acquire_timeout.get())
        .idle_timeout(config.idle_timeout.get())
        .after_connect(move |conn, _| {
            let set_timeout = sqlx::raw_sql(sqlx::AssertSqlSafe(set_timeout.clone()));
            Box::pin(async move {
                use sqlx::Executor;
                conn.execute(set_timeout).await.map(|_| ())
            })
        });
    Ok((pool, options))
}

/// `host:port/database` of a replica URL: its name in logs and metrics, without secrets.
pub(super) fn replica_name(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!(
            "{}:{}{}",
            u.host_str().unwrap_or("?"),
            u.port().unwrap_or(5432),
            u.path()
        ),
        Err(_) => redact_url(url),
    }
}
