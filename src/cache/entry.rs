//! What both tiers store: the encoded value (or "not found"), when it stops being fresh,
//! and when the database read behind it began (so a client that has just written can
//! tell whether the entry already reflects its write). An entry also keeps its value
//! decoded once, so L1 hits share it instead of decoding MessagePack on every read.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::any::Any;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The decoded value, shared by every hit on the entry.
type Shared = Arc<dyn Any + Send + Sync>;

#[derive(Debug, Serialize, Deserialize)]
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
    #[serde(skip)]
    decoded: Decoded,
}

#[derive(Default)]
struct Decoded(OnceLock<Shared>);

impl std::fmt::Debug for Decoded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "decoded"
        } else {
            "encoded"
        })
    }
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Entry {
    /// The entry for a fetched `value`, which it keeps as the decoded copy too.
    pub fn new<T: Serialize + Send + Sync + 'static>(
        value: Option<T>,
        fresh_for: Duration,
        filled_at: i64,
    ) -> Result<Self, String> {
        let encoded = value
            .as_ref()
            .map(rmp_serde::to_vec)
            .transpose()
            .map_err(|e| e.to_string())?;
        let fresh_for = i64::try_from(fresh_for.as_millis()).unwrap_or(i64::MAX);
        let decoded = Decoded::default();
        if let Some(value) = value {
            let _ = decoded.0.set(Arc::new(value));
        }
        Ok(Self {
            value: encoded,
            fresh_until: now_ms().saturating_add(fresh_for),
            filled_at,
            decoded,
        })
    }

    /// Whether the read behind this entry began after `millis` (unix milliseconds).
    pub fn filled_after(&self, millis: i64) -> bool {
        self.filled_at > millis
    }

    pub fn is_fresh(&self) -> bool {
        now_ms() < self.fresh_until
    }

    /// Bytes held, for L1's memory bound: the encoded value, and about as much again for
    /// its decoded copy.
    pub fn weight(&self) -> usize {
        self.value.as_ref().map_or(0, Vec::len) * 2 + 32
    }

    /// The value, decoded on the first call and shared afterwards.
    pub fn decode<T: DeserializeOwned + Send + Sync + 'static>(
        &self,
    ) -> Result<Option<Arc<T>>, String> {
        let Some(encoded) = self.value.as_deref() else {
            return Ok(None);
        };
        if let Some(shared) = self.decoded.0.get().cloned()
            && let Ok(value) = shared.downcast::<T>()
        {
            return Ok(Some(value));
        }
        let value = Arc::new(rmp_serde::from_slice::<T>(encoded).map_err(|e| e.to_string())?);
        let _ = self.decoded.0.set(value.clone());
        Ok(Some(value))
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
        let entry = Entry::new(
            Some(("slug".to_string(), 7u32)),
            Duration::from_secs(60),
            1_000,
        )
        .expect("encode");
        assert!(entry.is_fresh());
        let parsed = Entry::parse(&entry.encode()).expect("parse");
        assert_eq!(
            parsed.decode::<(String, u32)>(),
            Ok(Some(Arc::new(("slug".into(), 7))))
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
        assert_eq!(parsed.decode::<u32>(), Ok(Some(Arc::new(7))));
        assert!(!parsed.filled_after(0), "older than any write");
    }

    #[test]
    fn hits_share_one_decoded_value() {
        let entry = Entry::new(Some(vec![1u8, 2, 3]), Duration::from_secs(60), 0).expect("encode");
        let first = entry.decode::<Vec<u8>>().expect("decode").expect("value");
        let second = entry.decode::<Vec<u8>>().expect("decode").expect("value");
        assert!(
            Arc::ptr_eq(&first, &second),
            "the fetched value is kept, not re-decoded"
        );
        let parsed = Entry::parse(&entry.encode()).expect("parse");
        let decoded = parsed.decode::<Vec<u8>>().expect("decode").expect("value");
        assert!(Arc::ptr_eq(
            &decoded,
            &parsed.decode::<Vec<u8>>().expect("decode").expect("value")
        ));
        assert_eq!(*decoded, vec![1, 2, 3]);
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
