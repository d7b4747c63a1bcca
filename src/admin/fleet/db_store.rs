//! The database store of the fleet's snapshots (`instance_snapshots`): used when no Redis
//! is configured, and while Redis fails. One row per process start, upserted on every
//! publish; rows past `expires_at` are deleted by the next publish of any process.

use crate::db::Db;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

pub mod instance_snapshot {
    use sea_orm::entity::prelude::*;

    /// The latest snapshot of one process; times are Unix seconds.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "instance_snapshots")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub instance_id: String,
        pub role: String,
        pub taken_at: i64,
        pub expires_at: i64,
        /// The `StatsSnapshot` as JSON.
        pub body: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use instance_snapshot::{ActiveModel, Column, Entity as Snapshots};

fn secs(unix: u64) -> i64 {
    i64::try_from(unix).unwrap_or(i64::MAX)
}

/// Stores `body` as the latest snapshot of `id` until `expires_at`, and deletes expired ones.
pub async fn publish(
    db: &Db,
    (id, role): (&str, &str),
    taken_at: u64,
    expires_at: u64,
    body: String,
) -> Result<(), DbErr> {
    let row = ActiveModel {
        instance_id: Set(id.to_string()),
        role: Set(role.to_string()),
        taken_at: Set(secs(taken_at)),
        expires_at: Set(secs(expires_at)),
        body: Set(body),
    };
    Snapshots::insert(row)
        .on_conflict(
            OnConflict::column(Column::InstanceId)
                .update_columns([
                    Column::Role,
                    Column::TakenAt,
                    Column::ExpiresAt,
                    Column::Body,
                ])
                .to_owned(),
        )
        .exec(db.write())
        .await?;
    Snapshots::delete_many()
        .filter(Column::ExpiresAt.lt(secs(taken_at)))
        .exec(db.write())
        .await?;
    Ok(())
}

/// The bodies of the unexpired snapshots at `now`, newest first, at most `limit`.
pub async fn load(db: &Db, now: u64, limit: u64) -> Result<Vec<String>, DbErr> {
    let rows = Snapshots::find()
        .select_only()
        .column(Column::Body)
        .filter(Column::ExpiresAt.gte(secs(now)))
        .order_by_desc(Column::TakenAt)
        .limit(limit)
        .into_tuple::<String>()
        .all(db.write())
        .await?;
    Ok(rows)
}
