//! Diagnostics of the queue itself: the `jobs.probe` kind that checks workers end to end,
//! and `levee jobs bench`, which measures this deployment's throughput with it.

pub mod bench;
mod probe;

pub use probe::Probe;
pub(super) use probe::register;
