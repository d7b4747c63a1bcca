//! The database's clock. Decisions shared by a fleet — who holds a job's lease, whether
//! it expired, whether a job is due — must read one clock, or a process whose clock runs
//! ahead steals leases and runs jobs early. The primary's clock is that one clock; on
//! SQLite it is the machine's, which every process sharing the file reads alike.
//!
//! Asking PostgreSQL for the time on every decision cost a round trip per order and per
//! job step, so the process measures its clock's offset from the primary's and re-measures
//! every [`RESYNC`]: the error is half a round trip at the last measurement plus the drift
//! since, milliseconds against leases and expiries of seconds to hours.

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a measured offset is trusted.
const RESYNC: Duration = Duration::from_secs(10);

/// The primary's clock minus this process's, and when that was measured. One per process:
/// a process has one primary (every test database lives on the same server).
static POSTGRES_OFFSET: Mutex<Option<(Instant, chrono::Duration)>> = Mutex::new(None);

/// The database's current time (UTC).
pub async fn now(conn: &impl ConnectionTrait) -> Result<DateTime<Utc>, DbErr> {
    // Microseconds, as PostgreSQL stores them: a value handed back equals the value read.
    if conn.get_database_backend() != DbBackend::Postgres {
        return Ok(Utc::now().trunc_subsecs(6));
    }
    if let Some(offset) = trusted_offset() {
        return Ok((Utc::now() + offset).trunc_subsecs(6));
    }
    let asked = Utc::now();
    let answer = postgres_now(conn).await?;
    let answered = Utc::now();
    // The server read its clock about halfway through the round trip.
    let offset = answer - (asked + (answered - asked) / 2);
    *lock() = Some((Instant::now(), offset));
    Ok(answer)
}

fn lock() -> std::sync::MutexGuard<'static, Option<(Instant, chrono::Duration)>> {
    // The guarded value is replaced whole, so a poisoned lock still holds a valid one.
    POSTGRES_OFFSET
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn trusted_offset() -> Option<chrono::Duration> {
    let (measured, offset) = (*lock())?;
    (measured.elapsed() < RESYNC).then_some(offset)
}

/// PostgreSQL's clock, read as RFC 3339 text (parsed here, so the value is bound back as a
/// parameter exactly like every other timestamp).
async fn postgres_now(conn: &impl ConnectionTrait) -> Result<DateTime<Utc>, DbErr> {
    // `clock_timestamp()`, not `now()`: inside a transaction `now()` is its start.
    let sql = r#"SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS now"#;
    let row = conn
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await?
        .ok_or_else(|| DbErr::Custom("the database returned no time".into()))?;
    let text: String = row.try_get("", "now")?;
    DateTime::parse_from_rfc3339(&text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| DbErr::Custom(format!("the database's time {text:?}: {e}")))
}
