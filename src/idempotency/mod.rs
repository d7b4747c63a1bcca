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
//! or step by step: [`begin`] claims the key (committed at once, so duplicates see it),
//! [`Claim::complete`] stores the response in the feature's transaction — the key's record
//! and the created resource commit together or not at all — and [`Claim::release`] frees
//! the key when the work failed. What is stored: only responses that commit with the
//! feature's writes. Errors (4xx and 5xx alike) release the key, so a retry runs again:
//! levee checks a request before it claims the key, and what fails after that (a slug
//! taken, the database down) may succeed on a retry. A claim held by a process that died
//! is taken over once its lease (`idempotency.lease`) ran out.

mod jobs;
mod key;
mod store;

pub use jobs::register_jobs;
pub use key::{Fingerprint, Key, KeyError, KeyScope, MAX_KEY_LEN};

use crate::config::IdempotencyConfig;
use crate::db::{Db, clock};
use sea_orm::{DatabaseTransaction, DbErr};
use uuid::Uuid;

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

/// What [`begin`] found for a key.
pub enum Begin {
    /// The key is this request's now: run it, then complete or release the claim.
    Started(Claim),
    /// The same request already ran: answer with its response.
    Replay(StoredResponse),
    /// The same key is held by a request still running.
    InFlight,
    /// The key was used for another request.
    Mismatch,
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

/// A key held by the running request.
#[must_use = "complete the claim in the transaction or release it"]
pub struct Claim {
    scope: KeyScope,
    key: Key,
    token: Uuid,
}

impl Claim {
    /// Stores `response` in `txn`, the transaction of the writes it reports; `ClaimLost`
    /// when another request took the key over meanwhile (roll `txn` back then).
    pub async fn complete(
        &self,
        txn: &DatabaseTransaction,
        response: &StoredResponse,
    ) -> Result<(), IdempotencyError> {
        let (scope, key) = (&self.scope, self.key.as_str());
        if store::complete(txn, scope, key, self.token, response).await? {
            Ok(())
        } else {
            Err(IdempotencyError::ClaimLost)
        }
    }

    /// Frees the key after a failed request, so a retry runs anew.
    pub async fn release(self, db: &Db) -> Result<(), DbErr> {
        store::release(db.write(), &self.scope, self.key.as_str(), self.token).await
    }
}

/// Every outcome [`begin`] counts: a new claim, a replay, 422 (the key reused with another
/// body) and 409 (the key's first request still runs).
const OUTCOMES: [&str; 4] = ["started", "replayed", "mismatch", "in_flight"];

fn count(outcome: &'static str) {
    // Keeps OUTCOMES, which register_series creates at zero, whole.
    debug_assert!(OUTCOMES.contains(&outcome), "{outcome} is not in OUTCOMES");
    metrics::counter!("levee_idempotency_requests_total", "outcome" => outcome).increment(1);
}

/// Creates `levee_idempotency_requests_total` at zero for every outcome, so dashboards and
/// alerts see the series before the first keyed request.
pub fn register_series() {
    for outcome in OUTCOMES {
        metrics::counter!("levee_idempotency_requests_total", "outcome" => outcome).increment(0);
    }
}

fn duration(d: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// Claims `request`'s key, or says why not. Counts the outcome in
/// `levee_idempotency_requests_total{outcome}`.
pub async fn begin(db: &Db, config: &IdempotencyConfig, request: &Request) -> Result<Begin, DbErr> {
    let conn = db.write();
    // The database's clock, like the job queue's leases: one clock for the whole fleet.
    let now = clock::now(conn).await?;
    let times = store::Times {
        now,
        locked_until: now + duration(config.lease.get()),
        expires_at: now + duration(config.ttl.get()),
    };
    let token = Uuid::now_v7();
    let claim = || Claim {
        scope: request.scope.clone(),
        key: request.key.clone(),
        token,
    };
    // A row can vanish between the insert and the read (released, pruned): try again.
    for _ in 0..3 {
        if store::insert(conn, request, token, &times).await? {
            count("started");
            return Ok(Begin::Started(claim()));
        }
        let Some(row) = store::find(conn, request).await? else {
            continue;
        };
        // An expired key is a new key; a lapsed lease is a dead holder's.
        let free = row.expires_at <= now || (row.response.is_none() && row.locked_until <= now);
        let found = if free {
            if store::take_over(conn, request, row.lock_token, token, &times).await? {
                tracing::info!(
                    key.scope = request.scope.as_str(),
                    "an expired or abandoned idempotency key was taken over"
                );
                count("started");
                return Ok(Begin::Started(claim()));
            }
            // Another request took it first and now holds it.
            Begin::InFlight
        } else if row.fingerprint != request.fingerprint.as_str() {
            Begin::Mismatch
        } else {
            row.response.map_or(Begin::InFlight, Begin::Replay)
        };
        count(match &found {
            Begin::Replay(_) => "replayed",
            Begin::Mismatch => "mismatch",
            _ => "in_flight",
        });
        return Ok(found);
    }
    Err(DbErr::Custom(
        "an idempotency key kept vanishing while it was claimed".into(),
    ))
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
    let claim = match request {
        None => None,
        Some(request) => match begin(db, config, request).await? {
            Begin::Started(claim) => Some(claim),
            Begin::Replay(response) => return Ok(Outcome::Replayed(response)),
            Begin::InFlight => return Err(IdempotencyError::InFlight.into()),
            Begin::Mismatch => return Err(IdempotencyError::Mismatch.into()),
        },
    };
    let done = async {
        let txn = db.begin_write().await?;
        let result = work(&txn).await?;
        if let Some(claim) = claim.as_ref() {
            claim.complete(&txn, &respond(&result)).await?;
        }
        txn.commit().await?;
        Ok(result)
    }
    .await;
    match (done, claim) {
        (Ok(result), _) => Ok(Outcome::Fresh(result)),
        (Err(e), Some(claim)) => {
            if let Err(release) = claim.release(db).await {
                // The lease frees the key later anyway.
                tracing::warn!(error = %release, "releasing an idempotency key failed");
            }
            Err(e)
        }
        (Err(e), None) => Err(e),
    }
}

/// Deletes keys past their expiry; returns how many.
pub async fn prune(db: &Db) -> Result<u64, DbErr> {
    let conn = db.write();
    let now = clock::now(conn).await?;
    store::prune(conn, now).await
}
