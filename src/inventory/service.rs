//! The reservation service. Every movement is one conditional UPDATE — the database checks
//! the stock and changes it in the same statement, so concurrent buyers can never oversell —
//! plus a ledger row in the same transaction, so levels always reconcile with the ledger.

use super::entity::{ledger, level};
use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum StockError {
    #[error("not enough stock: {available} available")]
    Insufficient { available: i64 },
    #[error("the product has no inventory record")]
    NotFound,
    #[error("the quantity must be at least 1 (an adjustment must not be 0)")]
    InvalidQuantity,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Stock of one product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Adjustment,
    Reserve,
    Release,
    Commit,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Adjustment => "adjustment",
            Kind::Reserve => "reserve",
            Kind::Release => "release",
            Kind::Commit => "commit",
        }
    }
}

/// Creates the inventory record of a new product with `on_hand` units.
pub async fn init(
    conn: &impl ConnectionTrait,
    product_id: Uuid,
    on_hand: i64,
    movement: Movement,
) -> Result<Levels, DbErr> {
    level::ActiveModel {
        product_id: Set(product_id),
        on_hand: Set(0),
        reserved: Set(0),
        updated_at: Set(Utc::now()),
    }
    .insert(conn)
    .await?;
    if on_hand == 0 {
        return Ok(Levels {
            on_hand: 0,
            reserved: 0,
        });
    }
    adjust(conn, product_id, on_hand, movement)
        .await
        .map_err(|e| match e {
            StockError::Db(e) => e,
            other => DbErr::Custom(other.to_string()),
        })
}

/// Puts `quantity` aside for a buyer: succeeds only while `available >= quantity`.
pub async fn reserve(
    conn: &impl ConnectionTrait,
    product_id: Uuid,
    quantity: i64,
    movement: Movement,
) -> Result<Levels, StockError> {
    let available = Expr::col(level::Column::OnHand).sub(Expr::col(level::Column::Reserved));
    apply(
        conn,
        product_id,
        Kind::Reserve,
        (0, quantity),
        available.gte(quantity),
        movement,
    )
    .await
}

/// Returns a reservation to available stock (an abandoned checkout).
pub async fn release(
    conn: &impl ConnectionTrait,
    product_id: Uuid,
    quantity: i64,
    movement: Movement,
) -> Result<Levels, StockError> {
    let guard = Expr::col(level::Column::Reserved).gte(quantity);
    apply(
        conn,
        product_id,
        Kind::Release,
        (0, -quantity),
        guard,
        movement,
    )
    .await
}

/// Turns a reservation into a sale: the units leave both reserved and on hand.
pub async fn commit(
    conn: &impl ConnectionTrait,
    product_id: Uuid,
    quantity: i64,
    movement: Movement,
) -> Result<Levels, StockError> {
    let guard = Expr::col(level::Column::Reserved).gte(quantity);
    apply(
        conn,
        product_id,
        Kind::Commit,
        (-quantity, -quantity),
        guard,
        movement,
    )
    .await
}

/// Changes on-hand stock by `delta` (deliveries, counts, damage); it may not drop below
/// what is reserved.
pub async fn adjust(
    conn: &impl ConnectionTrait,
    product_id: Uuid,
    delta: i64,
    movement: Movement,
) -> Result<Levels, StockError> {
    let guard = Expr::col(level::Column::OnHand)
        .add(delta)
        .gte(Expr::col(level::Column::Reserved));
    apply(
        conn,
        product_id,
        Kind::Adjustment,
        (delta, 0),
        guard,
        movement,
    )
    .await
}

/// The sign of `reserved_delta` a positive quantity gives each kind.
fn expected_sign(kind: Kind) -> i64 {
    if kind == Kind::Reserve { 1 } else { -1 }
}

/// One conditional UPDATE and its ledger row. Run inside a transaction.
async fn apply(
    conn: &impl ConnectionTrait,
    product_id: Uuid,
    kind: Kind,
    (on_hand_delta, reserved_delta): (i64, i64),
    guard: SimpleExpr,
    movement: Movement,
) -> Result<Levels, StockError> {
    // Reservations move whole units; an adjustment moves at least one.
    let moved = if kind == Kind::Adjustment {
        on_hand_delta.abs()
    } else {
        reserved_delta.abs()
    };
    if moved < 1 || (kind != Kind::Adjustment && reserved_delta.signum() != expected_sign(kind)) {
        return Err(StockError::InvalidQuantity);
    }
    let updated = level::Entity::update_many()
        .col_expr(
            level::Column::OnHand,
            Expr::col(level::Column::OnHand).add(on_hand_delta),
        )
        .col_expr(
            level::Column::Reserved,
            Expr::col(level::Column::Reserved).add(reserved_delta),
        )
        .col_expr(level::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(level::Column::ProductId.eq(product_id))
        .filter(guard)
        .exec(conn)
        .await?;
    let current = levels(conn, product_id)
        .await?
        .ok_or(StockError::NotFound)?;
    if updated.rows_affected == 0 {
        return Err(StockError::Insufficient {
            available: current.available(),
        });
    }
    ledger::ActiveModel {
        id: Set(Uuid::now_v7()),
        product_id: Set(product_id),
        kind: Set(kind.as_str().into()),
        on_hand_delta: Set(on_hand_delta),
        reserved_delta: Set(reserved_delta),
        reason: Set(movement.reason),
        actor: Set(movement.actor),
        reference: Set(movement.reference),
        created_at: Set(Utc::now()),
    }
    .insert(conn)
    .await?;
    Ok(current)
}

pub async fn levels(
    conn: &impl ConnectionTrait,
    product_id: Uuid,
) -> Result<Option<Levels>, DbErr> {
    Ok(level::Entity::find_by_id(product_id)
        .one(conn)
        .await?
        .map(Into::into))
}

/// Levels of many products at once (catalog pages).
pub async fn levels_of(
    conn: &impl ConnectionTrait,
    product_ids: Vec<Uuid>,
) -> Result<Vec<(Uuid, Levels)>, DbErr> {
    Ok(level::Entity::find()
        .filter(level::Column::ProductId.is_in(product_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| (m.product_id, m.into()))
        .collect())
}

/// Ledger entries of a product, newest first, before the `before` id.
pub async fn ledger(
    conn: &impl ConnectionTrait,
    product_id: Uuid,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<ledger::Model>, DbErr> {
    let mut query = ledger::Entity::find()
        .filter(ledger::Column::ProductId.eq(product_id))
        .order_by_desc(ledger::Column::Id)
        .limit(limit);
    if let Some(before) = before {
        query = query.filter(ledger::Column::Id.lt(before));
    }
    query.all(conn).await
}
