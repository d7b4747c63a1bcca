//! A bulkhead: at most `max_concurrent` calls to one dependency at a time. A call beyond
//! that waits up to `max_wait` for a slot and is then turned away, so a slow dependency
//! holds a bounded number of tasks and connections instead of every caller.

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A call the bulkhead turned away: every slot stayed busy for `max_wait`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bulkhead {name} is full: {max_concurrent} calls in flight")]
pub struct Full {
    pub name: String,
    pub max_concurrent: u32,
}

pub struct Bulkhead {
    name: String,
    slots: Arc<Semaphore>,
    max_concurrent: u32,
    max_wait: Duration,
    in_use: metrics::Gauge,
}

/// A slot, held for the length of one call.
pub struct Slot {
    _permit: OwnedSemaphorePermit,
    bulkhead: Arc<Semaphore>,
    max_concurrent: u32,
    in_use: metrics::Gauge,
}

impl Drop for Slot {
    fn drop(&mut self) {
        // The permit is returned after this body runs; count it as free already.
        let free = self.bulkhead.available_permits() + 1;
        self.in_use
            .set(f64::from(self.max_concurrent) - free as f64);
    }
}

impl Bulkhead {
    pub fn new(
        name: impl Into<String>,
        max_concurrent: u32,
        max_wait: Duration,
        in_use: metrics::Gauge,
    ) -> Self {
        Self {
            name: name.into(),
            slots: Arc::new(Semaphore::new(max_concurrent as usize)),
            max_concurrent,
            max_wait,
            in_use,
        }
    }

    /// A slot, waiting at most `max_wait` for one.
    pub async fn enter(&self) -> Result<Slot, Full> {
        let acquired = tokio::time::timeout(self.max_wait, self.slots.clone().acquire_owned());
        let Ok(Ok(permit)) = acquired.await else {
            return Err(Full {
                name: self.name.clone(),
                max_concurrent: self.max_concurrent,
            });
        };
        self.in_use.set(f64::from(self.in_use_now()));
        Ok(Slot {
            _permit: permit,
            bulkhead: self.slots.clone(),
            max_concurrent: self.max_concurrent,
            in_use: self.in_use.clone(),
        })
    }

    /// Calls in flight now.
    pub fn in_use_now(&self) -> u32 {
        self.max_concurrent - self.slots.available_permits() as u32
    }

    pub fn max_concurrent(&self) -> u32 {
        self.max_concurrent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulkhead(max: u32) -> Bulkhead {
        Bulkhead::new(
            "test",
            max,
            Duration::from_millis(100),
            metrics::Gauge::noop(),
        )
    }

    #[tokio::test(start_paused = true)]
    async fn calls_beyond_the_limit_wait_then_are_turned_away() {
        let bulkhead = bulkhead(2);
        let first = bulkhead.enter().await.expect("a slot");
        let _second = bulkhead.enter().await.expect("a slot");
        assert_eq!(bulkhead.in_use_now(), 2);
        let full = bulkhead
            .enter()
            .await
            .err()
            .expect("no slot within max_wait");
        assert_eq!(full.to_string(), "bulkhead test is full: 2 calls in flight");
        drop(first);
        assert_eq!(bulkhead.in_use_now(), 1);
        bulkhead.enter().await.expect("a freed slot");
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiting_call_gets_a_slot_freed_within_max_wait() {
        let bulkhead = Arc::new(bulkhead(1));
        let held = bulkhead.enter().await.expect("a slot");
        let waiter = tokio::spawn({
            let bulkhead = bulkhead.clone();
            async move { bulkhead.enter().await.map(|_| ()) }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(held);
        assert_eq!(waiter.await.expect("join"), Ok(()));
    }
}
