//! Changing the address of an account: the signed-in owner asks (with their password), a
//! link goes to the new address and a notice to the old one, and the address changes only
//! when the link is used. Then every other session of the account ends: the one that asked
//! for the change (its refresh family, the access token's `sid`) stays signed in.

use super::error::AccountsError;
use super::model::{Purpose, Refusal};
use super::service::{Mailing, redeem};
use super::store::{self, Payload};
use crate::auth::refresh;
use crate::db::Db;
use crate::error::FieldError;
use crate::jobs::Enqueue;
use crate::mail::AccountEmail;
use crate::users::{self, Email, UserChanges, UsersError};
use std::time::Duration;
use uuid::Uuid;

/// Mails a confirmation link for `new_email` to that address and a notice to `user`'s
/// current one, in one transaction. `session` is the asking session, kept at confirmation.
/// An address another account holds is 409 now, and again at confirmation.
pub async fn request_email_change(
    db: &Db,
    mailing: &Mailing,
    user: &users::Model,
    session: Option<Uuid>,
    new_email: &str,
) -> Result<(), AccountsError> {
    let email = Email::parse(new_email).map_err(AccountsError::Field)?;
    if email == user.email {
        return Err(AccountsError::Field(FieldError::at(
            "/email",
            "is already your address",
        )));
    }
    if users::find_by_email(db.write(), &email).await?.is_some() {
        return Err(UsersError::EmailTaken.into());
    }
    let ttl = mailing.verify_ttl;
    let payload = Payload {
        new_email: Some(email.to_string()),
        session_id: session,
    };
    let txn = db.begin_write().await?;
    let raw = store::issue(&txn, user.id, Purpose::ChangeEmail, ttl, payload).await?;
    let link = mailing.links.to(Purpose::ChangeEmail, &raw);
    let addressee = users::Model {
        email,
        ..user.clone()
    };
    let confirm = crate::mail::account_email(
        AccountEmail::ChangeEmail,
        &mailing.mail,
        &addressee,
        &link,
        ttl,
    )?;
    let notice = crate::mail::account_email(
        AccountEmail::EmailChangeRequested,
        &mailing.mail,
        user,
        "",
        Duration::ZERO,
    )?;
    for mail in [confirm, notice] {
        mailing
            .queue
            .enqueue(&txn, &mail, Enqueue::default())
            .await?;
    }
    txn.commit().await?;
    tracing::info!(user.id = %user.id, "email change requested");
    Ok(())
}

/// Uses an email-change token: the account takes the new address (verified: the link
/// reached it), unless another account took it meanwhile (409, the link stays usable);
/// every other session and pending link of the account ends.
pub async fn confirm_email_change(db: &Db, token: &str) -> Result<(), AccountsError> {
    let token = store::check(db.write(), token, Purpose::ChangeEmail)
        .await?
        .map_err(AccountsError::Token)?;
    let email = token
        .new_email
        .as_deref()
        .and_then(|raw| Email::parse(raw).ok())
        .ok_or(AccountsError::Token(Refusal::Unknown))?;
    let txn = db.begin_write().await?;
    let user = redeem(&txn, &token).await?;
    let changes = UserChanges {
        email: Some(email),
        email_verified_at: Some(chrono::Utc::now()),
        ..Default::default()
    };
    users::update(&txn, user.id, changes).await?;
    refresh::revoke_user_except(&txn, user.id, token.session_id).await?;
    store::revoke_user(&txn, user.id).await?;
    txn.commit().await?;
    tracing::info!(user.id = %user.id, "email address changed; other sessions revoked");
    Ok(())
}
