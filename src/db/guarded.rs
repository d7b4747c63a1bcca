//! A pool behind its circuit breaker. Every statement and `BEGIN` asks the pool's breaker
//! first: once the server has failed `database.breaker.failure_threshold` connections in a
//! row, statements fail at once — a [`Rejected`] inside a `DbErr::Conn` — instead of each
//! holding its request for `database.acquire_timeout` while sqlx retries the connection;
//! one probe at a time finds out whether the server is back. SQLite has no server to lose,
//! so its pools have no breaker.

use crate::config::BreakerConfig;
use crate::resilience::{Breaker, BreakerMetrics, BreakerSettings, Rejected, State};
use sea_orm::sqlx;
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    ExecResult, IsolationLevel, QueryResult, RuntimeErr, Statement, TransactionError,
    TransactionOptions, TransactionTrait,
};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A pool and, on PostgreSQL, the breaker every use of it goes through. Clones share both.
#[derive(Clone, Debug)]
pub struct GuardedConn {
    conn: DatabaseConnection,
    breaker: Option<Arc<Breaker>>,
}

/// The breaker of the pool labelled `pool` (`primary`, `replica:<name>`), exporting
/// `levee_db_breaker_state{pool}`, `levee_db_breaker_rejections_total{pool}` and
/// `levee_db_breaker_transitions_total{pool,to}`.
pub(super) fn pool_breaker(pool: &str, config: &BreakerConfig, failure_threshold: u32) -> Breaker {
    let metrics = BreakerMetrics {
        state: metrics::gauge!("levee_db_breaker_state", "pool" => pool.to_string()),
        rejections: metrics::counter!("levee_db_breaker_rejections_total", "pool" => pool.to_string()),
        transitions: State::ALL.map(|to| {
            metrics::counter!("levee_db_breaker_transitions_total", "pool" => pool.to_string(), "to" => to.as_str())
        }),
    };
    let settings = BreakerSettings::consecutive(failure_threshold, config.open_for.get());
    Breaker::new(pool, settings, metrics)
}

impl GuardedConn {
    pub(super) fn new(conn: DatabaseConnection, breaker: Breaker) -> Self {
        Self {
            conn,
            breaker: Some(Arc::new(breaker)),
        }
    }

    pub(super) fn unguarded(conn: DatabaseConnection) -> Self {
        Self {
            conn,
            breaker: None,
        }
    }

    /// The pool itself, past the breaker: for start-up and maintenance steps that should
    /// wait for the server rather than fail fast (migrations, closing).
    pub fn pool(&self) -> &DatabaseConnection {
        &self.conn
    }

    async fn guard<T, E: From<Rejected>>(
        &self,
        work: impl Future<Output = Result<T, E>>,
        is_failure: impl FnOnce(&E) -> bool,
    ) -> Result<T, E> {
        match &self.breaker {
            Some(breaker) => breaker.call(work, is_failure).await,
            None => work.await,
        }
    }
}

impl From<Rejected> for DbErr {
    /// A connection error, so code that knows nothing of breakers still treats it as one.
    fn from(rejected: Rejected) -> Self {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, rejected);
        DbErr::Conn(RuntimeErr::SqlxError(Arc::new(sqlx::Error::Io(io))))
    }
}

/// The breaker's rejection inside `err`, when a breaker refused the statement (so the HTTP
/// layer can tell the client when to retry).
pub fn rejection(err: &DbErr) -> Option<&Rejected> {
    let DbErr::Conn(RuntimeErr::SqlxError(sqlx_err)) = err else {
        return None;
    };
    let sqlx::Error::Io(io) = sqlx_err.as_ref() else {
        return None;
    };
    io.get_ref()?.downcast_ref::<Rejected>()
}

