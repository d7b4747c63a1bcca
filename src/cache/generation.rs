//! Per-key generations: every invalidation of a key bumps its generation, and a fill
//! captures the generation before it reads. A fill whose generation moved meanwhile read
//! a row from before the edit, so it must not be stored (it still answers its caller).
//! Counters are striped by key hash in a fixed array, so the map never grows; two keys
//! sharing a stripe only make a fill skip storing once more than needed, which is safe.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

const STRIPES: usize = 4096;

pub struct Generations(Box<[AtomicU64]>);

impl Generations {
    pub fn new() -> Self {
        Self((0..STRIPES).map(|_| AtomicU64::new(0)).collect())
    }

    fn stripe(&self, key: &str) -> &AtomicU64 {
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        // The remainder is below STRIPES, so it fits in usize.
        &self.0[(hasher.finish() % STRIPES as u64) as usize]
    }

    /// The generation a fill captures before it reads.
    pub fn current(&self, key: &str) -> u64 {
        self.stripe(key).load(Ordering::SeqCst)
    }

    /// Has `key` been invalidated since `generation` was captured?
    pub fn moved(&self, key: &str, generation: u64) -> bool {
        self.current(key) != generation
    }

    /// Called before an invalidation removes anything, so that a fill storing after the
    /// removal sees the bump when it checks again.
    pub fn bump(&self, key: &str) {
        self.stripe(key).fetch_add(1, Ordering::SeqCst);
    }

    /// Invalidations may have been missed (the subscriber reconnected): supersede every fill.
    pub fn bump_all(&self) {
        for stripe in &self.0 {
            stripe.fetch_add(1, Ordering::SeqCst);
        }
    }
}
