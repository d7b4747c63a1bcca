//! Applying and inspecting schema migrations, serialised across processes: an advisory lock
//! on one dedicated PostgreSQL session, or an IMMEDIATE transaction on SQLite.

use super::{Backend, Db, DbError};
use levee_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::postgres::PgConnection;
use sea_orm::sqlx::{self, Connection};
use sea_orm::{ConnectionTrait, DbErr, IntoDatabaseExecutor};
use std::collections::{BTreeMap, BTreeSet};
use thiserror::Error;

/// Arbitrary but fixed key of the PostgreSQL advisory lock held while migrating.
const MIGRATION_LOCK_KEY: i64 = 0x6c65_7665_656d_6967;

/// One migration known to this binary or recorded in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationState {
    pub name: String,
    /// When it was applied (seconds since the Unix epoch, as `seaql_migrations` keeps
    /// it); `None` while pending.
    pub applied_at: Option<i64>,
}

impl MigrationState {
    pub fn applied(&self) -> bool {
        self.applied_at.is_some()
    }
}

#[derive(Debug, Error)]
pub enum SchemaError {
    #[error("the database has {} pending migration(s): {}; run `levee migrate up` or set database.auto_migrate = true", .0.len(), .0.join(", "))]
    Pending(Vec<String>),
    #[error("the database schema is newer than this binary (unknown migrations: {}); upgrade levee", .0.join(", "))]
    Newer(Vec<String>),
    #[error(transparent)]
    Db(#[from] DbErr),
}

fn known() -> Vec<String> {
    Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect()
}

/// The applied migrations and when each was applied.
async fn applied_at(conn: &impl ConnectionTrait) -> Result<BTreeMap<String, i64>, DbErr> {
    Ok(Migrator::get_migration_models(conn)
        .await?
        .into_iter()
        .map(|m| (m.version, m.applied_at))
        .collect())
}

async fn applied(conn: &impl ConnectionTrait) -> Result<BTreeSet<String>, DbErr> {
    Ok(applied_at(conn).await?.into_keys().collect())
}

/// Every migration this binary knows, and when it was applied, in order.
pub async fn status(db: &Db) -> Result<Vec<MigrationState>, DbErr> {
    let applied = applied_at(db.write().pool()).await?;
    Ok(known()
        .into_iter()
        .map(|name| MigrationState {
            applied_at: applied.get(&name).copied(),
            name,
        })
        .collect())
}

/// Fails unless every known migration is applied and none is unknown.
pub async fn check(db: &Db) -> Result<(), SchemaError> {
    let applied = applied(db.write().pool()).await?;
    let known = known();
    let newer: Vec<String> = applied
        .iter()
        .filter(|v| !known.contains(v))
        .cloned()
        .collect();
    if !newer.is_empty() {
        return Err(SchemaError::Newer(newer));
    }
    let pending: Vec<String> = known.into_iter().filter(|n| !applied.contains(n)).collect();
    if pending.is_empty() {
        Ok(())
    } else {
        Err(SchemaError::Pending(pending))
    }
}

/// Applies every pending migration; returns the names applied (empty when current).
pub async fn up(db: &Db) -> Result<Vec<String>, DbError> {
    let newer_check = check(db).await;
    if let Err(SchemaError::Newer(names)) = newer_check {
        return Err(DbError::Query(DbErr::Custom(
            SchemaError::Newer(names).to_string(),
        )));
    }
    locked(db, Direction::Up).await
}

/// Reverts the last `steps` applied migrations; returns the names reverted.
pub async fn down(db: &Db, steps: u32) -> Result<Vec<String>, DbError> {
    locked(db, Direction::Down(steps)).await
}

#[derive(Clone, Copy)]
enum Direction {
    Up,
    Down(u32),
}

async fn locked(db: &Db, direction: Direction) -> Result<Vec<String>, DbError> {
    match db.backend() {
        Backend::Sqlite => {
            // The IMMEDIATE transaction takes SQLite's write lock for the whole run.
            let txn = db.begin_write().await?;
            let changed = run(&txn, direction).await?;
            txn.commit().await?;
            Ok(changed)
        }
        Backend::Postgres => {
            let url = db.session_url().unwrap_or_default();
            let connect_error = |source| DbError::Connect {
                target: crate::config::redact_url(url),
                source,
            };
            let mut session = PgConnection::connect(url).await.map_err(connect_error)?;
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(MIGRATION_LOCK_KEY)
                .execute(&mut session)
                .await
                .map_err(connect_error)?;
            let result = run(db.write().pool(), direction).await;
            // Closing the session releases the lock even if the unlock fails.
            let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(MIGRATION_LOCK_KEY)
                .execute(&mut session)
                .await;
            let _ = session.close().await;
            result
        }
    }
}

async fn run<'c, C>(conn: &'c C, direction: Direction) -> Result<Vec<String>, DbError>
where
    C: ConnectionTrait,
    &'c C: IntoDatabaseExecutor<'c>,
{
    let before = applied(conn).await?;
    match direction {
        Direction::Up => Migrator::up(conn, None).await?,
        Direction::Down(steps) => Migrator::down(conn, Some(steps)).await?,
    }
    let after = applied(conn).await?;
    Ok(before.symmetric_difference(&after).cloned().collect())
}
