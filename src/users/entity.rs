//! The `users` table.

use super::model::{Email, Role, UserStatus};
use crate::db::ids::UserId;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: UserId,
    #[sea_orm(unique)]
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub status: UserStatus,
    pub password_hash: String,
    /// When the owner proved the address is theirs (a verification or reset link); `None`
    /// until then.
    pub email_verified_at: Option<DateTimeUtc>,
    /// When the account was deleted: from then on it is absent from every API, and its
    /// personal data is anonymised by a job.
    pub deleted_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
