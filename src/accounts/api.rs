//! HTTP endpoints of account self-service: `/auth/password-reset…`, `/auth/verify-email…`
//! and `/auth/email-change/confirm` (the change is asked for with `PATCH /me`).

use super::service::{self, Mailing};
use crate::auth::BearerAuth;
use crate::auth::api::AuthTags;
use crate::error::ApiError;
use crate::rest::responses::NoContent;
use crate::state::AppState;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::types::Example;
use poem_openapi::{ApiResponse, Object, OpenApi};

const EXAMPLE_TOKEN: &str = "q3Zt0bW2v9xS8kY1mN4pR7uJ6cE5aD0fG2hL3iK9oQw";

/// Whose password to reset.
#[derive(Object)]
#[oai(example)]
struct ResetRequest {
    /// The account's email address.
    #[oai(deserialize_with = "crate::rest::body::text")]
    email: String,
}

impl Example for ResetRequest {
    fn example() -> Self {
        Self {
            email: "ada@example.com".into(),
        }
    }
}

/// A reset link's token and the new password.
#[derive(Object)]
#[oai(example)]
struct ConfirmResetRequest {
    /// The `token` of the link in the reset email.
    #[oai(deserialize_with = "crate::rest::body::text")]
    token: String,
    /// At least `auth.min_password_length` (default 10) characters.
    #[oai(deserialize_with = "crate::rest::body::text")]
    new_password: String,
}

impl Example for ConfirmResetRequest {
    fn example() -> Self {
        Self {
            token: EXAMPLE_TOKEN.into(),
            new_password: "a new correct horse".into(),
        }
    }
}

/// A verification or email-change link's token.
#[derive(Object)]
#[oai(example)]
struct VerifyRequest {
    /// The `token` of the link in the welcome, verification or email-change email.
    #[oai(deserialize_with = "crate::rest::body::text")]
    token: String,
}

impl Example for VerifyRequest {
    fn example() -> Self {
        Self {
            token: EXAMPLE_TOKEN.into(),
        }
    }
}

/// An email request accepted; the email, if any, is sent in the background.
#[derive(Object)]
#[oai(example)]
struct EmailQueued {
    /// What happens next.
    detail: String,
}

const RESET_QUEUED: &str = "if an active account has this address, an email with a link to reset its password is on its way";
const RESEND_QUEUED: &str = "a new verification link is on its way; earlier links no longer work";

impl Example for EmailQueued {
    fn example() -> Self {
        Self {
            detail: RESET_QUEUED.into(),
        }
    }
}

#[derive(ApiResponse)]
enum Accepted {
    /// Accepted: any email is sent in the background.
    #[oai(status = 202)]
    Accepted(Json<EmailQueued>),
}

fn accepted(detail: &str) -> Accepted {
    Accepted::Accepted(Json(EmailQueued {
        detail: detail.into(),
    }))
}

#[derive(Default)]
pub struct AccountsApi;

#[OpenApi(tag = "AuthTags::Auth")]
impl AccountsApi {
    /// Ask for a password-reset link
    ///
    /// Always 202 with the same body, whether or not the address has an account: only an
    /// active account's owner receives an email, with a link to the shop's page
    /// (`mail.links.password_reset`) that works once, for `auth.reset_token_ttl` (30 min).
    /// A new link replaces older ones. Limited per client address and per email (429).
    #[oai(
        path = "/auth/password-reset",
        method = "post",
        operation_id = "request_password_reset"
    )]
    async fn request_reset(
        &self,
        state: Data<&AppState>,
        body: Json<ResetRequest>,
    ) -> Result<Accepted, ApiError> {
        service::request_reset(state.db(), state.jobs(), &body.email).await?;
        Ok(accepted(RESET_QUEUED))
    }

    /// Set a new password with a reset link's token
    ///
    /// The password policy applies (422, and the token still works). On success every
    /// session of the account is signed out, its other links stop working, and the owner
    /// is told by email. A used, expired, replaced or unknown token is 400; `detail` says
    /// which.
    #[oai(
        path = "/auth/password-reset/confirm",
        method = "post",
        operation_id = "confirm_password_reset"
    )]
    async fn confirm_reset(
        &self,
        state: Data<&AppState>,
        body: Json<ConfirmResetRequest>,
    ) -> Result<NoContent, ApiError> {
        let mailing = Mailing::new(state.config(), state.jobs().clone());
        service::confirm_reset(
            state.db(),
            state.auth(),
            &mailing,
            &body.token,
            &body.new_password,
        )
        .await?;
        Ok(NoContent::Done)
    }

    /// Verify your email address with a verification link's token
    ///
    /// No sign-in needed: the token is the proof. A used, expired, replaced or unknown token
    /// is 400; `detail` says which.
    #[oai(
        path = "/auth/verify-email",
        method = "post",
        operation_id = "verify_email"
    )]
    async fn verify(
        &self,
        state: Data<&AppState>,
        body: Json<VerifyRequest>,
    ) -> Result<NoContent, ApiError> {
        service::verify_email(state.db(), &body.token).await?;
        Ok(NoContent::Done)
    }

    /// Confirm a new email address with the link sent to it
    ///
    /// No sign-in needed: the token is the proof. The account takes the new address (now
    /// verified); every session of the account except the one that asked for the change
    /// (`PATCH /me`) is signed out, and its other links stop working. 409 when another
    /// account took the address meanwhile (the link still works if it is freed). A used,
    /// expired, replaced or unknown token is 400; `detail` says which.
    #[oai(
        path = "/auth/email-change/confirm",
        method = "post",
        operation_id = "confirm_email_change"
    )]
    async fn confirm_email_change(
        &self,
        state: Data<&AppState>,
        body: Json<VerifyRequest>,
    ) -> Result<NoContent, ApiError> {
        super::confirm_email_change(state.db(), &body.token).await?;
        Ok(NoContent::Done)
    }

    /// Send a new verification link
    ///
    /// To the signed-in user's address; earlier links stop working. 409 when the address
    /// is already verified; limited per user (429).
    #[oai(
        path = "/auth/verify-email/resend",
        method = "post",
        operation_id = "resend_verification"
    )]
    async fn resend(&self, state: Data<&AppState>, auth: BearerAuth) -> Result<Accepted, ApiError> {
        let user = auth.0.user_id()?;
        let mailing = Mailing::new(state.config(), state.jobs().clone());
        service::resend_verification(state.db(), &mailing, user).await?;
        Ok(accepted(RESEND_QUEUED))
    }
}
