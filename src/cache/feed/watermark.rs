//! Which feed rows a poll has not applied yet. Ids come from a sequence, and on PostgreSQL
//! a row can commit after one with a higher id is already visible, so the poll cannot
//! simply resume after the highest id it saw: it keeps re-reading rows it saw during the
//! last `SETTLE` and skips those it applied. A row whose insert took longer than that to
//! commit could be missed; the inserts are single statements outside any transaction.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::time::{Duration, Instant};

pub const SETTLE: Duration = Duration::from_secs(5);

#[derive(Debug, Default)]
pub struct Watermark {
    /// Every row up to this id has been applied (or predates this process).
    low: i64,
    /// Rows above `low` applied, with when each was first seen.
    seen: BTreeMap<i64, Instant>,
}

impl Watermark {
    pub fn starting_after(id: i64) -> Self {
        Self {
            low: id,
            seen: BTreeMap::new(),
        }
    }

    /// The id the next poll reads after.
    pub fn low(&self) -> i64 {
        self.low
    }

    /// Keeps the ids among `ids` not seen before (recording them), then moves `low` past
    /// the ids seen at least `SETTLE` ago.
    pub fn unseen(&mut self, ids: impl IntoIterator<Item = i64>, now: Instant) -> Vec<i64> {
        let fresh = ids
            .into_iter()
            .filter(|id| *id > self.low)
            .filter(|id| match self.seen.entry(*id) {
                Entry::Vacant(vacant) => {
                    vacant.insert(now);
                    true
                }
                Entry::Occupied(_) => false,
            })
            .collect();
        while let Some((&id, &at)) = self.seen.first_key_value() {
            if now.duration_since(at) < SETTLE {
                break;
            }
            self.low = id;
            self.seen.pop_first();
        }
        fresh
    }

    /// Skips everything up to `id` (after the caller cleared what it caches instead).
    pub fn skip_to(&mut self, id: i64) {
        self.low = self.low.max(id);
        self.seen.retain(|seen, _| *seen > id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_row_is_applied_once_and_a_late_commit_below_a_seen_id_is_not_missed() {
        let start = Instant::now();
        let mut mark = Watermark::starting_after(10);
        assert_eq!(mark.unseen([9, 11, 13], start), vec![11, 13]);
        // 12 commits late, after 13 was visible; 11 and 13 come back and are skipped.
        let later = start + Duration::from_secs(1);
        assert_eq!(mark.unseen([11, 12, 13], later), vec![12]);
        assert_eq!(mark.low(), 10, "nothing has settled yet");
        // Once settled, the poll resumes after them.
        let settled = start + SETTLE + Duration::from_secs(1);
        assert_eq!(mark.unseen([11, 12, 13, 14], settled), vec![14]);
        assert_eq!(mark.low(), 13);
    }

    #[test]
    fn skipping_forgets_what_it_passes() {
        let now = Instant::now();
        let mut mark = Watermark::starting_after(0);
        mark.unseen([1, 2, 5], now);
        mark.skip_to(3);
        assert_eq!(mark.low(), 3);
        assert_eq!(mark.unseen([4, 5], now), vec![4]);
    }
}
