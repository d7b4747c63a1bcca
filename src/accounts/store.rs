//! Queries of `account_tokens`, on any connection or transaction the caller holds.

use super::entity::{ActiveModel, Column, Entity as Tokens, Model};
use super::model::{Purpose, Refusal};
use crate::auth::secret::{random_token, sha256_hex};
use crate::db::ids::UserId;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use std::time::Duration;
use uuid::Uuid;

/// Longest token looked up; issued ones are 43 characters.
const MAX_TOKEN_LEN: usize = 128;

/// What an email-change token carries besides its user: the address it confirms and the
/// session that asked.
#[derive(Debug, Clone, Default)]
pub struct Payload {
    pub new_email: Option<String>,
    pub session_id: Option<Uuid>,
}

/// Issues a token of `purpose` for `user_id`, valid for `ttl`, and revokes that user's
/// older live tokens of the purpose (only the newest link works). Returns the raw token:
/// 32 random bytes, URL-safe base64; only its SHA-256 is stored.
pub async fn issue(
    conn: &impl ConnectionTrait,
    user_id: UserId,
    purpose: Purpose,
    ttl: Duration,
    payload: Payload,
) -> Result<String, DbErr> {
    let now = Utc::now();
    Tokens::update_many()
        .col_expr(Column::RevokedAt, Expr::value(now))
        .filter(Column::UserId.eq(user_id))
        .filter(Column::Purpose.eq(purpose))
        .filter(Column::UsedAt.is_null())
        .filter(Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    let raw = random_token(32);
    ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        purpose: Set(purpose),
        token_hash: Set(sha256_hex(&raw)),
        created_at: Set(now),
        expires_at: Set(now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(1))),
        used_at: Set(None),
        revoked_at: Set(None),
        new_email: Set(payload.new_email),
        session_id: Set(payload.session_id),
    }
    .insert(conn)
    .await?;
    Ok(raw)
}

/// The live token of `purpose` that `raw` is, or why it is not one.
pub async fn check(
    conn: &impl ConnectionTrait,
    raw: &str,
    purpose: Purpose,
) -> Result<Result<Model, Refusal>, DbErr> {
    if raw.is_empty() || raw.len() > MAX_TOKEN_LEN {
        return Ok(Err(Refusal::Unknown));
    }
    let token = Tokens::find()
        .filter(Column::TokenHash.eq(sha256_hex(raw)))
        .one(conn)
        .await?;
    Ok(match token {
        Some(token) if token.purpose == purpose => judge(token, Utc::now()),
        _ => Err(Refusal::Unknown),
    })
}

fn judge(token: Model, now: DateTime<Utc>) -> Result<Model, Refusal> {
    if token.used_at.is_some() {
        Err(Refusal::Used)
    } else if token.revoked_at.is_some() {
        Err(Refusal::Superseded)
    } else if token.expires_at <= now {
        Err(Refusal::Expired)
    } else {
        Ok(token)
    }
}

/// Marks `token` used if it still is live: one conditional `UPDATE`, so of two concurrent
/// uses exactly one wins. `false` when it was used, revoked or expired meanwhile.
pub async fn consume(conn: &impl ConnectionTrait, token: &Model) -> Result<bool, DbErr> {
    let now = Utc::now();
    let updated = Tokens::update_many()
        .col_expr(Column::UsedAt, Expr::value(now))
        .filter(Column::Id.eq(token.id))
        .filter(Column::UsedAt.is_null())
        .filter(Column::RevokedAt.is_null())
        .filter(Column::ExpiresAt.gt(now))
        .exec(conn)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Revokes every live token of `user_id` (the password changed); returns how many.
pub async fn revoke_user(conn: &impl ConnectionTrait, user_id: UserId) -> Result<u64, DbErr> {
    Ok(Tokens::update_many()
        .col_expr(Column::RevokedAt, Expr::value(Utc::now()))
        .filter(Column::UserId.eq(user_id))
        .filter(Column::UsedAt.is_null())
        .filter(Column::RevokedAt.is_null())
        .exec(conn)
        .await?
        .rows_affected)
}

/// Deletes tokens that expired, were used or were revoked more than `retention` ago
/// (until then they are refused with the precise reason); returns how many.
pub async fn prune(conn: &impl ConnectionTrait, retention: chrono::Duration) -> Result<u64, DbErr> {
    let cutoff = Utc::now() - retention;
    Ok(Tokens::delete_many()
        .filter(
            Column::ExpiresAt
                .lt(cutoff)
                .or(Column::UsedAt.lt(cutoff))
                .or(Column::RevokedAt.lt(cutoff)),
        )
        .exec(conn)
        .await?
        .rows_affected)
}
