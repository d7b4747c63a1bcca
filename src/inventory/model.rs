//! The values of inventory: stock levels, who moved stock and why, and the kinds of
//! movement the ledger records.

use super::entity::level;

/// The most units a product may hold on hand, and the largest single adjustment either
/// way: beyond any real stock, and far enough from `i64::MAX` that sums computed in SQL
/// never overflow (PostgreSQL would fail; SQLite would silently store a REAL).
pub const MAX_STOCK: i64 = 1_000_000_000;

/// Stock of one product.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Levels {
    pub on_hand: i64,
    pub reserved: i64,
}

impl Levels {
    pub fn available(&self) -> i64 {
        self.on_hand - self.reserved
    }
}

impl From<level::Model> for Levels {
    fn from(m: level::Model) -> Self {
        Levels {
            on_hand: m.on_hand,
            reserved: m.reserved,
        }
    }
}

/// Who moved stock, why, and for what.
#[derive(Debug, Clone)]
pub struct Movement {
    pub reason: String,
    pub actor: String,
    pub reference: Option<String>,
}

impl Movement {
    pub fn new(reason: impl Into<String>, actor: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            actor: actor.into(),
            reference: None,
        }
    }

    pub fn for_reference(mut self, reference: impl Into<String>) -> Self {
        self.reference = Some(reference.into());
        self
    }
}

crate::stored_enum! {
    /// What a ledger entry records.
    pub enum LedgerKind {
        Adjustment,
        Reserve,
        Release,
        Commit,
    }
}
