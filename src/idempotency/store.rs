//! The queries on `idempotency_keys`. Claims and releases commit on their own, so a
//! duplicate sees the claim while the first request runs; the completion is written in
//! the caller's transaction. Every change to a held row names the holder's `lock_token`,
//! so a holder whose lease ran out and was taken over changes nothing.

use super::{Completion, KeyScope, Request, StoredResponse};
use crate::db::relaxed_commit;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, Statement, Value};
use std::collections::HashSet;
use uuid::Uuid;

const PROCESSING: &str = "processing";
const COMPLETED: &str = "completed";

/// A key's row as `begin` needs it.
pub(super) struct Row {
    pub fingerprint: String,
    pub response: Option<StoredResponse>,
    pub lock_token: Uuid,
    pub locked_until: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// When a claim taken at `now` ends: its lease and the key's expiry.
pub(super) struct Times {
    pub now: DateTime<Utc>,
    pub locked_until: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

fn statement(conn: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(conn.get_database_backend(), sql, values)
}

fn key_of(request: &Request) -> [Value; 2] {
    [request.scope.as_str().into(), request.key.as_str().into()]
}

/// `$1`…`$8` of a claim: scope, key, fingerprint, state, lock token, created, expires,
/// locked until.
fn claim_values(request: &Request, token: Uuid, times: &Times) -> Vec<Value> {
    let [scope, key] = key_of(request);
    vec![
        scope,
        key,
        request.fingerprint.as_str().into(),
        PROCESSING.into(),
        token.into(),
        times.now.into(),
        times.expires_at.into(),
        times.locked_until.into(),
    ]
}

/// Inserts a processing row held by `token`; `false` when the key already has one.
pub(super) async fn insert(
    conn: &impl ConnectionTrait,
    request: &Request,
    token: Uuid,
    times: &Times,
) -> Result<bool, DbErr> {
    // Relaxed: the claim only has to be seen by duplicates while the request runs. The
    // order (or whatever the request creates) commits flushed later and flushes the
    // claim with it; a claim a crash forgets had produced no response yet.
    let sql = format!(
        "INSERT INTO idempotency_keys (scope, key, fingerprint, state, lock_token, created_at, expires_at, locked_until) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE {} ON CONFLICT (scope, key) DO NOTHING",
        relaxed_commit(conn.get_database_backend())
    );
    let insert = statement(conn, &sql, claim_values(request, token, times));
    Ok(conn.execute_raw(insert).await?.rows_affected() == 1)
}

pub(super) async fn find(
    conn: &impl ConnectionTrait,
    request: &Request,
) -> Result<Option<Row>, DbErr> {
    let select = statement(
        conn,
        "SELECT fingerprint, state, lock_token, response_status, response_headers, response_body, locked_until, expires_at \
         FROM idempotency_keys WHERE scope = $1 AND key = $2",
        key_of(request).into(),
    );
    let Some(row) = conn.query_one_raw(select).await? else {
        return Ok(None);
    };
    let state: String = row.try_get("", "state")?;
    let response = if state == COMPLETED {
        let status: i32 = row.try_get("", "response_status")?;
        let headers: String = row.try_get("", "response_headers")?;
        Some(StoredResponse {
            status: u16::try_from(status).map_err(|e| DbErr::Custom(e.to_string()))?,
            headers: serde_json::from_str(&headers).map_err(|e| DbErr::Custom(e.to_string()))?,
            body: row.try_get("", "response_body")?,
        })
    } else {
        None
    };
    Ok(Some(Row {
        fingerprint: row.try_get("", "fingerprint")?,
        response,
        lock_token: row.try_get("", "lock_token")?,
        locked_until: row.try_get("", "locked_until")?,
        expires_at: row.try_get("", "expires_at")?,
    }))
}

/// Makes the row a fresh claim of `request` held by `token`, if `previous` still holds
/// it (so of two takers only one wins).
pub(super) async fn take_over(
    conn: &impl ConnectionTrait,
    request: &Request,
    previous: Uuid,
    token: Uuid,
    times: &Times,
) -> Result<bool, DbErr> {
    let update = statement(
        conn,
        "UPDATE idempotency_keys SET fingerprint = $3, state = $4, lock_token = $5, response_status = NULL, \
         response_headers = NULL, response_body = NULL, created_at = $6, expires_at = $7, locked_until = $8 \
         WHERE scope = $1 AND key = $2 AND lock_token = $9",
        [claim_values(request, token, times), vec![previous.into()]].concat(),
    );
    Ok(conn.execute_raw(update).await?.rows_affected() == 1)
}

/// Stores each completion's response if its claim is still held; returns the tokens of
/// the claims it completed. One statement: an `UPDATE … FROM (VALUES …)`, whose columns
/// both backends name `column1`…
pub(super) async fn complete_all(
    conn: &impl ConnectionTrait,
    completions: &[&Completion],
) -> Result<HashSet<Uuid>, DbErr> {
    if completions.is_empty() {
        return Ok(HashSet::new());
    }
    let mut values: Vec<Value> = vec![COMPLETED.into(), PROCESSING.into()];
    let mut rows = Vec::with_capacity(completions.len());
    for c in completions {
        let headers =
            serde_json::to_string(&c.response.headers).map_err(|e| DbErr::Custom(e.to_string()))?;
        let at = values.len();
        rows.push(format!(
            "(${}, ${}, ${}, ${}, ${}, ${})",
            at + 1,
            at + 2,
            at + 3,
            at + 4,
            at + 5,
            at + 6
        ));
        values.extend([
            c.scope.as_str().into(),
            c.key.as_str().into(),
            c.token.into(),
            i32::from(c.response.status).into(),
            headers.into(),
            c.response.body.clone().into(),
        ]);
    }
    let sql = format!(
        "UPDATE idempotency_keys SET state = $1, response_status = v.column4, \
         response_headers = v.column5, response_body = v.column6 FROM (VALUES {}) AS v \
         WHERE idempotency_keys.scope = v.column1 AND idempotency_keys.key = v.column2 \
         AND idempotency_keys.lock_token = v.column3 AND idempotency_keys.state = $2 \
         RETURNING lock_token",
        rows.join(", ")
    );
    conn.query_all_raw(statement(conn, &sql, values))
        .await?
        .iter()
        .map(|row| row.try_get::<Uuid>("", "lock_token"))
        .collect()
}

/// Deletes the claim held by `token`, so the key is free for a retry.
pub(super) async fn release(
    conn: &impl ConnectionTrait,
    scope: &KeyScope,
    key: &str,
    token: Uuid,
) -> Result<(), DbErr> {
    let delete = statement(
        conn,
        "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND lock_token = $3 AND state = $4",
        vec![
            scope.as_str().into(),
            key.into(),
            token.into(),
            PROCESSING.into(),
        ],
    );
    conn.execute_raw(delete).await.map(|_| ())
}

/// Deletes keys that expired before `now`; returns how many.
pub(super) async fn prune(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let delete = statement(
        conn,
        "DELETE FROM idempotency_keys WHERE expires_at < $1",
        vec![now.into()],
    );
    Ok(conn.execute_raw(delete).await?.rows_affected())
}
