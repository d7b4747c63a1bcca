//! The `account_tokens` table.

use super::model::Purpose;
use crate::db::ids::UserId;
use sea_orm::entity::prelude::*;

/// One token mailed to a user. `revoked_at` is set when a newer token of its purpose
/// replaced it or the password changed; `used_at` when it was used (once).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: UserId,
    pub purpose: Purpose,
    #[sea_orm(unique)]
    pub token_hash: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    /// A `change_email` token's new address (normalised).
    pub new_email: Option<String>,
    /// The session (refresh family) that asked for an email change: it stays signed in.
    pub session_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
