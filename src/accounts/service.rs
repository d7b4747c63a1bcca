//! The flows: asking for and using a password-reset link, verifying an address, resending
//! the verification link, and the ordering rule for unverified customers. No HTTP types.

use super::entity::Model;
use super::error::AccountsError;
use super::model::{Links, Purpose, Refusal};
use super::store;
use crate::auth::{Auth, Principal};
use crate::config::{Config, MailConfig};
use crate::db::Db;
use crate::db::ids::UserId;
use crate::jobs::{Enqueue, JobQueue};
use crate::mail::AccountEmail;
use crate::users::{self, Email, Role, UserChanges, UserStatus};
use sea_orm::DatabaseTransaction;
use std::time::Duration;

/// What sending an account email takes: the links, the mail settings, the token
/// lifetimes and the queue the `email.send` job goes to.
#[derive(Clone)]
pub struct Mailing {
    pub(super) links: Links,
    pub(super) mail: MailConfig,
    reset_ttl: Duration,
    pub(super) verify_ttl: Duration,
    pub(super) queue: JobQueue,
}

impl Mailing {
    pub fn new(config: &Config, queue: JobQueue) -> Self {
        Self {
            links: Links::new(config),
            mail: config.mail.clone(),
            reset_ttl: config.auth.reset_token_ttl.get(),
            verify_ttl: config.auth.verify_token_ttl.get(),
            queue,
        }
    }

    /// Issues a `purpose` token for `user` (replacing older ones) and enqueues the `kind`
    /// email carrying its link, in `txn`.
    async fn send_link(
        &self,
        txn: &DatabaseTransaction,
        user: &users::Model,
        purpose: Purpose,
        kind: AccountEmail,
    ) -> Result<(), AccountsError> {
        let ttl = match purpose {
            Purpose::PasswordReset => self.reset_ttl,
            Purpose::VerifyEmail | Purpose::ChangeEmail => self.verify_ttl,
        };
        let raw = store::issue(txn, user.id, purpose, ttl, store::Payload::default()).await?;
        let link = self.links.to(purpose, &raw);
        let mail = crate::mail::account_email(kind, &self.mail, user, &link, ttl)?;
        self.queue.enqueue(txn, &mail, Enqueue::default()).await?;
        Ok(())
    }

    /// The welcome email of a new account, with its first verification link (in the
    /// registration's transaction).
    pub async fn send_welcome(
        &self,
        txn: &DatabaseTransaction,
        user: &users::Model,
    ) -> Result<(), AccountsError> {
        self.send_link(txn, user, Purpose::VerifyEmail, AccountEmail::Welcome)
            .await
    }
}

/// Accepts a reset request for `email`: the same work whatever the address (one job row
/// holding it), so neither the answer nor its timing tells whether an account exists.
/// The `accounts.password_reset` job decides.
pub async fn request_reset(db: &Db, jobs: &JobQueue, email: &str) -> Result<(), AccountsError> {
    let email = Email::parse(email).map_err(AccountsError::Field)?;
    let txn = db.begin_write().await?;
    let job = super::ResetRequested {
        email: email.into(),
    };
    jobs.enqueue(&txn, &job, Enqueue::default()).await?;
    txn.commit().await?;
    Ok(())
}

/// Mails a reset link if `email` is an active account's; otherwise does nothing.
#[tracing::instrument(skip_all, err)]
pub(super) async fn send_reset(
    db: &Db,
    mailing: &Mailing,
    email: &str,
) -> Result<(), AccountsError> {
    let Ok(email) = Email::parse(email) else {
        return Ok(());
    };
    let user = match users::find_by_email(db.write(), &email).await? {
        Some(user) if user.status == UserStatus::Active => user,
        _ => return Ok(()),
    };
    let txn = db.begin_write().await?;
    mailing
        .send_link(
            &txn,
            &user,
            Purpose::PasswordReset,
            AccountEmail::PasswordReset,
        )
        .await?;
    txn.commit().await?;
    tracing::info!(user.id = %user.id, "password reset link sent");
    Ok(())
}

