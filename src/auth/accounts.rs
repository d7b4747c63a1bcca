//! Account changes that involve credentials: registering (with its welcome email, which
//! carries the first verification link) and setting passwords, which ends every session
//! and every pending account link of the account.

use super::error::AuthError;
use super::refresh;
use super::service::Auth;
use crate::accounts::Mailing;
use crate::db::Db;
use crate::db::ids::UserId;
use crate::error::FieldError;
use crate::users::{self, Email, Role, UsersError};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

impl Auth {
    /// Creates a customer account and enqueues its welcome email in the same transaction:
    /// either both happen or neither does.
    pub async fn register(
        &self,
        db: &Db,
        mailing: &Mailing,
        email: &str,
        password: &str,
        name: &str,
    ) -> Result<users::Model, AuthError> {
        let checked = (
            Email::parse(email),
            users::NAME.parse(name),
            self.check_new_password(password, "/password"),
        );
        let (email, name) = match checked {
            (Ok(email), Ok(name), Ok(())) => (email, name),
            (email, name, password) => {
                return Err(AuthError::Fields(
                    [email.err(), name.err(), password.err()]
                        .into_iter()
                        .flatten()
                        .collect(),
                ));
            }
        };
        let password_hash = self.hasher.hash(password).await?;
        let new = users::NewUser {
            email,
            name,
            role: Role::Customer,
            password_hash,
            email_verified_at: None,
        };
        let txn = db.begin_write().await?;
        let user = users::create(&txn, new).await?;
        mailing.send_welcome(&txn, &user).await?;
        txn.commit().await?;
        Ok(user)
    }

    /// Changes a password after checking the current one, and ends every session.
    pub async fn change_password(
        &self,
        db: &Db,
        user_id: UserId,
        current: &str,
        new: &str,
    ) -> Result<(), AuthError> {
        self.check_current_password(db, user_id, current).await?;
        self.set_password(db, user_id, new).await
    }

    /// The account `user_id`, once `current` proved to be its password (422 at
    /// `/current_password` otherwise).
    pub async fn check_current_password(
        &self,
        db: &Db,
        user_id: UserId,
        current: &str,
    ) -> Result<users::Model, AuthError> {
        let user = users::find(db.write(), user_id)
            .await?
            .ok_or(UsersError::NotFound)?;
        if !self
            .hasher
            .verify(current, Some(&user.password_hash))
            .await?
        {
            return Err(AuthError::Field(FieldError::at(
                "/current_password",
                "is not your current password",
            )));
        }
        Ok(user)
    }

    /// Sets a password without the current one (admin CLI) and ends every session.
    pub async fn set_password(&self, db: &Db, user_id: UserId, new: &str) -> Result<(), AuthError> {
        self.check_new_password(new, "/password")
            .map_err(AuthError::Field)?;
        let password_hash = self.hasher.hash(new).await?;
        let txn = db.begin_write().await?;
        replace_password(&txn, user_id, password_hash, None).await?;
        txn.commit().await?;
        Ok(())
    }
}

/// Stores a new password hash (and, with `verified_at`, marks the address verified), then
/// ends every session and every pending account link (password reset, verification) of the
/// user, on the caller's transaction.
pub async fn replace_password(
    conn: &impl ConnectionTrait,
    user_id: UserId,
    password_hash: String,
    verified_at: Option<DateTime<Utc>>,
) -> Result<users::Model, UsersError> {
    let changes = users::UserChanges {
        password_hash: Some(password_hash),
        email_verified_at: verified_at,
        ..Default::default()
    };
    let user = users::update(conn, user_id, changes).await?;
    refresh::revoke_user(conn, user_id).await?;
    crate::accounts::revoke_tokens(conn, user_id).await?;
    Ok(user)
}
