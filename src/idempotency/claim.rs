//! Claiming a key, and storing the claim's response with the writes it reports.

use super::key::{Key, KeyScope};
use super::{IdempotencyError, Request, StoredResponse, store};
use crate::config::IdempotencyConfig;
use crate::db::{Db, clock};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr};
use uuid::Uuid;

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

/// A key held by the running request.
#[must_use = "complete the claim in the transaction or release it"]
pub struct Claim {
    scope: KeyScope,
    key: Key,
    token: Uuid,
}

/// A claim's response, to store with the writes it reports (see [`complete_all`]).
#[derive(Debug)]
pub struct Completion {
    pub(super) scope: KeyScope,
    pub(super) key: Key,
    pub(super) token: Uuid,
    pub(super) response: StoredResponse,
}

impl Claim {
    /// Stores `response` in `txn`, the transaction of the writes it reports; `ClaimLost`
    /// when another request took the key over meanwhile (roll `txn` back then).
    pub async fn complete(
        &self,
        txn: &DatabaseTransaction,
        response: StoredResponse,
    ) -> Result<(), IdempotencyError> {
        match complete_all(txn, &[&self.completion(response)]).await?[..] {
            [true] => Ok(()),
            _ => Err(IdempotencyError::ClaimLost),
        }
    }

    /// `response` as this claim's, for [`complete_all`].
    pub fn completion(&self, response: StoredResponse) -> Completion {
        Completion {
            scope: self.scope.clone(),
            key: self.key.clone(),
            token: self.token,
            response,
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

/// Stores the responses of several claims in one statement on `conn`, the transaction of
/// the writes they report. Says, per completion, whether its claim was still held; roll
/// back the writes of one that was not (another request took its key over meanwhile).
pub async fn complete_all(
    conn: &impl ConnectionTrait,
    completions: &[&Completion],
) -> Result<Vec<bool>, DbErr> {
    let held = store::complete_all(conn, completions).await?;
    Ok(completions
        .iter()
        .map(|c| held.contains(&c.token))
        .collect())
}
