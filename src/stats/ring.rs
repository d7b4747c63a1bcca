//! `MinuteRing`: `N` counters per minute for the last `MINUTES` minutes, lock-free, for
//! figures that the console charts over time beside the per-request ones of `recorder`
//! (rate-limit decisions per policy, replica lag samples per replica).

use super::recorder::{MINUTES, epoch_minute};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

/// The tag of a slot while one caller clears it for its new minute.
const CLEARING: u64 = u64::MAX;

/// Makes the slot tagged `slot_minute` count `minute`: the one caller that moves it on
/// from an older lap runs `clear` while the tag says `CLEARING`, and everyone else for
/// that minute waits the few nanoseconds it takes, so no update is lost to the reset.
/// (An update computed for an older minute that lands after the move counts in the new
/// one: late by a minute, not lost.)
pub(super) fn enter(slot_minute: &AtomicU64, minute: u64, clear: impl FnOnce()) {
    loop {
        let seen = slot_minute.load(Ordering::Acquire);
        if seen == minute {
            return;
        }
        if seen == CLEARING {
            std::thread::yield_now();
            continue;
        }
        if slot_minute
            .compare_exchange(seen, CLEARING, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            clear();
            slot_minute.store(minute, Ordering::Release);
            return;
        }
    }
}

struct Slot<const N: usize> {
    /// Minutes since the Unix epoch this slot counts; a slot from an older lap of the
    /// ring is cleared by the first update of its new minute.
    minute: AtomicU64,
    values: [AtomicU64; N],
}

pub struct MinuteRing<const N: usize> {
    slots: [Slot<N>; MINUTES],
}

impl<const N: usize> Default for MinuteRing<N> {
    fn default() -> Self {
        Self {
            slots: std::array::from_fn(|_| Slot {
                minute: AtomicU64::new(0),
                values: std::array::from_fn(|_| AtomicU64::new(0)),
            }),
        }
    }
}

impl<const N: usize> MinuteRing<N> {
    fn slot(&self, minute: u64) -> &Slot<N> {
        &self.slots[(minute % MINUTES as u64) as usize]
    }

    /// Runs `update` on the counters of the minute of `at` (e.g. `fetch_add`, `fetch_max`).
    pub fn update(&self, at: SystemTime, update: impl FnOnce(&[AtomicU64; N])) {
        let minute = epoch_minute(at);
        let slot = self.slot(minute);
        enter(&slot.minute, minute, || {
            slot.values
                .iter()
                .for_each(|v| v.store(0, Ordering::Relaxed));
        });
        update(&slot.values);
    }

    /// The last `MINUTES` minutes up to `now`, oldest first, zeros where nothing counted.
    pub fn read(&self, now: SystemTime) -> Vec<(u64, [u64; N])> {
        let current = epoch_minute(now);
        (0..MINUTES as u64)
            .rev()
            .map(|ago| {
                let minute = current.saturating_sub(ago);
                let slot = self.slot(minute);
                let counted = slot.minute.load(Ordering::Acquire) == minute;
                let values = std::array::from_fn(|i| {
                    if counted {
                        slot.values[i].load(Ordering::Relaxed)
                    } else {
                        0
                    }
                });
                (minute, values)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn minutes_count_apart_and_a_lap_clears_the_old_counts() {
        let at = |minute: u64| UNIX_EPOCH + Duration::from_secs(minute * 60 + 7);
        let ring = MinuteRing::<2>::default();
        ring.update(at(500), |v| {
            v[0].fetch_add(2, Ordering::Relaxed);
        });
        ring.update(at(501), |v| {
            v[1].fetch_max(9, Ordering::Relaxed);
        });
        let read = ring.read(at(501));
        assert_eq!(read.len(), MINUTES);
        assert_eq!(&read[MINUTES - 2..], &[(500, [2, 0]), (501, [0, 9])]);
        ring.update(at(560), |v| {
            v[0].fetch_add(1, Ordering::Relaxed);
        });
        let read = ring.read(at(560));
        assert_eq!(
            read[MINUTES - 1],
            (560, [1, 0]),
            "minute 500's slot was reset"
        );
        assert_eq!(read[0], (501, [0, 9]));
    }

    #[test]
    fn no_update_racing_the_reset_of_a_slot_is_lost() {
        let at = |minute: u64| UNIX_EPOCH + Duration::from_secs(minute * 60 + 7);
        for round in 0..50u64 {
            let ring = std::sync::Arc::new(MinuteRing::<1>::default());
            ring.update(at(500 + round * 60), |v| {
                v[0].fetch_add(1_000, Ordering::Relaxed);
            });
            let minute = 500 + (round + 1) * 60;
            let start = std::sync::Arc::new(std::sync::Barrier::new(4));
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    let (ring, start) = (ring.clone(), start.clone());
                    std::thread::spawn(move || {
                        start.wait();
                        for _ in 0..100 {
                            ring.update(at(minute), |v| {
                                v[0].fetch_add(1, Ordering::Relaxed);
                            });
                        }
                    })
                })
                .collect();
            threads.into_iter().for_each(|t| t.join().expect("thread"));
            assert_eq!(ring.read(at(minute))[MINUTES - 1], (minute, [400]));
        }
    }
}
