//! Account changes that involve credentials: registering (with its welcome email) and
//! setting passwords, which ends every session of the account.

use super::error::AuthError;
use super::refresh;
use super::service::Auth;
use crate::config::MailConfig;
use crate::db::Db;
use crate::db::ids::UserId;
use crate::error::FieldError;
use crate::jobs::{Enqueue, JobQueue};
use crate::users::{self, Email, Role, UsersError};

impl Auth {
    /// Creates a customer account and enqueues its welcome email in the same transaction:
    /// either both happen or neither does.
    pub async fn register(
        &self,
        db: &Db,
        jobs: &JobQueue,
        mail: &MailConfig,
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
        };
        let txn = db.begin_write().await?;
        let user = users::create(&txn, new).await?;
        let welcome = crate::mail::welcome(mail, &user)?;
        jobs.enqueue(&txn, &welcome, Enqueue::default()).await?;
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
        self.set_password(db, user_id, new).await
    }

    /// Sets a password without the current one (admin CLI) and ends every session.
    pub async fn set_password(&self, db: &Db, user_id: UserId, new: &str) -> Result<(), AuthError> {
        self.check_new_password(new, "/password")
            .map_err(AuthError::Field)?;
        let password_hash = self.hasher.hash(new).await?;
        let txn = db.begin_write().await?;
        users::update(
            &txn,
            user_id,
            users::UserChanges {
                password_hash: Some(password_hash),
                ..Default::default()
            },
        )
        .await?;
        refresh::revoke_user(&txn, user_id).await?;
        txn.commit().await?;
        Ok(())
    }
}
