//! The account operations the API offers: which pool each read uses, and the transaction
//! that disables a user together with their sessions. No HTTP types here.

use super::entity::Model;
use super::error::UsersError;
use super::model::{Role, UserStatus};
use super::store::{self, UserChanges, UserFilter};
use crate::auth::refresh;
use crate::db::Db;
use crate::db::ids::UserId;
use crate::db::pagination::{Page, PageRequest};

/// One user, read from a replica.
pub async fn get(db: &Db, id: UserId) -> Result<Model, UsersError> {
    store::find(&db.read(), id)
        .await?
        .ok_or(UsersError::NotFound)
}

/// One user read from the primary: right after a change its owner must see it.
pub async fn get_fresh(db: &Db, id: UserId) -> Result<Model, UsersError> {
    store::find(db.write(), id)
        .await?
        .ok_or(UsersError::NotFound)
}

/// A page of users matching `filter`, ordered by email.
pub async fn list(
    db: &Db,
    filter: UserFilter,
    page: PageRequest<String>,
) -> Result<Page<Model>, UsersError> {
    let rows = store::list(&db.read(), filter, &page).await?;
    Ok(Page::from_rows(rows, page.limit, |u| u.email.to_string()))
}

/// Changes the display name (or only touches `updated_at` when `name` is `None`).
pub async fn update_profile(
    db: &Db,
    id: UserId,
    name: Option<String>,
) -> Result<Model, UsersError> {
    let changes = UserChanges {
        name,
        ..Default::default()
    };
    store::update(db.write(), id, changes).await
}

/// Sets a user's role or status; disabling also ends every session, in one transaction.
pub async fn administer(
    db: &Db,
    id: UserId,
    role: Option<Role>,
    status: Option<UserStatus>,
) -> Result<Model, UsersError> {
    let changes = UserChanges {
        role,
        status,
        ..Default::default()
    };
    let txn = db.begin_write().await?;
    let user = store::update(&txn, id, changes).await?;
    if user.status == UserStatus::Disabled {
        refresh::revoke_user(&txn, user.id).await?;
    }
    txn.commit().await?;
    Ok(user)
}
