//! What both tiers store: the encoded value (or "not found"), when it stops being fresh,
//! and when the database read behind it began (so a client that has just written can
//! tell whether the entry already reflects its write).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// MessagePack of the value; `None` records "not found".
    value: Option<Vec<u8>>,
    /// Unix milliseconds after which the entry is stale.
    fresh_until: i64,
    /// Unix milliseconds when the read that produced the value began. Entries written
    /// before the field existed decode as 0 (MessagePack arrays may end early, serde
    /// defaults the rest): older than any write, so never taken for one that reflects it.
    #[serde(default)]
    filled_at: i64,
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Entry {
    pub fn new<T: Serialize>(
        value: Option<&T>,
        fresh_for: Duration,
        filled_at: i64,
    ) -> Result<Self, String> {
        let value = value
            .map(rmp_serde::to_vec)
            .transpose()
            .map_err(|e| e.to_string())?;
        let fresh_for = i64::try_from(fresh_for.as_millis()).unwrap_or(i64::MAX);
        Ok(Self {
            value,
            fresh_until: now_ms().saturating_add(fresh_for),
            filled_at,
        })
    }

    /// Whether the read behind this entry began after `millis` (unix milliseconds).
    pub fn filled_after(&self, millis: i64) -> bool {
        self.filled_at > millis
    }

    pub fn is_fresh(&self) -> bool {
        now_ms() < self.fresh_until
    }

    /// Bytes held, for L1's memory bound.
    pub fn weight(&self) -> usize {
        self.value.as_ref().map_or(0, Vec::len) + 32
    }

    pub fn decode<T: DeserializeOwned>(&self) -> Result<Option<T>, String> {
        self.value
            .as_deref()
            .map(rmp_serde::from_slice)
            .transpose()
            .map_err(|e| e.to_string())
    }

    pub fn encode(&self) -> Vec<u8> {
        rmp_serde::to_vec(self).unwrap_or_default()
    }

    pub fn parse(bytes: &[u8]) -> Option<Self> {
        rmp_serde::from_slice(bytes).ok()
    }
}

/// `ttl` ±10%, so keys written together do not expire together.
pub fn jittered(ttl: Duration) -> Duration {
    let mut byte = [0u8; 1];
    let _ = getrandom::fill(&mut byte);
    // 0..=255 → 0.90..=1.10
    ttl.mul_f64(0.9 + f64::from(byte[0]) / 255.0 * 0.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_values_and_not_found() {
        let entry =
            Entry::new(Some(&("slug", 7u32)), Duration::from_secs(60), 1_000).expect("encode");
        assert!(entry.is_fresh());
        let parsed = Entry::parse(&entry.encode()).expect("parse");
        assert_eq!(
            parsed.decode::<(String, u32)>(),
            Ok(Some(("slug".into(), 7)))
        );
        assert!(parsed.filled_after(999) && !parsed.filled_after(1_000));
        let missing = Entry::new::<u32>(None, Duration::ZERO, 0).expect("encode");
        assert!(!missing.is_fresh());
        assert_eq!(missing.decode::<u32>(), Ok(None));
    }

    #[test]
    fn an_entry_stored_before_fill_times_counts_as_filled_at_the_epoch() {
        let value = rmp_serde::to_vec(&7u32).expect("encode");
        let old_layout = rmp_serde::to_vec(&(Some(value), i64::MAX)).expect("encode");
        let parsed = Entry::parse(&old_layout).expect("an old entry still parses");
        assert!(parsed.is_fresh());
        assert_eq!(parsed.decode::<u32>(), Ok(Some(7)));
        assert!(!parsed.filled_after(0), "older than any write");
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        for _ in 0..100 {
            let d = jittered(Duration::from_secs(100));
            assert!(
                d >= Duration::from_secs(90) && d <= Duration::from_secs(110),
                "{d:?}"
            );
        }
    }
}
