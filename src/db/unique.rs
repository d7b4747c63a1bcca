//! Lookups by a unique key, without `LIMIT`. sea-orm's `.one()` appends `LIMIT ?` with a
//! bound 1, and SQLite (3.47 on) lets its planner read a bound LIMIT: the statement is then
//! marked to be re-prepared whenever that parameter is bound again, which sqlx does on
//! every execution. Every `.one()` on SQLite thus paid a full parse and plan (a tenth of
//! the CPU of a cached read's misses). A unique key finds at most one row anyway.

use sea_orm::{ConnectionTrait, DbErr, Selector, SelectorTrait};

/// The row `selector` finds by a unique key, if any. Only for filters on a unique key (or
/// primary key): every matching row is read.
pub async fn unique<S: SelectorTrait>(
    selector: Selector<S>,
    conn: &impl ConnectionTrait,
) -> Result<Option<S::Item>, DbErr> {
    Ok(selector.all(conn).await?.into_iter().next())
}
