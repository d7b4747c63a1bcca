//! The scheduler: the instance holding the `cron` leader lease enqueues due slots. A slot is
//! recorded in `cron_slots` in the same transaction as its job, so even a leader change in
//! the middle cannot fire a slot twice.

use super::store::{self, NewJob};
use crate::config::CronEntry;
use crate::db::{Db, clock};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};
use std::time::Duration;

const LEASE_NAME: &str = "cron";
/// Slots older than this when first seen (the fleet was down) are skipped.
const CATCH_UP: chrono::Duration = chrono::Duration::minutes(1);
/// Fired slots are kept this long; an older slot can never fire again (see `CATCH_UP`), so
/// its record guards nothing.
const SLOT_RETENTION: chrono::Duration = chrono::Duration::days(1);

/// Deletes the records of slots fired more than [`SLOT_RETENTION`] ago; returns how many.
pub async fn prune_slots(db: &Db) -> Result<u64, DbErr> {
    let delete = db.statement(
        "DELETE FROM cron_slots WHERE slot < $1",
        vec![(Utc::now() - SLOT_RETENTION).into()],
    );
    Ok(db.write().execute_raw(delete).await?.rows_affected())
}

pub struct Scheduler {
    entries: Vec<(CronEntry, croner::Cron)>,
    owner: String,
    lease: Duration,
}

impl Scheduler {
    /// Entries whose schedule does not parse were rejected when the config loaded.
    pub fn new(entries: &[CronEntry], owner: String, lease: Duration) -> Self {
        let entries = entries
            .iter()
            .filter_map(|e| Some((e.clone(), e.schedule.parse().ok()?)))
            .collect();
        Self {
            entries,
            owner,
            lease,
        }
    }

    /// Takes or renews the leader lease at `now` (the database's time, like every lease);
    /// `true` while this instance leads.
    async fn lead(&self, db: &Db, now: DateTime<Utc>) -> Result<bool, DbErr> {
        let expires =
            now + chrono::Duration::from_std(self.lease).unwrap_or(chrono::Duration::seconds(30));
        let insert = db.statement("INSERT INTO leader_leases (name, holder, expires_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
            vec![LEASE_NAME.into(), self.owner.clone().into(), expires.into()],
        );
        db.write().execute_raw(insert).await?;
        let take = db.statement("UPDATE leader_leases SET holder = $1, expires_at = $2 WHERE name = $3 AND (holder = $1 OR expires_at < $4)",
            vec![
                self.owner.clone().into(),
                expires.into(),
                LEASE_NAME.into(),
                now.into(),
            ],
        );
        Ok(db.write().execute_raw(take).await?.rows_affected() == 1)
    }

    /// Gives up the lease so another instance takes over at once (shutdown).
    pub async fn resign(&self, db: &Db) -> Result<(), DbErr> {
        let release = db.statement(
            "UPDATE leader_leases SET expires_at = $1 WHERE name = $2 AND holder = $3",
            vec![
                (clock::now(db.write()).await? - chrono::Duration::seconds(1)).into(),
                LEASE_NAME.into(),
                self.owner.clone().into(),
            ],
        );
        db.write().execute_raw(release).await.map(|_| ())
    }

    /// Enqueues every due, unfired slot if this instance leads; returns how many.
    pub async fn tick(&self, db: &Db) -> Result<usize, DbErr> {
        // Without entries there is nothing to lead (nor a clock to read).
        if self.entries.is_empty() {
            return Ok(0);
        }
        let now = clock::now(db.write()).await?;
        if !self.lead(db, now).await? {
            return Ok(0);
        }
        let mut fired = 0;
        for (entry, cron) in &self.entries {
            let Ok(slot) = cron.find_previous_occurrence(&now, true) else {
                continue;
            };
            if now - slot > CATCH_UP {
                continue;
            }
            if self.fire(db, entry, slot).await? {
                fired += 1;
            }
        }
        Ok(fired)
    }

    async fn fire(&self, db: &Db, entry: &CronEntry, slot: DateTime<Utc>) -> Result<bool, DbErr> {
        let txn = db.begin_write().await?;
        let job = store::enqueue(
            &txn,
            NewJob {
                kind: entry.kind.clone(),
                queue: "default".into(),
                payload: serde_json::json!({}),
                priority: 0,
                max_attempts: 3,
                run_at: None,
                unique_key: None,
            },
        )
        .await?;
        let record = db.statement(
            "INSERT INTO cron_slots (name, slot, job_id) VALUES ($1, $2, $3) ON CONFLICT (name, slot) DO NOTHING",
            vec![entry.name.clone().into(), slot.into(), job.id.into()],
        );
        if txn.execute_raw(record).await?.rows_affected() == 0 {
            // Fired already (by us earlier or by a previous leader): drop the job with the txn.
            txn.rollback().await?;
            return Ok(false);
        }
        txn.commit().await?;
        tracing::info!(cron = %entry.name, slot = %slot, job.id = %job.id, "cron slot fired");
        Ok(true)
    }
}
