//! Database handles. Every query goes through an explicit role: `write()` for writes and
//! read-after-write, `read()` for plain reads, which go to a replica in rotation when
//! replicas are configured (and to the primary for a client reading its own writes).
//! On PostgreSQL each pool sits behind a circuit breaker (`guarded`), so a dead server
//! fails requests at once instead of holding each for `database.acquire_timeout`.

pub mod clock;
mod connect;
pub mod consistency;
mod guarded;
pub mod ids;
mod insert_all;
pub mod migrate;
pub mod pagination;
mod pool_stats;
mod read_conn;
mod relaxed;
mod replicas;
pub mod sqlite_file;
mod stored_enum;
mod unique;
mod versioned;

use crate::config::DatabaseConfig;
pub use guarded::{GuardedConn, rejection};
pub use insert_all::insert_all;
pub use read_conn::ReadConn;
pub use relaxed::relaxed_commit;
use replicas::Replicas;
use sea_orm::SqlErr;
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbErr, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};
use std::sync::Arc;
use std::time::SystemTime;
use thiserror::Error;
pub use unique::unique;
pub use versioned::{SaveError, Versioned, save_next_version};

/// Whether `err` is a unique-constraint violation (the database decided a clash; callers
/// turn it into a field error).
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

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
    #[error("cannot hold the database file: {0}")]
    Hold(String),
    #[error(transparent)]
    Query(#[from] DbErr),
}

/// The pools of one process: a write handle on the primary, a read handle (the primary,
/// or SQLite's read-only connections) and the replicas, if any.
#[derive(Clone)]
pub struct Db {
    write: GuardedConn,
    read: GuardedConn,
    backend: Backend,
    session_url: Option<String>,
    replicas: Option<Arc<Replicas>>,
    pools: Arc<pool_stats::Pools>,
    /// Replica lag and pool statistics sampling; stopped by `close`.
    monitors: Arc<Vec<tokio::task::AbortHandle>>,
    /// SQLite: this process's share of the database file (`levee restore` waits for none).
    _holder: Option<Arc<sqlite_file::Holder>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .field(
                "replicas",
                &self.replicas.as_ref().map_or(0, |r| r.members().len()),
            )
            .finish()
    }
}

impl Db {
    pub async fn connect(config: &DatabaseConfig) -> Result<Self, DbError> {
        let interval = config.replica_check_interval.get();
        if let Some(path) = config.url.strip_prefix("sqlite:") {
            let (write, read) = connect::sqlite(path, config).await?;
            let holder = sqlite_file::Holder::acquire(&sqlite_file::path_of(path))
                .map_err(|e| DbError::Hold(e.to_string()))?;
            let pools = Arc::new(pool_stats::Pools::new(vec![
                ("sqlite-writer".to_string(), "write", write.clone()),
                ("sqlite-readers".to_string(), "read", read.clone()),
            ]));
            return Ok(Db {
                write: GuardedConn::unguarded(write),
                read: GuardedConn::unguarded(read),
                backend: Backend::Sqlite,
                session_url: None,
                replicas: None,
                monitors: Arc::new(vec![pools.clone().spawn(interval).abort_handle()]),
                pools,
                _holder: Some(Arc::new(holder)),
            });
        }
        let primary = connect::postgres(&config.url, config).await?;
        let mut pools = vec![("primary".to_string(), "write, read", primary.clone())];
        let mut monitors = Vec::new();
        let replicas = if config.replicas.is_empty() {
            None
        } else {
            let mut members = Vec::new();
            for url in &config.replicas {
                let conn = connect::replica(url, config)?;
                let name = connect::replica_name(url);
                pools.push((name.clone(), "read", conn.clone()));
                members.push((name, conn));
            }
            let replicas = Arc::new(Replicas::new(
                members,
                interval,
                config.max_replica_lag.get(),
                &config.breaker,
            ));
            // A first round before serving, so reads use replicas from the first request.
            replicas.check(&primary).await;
            let monitor = replicas.clone().spawn_monitor(primary.clone());
            monitors.push(monitor.abort_handle());
            Some(replicas)
        };
        let pools = Arc::new(pool_stats::Pools::new(pools));
        monitors.push(pools.clone().spawn(interval).abort_handle());
        let breaker = guarded::pool_breaker(
            "primary",
            &config.breaker,
            config.breaker.failure_threshold.get_u32(),
        );
        let primary = GuardedConn::new(primary, breaker);
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
            replicas,
            pools,
            monitors: Arc::new(monitors),
            _holder: None,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The primary: writes, and reads that must see the latest writes.
    pub fn write(&self) -> &GuardedConn {
        &self.write
    }

    /// Plain reads, which may be served slightly stale: a replica in rotation, else the
    /// primary (always the primary for a client reading its own writes).
    pub fn read(&self) -> ReadConn<'_> {
        let picked = self
            .replicas
            .as_deref()
            .filter(|_| !consistency::must_read_primary())
            .and_then(|replicas| Some((replicas, replicas.pick()?)));
        match picked {
            Some((replicas, (index, replica))) => {
                replica.reads.increment(1);
                ReadConn::replica(&self.read, replicas, index)
            }
            None => {
                if let Some(replicas) = &self.replicas {
                    replicas.primary_reads.increment(1);
                }
                ReadConn::primary(&self.read)
            }
        }
    }

    /// Whether reads may go to replicas (so read-your-writes matters).
    pub fn has_replicas(&self) -> bool {
        self.replicas.is_some()
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

    /// Each replica's name and whether the replica monitor's last sample reached it.
    pub fn replica_reachability(&self) -> Vec<(String, bool)> {
        self.replicas
            .as_ref()
            .map_or_else(Vec::new, |r| r.reachability())
    }

    /// Each replica's last sampled lag and rotation state; empty without replicas.
    pub fn replica_stats(&self) -> Vec<crate::stats::ReplicaStats> {
        self.replicas.as_ref().map_or_else(Vec::new, |r| r.stats())
    }

    /// Each connection pool now, with its sampled acquire times (admin console).
    pub fn pool_stats(&self) -> Vec<crate::stats::PoolStats> {
        self.pools.stats()
    }

    /// Each replica's lag per minute up to `now`; empty without replicas.
    pub fn replica_history(&self, now: SystemTime) -> Vec<crate::stats::ReplicaHistory> {
        self.replicas
            .as_ref()
            .map_or_else(Vec::new, |r| r.history(now))
    }

    /// A cheap round trip to the primary.
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.write.execute_unprepared("SELECT 1").await.map(|_| ())
    }

    pub async fn close(&self) {
        for monitor in self.monitors.iter() {
            monitor.abort();
        }
        let replicas = self
            .replicas
            .iter()
            .flat_map(|r| r.members())
            .map(|r| &r.conn);
        let primary = [&self.write, &self.read].map(GuardedConn::pool);
        for pool in primary.into_iter().chain(replicas) {
            if let Err(e) = pool.close_by_ref().await {
                tracing::warn!(error = %e, "closing a database pool failed");
            }
        }
    }
}
