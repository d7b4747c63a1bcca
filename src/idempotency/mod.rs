//! Idempotency keys for POSTs that create something (IETF `Idempotency-Key` draft, Stripe's
//! semantics). A client sends `Idempotency-Key: <key>`; the first request with a key runs
//! and its response is stored, scoped to the caller and with a fingerprint of the request
//! (method, path, body). A retry with the same key and request gets the stored response
//! again, without running; the same key with another request is refused (422), and so is a
//! duplicate while the first still runs (409). Infrastructure: features call it from their
//! services; `rest::idempotency` reads the header and maps the outcomes to HTTP.
//!
//! A feature's service uses it around its own write transaction:
//!
//! ```ignore
//! let outcome = idempotency::run(db, &config.idempotency, request.as_ref(),
//!     async |txn| store::insert(txn, new).await,   // the feature's writes
//!     |created| render(created),                   // the response to store, for replays
//! ).await?;
//! ```
//!
//! or, for a write path of its own, [`with_claim`]: the claim ([`begin`], committed at once
//! so duplicates see it) is handed to the work, which stores the response with its writes
//! ([`Claim::complete`], or [`complete_all`] for several claims at once) — the key's record
//! and the created resource commit together or not at all — and a failure releases it.
//! Only responses that commit with the feature's writes are stored. Errors (4xx and 5xx
//! alike) release the key, so a retry runs again: levee checks a request before it claims
//! the key, and what fails after that (a slug taken, the database down) may succeed on a
//! retry. A claim held by a process that died is taken over once its lease
//! (`idempotency.lease`) ran out.

mod claim;
mod jobs;
mod key;
mod store;

pub use claim::{Begin, Claim, Completion, begin, complete_all, register_series};
pub use jobs::register_jobs;
pub use key::{Fingerprint, Key, KeyError, KeyScope, MAX_KEY_LEN};

use crate::config::IdempotencyConfig;
use crate::db::{Db, clock};
use sea_orm::{DatabaseTransaction, DbErr};

/// A request made idempotent: who sent it, under which key, asking for what.
#[derive(Debug, Clone)]
pub struct Request {
    pub scope: KeyScope,
    pub key: Key,
    pub fingerprint: Fingerprint,
}

/// A response kept for replays: status, the headers that matter (e.g. `Location`) and
/// the JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// Cloneable so features' cloneable error enums can hold it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum IdempotencyError {
    #[error(
        "a request with this Idempotency-Key is still being processed; retry once it has been answered"
    )]
    InFlight,
    #[error(
        "this Idempotency-Key was already used with a different request (method, path or body); use a new key"
    )]
    Mismatch,
    /// The lease ran out and another request took the key over; this one's writes are
    /// rolled back.
    #[error("this request held its Idempotency-Key past its lease and lost it; retry")]
    ClaimLost,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// What [`run`] answers: the work's result, or the response stored by an earlier run.
pub enum Outcome<T> {
    Fresh(T),
    Replayed(StoredResponse),
}

impl<T> Outcome<T> {
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Outcome<U> {
        match self {
            Outcome::Fresh(t) => Outcome::Fresh(f(t)),
            Outcome::Replayed(r) => Outcome::Replayed(r),
        }
    }
}

/// Runs `work` in a write transaction. With a `request`, under its key: a replay answers
/// the stored response without running `work`; otherwise `respond`'s rendering of the
/// result is stored in the same transaction, and a failure releases the key.
pub async fn run<T, E>(
    db: &Db,
    config: &IdempotencyConfig,
    request: Option<&Request>,
    work: impl AsyncFnOnce(&DatabaseTransaction) -> Result<T, E>,
    respond: impl FnOnce(&T) -> StoredResponse,
) -> Result<Outcome<T>, E>
where
    E: From<IdempotencyError> + From<DbErr>,
{
    let write = async |claim: Option<&Claim>| {
        let txn = db.begin_write().await?;
        let result = work(&txn).await?;
        if let Some(claim) = claim {
            claim.complete(&txn, respond(&result)).await?;
        }
        txn.commit().await?;
        Ok(result)
    };
    match request {
        None => write(None).await.map(Outcome::Fresh),
        Some(request) => {
            with_claim(db, config, request, async |claim| write(Some(claim)).await).await
        }
    }
}

/// Runs `work` under `request`'s key: a replay answers the stored response without
/// running it, a key in use or reused is refused. `work` gets the claim to complete in the
/// transaction of its writes; a failure releases it, so a retry runs anew.
pub async fn with_claim<T, E>(
    db: &Db,
    config: &IdempotencyConfig,
    request: &Request,
    work: impl AsyncFnOnce(&Claim) -> Result<T, E>,
) -> Result<Outcome<T>, E>
where
    E: From<IdempotencyError> + From<DbErr>,
{
    let claim = match begin(db, config, request).await? {
        Begin::Started(claim) => claim,
        Begin::Replay(response) => return Ok(Outcome::Replayed(response)),
        Begin::InFlight => return Err(IdempotencyError::InFlight.into()),
        Begin::Mismatch => return Err(IdempotencyError::Mismatch.into()),
    };
    match work(&claim).await {
        Ok(result) => Ok(Outcome::Fresh(result)),
        Err(e) => {
            if let Err(release) = claim.release(db).await {
                // The lease frees the key later anyway.
                tracing::warn!(error = %release, "releasing an idempotency key failed");
            }
            Err(e)
        }
    }
}

/// Deletes keys past their expiry; returns how many.
pub async fn prune(db: &Db) -> Result<u64, DbErr> {
    let conn = db.write();
    let now = clock::now(conn).await?;
    store::prune(conn, now).await
}
