//! Refresh tokens: opaque, single use, rotated into families. Presenting a token that was
//! already used revokes its whole family (the thief's session and the victim's), except
//! for the immediately previous token within the grace window (two tabs refreshing at
//! once), which gets the successor already issued: the family never branches.

use super::entity::refresh_token::{ActiveModel, Column, Entity as RefreshTokens, Model};
use super::secret::{random_token, sha256_hex};
use crate::db::ids::UserId;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use sha2::{Digest, Sha256};
use std::time::Duration;
use uuid::Uuid;

/// Prefix that makes refresh tokens recognisable (e.g. to secret scanners).
const PREFIX: &str = "lvr_";

/// Why a refresh token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Unknown,
    Expired,
    Revoked,
    /// Reuse outside the grace window: the family is now revoked.
    Reused {
        user_id: UserId,
        family_id: Uuid,
    },
}

/// What presenting a refresh token leads to.
#[derive(Debug)]
pub enum Rotation {
    /// The family's successor token (new, or within grace the one already issued) for
    /// this user.
    Rotate {
        user_id: UserId,
        family_id: Uuid,
        refresh_token: String,
        grace: bool,
    },
    Refused(Refusal),
}

/// Stores a new token in `family_id` for `user_id` and returns the raw token.
pub async fn issue(
    conn: &impl ConnectionTrait,
    user_id: UserId,
    family_id: Uuid,
    ttl: Duration,
) -> Result<String, DbErr> {
    let raw = format!("{PREFIX}{}", random_token(32));
    store(conn, user_id, family_id, ttl, &raw).await?;
    Ok(raw)
}

async fn store(
    conn: &impl ConnectionTrait,
    user_id: UserId,
    family_id: Uuid,
    ttl: Duration,
    raw: &str,
) -> Result<(), DbErr> {
    let now = Utc::now();
    ActiveModel {
        id: Set(Uuid::now_v7()),
        family_id: Set(family_id),
        user_id: Set(user_id),
        token_hash: Set(sha256_hex(raw)),
        created_at: Set(now),
        expires_at: Set(now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(30))),
        used_at: Set(None),
        revoked_at: Set(None),
        successor_salt: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// The successor of `raw`: derived from the raw token, which only its holder has (the
/// table keeps its hash), and a random salt stored on its row. So a repeat within grace
/// can be handed the same successor, while neither a leaked table nor a leaked old token
/// alone yields it. Both inputs carry 256 random bits; the label separates this use.
fn successor_of(raw: &str, salt: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"levee refresh successor\0")
        .chain_update(salt.as_bytes())
        .chain_update(b"\0")
        .chain_update(raw.as_bytes())
        .finalize();
    format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(digest))
}

async fn find(conn: &impl ConnectionTrait, raw: &str) -> Result<Option<Model>, DbErr> {
    let found = RefreshTokens::find()
        .filter(Column::TokenHash.eq(sha256_hex(raw)))
        .into_model();
    crate::db::unique(found, conn).await
}

