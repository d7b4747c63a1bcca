//! The fleet on the overview: one row per instance and the instances tile.

use super::{FleetView, Member, unix_now};
use crate::admin::overview::{Level, Tile};

/// One instance as the overview's table lists it.
pub struct InstanceRow {
    pub id: String,
    /// The first characters of the id, enough to tell instances apart.
    pub short_id: String,
    pub role: String,
    pub hostname: String,
    pub pid: u32,
    pub version: String,
    pub uptime: String,
    pub requests: u64,
    /// `alive` or `stale`.
    pub state: &'static str,
    pub level: Level,
    /// Seconds since its last snapshot.
    pub age_secs: u64,
    /// The process that rendered the page.
    pub this: bool,
}

impl InstanceRow {
    fn new(member: &Member, this: bool, now: u64) -> Self {
        let snap = &member.snapshot;
        let id = snap.instance.id.clone();
        Self {
            short_id: id.chars().take(8).collect(),
            id,
            role: snap.instance.role.clone(),
            hostname: snap.instance.hostname.clone(),
            pid: snap.instance.pid,
            version: snap.version.clone(),
            uptime: humantime::format_duration(std::time::Duration::from_secs(snap.uptime_secs))
                .to_string(),
            requests: snap.requests_total(),
            state: if member.stale { "stale" } else { "alive" },
            level: if member.stale { Level::Warn } else { Level::Ok },
            age_secs: now.saturating_sub(snap.taken_at),
            this,
        }
    }
}

impl FleetView {
    pub fn rows(&self) -> Vec<InstanceRow> {
        let now = unix_now();
        let rows = self.members.iter().enumerate();
        rows.map(|(i, m)| InstanceRow::new(m, i == 0, now))
            .collect()
    }

    /// Alive and stale instances; a warning when any is stale or the store failed.
    pub fn tile(&self) -> Tile {
        let stale = self.members.iter().filter(|m| m.stale).count();
        let alive = self.members.len() - stale;
        let count = |role: &str| {
            let of_role = self
                .members
                .iter()
                .filter(|m| m.snapshot.instance.role == role);
            of_role.count()
        };
        let detail = if self.store_failed {
            "the fleet store cannot be read: this process only".to_string()
        } else {
            format!(
                "{stale} stale · {} serve · {} worker",
                count("serve"),
                count("worker")
            )
        };
        Tile {
            title: "Instances alive",
            value: alive.to_string(),
            detail,
            level: if stale > 0 || self.store_failed {
                Level::Warn
            } else {
                Level::Ok
            },
            metric: "instances_alive",
        }
    }
}
