//! Invalidations waiting for Redis. A write whose L2 delete and fleet message could not
//! be sent (Redis down or backing off) queues its key here; the replayer sends them, in
//! order, once Redis answers. While keys wait, the L2 entries they name may be stale, so
//! this instance neither reads nor fills L2. The queue is bounded: past the bound the
//! keys are dropped, and the cache is bypassed until every cached entry in Redis has been
//! deleted (the only way to cover keys nobody remembers) and the fleet told to clear L1.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

pub struct Backlog {
    bound: usize,
    state: Mutex<State>,
    /// Mirrors of the state, set under its lock, so every cache read checks them without
    /// taking the lock.
    waiting: AtomicBool,
    overflowed: AtomicBool,
}

#[derive(Default)]
struct State {
    keys: VecDeque<String>,
    /// Keys were dropped: only a flush of L2 makes the cache trustworthy again.
    overflowed: bool,
}

/// What the replayer has to do next.
#[derive(Debug, PartialEq)]
pub enum Next {
    Nothing,
    Send(String),
    Flush,
}

impl Backlog {
    pub fn new(bound: usize) -> Self {
        Self {
            bound,
            state: Mutex::default(),
            waiting: AtomicBool::new(false),
            overflowed: AtomicBool::new(false),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Nothing waits: L2 can be used.
    pub fn is_clear(&self) -> bool {
        !self.waiting.load(Ordering::SeqCst) && !self.overflowed()
    }

    /// The queue overflowed and L2 has not been flushed yet: bypass the cache.
    pub fn overflowed(&self) -> bool {
        self.overflowed.load(Ordering::SeqCst)
    }

    /// Queues `key`; `true` when this push overflowed the queue (the caller clears L1).
    pub fn push(&self, key: &str) -> bool {
        let mut state = self.state();
        if state.overflowed {
            metrics::counter!("levee_cache_invalidations_dropped_total").increment(1);
            return false;
        }
        if state.keys.len() < self.bound {
            state.keys.push_back(key.to_string());
            self.publish(&state);
            return false;
        }
        let dropped = state.keys.len() as u64 + 1;
        metrics::counter!("levee_cache_invalidations_dropped_total").increment(dropped);
        tracing::warn!(
            cache.dropped = dropped,
            "cache invalidation backlog overflowed; bypassing the cache until Redis answers"
        );
        state.keys.clear();
        state.overflowed = true;
        self.publish(&state);
        true
    }

    pub fn next(&self) -> Next {
        let state = self.state();
        if state.overflowed {
            Next::Flush
        } else {
            state
                .keys
                .front()
                .cloned()
                .map_or(Next::Nothing, Next::Send)
        }
    }

    /// `key`, the front of the queue, was sent. Only the replayer removes keys, so the
    /// front is still `key` unless an overflow emptied the queue meanwhile.
    pub fn sent(&self, key: &str) {
        let mut state = self.state();
        if state.keys.front().is_some_and(|front| front == key) {
            state.keys.pop_front();
            self.publish(&state);
        }
    }

    /// L2 was flushed and the fleet told: the cache can be used again.
    pub fn flushed(&self) {
        let mut state = self.state();
        state.overflowed = false;
        self.publish(&state);
    }

    /// Called with the lock held after every change.
    fn publish(&self, state: &State) {
        self.waiting.store(!state.keys.is_empty(), Ordering::SeqCst);
        self.overflowed.store(state.overflowed, Ordering::SeqCst);
        metrics::gauge!("levee_cache_invalidations_pending").set(state.keys.len() as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_replay_in_order_until_the_bound_then_a_flush_is_due() {
        let backlog = Backlog::new(2);
        assert!(backlog.is_clear());
        assert!(!backlog.push("post:a"));
        assert!(!backlog.push("posts:first"));
        assert!(!backlog.is_clear());
        assert_eq!(backlog.next(), Next::Send("post:a".into()));
        backlog.sent("post:a");
        assert_eq!(backlog.next(), Next::Send("posts:first".into()));
        assert!(!backlog.push("post:b"));
        assert!(backlog.push("post:c"), "the third waiting key overflows");
        assert!(backlog.overflowed());
        assert!(!backlog.push("post:d"), "overflows only once");
        backlog.sent("posts:first");
        assert_eq!(backlog.next(), Next::Flush);
        backlog.flushed();
        assert!(backlog.is_clear());
        assert_eq!(backlog.next(), Next::Nothing);
    }
}
