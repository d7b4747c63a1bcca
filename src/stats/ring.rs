//! `MinuteRing`: `N` counters per minute for the last `MINUTES` minutes, lock-free, for
//! figures that the console charts over time beside the per-request ones of `recorder`
//! (rate-limit decisions per policy, replica lag samples per replica).

use super::recorder::{MINUTES, epoch_minute};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

/// Moves a ring slot whose counter of minutes is `slot_minute` on to `minute`; `true`
/// for the one caller that did, which must then clear the slot's counts. An update
/// racing that reset may be lost: a few per hour, from the history only.
pub(super) fn claim(slot_minute: &AtomicU64, minute: u64) -> bool {
    let seen = slot_minute.load(Ordering::Acquire);
    seen != minute
        && slot_minute
            .compare_exchange(seen, minute, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
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
        if claim(&slot.minute, minute) {
            slot.values
                .iter()
                .for_each(|v| v.store(0, Ordering::Relaxed));
        }
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
}
