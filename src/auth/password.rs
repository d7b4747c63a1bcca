//! Argon2id password hashing, off the async runtime and bounded in concurrency (each hash
//! holds `memory_kib` of memory). Verification of an unknown account still runs a full
//! hash, so timing does not reveal which emails exist.

use crate::config::PasswordHashConfig;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Semaphore;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("invalid password hashing parameters: {0}")]
    Params(argon2::Error),
    #[error("password hashing failed: {0}")]
    Hash(argon2::password_hash::Error),
    #[error("no randomness for a salt: {0}")]
    Random(getrandom::Error),
    #[error("password hashing task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified against when an account does not exist.
    decoy: Arc<str>,
}

impl PasswordHasher {
    pub fn new(config: &PasswordHashConfig, max_concurrent: usize) -> Result<Self, HashError> {
        let params = Params::new(
            config.memory_kib.get_u32(),
            config.iterations.get_u32(),
            config.parallelism.get_u32(),
            None,
        )
        .map_err(HashError::Params)?;
        let decoy = hash_blocking(&params, &super::secret::random_token(16))?;
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(max_concurrent)),
            decoy: decoy.into(),
        })
    }

    /// A PHC-format Argon2id hash of `password`.
    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        let (params, password) = (self.params.clone(), password.to_string());
        self.run(move || hash_blocking(&params, &password)).await?
    }

    /// Whether `password` matches `stored`; with no stored hash (unknown account) the decoy
    /// is checked instead and the answer is always `false`.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, HashError> {
        let known = stored.is_some();
        let hash = stored.map_or_else(|| self.decoy.to_string(), str::to_string);
        let password = password.to_string();
        let matches = self.run(move || verify_blocking(&password, &hash)).await?;
        Ok(known && matches)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        // The semaphore is never closed, so acquiring only waits.
        let _permit = self.permits.acquire().await.ok();
        let started = Instant::now();
        let out = tokio::task::spawn_blocking(work).await?;
        metrics::histogram!("levee_auth_password_hash_seconds")
            .record(started.elapsed().as_secs_f64());
        Ok(out)
    }
}

fn hash_blocking(params: &Params, password: &str) -> Result<String, HashError> {
    let mut salt_bytes = [0u8; 16];
    getrandom::fill(&mut salt_bytes).map_err(HashError::Random)?;
    let salt = SaltString::encode_b64(&salt_bytes).map_err(HashError::Hash)?;
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(HashError::Hash)
}

fn verify_blocking(password: &str, stored: &str) -> bool {
    // Parameters come from the stored hash, so raising the cost later keeps old hashes valid.
    PasswordHash::new(stored).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::IntIn;

    fn cheap() -> PasswordHasher {
        let config = PasswordHashConfig {
            memory_kib: IntIn::new(64),
            iterations: IntIn::new(1),
            parallelism: IntIn::new(1),
        };
        PasswordHasher::new(&config, 2).expect("hasher")
    }

    #[tokio::test]
    async fn a_hash_verifies_only_its_password() {
        let hasher = cheap();
        let hash = hasher.hash("correct horse battery").await.expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            hasher
                .verify("correct horse battery", Some(&hash))
                .await
                .expect("verify")
        );
        assert!(
            !hasher
                .verify("wrong horse battery", Some(&hash))
                .await
                .expect("verify")
        );
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies() {
        let hasher = cheap();
        assert!(!hasher.verify("anything", None).await.expect("verify"));
    }
}