/// Decides what `raw` is worth, records its use and issues its successor (valid for
/// `ttl`). Run inside a write transaction and commit even on refusal: a detected reuse
/// must stay revoked.
pub async fn consume(
    conn: &impl ConnectionTrait,
    raw: &str,
    grace: Duration,
    ttl: Duration,
) -> Result<Rotation, DbErr> {
    let Some(token) = find(conn, raw).await? else {
        return Ok(Rotation::Refused(Refusal::Unknown));
    };
    let now = Utc::now();
    if token.revoked_at.is_some() {
        return Ok(Rotation::Refused(Refusal::Revoked));
    }
    if token.expires_at <= now {
        return Ok(Rotation::Refused(Refusal::Expired));
    }
    let rotate = |refresh_token, grace| Rotation::Rotate {
        user_id: token.user_id,
        family_id: token.family_id,
        refresh_token,
        grace,
    };
    if token.used_at.is_none() {
        // Conditional update: of two concurrent presenters exactly one marks it used (and
        // the other then finds the salt committed with the mark).
        let salt = random_token(32);
        let marked = RefreshTokens::update_many()
            .col_expr(Column::UsedAt, Expr::value(now))
            .col_expr(Column::SuccessorSalt, Expr::value(salt.as_str()))
            .filter(Column::Id.eq(token.id))
            .filter(Column::UsedAt.is_null())
            .exec(conn)
            .await?;
        if marked.rows_affected == 1 {
            let successor = successor_of(raw, &salt);
            store(conn, token.user_id, token.family_id, ttl, &successor).await?;
            return Ok(rotate(successor, false));
        }
    }
    let Some(used) = find(conn, raw).await? else {
        return Ok(Rotation::Refused(Refusal::Unknown));
    };
    if let (Some(used_at), Some(salt)) = (used.used_at, &used.successor_salt)
        && within_grace(used_at, now, grace)
    {
        // Within grace, hand back the successor while it is still the family's current
        // token; once it was rotated in turn, the family moved on and this is a reuse.
        let successor = successor_of(raw, salt);
        if find(conn, &successor)
            .await?
            .is_some_and(|s| s.used_at.is_none() && s.revoked_at.is_none())
        {
            return Ok(rotate(successor, true));
        }
    }
    revoke_family(conn, token.family_id).await?;
    Ok(Rotation::Refused(Refusal::Reused {
        user_id: token.user_id,
        family_id: token.family_id,
    }))
}

fn within_grace(used_at: DateTime<Utc>, now: DateTime<Utc>, grace: Duration) -> bool {
    (now - used_at)
        .to_std()
        .is_ok_and(|elapsed| elapsed <= grace)
}

pub async fn revoke_family(conn: &impl ConnectionTrait, family_id: Uuid) -> Result<u64, DbErr> {
    revoke_where(conn, Column::FamilyId.eq(family_id)).await
}

/// Revokes every session of a user (password change, disabling).
pub async fn revoke_user(conn: &impl ConnectionTrait, user_id: UserId) -> Result<u64, DbErr> {
    revoke_where(conn, Column::UserId.eq(user_id)).await
}

/// Revokes every session of a user but `keep` (an email change ends the others).
pub async fn revoke_user_except(
    conn: &impl ConnectionTrait,
    user_id: UserId,
    keep: Option<Uuid>,
) -> Result<u64, DbErr> {
    let mut condition = Column::UserId.eq(user_id);
    if let Some(family_id) = keep {
        condition = condition.and(Column::FamilyId.ne(family_id));
    }
    revoke_where(conn, condition).await
}

/// Deletes tokens that expired, or were revoked, more than `retention` ago; returns how
/// many. A live token is never touched: revoked ones stay refused until deleted, and
/// deleted ones are refused as unknown.
pub async fn prune(conn: &impl ConnectionTrait, retention: chrono::Duration) -> Result<u64, DbErr> {
    let cutoff = Utc::now() - retention;
    Ok(RefreshTokens::delete_many()
        .filter(
            Column::ExpiresAt
                .lt(cutoff)
                .or(Column::RevokedAt.lt(cutoff)),
        )
        .exec(conn)
        .await?
        .rows_affected)
}

/// Revokes the family of `raw`, if it is a token at all.
pub async fn revoke_family_of(conn: &impl ConnectionTrait, raw: &str) -> Result<(), DbErr> {
    if let Some(token) = find(conn, raw).await? {
        revoke_family(conn, token.family_id).await?;
    }
    Ok(())
}

async fn revoke_where(
    conn: &impl ConnectionTrait,
    condition: sea_orm::sea_query::SimpleExpr,
) -> Result<u64, DbErr> {
    Ok(RefreshTokens::update_many()
        .col_expr(Column::RevokedAt, Expr::value(Utc::now()))
        .filter(condition)
        .filter(Column::RevokedAt.is_null())
        .exec(conn)
        .await?
        .rows_affected)
}
