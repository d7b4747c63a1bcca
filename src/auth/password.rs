//! Argon2id password hashing, off the async runtime on a small dedicated pool of
//! `max_concurrent_hashes` threads: each hash holds `memory_kib` of memory, and a fixed set of
//! threads keeps the allocator from parking those buffers in one arena per blocking thread
//! (tokio's blocking pool grew RSS to ~700 MiB under login load). Verification of an unknown
//! account still runs a full hash, so timing does not reveal which emails exist.

use crate::config::PasswordHashConfig;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("invalid password hashing parameters: {0}")]
    Params(argon2::Error),
    #[error("password hashing failed: {0}")]
    Hash(argon2::password_hash::Error),
    #[error("no randomness for a salt: {0}")]
    Random(getrandom::Error),
    #[error("cannot start the password hashing threads: {0}")]
    Pool(#[from] rayon::ThreadPoolBuildError),
    #[error("a password hashing thread died")]
    Task,
}

#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    pool: Arc<rayon::ThreadPool>,
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
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(max_concurrent)
            .thread_name(|i| format!("levee-hash-{i}"))
            .build()?;
        Ok(Self {
            params,
            pool: Arc::new(pool),
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
        let (done, result) = tokio::sync::oneshot::channel();
        self.pool.spawn(move || {
            let started = Instant::now();
            let out = work();
            metrics::histogram!("levee_auth_password_hash_seconds")
                .record(started.elapsed().as_secs_f64());
            let _ = done.send(out);
        });
        result.await.map_err(|_| HashError::Task)
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
