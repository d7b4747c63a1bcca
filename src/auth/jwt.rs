//! Access tokens: HS256 JWTs with a `kid` header. Signing keys live in the database so every
//! instance of a fleet shares them without copying: the first instance to start creates
//! one, the newest key signs, every stored key verifies (so a rotated-out key keeps
//! verifying until its tokens expire). An unknown `kid` triggers one reload from the
//! database, which is how a rotation made elsewhere reaches this instance. The same keys
//! also yield the keys that sign read-your-writes tokens (see [`TokenIssuer::consistency_keys`]).

use super::entity::signing_key::{self, Entity as SigningKeys};
use crate::config::AuthConfig;
use crate::db::ids::UserId;
use crate::users::Role;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The kid of the key created on first start; a fixed name makes concurrent first starts
/// of several instances agree on one key.
const INITIAL_KID: &str = "k1";
/// Labels the key derived for read-your-writes tokens, so it never equals a JWT key.
const CONSISTENCY_LABEL: &[u8] = b"levee consistency token v1";
/// Unknown kids reload keys from the database at most this often.
const RELOAD_INTERVAL: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub sub: UserId,
    pub role: Role,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: Uuid,
    /// The session (refresh-token family) the token was issued for; absent in tokens
    /// minted outside a session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the access token is malformed")]
    Malformed,
    #[error("the access token names no known signing key")]
    UnknownKey,
    #[error("the access token is invalid: {0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

struct Key {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

struct KeyRing {
    keys: HashMap<String, Key>,
    signing_kid: String,
    /// Read-your-writes token keys, newest first.
    consistency: Vec<[u8; 32]>,
    loaded_at: Instant,
}

pub struct TokenIssuer {
    ring: RwLock<KeyRing>,
    validation: Validation,
    ttl: Duration,
    issuer: String,
    audience: String,
}

impl TokenIssuer {
    /// Loads the signing keys, creating the first one if the database has none.
    pub async fn load(db: &impl ConnectionTrait, config: &AuthConfig) -> Result<Self, DbErr> {
        let ring = load_ring(db).await?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 5;
        Ok(Self {
            ring: RwLock::new(ring),
            validation,
            ttl: config.access_token_ttl.get(),
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
        })
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Keys for read-your-writes tokens, newest first: the newest signs, any verifies.
    /// Derived from the signing keys, so every instance of a fleet agrees without storage.
    pub fn consistency_keys(&self) -> Vec<[u8; 32]> {
        let ring = self.ring.read().unwrap_or_else(|e| e.into_inner());
        ring.consistency.clone()
    }

    /// A signed access token for `user_id` with `role`, naming session `sid`.
    pub fn issue(&self, user_id: UserId, role: Role, sid: Option<Uuid>) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id,
            role,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            nbf: now,
            exp: now + i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX),
            jti: Uuid::new_v4(),
            sid,
        };
        let ring = self.ring.read().unwrap_or_else(|e| e.into_inner());
        let header = Header {
            kid: Some(ring.signing_kid.clone()),
            ..Header::new(Algorithm::HS256)
        };
        // The signing kid is always in the ring, and HS256 encoding with it cannot fail.
        ring.keys
            .get(&ring.signing_kid)
            .and_then(|key| jsonwebtoken::encode(&header, &claims, &key.encoding).ok())
            .unwrap_or_default()
    }

    /// Verifies signature, algorithm (HS256 only — `none` and RS/ES are refused), kid,
    /// expiry, not-before, issuer and audience.
    pub async fn verify(
        &self,
        token: &str,
        db: &impl ConnectionTrait,
    ) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.alg != Algorithm::HS256 {
            return Err(TokenError::Invalid(format!(
                "algorithm {:?} is not accepted",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| TokenError::Invalid("no kid header".into()))?;
        if let Some(result) = self.decode_with(&kid, token) {
            return result;
        }
        let stale = self
            .ring
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .loaded_at
            .elapsed()
            >= RELOAD_INTERVAL;
        if stale {
            // Boxed: a rare query whose future would otherwise size every caller's.
            let ring = Box::pin(load_ring(db)).await?;
            *self.ring.write().unwrap_or_else(|e| e.into_inner()) = ring;
        }
        self.decode_with(&kid, token)
            .unwrap_or(Err(TokenError::UnknownKey))
    }

    fn decode_with(&self, kid: &str, token: &str) -> Option<Result<Claims, TokenError>> {
        let ring = self.ring.read().unwrap_or_else(|e| e.into_inner());
        let key = ring.keys.get(kid)?;
        Some(
            jsonwebtoken::decode::<Claims>(token, &key.decoding, &self.validation)
                .map(|data| data.claims)
                .map_err(|e| TokenError::Invalid(e.to_string())),
        )
    }
}

async fn load_ring(db: &impl ConnectionTrait) -> Result<KeyRing, DbErr> {
    let mut rows = stored_keys(db).await?;
    if rows.is_empty() {
        let first = signing_key::ActiveModel {
            kid: Set(INITIAL_KID.into()),
            secret: Set(super::secret::random_token(32)),
            created_at: Set(chrono::Utc::now()),
        };
        SigningKeys::insert(first)
            .on_conflict_do_nothing_on([signing_key::Column::Kid])
            .exec(db)
            .await?;
        rows = stored_keys(db).await?;
    }
    let signing_kid = rows
        .last()
        .map(|k| k.kid.clone())
        .ok_or_else(|| DbErr::Custom("no signing key could be created".into()))?;
    let mut consistency = Vec::with_capacity(rows.len());
    let keys = rows
        .into_iter()
        .rev()
        .filter_map(|row| {
            let secret = URL_SAFE_NO_PAD.decode(&row.secret).ok()?;
            consistency.push(derive_consistency_key(&secret));
            Some((
                row.kid,
                Key {
                    encoding: EncodingKey::from_secret(&secret),
                    decoding: DecodingKey::from_secret(&secret),
                },
            ))
        })
        .collect();
    Ok(KeyRing {
        keys,
        signing_kid,
        consistency,
        loaded_at: Instant::now(),
    })
}

/// HMAC(signing secret, label): a separate key per purpose from one stored secret.
fn derive_consistency_key(secret: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length.
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(CONSISTENCY_LABEL);
    mac.finalize().into_bytes().into()
}

/// Keys oldest first, so the last one is the newest.
async fn stored_keys(db: &impl ConnectionTrait) -> Result<Vec<signing_key::Model>, DbErr> {
    SigningKeys::find()
        .order_by_asc(signing_key::Column::CreatedAt)
        .order_by_asc(signing_key::Column::Kid)
        .all(db)
        .await
}
