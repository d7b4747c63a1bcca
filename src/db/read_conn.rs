//! The connection `Db::read()` hands out. It runs each query on a replica in rotation, or
//! on the primary (through the primary's breaker). A replica's own breaker opens on its
//! first connection failure, which takes it out of rotation at once, ahead of the lag
//! monitor; while it is open (or its one probe is running) queries go to the primary — so
//! failover stays inside `db` and callers only see the `DbErr` of the read that failed.

use super::guarded::{GuardedConn, is_connection_failure};
use super::replicas::{Replica, Replicas};
use crate::resilience::Permit;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, ExecResult, QueryResult, Statement};

pub struct ReadConn<'a> {
    primary: &'a GuardedConn,
    /// The replica set and index, when this read goes to a replica.
    replica: Option<(&'a Replicas, usize)>,
}

impl<'a> ReadConn<'a> {
    pub(super) fn primary(primary: &'a GuardedConn) -> Self {
        Self {
            primary,
            replica: None,
        }
    }

    pub(super) fn replica(primary: &'a GuardedConn, replicas: &'a Replicas, index: usize) -> Self {
        Self {
            primary,
            replica: Some((replicas, index)),
        }
    }

    /// The replica this query may run on, with its breaker's permit; `None`: the primary.
    fn replica_permit(&self) -> Option<(&'a Replica, Permit<'a>)> {
        let (replicas, index) = self.replica?;
        let replica = &replicas.members()[index];
        let permit = replica.breaker.permit().ok()?;
        Some((replica, permit))
    }
}

/// Reports a replica query's outcome to its breaker, and the rotation when that opened it.
fn observe<T>(replica: &Replica, permit: Permit<'_>, result: Result<T, DbErr>) -> Result<T, DbErr> {
    match &result {
        Err(err) if is_connection_failure(err) => {
            permit.failed();
            replica.publish_rotation();
        }
        _ => permit.succeeded(),
    }
    result
}

/// Runs `$call` on the replica when it admits the query, else on the primary.
macro_rules! route {
    ($self:ident, $conn:ident => $call:expr) => {
        match $self.replica_permit() {
            Some((replica, permit)) => {
                let $conn = &replica.conn;
                observe(replica, permit, $call.await)
            }
            None => {
                let $conn = $self.primary;
                $call.await
            }
        }
    };
}

#[async_trait::async_trait]
impl ConnectionTrait for ReadConn<'_> {
    fn get_database_backend(&self) -> DbBackend {
        self.primary.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        route!(self, conn => conn.execute_raw(stmt))
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        route!(self, conn => conn.execute_unprepared(sql))
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        route!(self, conn => conn.query_one_raw(stmt))
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        route!(self, conn => conn.query_all_raw(stmt))
    }

    fn support_returning(&self) -> bool {
        self.primary.support_returning()
    }
}
