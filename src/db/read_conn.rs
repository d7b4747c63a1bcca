//! The connection `Db::read()` hands out. It runs queries on a replica in rotation or on
//! the primary, and when a replica's connection fails it takes that replica out of the
//! rotation at once, ahead of the lag monitor — so failover stays inside `db` and callers
//! only see the `DbErr`.

use super::replicas::Replicas;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult, Statement,
};

pub struct ReadConn<'a> {
    conn: &'a DatabaseConnection,
    /// The replica set and index, when this read goes to a replica.
    replica: Option<(&'a Replicas, usize)>,
}

impl<'a> ReadConn<'a> {
    pub(super) fn primary(conn: &'a DatabaseConnection) -> Self {
        Self {
            conn,
            replica: None,
        }
    }

    pub(super) fn replica(replicas: &'a Replicas, index: usize) -> Self {
        Self {
            conn: &replicas.members()[index].conn,
            replica: Some((replicas, index)),
        }
    }

    /// Passes `result` through, taking a replica whose connection failed out of rotation.
    fn observe<T>(&self, result: Result<T, DbErr>) -> Result<T, DbErr> {
        if let (Err(err), Some((replicas, index))) = (&result, self.replica)
            && matches!(err, DbErr::Conn(_) | DbErr::ConnectionAcquire(_))
        {
            replicas.take_out(index);
        }
        result
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for ReadConn<'_> {
    fn get_database_backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.observe(self.conn.execute_raw(stmt).await)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.observe(self.conn.execute_unprepared(sql).await)
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.observe(self.conn.query_one_raw(stmt).await)
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.observe(self.conn.query_all_raw(stmt).await)
    }

    fn support_returning(&self) -> bool {
        self.conn.support_returning()
    }
}
