//! Database handles. Every query goes through an explicit role: `write()` for writes and
//! read-after-write, `read()` for plain reads (replica routing plugs in here).

mod connect;
pub mod migrate;
pub mod pagination;

use crate::config::DatabaseConfig;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};
use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Error)]
pub enum DbError {
    #[error("cannot create the database directory {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot connect to {target}: {source}")]
    Connect {
        target: String,
        source: sea_orm::sqlx::Error,
    },
    #[error(transparent)]
    Query(#[from] DbErr),
}

/// The pools of one process: a write handle on the primary and a read handle.
#[derive(Clone, Debug)]
pub struct Db {
    write: DatabaseConnection,
    read: DatabaseConnection,
    backend: Backend,
    session_url: Option<String>,
}

impl Db {
    pub async fn connect(config: &DatabaseConfig) -> Result<Self, DbError> {
        if let Some(path) = config.url.strip_prefix("sqlite:") {
            let (write, read) = connect::sqlite(path, config).await?;
            Ok(Db {
                write,
                read,
                backend: Backend::Sqlite,
                session_url: None,
            })
        } else {
            let primary = connect::postgres(&config.url, config).await?;
            if !config.replicas.is_empty() {
                tracing::warn!(
                    replicas = config.replicas.len(),
                    "database.replicas is configured but replica routing is not available yet; reads use the primary"
                );
            }
            Ok(Db {
                read: primary.clone(),
                write: primary,
                backend: Backend::Postgres,
                session_url: Some(
                    config
                        .direct_url
                        .clone()
                        .unwrap_or_else(|| config.url.clone()),
                ),
            })
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The primary: writes, and reads that must see the latest writes.
    pub fn write(&self) -> &DatabaseConnection {
        &self.write
    }

    /// Plain reads, which may be served slightly stale.
    pub fn read(&self) -> &DatabaseConnection {
        &self.read
    }

    /// A write transaction. On SQLite it is `BEGIN IMMEDIATE`, so concurrent writers
    /// queue for the write lock instead of failing with SQLITE_BUSY mid-transaction.
    pub async fn begin_write(&self) -> Result<DatabaseTransaction, DbErr> {
        let sqlite_transaction_mode =
            (self.backend == Backend::Sqlite).then_some(SqliteTransactionMode::Immediate);
        self.write
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode,
                ..Default::default()
            })
            .await
    }

    /// PostgreSQL URL for session-scoped features (advisory locks, LISTEN): `direct_url`
    /// when set, so they bypass a transaction-pooling PgBouncer.
    pub fn session_url(&self) -> Option<&str> {
        self.session_url.as_deref()
    }

    /// A raw statement for this backend. The SQL uses `$n` placeholders, which SQLite
    /// accepts too.
    pub fn statement(&self, sql: &str, values: Vec<sea_orm::Value>) -> sea_orm::Statement {
        sea_orm::Statement::from_sql_and_values(self.write.get_database_backend(), sql, values)
    }

    /// A cheap round trip to the primary.
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.write.execute_unprepared("SELECT 1").await.map(|_| ())
    }

    pub async fn close(&self) {
        for pool in [&self.write, &self.read] {
            if let Err(e) = pool.close_by_ref().await {
                tracing::warn!(error = %e, "closing a database pool failed");
            }
        }
    }
}
