//! Refresh tokens: opaque, single use, rotated into families. Presenting a token that was
//! already used revokes its whole family (the thief's session and the victim's), except
//! for the immediately previous token within the grace window (two tabs refreshing at once).

use super::entity::refresh_token::{ActiveModel, Column, Entity as RefreshTokens, Model};
use super::secret::{random_token, sha256_hex};
use crate::db::ids::UserId;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};
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
    /// Issue a new token in this family for this user.
    Rotate {
        user_id: UserId,
        family_id: Uuid,
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
    let now = Utc::now();
    ActiveModel {
        id: Set(Uuid::now_v7()),
        family_id: Set(family_id),
        user_id: Set(user_id),
        token_hash: Set(sha256_hex(&raw)),
        created_at: Set(now),
        expires_at: Set(now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(30))),
        used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(raw)
}

async fn find(conn: &impl ConnectionTrait, raw: &str) -> Result<Option<Model>, DbErr> {
    RefreshTokens::find()
        .filter(Column::TokenHash.eq(sha256_hex(raw)))
        .one(conn)
        .await
}

/// Decides what `raw` is worth and records its use. Run inside a write transaction and
/// commit even on refusal: a detected reuse must stay revoked.
pub async fn consume(
    conn: &impl ConnectionTrait,
    raw: &str,
    grace: Duration,
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
    let rotate = |grace| Rotation::Rotate {
        user_id: token.user_id,
        family_id: token.family_id,
        grace,
    };
    if token.used_at.is_none() {
        // Conditional update: of two concurrent presenters exactly one marks it used.
        let marked = RefreshTokens::update_many()
            .col_expr(Column::UsedAt, Expr::value(now))
            .filter(Column::Id.eq(token.id))
            .filter(Column::UsedAt.is_null())
            .exec(conn)
            .await?;
        if marked.rows_affected == 1 {
            return Ok(rotate(false));
        }
    }
    let used_at = match find(conn, raw).await?.and_then(|t| t.used_at) {
        Some(at) => at,
        None => return Ok(Rotation::Refused(Refusal::Unknown)),
    };
    if within_grace(used_at, now, grace)
        && last_rotation(conn, token.family_id).await? == Some(used_at)
    {
        return Ok(rotate(true));
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

/// When the family's most recent rotation happened.
async fn last_rotation(
    conn: &impl ConnectionTrait,
    family_id: Uuid,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    Ok(RefreshTokens::find()
        .filter(Column::FamilyId.eq(family_id))
        .filter(Column::UsedAt.is_not_null())
        .order_by_desc(Column::UsedAt)
        .one(conn)
        .await?
        .and_then(|t| t.used_at))
}

pub async fn revoke_family(conn: &impl ConnectionTrait, family_id: Uuid) -> Result<u64, DbErr> {
    revoke_where(conn, Column::FamilyId.eq(family_id)).await
}

/// Revokes every session of a user (password change, disabling).
pub async fn revoke_user(conn: &impl ConnectionTrait, user_id: UserId) -> Result<u64, DbErr> {
    revoke_where(conn, Column::UserId.eq(user_id)).await
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
