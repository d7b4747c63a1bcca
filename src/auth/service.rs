//! The session flows: login, refresh, logout, and resolving a bearer credential to a
//! principal. Account changes (register, passwords) are in `accounts.rs`.

use super::error::AuthError;
use super::jwt::TokenIssuer;
use super::key_verdicts::KeyVerdicts;
use super::password::{HashError, PasswordHasher};
use super::principal::Principal;
use super::refresh::{self, Refusal, Rotation};
use super::throttle::{LoginThrottle, Refused};
use super::{api_keys, api_keys::KEY_PREFIX};
use crate::config::AuthConfig;
use crate::db::Db;
use crate::db::ids::UserId;
use crate::error::FieldError;
use crate::users::{self, Email, Role, UserStatus};
use sea_orm::DbErr;
use std::net::IpAddr;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum AuthSetupError {
    #[error("auth.password_hash: {0}")]
    Hash(#[from] HashError),
    #[error("cannot load the token signing keys: {0}")]
    Keys(#[from] DbErr),
}

/// What login and refresh answer.
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
}

pub struct Auth {
    pub(super) config: AuthConfig,
    tokens: TokenIssuer,
    pub(super) hasher: PasswordHasher,
    throttle: LoginThrottle,
    key_verdicts: KeyVerdicts,
}

impl Auth {
    /// `throttle` counts failed logins (in Redis for a fleet, see `LoginThrottle::new`).
    pub async fn load(
        config: &AuthConfig,
        db: &Db,
        throttle: LoginThrottle,
    ) -> Result<Self, AuthSetupError> {
        Ok(Self {
            tokens: TokenIssuer::load(db.write(), config).await?,
            hasher: PasswordHasher::new(
                &config.password_hash,
                config.max_concurrent_hashes.get() as usize,
            )?,
            throttle,
            key_verdicts: KeyVerdicts::new(),
            config: config.clone(),
        })
    }

    /// Keys for read-your-writes tokens, newest first (see `TokenIssuer::consistency_keys`).
    pub fn consistency_keys(&self) -> Vec<[u8; 32]> {
        self.tokens.consistency_keys()
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
    pub async fn authenticate(&self, db: &Db, credential: &str) -> Result<Principal, AuthError> {
        if credential.starts_with(KEY_PREFIX) {
            // Boxed, like every database query on the request path ahead of the cache
            // (docs/PITFALLS.md: "Large futures"): a JWT caller's future stays small.
            return Box::pin(api_keys::authenticate(db.write(), credential))
                .await?
                .ok_or(AuthError::BadApiKey);
        }
        let claims = self.tokens.verify(credential, &db.read()).await?;
        Ok(Principal::User {
            id: claims.sub,
            role: claims.role,
            session: claims.sid,
        })
    }

    /// A stable identity for rate limiting: a live API key is keyed by its hash (liveness
    /// cached briefly, see `key_verdicts`), an access token by its verified subject.
    /// Unverified credentials get `None`: they are limited as anonymous, by client address,
    /// so an invented credential buys no quota of its own (the handler answers 401).
    pub async fn rate_limit_identity(&self, db: &Db, credential: &str) -> Option<String> {
        if credential.starts_with(KEY_PREFIX) {
            let hash = super::secret::sha256_hex(credential);
            let live = self.key_verdicts.is_live(&db.read(), &hash).await;
            return live.then(|| format!("key:{}", &hash[..32]));
        }
        let claims = self.tokens.verify(credential, &db.read()).await.ok()?;
        Some(format!("user:{}", claims.sub))
    }

    /// Email + password → a new session family. Failures are counted per account and client
    /// address.
    pub async fn login(
        &self,
        db: &Db,
        email: &str,
        password: &str,
        ip: Option<IpAddr>,
    ) -> Result<TokenPair, AuthError> {
        let user = self.check_credentials(db, email, password, ip).await?;
        let family_id = Uuid::now_v7();
        let refresh_token = refresh::issue(
            db.write(),
            user.id,
            family_id,
            self.config.refresh_token_ttl.get(),
        )
        .await?;
        Ok(self.pair(user.id, user.role, family_id, refresh_token))
    }

    /// The active account `email` + `password` sign in as: the one password check of
    /// every sign-in (API and admin console), with the failed-login throttle and
    /// disabled-account refusal. Failures are counted per account and IP.
    pub async fn check_credentials(
        &self,
        db: &Db,
        email: &str,
        password: &str,
        ip: Option<IpAddr>,
    ) -> Result<users::Model, AuthError> {
        let email = Email::parse(email).map_err(AuthError::Field)?;
        if let Err(refused) = self.throttle.check(email.as_str(), ip).await {
            if matches!(refused, Refused::Locked(_)) {
                metrics::counter!("levee_auth_logins_total", "outcome" => "locked").increment(1);
            }
            return Err(refused.into());
        }
        let user = users::find_by_email(&db.read(), &email).await?;
        let matches = self
            .hasher
            .verify(password, user.as_ref().map(|u| u.password_hash.as_str()))
            .await?;
        let user = match user {
            Some(user) if matches => user,
            _ => {
                self.throttle.record_failure(email.as_str(), ip).await?;
                metrics::counter!("levee_auth_logins_total", "outcome" => "failure").increment(1);
                return Err(AuthError::BadCredentials);
            }
        };
        if user.status != UserStatus::Active {
            metrics::counter!("levee_auth_logins_total", "outcome" => "disabled").increment(1);
            return Err(AuthError::Disabled);
        }
        self.throttle.record_success(email.as_str()).await;
        metrics::counter!("levee_auth_logins_total", "outcome" => "success").increment(1);
        Ok(user)
    }

    /// An access token naming session `family_id` (its `sid`) with that family's
    /// `refresh_token`.
    fn pair(
        &self,
        user_id: UserId,
        role: Role,
        family_id: Uuid,
        refresh_token: String,
    ) -> TokenPair {
        TokenPair {
            access_token: self.tokens.issue(user_id, role, Some(family_id)),
            refresh_token,
            expires_in: self.tokens.ttl().as_secs(),
        }
    }

    /// Rotates a refresh token. A reused one revokes its family and is logged as a
    /// security event.
    pub async fn refresh(&self, db: &Db, raw: &str) -> Result<TokenPair, AuthError> {
        let txn = db.begin_write().await?;
        let (grace, ttl) = (
            self.config.refresh_grace.get(),
            self.config.refresh_token_ttl.get(),
        );
        let outcome = match refresh::consume(&txn, raw, grace, ttl).await? {
            Rotation::Rotate {
                user_id,
                family_id,
                refresh_token,
                grace,
            } => match users::find(&txn, user_id).await? {
                Some(user) if user.status == UserStatus::Active => {
                    metrics::counter!("levee_auth_refresh_total", "outcome" => if grace { "grace" } else { "rotated" })
                        .increment(1);
                    Ok(self.pair(user.id, user.role, family_id, refresh_token))
                }
                _ => {
                    refresh::revoke_family(&txn, family_id).await?;
                    Err(AuthError::Disabled)
                }
            },
            Rotation::Refused(refusal) => Err(self.refused(refusal)),
        };
        // Commit refusals too: a detected reuse must leave the family revoked.
        txn.commit().await?;
        outcome
    }

    fn refused(&self, refusal: Refusal) -> AuthError {
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
        AuthError::BadRefreshToken
    }

    /// Ends the session family of `raw`. Unknown tokens are ignored (RFC 7009).
    pub async fn logout(&self, db: &Db, raw: &str) -> Result<(), AuthError> {
        Ok(refresh::revoke_family_of(db.write(), raw).await?)
    }
}