/// Whether `err` says the server failed rather than the statement: a refused, lost or
/// timed-out connection, or a server shutting down. Constraint violations, statement
/// timeouts and other query errors are the statement's own and do not count.
pub(super) fn is_connection_failure(err: &DbErr) -> bool {
    use sea_orm::error::ConnAcquireErr;
    match err {
        // Closed by levee itself, at shutdown.
        DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed) => false,
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        // A connection that dies mid-statement surfaces as an execution or query error.
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            match e.as_ref() {
                sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::WorkerCrashed => true,
                // SQLSTATE class 08 (connection exception) and 57P01–57P03 (the server is
                // shutting down or starting); 57014 (statement timeout) is the query's own.
                sqlx::Error::Database(db) => db
                    .code()
                    .is_some_and(|c| c.starts_with("08") || c.starts_with("57P0")),
                _ => false,
            }
        }
        _ => false,
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for GuardedConn {
    fn get_database_backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        let work = self.conn.execute_raw(stmt);
        self.guard(work, is_connection_failure).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let work = self.conn.execute_unprepared(sql);
        self.guard(work, is_connection_failure).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        let work = self.conn.query_one_raw(stmt);
        self.guard(work, is_connection_failure).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let work = self.conn.query_all_raw(stmt);
        self.guard(work, is_connection_failure).await
    }

    fn support_returning(&self) -> bool {
        self.conn.support_returning()
    }
}

impl<E> From<Rejected> for TransactionError<E> {
    fn from(rejected: Rejected) -> Self {
        TransactionError::Connection(rejected.into())
    }
}

fn is_transaction_failure<E>(err: &TransactionError<E>) -> bool {
    matches!(err, TransactionError::Connection(e) if is_connection_failure(e))
}

/// A transaction holds its connection, so only `BEGIN` (which acquires it) asks the
/// breaker; a server lost mid-transaction is noticed by the next `BEGIN` or statement.
#[async_trait::async_trait]
impl TransactionTrait for GuardedConn {
    type Transaction = DatabaseTransaction;

    async fn begin(&self) -> Result<DatabaseTransaction, DbErr> {
        self.guard(self.conn.begin(), is_connection_failure).await
    }

    async fn begin_with_config(
        &self,
        isolation_level: Option<IsolationLevel>,
        access_mode: Option<AccessMode>,
    ) -> Result<DatabaseTransaction, DbErr> {
        let work = self.conn.begin_with_config(isolation_level, access_mode);
        self.guard(work, is_connection_failure).await
    }

    async fn begin_with_options(
        &self,
        options: TransactionOptions,
    ) -> Result<DatabaseTransaction, DbErr> {
        let work = self.conn.begin_with_options(options);
        self.guard(work, is_connection_failure).await
    }

    async fn transaction<F, T, E>(&self, callback: F) -> Result<T, TransactionError<E>>
    where
        F: for<'c> FnOnce(
                &'c DatabaseTransaction,
            ) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        let work = self.conn.transaction(callback);
        self.guard(work, is_transaction_failure).await
    }

    async fn transaction_with_config<F, T, E>(
        &self,
        callback: F,
        isolation_level: Option<IsolationLevel>,
        access_mode: Option<AccessMode>,
    ) -> Result<T, TransactionError<E>>
    where
        F: for<'c> FnOnce(
                &'c DatabaseTransaction,
            ) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        let work = self
            .conn
            .transaction_with_config(callback, isolation_level, access_mode);
        self.guard(work, is_transaction_failure).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::error::ConnAcquireErr;
    use std::time::Duration;

    fn sqlx_query_err(err: sqlx::Error) -> DbErr {
        DbErr::Query(RuntimeErr::SqlxError(Arc::new(err)))
    }

    #[test]
    fn a_rejection_survives_the_trip_through_dberr() {
        let rejected = Rejected {
            breaker: "primary".into(),
            retry_after: Duration::from_millis(2500),
        };
        let err = DbErr::from(rejected.clone());
        assert_eq!(rejection(&err), Some(&rejected));
        assert_eq!(rejection(&DbErr::Custom("other".into())), None);
    }

    #[test]
    fn lost_refused_and_timed_out_connections_are_failures_query_errors_are_not() {
        let lost = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        let failures = [
            DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
            DbErr::Conn(RuntimeErr::Internal("refused".into())),
            sqlx_query_err(sqlx::Error::Io(lost)),
            sqlx_query_err(sqlx::Error::PoolTimedOut),
        ];
        for err in &failures {
            assert!(is_connection_failure(err), "{err}");
        }
        let not_failures = [
            DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
            sqlx_query_err(sqlx::Error::RowNotFound),
            DbErr::RecordNotFound("post".into()),
            DbErr::Custom("bad input".into()),
        ];
        for err in &not_failures {
            assert!(!is_connection_failure(err), "{err}");
        }
    }
}
