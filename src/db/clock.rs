//! The database's clock. Decisions shared by a fleet — who holds a job's lease, whether
//! it expired, whether a job is due — must read one clock, or a process whose clock runs
//! ahead steals leases and runs jobs early. The primary's clock is that one clock; on
//! SQLite it is the machine's, read through the same query.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

/// The database's current time (UTC). Both backends answer RFC 3339 text, parsed here, so
/// the value is bound back as a parameter exactly like every other timestamp (sea-orm's
/// own encoding on SQLite, where timestamps are compared as text).
pub async fn now(conn: &impl ConnectionTrait) -> Result<DateTime<Utc>, DbErr> {
    let backend = conn.get_database_backend();
    // `clock_timestamp()`, not `now()`: inside a transaction `now()` is its start.
    let sql = match backend {
        DbBackend::Postgres => {
            r#"SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS now"#
        }
        _ => "SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now') AS now",
    };
    let row = conn
        .query_one_raw(Statement::from_string(backend, sql))
        .await?
        .ok_or_else(|| DbErr::Custom("the database returned no time".into()))?;
    let text: String = row.try_get("", "now")?;
    DateTime::parse_from_rfc3339(&text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| DbErr::Custom(format!("the database's time {text:?}: {e}")))
}
