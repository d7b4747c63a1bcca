//! The one way to save a change to a versioned row (posts, products): `version` is bumped
//! and `updated_at` stamped with every change, since HTTP caching derives ETags from them.

use super::is_unique_violation;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
};

/// A row with a `version` and an `updated_at` column.
pub trait Versioned: ActiveModelTrait {
    fn stamp(&mut self, version: i64, updated_at: DateTime<Utc>);
}

/// Implements [`Versioned`] for an active model with `version` and `updated_at` columns.
#[macro_export]
macro_rules! versioned {
    ($active:ty) => {
        impl $crate::db::Versioned for $active {
            fn stamp(&mut self, version: i64, updated_at: chrono::DateTime<chrono::Utc>) {
                self.version = sea_orm::Set(version);
                self.updated_at = sea_orm::Set(updated_at);
            }
        }
    };
}

/// Saves `row`, loaded at `version`, as the next version. A unique violation (a changed
/// unique column clashing) becomes `taken`.
pub async fn save_next_version<A, E>(
    conn: &impl ConnectionTrait,
    mut row: A,
    version: i64,
    taken: E,
) -> Result<<A::Entity as EntityTrait>::Model, E>
where
    A: Versioned + ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
    E: From<DbErr>,
{
    row.stamp(version + 1, Utc::now());
    row.update(conn).await.map_err(|e| {
        if is_unique_violation(&e) {
            taken
        } else {
            e.into()
        }
    })
}
