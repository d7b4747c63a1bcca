//! The one way to save a change to a versioned row (posts, products): `version` is bumped
//! and `updated_at` stamped with every change, since HTTP caching derives ETags from them.
//! The bump is conditional — it applies only while the row is still at the version the
//! change was made from — so two edits racing from one version cannot both succeed and
//! leave two different bodies behind one strong ETag.

use super::is_unique_violation;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter,
};

/// A row with a `version` and an `updated_at` column.
pub trait Versioned: ActiveModelTrait {
    fn stamp(&mut self, version: i64, updated_at: DateTime<Utc>);
    /// The `version` column, which the conditional update compares.
    fn version_column() -> <Self::Entity as EntityTrait>::Column;
}

/// Implements [`Versioned`] for an active model with `version` and `updated_at` columns
/// (`Column` must name the entity's column enum where it is used).
#[macro_export]
macro_rules! versioned {
    ($active:ty) => {
        impl $crate::db::Versioned for $active {
            fn stamp(&mut self, version: i64, updated_at: chrono::DateTime<chrono::Utc>) {
                self.version = sea_orm::Set(version);
                self.updated_at = sea_orm::Set(updated_at);
            }

            fn version_column() -> Column {
                Column::Version
            }
        }
    };
}

/// Why a versioned row could not be saved.
#[derive(Debug)]
pub enum SaveError {
    /// A changed unique column clashes with another row.
    Taken,
    /// The row is no longer at the version the change was made from (or is gone): another
    /// change won the race.
    Stale,
    Db(DbErr),
}

/// Saves `row`, loaded at `version`, as the next version — only if the stored row is still
/// at `version`.
pub async fn save_next_version<A>(
    conn: &impl ConnectionTrait,
    mut row: A,
    version: i64,
) -> Result<<A::Entity as EntityTrait>::Model, SaveError>
where
    A: Versioned + ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
    row.stamp(version + 1, Utc::now());
    let update = <A::Entity as EntityTrait>::update(row)
        .validate()
        .map_err(SaveError::Db)?
        .filter(A::version_column().eq(version));
    update.exec(conn).await.map_err(|e| match e {
        DbErr::RecordNotUpdated => SaveError::Stale,
        e if is_unique_violation(&e) => SaveError::Taken,
        e => SaveError::Db(e),
    })
}
