//! Several INSERTs in one round trip. On PostgreSQL they become one statement of
//! data-modifying CTEs (`WITH s0 AS (INSERT …), s1 AS (INSERT …) INSERT …`): atomic by
//! itself, and foreign keys between its rows hold, since their checks run when the whole
//! statement ends. SQLite, whose round trips are function calls, runs them in turn.

use sea_orm::sea_query::InsertStatement;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, Value};
use std::fmt::Write;

/// Runs `inserts` (in a transaction, on SQLite, for them to be atomic).
pub async fn insert_all(
    conn: &impl ConnectionTrait,
    inserts: &[InsertStatement],
) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    if backend != DbBackend::Postgres || inserts.len() < 2 {
        for insert in inserts {
            conn.execute(insert).await?;
        }
        return Ok(());
    }
    conn.execute_raw(combined(inserts)).await.map(|_| ())
}

/// The PostgreSQL statement: each INSERT's placeholders shifted past the ones before it.
fn combined(inserts: &[InsertStatement]) -> Statement {
    let (mut sql, mut values) = (String::new(), Vec::<Value>::new());
    let last = inserts.len() - 1;
    for (i, insert) in inserts.iter().enumerate() {
        let built = DbBackend::Postgres.build(insert);
        let part = shift_placeholders(&built.sql, values.len());
        values.extend(built.values.map(|v| v.0).unwrap_or_default());
        let _ = match i {
            0 => write!(sql, "WITH s0 AS ({part})"),
            i if i < last => write!(sql, ", s{i} AS ({part})"),
            _ => write!(sql, " {part}"),
        };
    }
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// `sql` with every `$n` made `$(n + by)`. sea-query binds every value, so a `$` in its
/// output is always a placeholder.
fn shift_placeholders(sql: &str, by: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        match rest[..digits].parse::<usize>() {
            Ok(n) => {
                let _ = write!(out, "{}", n + by);
            }
            Err(_) => out.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::sea_query::{Alias, Query};

    fn insert(table: &str, values: [i64; 2]) -> InsertStatement {
        Query::insert()
            .into_table(Alias::new(table))
            .columns([Alias::new("a"), Alias::new("b")])
            .values_panic(values.map(Into::into))
            .to_owned()
    }

    #[test]
    fn placeholders_continue_across_the_inserts() {
        let statement = combined(&[
            insert("x", [1, 2]),
            insert("y", [3, 4]),
            insert("z", [5, 6]),
        ]);
        assert_eq!(
            statement.sql,
            r#"WITH s0 AS (INSERT INTO "x" ("a", "b") VALUES ($1, $2)), s1 AS (INSERT INTO "y" ("a", "b") VALUES ($3, $4)) INSERT INTO "z" ("a", "b") VALUES ($5, $6)"#
        );
        let values = statement.values.expect("values").0;
        assert_eq!(
            values,
            (1..=6).map(|n| Value::from(n as i64)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn shifting_leaves_the_rest_alone() {
        assert_eq!(shift_placeholders("$1, $12 and $", 10), "$11, $22 and $");
        assert_eq!(shift_placeholders("no params", 3), "no params");
    }
}
