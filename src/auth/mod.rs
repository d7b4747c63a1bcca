//! Authentication and authorization: passwords (argon2id), access tokens (JWT), rotating
//! refresh tokens with reuse detection, API keys, login throttling, and the permission
//! check every protected route makes.

mod accounts;
pub mod api;
pub mod api_keys;
mod bearer;
pub mod entity;
mod error;
mod jobs;
mod jwt;
mod key_verdicts;
pub mod password;
mod principal;
pub mod refresh;
pub mod secret;
mod service;
mod throttle;

pub use accounts::replace_password;
pub use bearer::{BearerAuth, caller_may, optional_principal};
pub use error::AuthError;
pub use jobs::{PruneRefreshTokens, register_jobs};
pub use jwt::{Claims, TokenError, TokenIssuer};
pub use principal::{Permission, Principal, Scope};
pub use service::{Auth, AuthSetupError, TokenPair};
pub use throttle::LoginThrottle;