/// Sets a new password with a reset token: the password policy applies (the token stays
/// usable when the password is refused), then in one transaction the token is used, the
/// password stored, every session and other link of the account ended, and the owner told.
pub async fn confirm_reset(
    db: &Db,
    auth: &Auth,
    mailing: &Mailing,
    token: &str,
    new_password: &str,
) -> Result<(), AccountsError> {
    auth.check_new_password(new_password, "/new_password")
        .map_err(AccountsError::Field)?;
    let token = store::check(db.write(), token, Purpose::PasswordReset)
        .await?
        .map_err(AccountsError::Token)?;
    let password_hash = auth.hasher().hash(new_password).await?;
    let txn = db.begin_write().await?;
    let user = redeem(&txn, &token).await?;
    // The link reached the owner's mailbox: that verifies the address too.
    let verified = user.email_verified_at.is_none().then(chrono::Utc::now);
    let user = crate::auth::replace_password(&txn, user.id, password_hash, verified).await?;
    let notice = crate::mail::account_email(
        AccountEmail::PasswordChanged,
        &mailing.mail,
        &user,
        "",
        Duration::ZERO,
    )?;
    mailing
        .queue
        .enqueue(&txn, &notice, Enqueue::default())
        .await?;
    txn.commit().await?;
    tracing::info!(user.id = %user.id, "password reset with a link; sessions revoked");
    Ok(())
}

/// Uses `token` (found live by `store::check`) in `txn` and returns its user, who must
/// still be active. Of two concurrent uses, the second is refused as used.
pub(super) async fn redeem(
    txn: &DatabaseTransaction,
    token: &Model,
) -> Result<users::Model, AccountsError> {
    if !store::consume(txn, token).await? {
        return Err(AccountsError::Token(Refusal::Used));
    }
    let user = users::find(txn, token.user_id)
        .await?
        .ok_or(AccountsError::Token(Refusal::Unknown))?;
    if user.status != UserStatus::Active {
        return Err(AccountsError::Disabled);
    }
    Ok(user)
}

/// Marks the address of a verification token's user verified (the first time counts).
pub async fn verify_email(db: &Db, token: &str) -> Result<(), AccountsError> {
    let token = store::check(db.write(), token, Purpose::VerifyEmail)
        .await?
        .map_err(AccountsError::Token)?;
    let txn = db.begin_write().await?;
    let user = redeem(&txn, &token).await?;
    if user.email_verified_at.is_none() {
        let changes = UserChanges {
            email_verified_at: Some(chrono::Utc::now()),
            ..Default::default()
        };
        users::update(&txn, user.id, changes).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Sends a new verification link (older ones stop working) to a signed-in user whose
/// address is not verified yet.
pub async fn resend_verification(
    db: &Db,
    mailing: &Mailing,
    user_id: UserId,
) -> Result<(), AccountsError> {
    let user = users::get_fresh(db, user_id).await?;
    if user.email_verified_at.is_some() {
        return Err(AccountsError::AlreadyVerified);
    }
    let txn = db.begin_write().await?;
    mailing
        .send_link(&txn, &user, Purpose::VerifyEmail, AccountEmail::VerifyEmail)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// With `auth.require_verified_email`, a customer must have verified their address (staff
/// and API keys are not asked). Read from the primary: a verification just made counts.
pub async fn require_verified(
    db: &Db,
    config: &Config,
    principal: &Principal,
) -> Result<(), AccountsError> {
    let Principal::User {
        id,
        role: Role::Customer,
        ..
    } = principal
    else {
        return Ok(());
    };
    if !config.auth.require_verified_email {
        return Ok(());
    }
    match users::get_fresh(db, *id).await?.email_verified_at {
        Some(_) => Ok(()),
        None => Err(AccountsError::EmailUnverified),
    }
}
