//! Writes that commit without waiting for the WAL flush. On this kind of disk
//! a flushed commit costs 0.5–2 ms, an unflushed one microseconds (pgbench, one client:
//! ~500–1,900 against ~15,000–19,000 updates/s). `SET LOCAL synchronous_commit = off`
//! needs a transaction, i.e. three more round trips; setting it from inside the statement
//! (`set_config(…, true)`, local to the statement's own implicit transaction) needs none.
//!
//! Only for writes whose loss in a database crash is harmless: WAL replays in order, so
//! what a crash forgets is always the newest state, and a later flushed commit (of the
//! same session or any other) flushes every earlier one with it.

use sea_orm::DbBackend;

/// A condition, always true, to `AND` into the `WHERE` of a write: on PostgreSQL it also
/// turns off the wait for the WAL flush of that statement's commit. Inside a transaction
/// it relaxes the whole transaction's commit, so use it there only when every write of the
/// transaction may be forgotten (the saga's steps, `orders::store::Changes::relaxed`).
pub fn relaxed_commit(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => "set_config('synchronous_commit', 'off', true) IS NOT NULL",
        // SQLite commits to its WAL without a flush already (`synchronous = NORMAL`).
        _ => "1 = 1",
    }
}
