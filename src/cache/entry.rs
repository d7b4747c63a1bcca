//! What both tiers store: the encoded value (or "not found") and when it stops being fresh.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// MessagePack of the value; `None` records "not found".
    value: Option<Vec<u8>>,
    /// Unix milliseconds after which the entry is stale.
    fresh_until: i64,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Entry {
    pub fn new<T: Serialize>(value: Option<&T>, fresh_for: Duration) -> Result<Self, String> {
        let value = value
            .map(rmp_serde::to_vec)
            .transpose()
            .map_err(|e| e.to_string())?;
        let fresh_for = i64::try_from(fresh_for.as_millis()).unwrap_or(i64::MAX);
        Ok(Self {
            value,
            fresh_until: now_ms().saturating_add(fresh_for),
        })
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
        let entry = Entry::new(Some(&("slug", 7u32)), Duration::from_secs(60)).expect("encode");
        assert!(entry.is_fresh());
        let parsed = Entry::parse(&entry.encode()).expect("parse");
        assert_eq!(
            parsed.decode::<(String, u32)>(),
            Ok(Some(("slug".into(), 7)))
        );
        let missing = Entry::new::<u32>(None, Duration::ZERO).expect("encode");
        assert!(!missing.is_fresh());
        assert_eq!(missing.decode::<u32>(), Ok(None));
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
