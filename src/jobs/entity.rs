//! The `jobs` table.

use crate::db::ids::JobId;
use sea_orm::entity::prelude::*;

// No `///` on the enum itself: it would become a description in the OpenAPI document.
crate::stored_enum! {
    pub enum JobState {
        Available,
        Scheduled,
        Running,
        Retryable,
        Completed,
        /// The dead-letter queue: attempts exhausted or failed permanently.
        Dead,
        Cancelled,
    }
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: JobId,
    pub kind: String,
    pub queue: String,
    /// JSON.
    pub payload: String,
    pub priority: i32,
    pub state: JobState,
    pub attempt: i32,
    pub max_attempts: i32,
    pub run_at: DateTimeUtc,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTimeUtc>,
    /// JSON array of `{attempt, at, error}`.
    pub errors: String,
    pub unique_key: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
