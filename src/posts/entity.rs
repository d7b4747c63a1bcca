//! The `posts` table.

use super::model::{PostStatus, Slug};
use crate::db::ids::{PostId, UserId};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "posts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: PostId,
    pub author_id: UserId,
    pub title: String,
    #[sea_orm(unique)]
    pub slug: Slug,
    pub body: String,
    pub status: PostStatus,
    pub published_at: Option<DateTimeUtc>,
    /// Bumped on every change; HTTP caching derives ETags from it.
    pub version: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The part of the ETag that names this stored version; `If-Match` is checked against it.
    pub fn version_tag(&self) -> String {
        format!("post-{}-v{}", self.id, self.version)
    }
}

crate::versioned!(ActiveModel);
