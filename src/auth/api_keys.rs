//! API keys for server-to-server callers: `lvk_<prefix>_<secret>`, shown once, stored as a
//! SHA-256 hash, scoped, optionally expiring, revocable, with `last_used_at` tracked.

use super::entity::api_key::{ActiveModel, Column, Entity as ApiKeys, Model};
use super::error::AuthError;
use super::principal::{Permission, Principal, Scope};
use super::secret::{random_token, sha256_hex};
use crate::db::Db;
use crate::db::ids::UserId;
use crate::db::pagination::{Page, PageRequest};
use crate::users::{self, UserStatus};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

pub const KEY_PREFIX: &str = "lvk_";
/// `last_used_at` is written at most this often per key, so a busy key costs no write per call.
const LAST_USED_RESOLUTION: chrono::Duration = chrono::Duration::seconds(60);

pub struct NewApiKey {
    pub name: String,
    pub scopes: Vec<Scope>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_by: UserId,
}

/// Stores a new key; returns the row and the full key, which is never retrievable again.
pub async fn create(db: &Db, new: NewApiKey) -> Result<(Model, String), AuthError> {
    let prefix = format!("{KEY_PREFIX}{}", &random_token(6)[..8]);
    let raw = format!("{prefix}_{}", random_token(32));
    let row = ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(new.name),
        prefix: Set(prefix),
        key_hash: Set(sha256_hex(&raw)),
        scopes: Set(new
            .scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")),
        created_by: Set(Some(new.created_by)),
        created_at: Set(Utc::now()),
        expires_at: Set(new.expires_at),
        last_used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(db.write())
    .await?;
    Ok((row, raw))
}

/// A page of keys, newest first; the cursor is the last id (ids are time-ordered).
pub async fn list(db: &Db, page: PageRequest<Uuid>) -> Result<Page<Model>, AuthError> {
    let mut query = ApiKeys::find().order_by_desc(Column::Id).limit(page.rows());
    if let Some(before) = page.after {
        query = query.filter(Column::Id.lt(before));
    }
    let rows = query.all(&db.read()).await?;
    Ok(Page::from_rows(rows, page.limit, |k| k.id))
}

/// Marks the key revoked (again is fine); `NoSuchApiKey` when no such key exists.
pub async fn revoke(db: &Db, id: Uuid) -> Result<(), AuthError> {
    let conn = db.write();
    let exists = ApiKeys::find_by_id(id).one(conn).await?.is_some();
    ApiKeys::update_many()
        .col_expr(Column::RevokedAt, Expr::value(Utc::now()))
        .filter(Column::Id.eq(id))
        .filter(Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    if exists {
        Ok(())
    } else {
        Err(AuthError::NoSuchApiKey)
    }
}

/// Revokes every live key `user_id` created (their account is being deleted); returns how
/// many.
pub async fn revoke_created_by(conn: &impl ConnectionTrait, user_id: UserId) -> Result<u64, DbErr> {
    Ok(ApiKeys::update_many()
        .col_expr(Column::RevokedAt, Expr::value(Utc::now()))
        .filter(Column::CreatedBy.eq(user_id))
        .filter(Column::RevokedAt.is_null())
        .exec(conn)
        .await?
        .rows_affected)
}

pub fn scopes_of(model: &Model) -> Vec<Scope> {
    model
        .scopes
        .split_whitespace()
        .filter_map(Scope::parse)
        .collect()
}

/// The key stored under `key_hash`, or `None` when it is unknown, revoked or expired, or
/// when its creator is gone, disabled or no longer holds a role that may mint keys (a key
/// must not outlive the standing of the admin who minted it). The creator is joined into
/// the key's lookup, so this stays one query.
pub async fn find_live(
    conn: &impl ConnectionTrait,
    key_hash: &str,
) -> Result<Option<Model>, DbErr> {
    let found = ApiKeys::find()
        .find_also_related(users::Entity)
        .filter(Column::KeyHash.eq(key_hash))
        .into_model::<Model, users::Model>();
    let found = crate::db::unique(found, conn).await?;
    let now = Utc::now();
    Ok(found.and_then(|(key, creator)| {
        let creator_in_standing = creator.is_some_and(|user| {
            user.status == UserStatus::Active && Permission::ManageApiKeys.granted_to(user.role)
        });
        let live = key.revoked_at.is_none() && key.expires_at.is_none_or(|at| at > now);
        (creator_in_standing && live).then_some(key)
    }))
}

/// The principal for a presented key, or `None` when [`find_live`] finds none.
pub async fn authenticate(
    conn: &impl ConnectionTrait,
    raw: &str,
) -> Result<Option<Principal>, DbErr> {
    let Some(key) = find_live(conn, &sha256_hex(raw)).await? else {
        return Ok(None);
    };
    let now = Utc::now();
    if key
        .last_used_at
        .is_none_or(|at| now - at >= LAST_USED_RESOLUTION)
    {
        ApiKeys::update_many()
            .col_expr(Column::LastUsedAt, Expr::value(now))
            .filter(Column::Id.eq(key.id))
            .exec(conn)
            .await?;
    }
    Ok(Some(Principal::ApiKey {
        id: key.id,
        scopes: scopes_of(&key),
    }))
}
