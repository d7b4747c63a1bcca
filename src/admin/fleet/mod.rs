//! The fleet: every levee process (`serve` and `worker`) publishes its `StatsSnapshot`
//! every `admin.publish_interval` to the shared store — Redis when configured, the
//! database otherwise and while Redis fails — kept for `admin.fleet_retention`. The
//! console reads them back, puts this process's live snapshot in place of its own
//! published one, marks instances that missed three publishes as stale, and merges them.

mod db_store;
mod local;
mod redis_store;
mod view;

pub use db_store::instance_snapshot;
pub use local::process_snapshot;
pub use view::InstanceRow;

use crate::config::AdminConfig;
use crate::db::Db;
use crate::redis_conn::RedisConn;
use crate::state::AppState;
use crate::stats::StatsSnapshot;
use std::future::Future;
use std::time::Duration;

/// A snapshot larger than this is not published: it would mean an unbounded section.
const MAX_BODY_BYTES: usize = 256 * 1024;
/// At most this many instances are read back (the newest).
const MAX_MEMBERS: u64 = 100;

#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("the fleet store in the database failed: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("encoding the snapshot failed: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("the snapshot is {0} bytes, above the {MAX_BODY_BYTES} bytes a publish may store")]
    TooLarge(usize),
}

/// The shared store of the fleet's snapshots.
#[derive(Clone)]
pub struct Fleet {
    db: Db,
    redis: Option<RedisConn>,
    publish_interval: Duration,
    retention: Duration,
    stale_after: Duration,
}

/// One process of the fleet.
pub struct Member {
    pub snapshot: StatsSnapshot,
    /// Its last publish is older than three intervals: stopped, or cut off.
    pub stale: bool,
}

/// The fleet as the console shows it.
pub struct FleetView {
    /// This process first (live), then the others by role, host and pid.
    pub members: Vec<Member>,
    /// Every member's statistics merged, stale ones included: their requests happened.
    pub total: StatsSnapshot,
    /// The store could not be read: only this process is shown.
    pub store_failed: bool,
}

fn unix_now() -> u64 {
    crate::stats::epoch_seconds(std::time::SystemTime::now())
}

impl Fleet {
    pub fn new(db: &Db, redis: Option<&RedisConn>, config: &AdminConfig) -> Self {
        Self {
            db: db.clone(),
            redis: redis.cloned(),
            publish_interval: config.publish_interval.get(),
            retention: config.fleet_retention.get(),
            stale_after: config.stale_after(),
        }
    }

    /// The store of a serving process.
    pub fn of(state: &AppState) -> Self {
        Self::new(state.db(), state.redis(), &state.config().admin)
    }

    /// Stores `snap` as its instance's latest: in Redis, or in the database when there is
    /// no Redis or it fails (the failure is logged by the connection, once per back-off).
    pub async fn publish(&self, mut snap: StatsSnapshot) -> Result<(), FleetError> {
        // Minutes without requests are implied (the merge aligns minutes by their epoch
        // minute): dropping them halves a quiet process's body and its encoding time.
        snap.minutes.retain(|m| m.requests > 0);
        let body = serde_json::to_string(&snap)?;
        if body.len() > MAX_BODY_BYTES {
            return Err(FleetError::TooLarge(body.len()));
        }
        let retention = self.retention.as_secs();
        if let Some(redis) = &self.redis {
            let id = &snap.instance.id;
            let stored = redis_store::publish(redis, id, snap.taken_at, retention, body.clone());
            if stored.await.is_ok() {
                return Ok(());
            }
        }
        let who = (snap.instance.id.as_str(), snap.instance.role.as_str());
        let expires_at = snap.taken_at + retention;
        db_store::publish(&self.db, who, snap.taken_at, expires_at, body).await?;
        Ok(())
    }

    /// The published snapshots that have not expired, from Redis or else the database.
    async fn load(&self) -> Result<Vec<StatsSnapshot>, FleetError> {
        let now = unix_now();
        let since = now.saturating_sub(self.retention.as_secs());
        let from_redis = match &self.redis {
            Some(redis) => redis_store::load(redis, since, MAX_MEMBERS).await.ok(),
            None => None,
        };
        let bodies = match from_redis {
            Some(bodies) => bodies,
            None => db_store::load(&self.db, now, MAX_MEMBERS).await?,
        };
        let decoded = bodies.iter().filter_map(|body| {
            serde_json::from_str(body)
                .inspect_err(
                    |e| tracing::warn!(error = %e, "skipping an unreadable fleet snapshot"),
                )
                .ok()
        });
        Ok(decoded.collect())
    }

    /// The fleet with `local` (this process, just taken) in place of its published self.
    pub async fn view(&self, local: StatsSnapshot) -> FleetView {
        let (others, store_failed) = match self.load().await {
            Ok(all) => (all, false),
            Err(e) => {
                tracing::warn!(error = %e, "reading the fleet's snapshots failed");
                (Vec::new(), true)
            }
        };
        let mut others: Vec<StatsSnapshot> = others
            .into_iter()
            .filter(|s| s.instance.id != local.instance.id)
            .collect();
        others.sort_by(|a, b| {
            let (a, b) = (&a.instance, &b.instance);
            (&a.role, &a.hostname, a.pid).cmp(&(&b.role, &b.hostname, b.pid))
        });
        let now = unix_now();
        let stale_after = self.stale_after.as_secs();
        let mut members = vec![Member {
            snapshot: local,
            stale: false,
        }];
        members.extend(others.into_iter().map(|snapshot| Member {
            stale: now.saturating_sub(snapshot.taken_at) > stale_after,
            snapshot,
        }));
        let all: Vec<&StatsSnapshot> = members.iter().map(|m| &m.snapshot).collect();
        FleetView {
            total: crate::stats::merge(&all),
            members,
            store_failed,
        }
    }

    /// Publishes what `take` reports every `admin.publish_interval`, until aborted.
    pub async fn publish_every<F, Fut>(self, take: F)
    where
        F: Fn() -> Fut,
        Fut: Future<Output = StatsSnapshot>,
    {
        let mut tick = tokio::time::interval(self.publish_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.publish(take().await).await {
                tracing::warn!(error = %e, "publishing this process's statistics failed");
            }
        }
    }
}

/// Publishes this serving process's snapshot every `admin.publish_interval`, until aborted.
pub async fn publish_serve(state: AppState) {
    let fleet = Fleet::of(&state);
    fleet
        .publish_every(|| super::overview::snapshot(&state))
        .await;
}

/// The fleet as the overview shows it, this process live.
pub async fn gather(state: &AppState) -> FleetView {
    let local = super::overview::snapshot(state).await;
    Fleet::of(state).view(local).await
}
