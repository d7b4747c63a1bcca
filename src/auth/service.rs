//! The authentication flows: register, login, refresh, logout, password change, and
//! resolving a bearer credential to a principal.

use super::jwt::TokenIssuer;
use super::password::{HashError, PasswordHasher};
use super::principal::Principal;
use super::refresh::{self, Refusal, Rotation};
use super::throttle::LoginThrottle;
use super::{api_keys, api_keys::KEY_PREFIX};
use crate::config::{AuthConfig, MailConfig};
use crate::db::Db;
use crate::error::{ApiError, FieldError};
use crate::jobs::{Enqueue, JobQueue};
use crate::users::{self, Email, Role, UserStatus};
use sea_orm::DbErr;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum AuthSetupError {
    #[error("auth.password_hash: {0}")]
    Hash(#[from] HashError),
    #[error("cannot load the token signing keys: {0}")]
    Keys(#[from] DbErr),
}

impl From<HashError> for ApiError {
    fn from(err: HashError) -> Self {
        ApiError::Internal(err.to_string())
    }
}

/// What login and refresh answer.
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
}

pub struct Auth {
    config: AuthConfig,
    tokens: TokenIssuer,
    hasher: PasswordHasher,
    throttle: LoginThrottle,
}

fn unauthorized(detail: &str) -> ApiError {
    ApiError::Unauthorized(detail.to_string())
}

impl Auth {
    pub async fn load(config: &AuthConfig, db: &Db) -> Result<Self, AuthSetupError> {
        Ok(Self {
            tokens: TokenIssuer::load(db.write(), config).await?,
            hasher: PasswordHasher::new(
                &config.password_hash,
                config.max_concurrent_hashes.get() as usize,
            )?,
            throttle: LoginThrottle::new(
                config.max_failed_logins.get(),
                config.max_failed_logins_per_ip.get(),
                config.login_lockout.get(),
            ),
            config: config.clone(),
        })
    }

    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// Checks a new password's length against `auth.min_password_length`.
    pub fn check_new_password(&self, password: &str, pointer: &str) -> Result<(), FieldError> {
        users::check_password(
            password,
            self.config.min_password_length.get() as usize,
            pointer,
        )
    }

    /// Resolves `Authorization: Bearer …` to a principal: API keys by their prefix,
    /// everything else as a JWT.
    pub async fn authenticate(&self, db: &Db, credential: &str) -> Result<Principal, ApiError> {
        if credential.starts_with(KEY_PREFIX) {
            return api_keys::authenticate(db.write(), credential)
                .await?
                .ok_or_else(|| unauthorized("the API key is unknown, revoked or expired"));
        }
        let claims = self
            .tokens
            .verify(credential, &db.read())
            .await
            .map_err(|e| match e {
                super::TokenError::Db(e) => e.into(),
                other => unauthorized(&other.to_string()),
            })?;
        Ok(Principal::User {
            id: claims.sub,
            role: claims.role,
        })
    }

    /// A stable identity for rate limiting, without touching the database: an API key is
    /// keyed by its hash, an access token by its verified subject. Invalid credentials get
    /// `None` (they are limited as anonymous, and the handler answers 401).
    pub async fn rate_limit_identity(&self, db: &Db, credential: &str) -> Option<String> {
        if credential.starts_with(KEY_PREFIX) {
            return Some(format!(
                "key:{}",
                &super::secret::sha256_hex(credential)[..32]
            ));
        }
        let claims = self.tokens.verify(credential, &db.read()).await.ok()?;
        Some(format!("user:{}", claims.sub))
    }

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
    ) -> Result<users::Model, ApiError> {
        let checked = (
            Email::parse(email),
            users::parse_name(name, "/name"),
            self.check_new_password(password, "/password"),
        );
        let (email, name) = match checked {
            (Ok(email), Ok(name), Ok(())) => (email, name),
            (email, name, password) => {
                return Err(ApiError::fields(
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

    /// Email + password → a new session family. Failures are counted per account and IP.
    pub async fn login(
        &self,
        db: &Db,
        email: &str,
        password: &str,
        ip: Option<&str>,
    ) -> Result<TokenPair, ApiError> {
        let email = Email::parse(email).map_err(ApiError::invalid)?;
        if let Err(retry_after) = self.throttle.check(email.as_str(), ip) {
            metrics::counter!("levee_auth_logins_total", "outcome" => "locked").increment(1);
            return Err(ApiError::TooManyRequests {
                detail: "too many failed logins; try again later".into(),
                retry_after,
            });
        }
        let user = users::find_by_email(&db.read(), &email).await?;
        let matches = self
            .hasher
            .verify(password, user.as_ref().map(|u| u.password_hash.as_str()))
            .await?;
        let user = match user {
            Some(user) if matches => user,
            _ => {
                self.throttle.record_failure(email.as_str(), ip);
                metrics::counter!("levee_auth_logins_total", "outcome" => "failure").increment(1);
                return Err(unauthorized("invalid email or password"));
            }
        };
        if user.status != UserStatus::Active {
            metrics::counter!("levee_auth_logins_total", "outcome" => "disabled").increment(1);
            return Err(unauthorized("this account is disabled"));
        }
        self.throttle.record_success(email.as_str());
        metrics::counter!("levee_auth_logins_total", "outcome" => "success").increment(1);
        let refresh_token = refresh::issue(
            db.write(),
            user.id,
            Uuid::now_v7(),
            self.config.refresh_token_ttl.get(),
        )
        .await?;
        Ok(self.pair(user.id, user.role, refresh_token))
    }

    fn pair(&self, user_id: Uuid, role: Role, refresh_token: String) -> TokenPair {
        TokenPair {
            access_token: self.tokens.issue(user_id, role),
            refresh_token,
            expires_in: self.tokens.ttl().as_secs(),
        }
    }

    /// Rotates a refresh token. A reused one revokes its family and is logged as a
    /// security event.
    pub async fn refresh(&self, db: &Db, raw: &str) -> Result<TokenPair, ApiError> {
        let txn = db.begin_write().await?;
        let outcome = match refresh::consume(&txn, raw, self.config.refresh_grace.get()).await? {
            Rotation::Rotate {
                user_id,
                family_id,
                grace,
            } => match users::find(&txn, user_id).await? {
                Some(user) if user.status == UserStatus::Active => {
                    let token = refresh::issue(
                        &txn,
                        user_id,
                        family_id,
                        self.config.refresh_token_ttl.get(),
                    )
                    .await?;
                    metrics::counter!("levee_auth_refresh_total", "outcome" => if grace { "grace" } else { "rotated" })
                        .increment(1);
                    Ok(self.pair(user.id, user.role, token))
                }
                _ => {
                    refresh::revoke_family(&txn, family_id).await?;
                    Err(unauthorized("this account is disabled"))
                }
            },
            Rotation::Refused(refusal) => Err(self.refused(refusal)),
        };
        // Commit refusals too: a detected reuse must leave the family revoked.
        txn.commit().await?;
        outcome
    }

    fn refused(&self, refusal: Refusal) -> ApiError {
        let outcome = match refusal {
            Refusal::Reused { user_id, family_id } => {
                tracing::warn!(
                    target: "levee::security",
                    event = "refresh_token_reuse",
                    user.id = %user_id,
                    family.id = %family_id,
                    "a used refresh token was presented again; the session family is revoked"
                );
                metrics::counter!("levee_auth_security_events_total", "event" => "refresh_token_reuse").increment(1);
                "reuse"
            }
            Refusal::Unknown | Refusal::Expired | Refusal::Revoked => "invalid",
        };
        metrics::counter!("levee_auth_refresh_total", "outcome" => outcome).increment(1);
        unauthorized("the refresh token is invalid, expired or revoked; sign in again")
    }

    /// Ends the session family of `raw`. Unknown tokens are ignored (RFC 7009).
    pub async fn logout(&self, db: &Db, raw: &str) -> Result<(), ApiError> {
        Ok(refresh::revoke_family_of(db.write(), raw).await?)
    }

    /// Changes a password after checking the current one, and ends every session.
    pub async fn change_password(
        &self,
        db: &Db,
        user_id: Uuid,
        current: &str,
        new: &str,
    ) -> Result<(), ApiError> {
        let user = users::find(db.write(), user_id)
            .await?
            .ok_or_else(|| ApiError::NotFound("no such user".into()))?;
        if !self
            .hasher
            .verify(current, Some(&user.password_hash))
            .await?
        {
            return Err(ApiError::invalid(FieldError::at(
                "/current_password",
                "is not your current password",
            )));
        }
        self.set_password(db, user_id, new).await
    }

    /// Sets a password without the current one (admin CLI) and ends every session.
    pub async fn set_password(&self, db: &Db, user_id: Uuid, new: &str) -> Result<(), ApiError> {
        self.check_new_password(new, "/password")
            .map_err(ApiError::invalid)?;
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
