//! The session store: sessions live in the database (any instance serves them, and they
//! survive a Redis outage), looked up by the SHA-256 of the cookie's token. A session ends
//! at its absolute expiry, after the idle timeout, on logout, or when its account is
//! disabled or loses its staff role; its last activity is written at most every
//! `admin.session_touch_interval`.

use super::entity::admin_session::{ActiveModel, Column, Entity as Sessions, Model};
use crate::auth::secret::{random_token, sha256_hex};
use crate::config::AdminConfig;
use crate::db::ids::UserId;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

fn span(duration: crate::config::Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration.get()).unwrap_or(chrono::Duration::MAX)
}

/// Opens a session for `user_id`; answers the token for its cookie (never stored).
pub async fn create(
    conn: &impl ConnectionTrait,
    user_id: UserId,
    config: &AdminConfig,
) -> Result<String, DbErr> {
    let token = random_token(32);
    let now = Utc::now();
    let lifetime = span(config.session_lifetime);
    ActiveModel {
        id: Set(Uuid::now_v7()),
        token_hash: Set(sha256_hex(&token)),
        user_id: Set(user_id),
        csrf_secret: Set(random_token(32)),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(now
            .checked_add_signed(lifetime)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)),
    }
    .insert(conn)
    .await?;
    Ok(token)
}

/// Whether `session` is over at `now`: past its absolute expiry, or idle too long.
pub fn is_expired(session: &Model, config: &AdminConfig, now: DateTime<Utc>) -> bool {
    let idle = span(config.session_idle_timeout);
    now >= session.expires_at || now.signed_duration_since(session.last_seen_at) >= idle
}

/// The live session of `token`, touched when its last activity is older than the touch
/// interval; an expired one is deleted and `None` is answered.
pub async fn resume(
    conn: &impl ConnectionTrait,
    token: &str,
    config: &AdminConfig,
) -> Result<Option<Model>, DbErr> {
    let found = Sessions::find()
        .filter(Column::TokenHash.eq(sha256_hex(token)))
        .into_model();
    let Some(session) = crate::db::unique(found, conn).await? else {
        return Ok(None);
    };
    let now = Utc::now();
    if is_expired(&session, config, now) {
        delete(conn, session.id).await?;
        return Ok(None);
    }
    let touch = span(config.session_touch_interval);
    if now.signed_duration_since(session.last_seen_at) >= touch {
        Sessions::update_many()
            .col_expr(Column::LastSeenAt, Expr::value(now))
            .filter(Column::Id.eq(session.id))
            .exec(conn)
            .await?;
    }
    Ok(Some(session))
}

pub async fn delete(conn: &impl ConnectionTrait, id: Uuid) -> Result<(), DbErr> {
    Sessions::delete_by_id(id).exec(conn).await.map(|_| ())
}

/// Deletes sessions past their absolute expiry or idle for longer than the idle timeout.
pub async fn prune(conn: &impl ConnectionTrait, config: &AdminConfig) -> Result<u64, DbErr> {
    let now = Utc::now();
    let idle = span(config.session_idle_timeout);
    let idle_since = now
        .checked_sub_signed(idle)
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    Ok(Sessions::delete_many()
        .filter(
            Column::ExpiresAt
                .lte(now)
                .or(Column::LastSeenAt.lte(idle_since)),
        )
        .exec(conn)
        .await?
        .rows_affected)
}
