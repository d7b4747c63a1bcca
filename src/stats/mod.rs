//! Request statistics of this process for the admin console: the HTTP layer records each
//! answered request here beside its Prometheus metrics (the exporter is write-only), and
//! the console reads a `StatsSnapshot` — the unit a fleet publishes and `merge` adds up.

mod histogram;
mod merge;
mod recorder;
mod resources;
mod ring;
mod snapshot;

pub use histogram::{AtomicHistogram, BOUNDS_MS, Histogram};
pub use merge::merge;
pub use recorder::{MINUTES, Recorder, epoch_minute, epoch_seconds};
pub use resources::{
    CacheDetail, DecisionMinute, LagMinute, NamespaceLookups, PolicyDecisions, PoolStats,
    ReplicaHistory,
};
pub use ring::MinuteRing;
pub use snapshot::{
    CacheStats, Instance, MinuteStats, QueueStats, ReplicaStats, RouteStats, StatsSnapshot,
};
