//! Account self-service: password reset by email, email verification, and the rule that
//! unverified customers may not order (`auth.require_verified_email`). Both flows rest on
//! single-use tokens mailed to the owner, of which only a SHA-256 is stored. Sign-in and
//! sessions stay in `auth`; this feature calls it to store a new password.

pub mod api;
mod entity;
mod error;
mod jobs;
mod model;
mod service;
mod store;

pub use error::AccountsError;
pub use jobs::{PruneAccountTokens, ResetRequested, register_jobs};
pub use model::{Links, Purpose, Refusal};
pub use service::{Mailing, request_reset, require_verified};
pub use store::revoke_user as revoke_tokens;
