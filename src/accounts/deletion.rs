//! Deleting an account, by its owner (`POST /me/delete`) or an admin (`DELETE /users/{id}`):
//! at once the account is disabled and its sessions, API keys and pending links revoked;
//! then the `accounts.anonymise` job replaces its personal data (address, name, password,
//! the shipping addresses of its orders, the messages stored for it in the outbox). Orders
//! keep their totals and lines, the customer shown as a deleted account.

use super::error::AccountsError;
use super::store;
use crate::auth::{api_keys, refresh};
use crate::db::Db;
use crate::db::ids::UserId;
use crate::jobs::{Enqueue, JobKind, JobQueue};
use crate::users::{self, Email, UserChanges, UserStatus};
use serde::{Deserialize, Serialize};

/// The name a deleted account is left with.
pub const DELETED_NAME: &str = "Deleted user";
/// A stored "hash" no password matches: it is not a PHC string, so verifying fails.
const NO_PASSWORD: &str = "!deleted";

/// Anonymise the personal data of deleted account `user_id`.
#[derive(Debug, Serialize, Deserialize)]
pub struct AnonymiseAccount {
    pub user_id: UserId,
}

impl JobKind for AnonymiseAccount {
    const NAME: &'static str = "accounts.anonymise";
}

/// Marks `user_id` deleted and disabled, revokes its sessions, API keys and links, and
/// enqueues its anonymisation, in one transaction. 404 when there is no such account (or it
/// was deleted already).
pub async fn delete_account(
    db: &Db,
    jobs: &JobQueue,
    user_id: UserId,
) -> Result<(), AccountsError> {
    let txn = db.begin_write().await?;
    let changes = UserChanges {
        status: Some(UserStatus::Disabled),
        deleted_at: Some(chrono::Utc::now()),
        ..Default::default()
    };
    users::update(&txn, user_id, changes).await?;
    refresh::revoke_user(&txn, user_id).await?;
    api_keys::revoke_created_by(&txn, user_id).await?;
    store::revoke_user(&txn, user_id).await?;
    jobs.enqueue(&txn, &AnonymiseAccount { user_id }, Enqueue::default())
        .await?;
    txn.commit().await?;
    tracing::info!(user.id = %user_id, "account deleted; anonymisation queued");
    Ok(())
}

/// Replaces the personal data of deleted account `user_id`, in one transaction (again is
/// harmless).
pub(super) async fn anonymise(db: &Db, user_id: UserId) -> Result<(), AccountsError> {
    let txn = db.begin_write().await?;
    let Some(user) = users::find_any(&txn, user_id).await? else {
        return Ok(());
    };
    if user.deleted_at.is_none() {
        tracing::warn!(user.id = %user_id, "account not deleted; not anonymised");
        return Ok(());
    }
    let changes = UserChanges {
        name: Some(DELETED_NAME.into()),
        email: Some(Email::deleted(user_id)),
        password_hash: Some(NO_PASSWORD.into()),
        ..Default::default()
    };
    let email = user.email.clone();
    users::apply(&txn, user, changes).await?;
    let orders = crate::orders::anonymise_customer(&txn, user_id).await?;
    let messages = crate::mail::forget_recipient(&txn, email.as_str()).await?;
    txn.commit().await?;
    tracing::info!(user.id = %user_id, orders, messages, "account anonymised");
    Ok(())
}
