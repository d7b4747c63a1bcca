//! Account self-service: password reset by email, email verification, email change,
//! deletion (anonymisation) and export, and the rule that unverified customers may not
//! order (`auth.require_verified_email`). The mailed flows rest on single-use tokens, of
//! which only a SHA-256 is stored. Sign-in and sessions stay in `auth`; this feature calls
//! it to check and store passwords.

pub mod api;
mod deletion;
mod email_change;
mod entity;
mod error;
mod export;
mod jobs;
mod model;
pub mod privacy_api;
mod service;
mod store;

pub use deletion::{AnonymiseAccount, DELETED_NAME, delete_account};
pub use email_change::{confirm_email_change, request_email_change};
pub use error::AccountsError;
pub use jobs::{PruneAccountTokens, ResetRequested, register_jobs};
pub use model::{Links, Purpose, Refusal};
pub use service::{Mailing, request_reset, require_verified};
pub use store::revoke_user as revoke_tokens;
