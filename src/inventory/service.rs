//! The reservation service. Every movement is one conditional UPDATE — the database checks
//! the stock and changes it in the same statement, so concurrent buyers can never oversell —
//! plus a ledger row in the same transaction, so levels always reconcile with the ledger.
//! Movements run in the caller's transaction; the admin operations by SKU own theirs.

use super::entity::{ledger, level};
use super::error::StockError;
use super::model::{LedgerKind, Levels, MAX_STOCK, Movement};
use super::store::{self, levels};
use crate::db::ids::ProductId;
use crate::db::pagination::{Page, PageRequest};
use crate::products::{self, Sku};
use crate::state::AppState;
use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

/// The product at `sku`, from the primary: 404 when it does not exist.
async fn product_id(state: &AppState, sku: &Sku) -> Result<ProductId, StockError> {
    products::service::id_of(state, sku)
        .await?
        .ok_or(StockError::NotFound)
}

/// Adjusts the stock of the product at `sku` in its own transaction (admins).
pub async fn adjust_stock(
    state: &AppState,
    sku: &Sku,
    delta: i64,
    movement: Movement,
) -> Result<Levels, StockError> {
    let id = product_id(state, sku).await?;
    let txn = state.db().begin_write().await?;
    let levels = adjust(&txn, id, delta, movement).await?;
    txn.commit().await?;
    products::service::invalidate(state, &[sku]).await;
    Ok(levels)
}

/// A page of the ledger of the product at `sku`, newest first.
pub async fn history(
    state: &AppState,
    sku: &Sku,
    page: PageRequest<Uuid>,
) -> Result<Page<ledger::Model>, StockError> {
    let id = product_id(state, sku).await?;
    let rows = store::ledger(&state.db().read(), id, page.after, page.rows()).await?;
    Ok(Page::from_rows(rows, page.limit, |e| e.id))
}

/// Creates the inventory record of a new product with `on_hand` units.
pub async fn init(
    conn: &impl ConnectionTrait,
    product_id: ProductId,
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
        return Ok(Levels::default());
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
    product_id: ProductId,
    quantity: i64,
    movement: Movement,
) -> Result<Levels, StockError> {
    let available = Expr::col(level::Column::OnHand).sub(Expr::col(level::Column::Reserved));
    apply(
        conn,
        product_id,
        LedgerKind::Reserve,
        (0, quantity),
        available.gte(quantity),
        movement,
    )
    .await
}

/// Returns a reservation to available stock (an abandoned checkout).
pub async fn release(
    conn: &impl ConnectionTrait,
    product_id: ProductId,
    quantity: i64,
    movement: Movement,
) -> Result<Levels, StockError> {
    let guard = Expr::col(level::Column::Reserved).gte(quantity);
    apply(
        conn,
        product_id,
        LedgerKind::Release,
        (0, -quantity),
        guard,
        movement,
    )
    .await
}

/// Turns a reservation into a sale: the units leave both reserved and on hand.
pub async fn commit(
    conn: &impl ConnectionTrait,
    product_id: ProductId,
    quantity: i64,
    movement: Movement,
) -> Result<Levels, StockError> {
    let guard = Expr::col(level::Column::Reserved).gte(quantity);
    apply(
        conn,
        product_id,
        LedgerKind::Commit,
        (-quantity, -quantity),
        guard,
        movement,
    )
    .await
}

/// Changes on-hand stock by `delta` (deliveries, counts, damage); it may not drop below
/// what is reserved nor rise above [`MAX_STOCK`].
pub async fn adjust(
    conn: &impl ConnectionTrait,
    product_id: ProductId,
    delta: i64,
    movement: Movement,
) -> Result<Levels, StockError> {
    if !(-MAX_STOCK..=MAX_STOCK).contains(&delta) {
        return Err(StockError::OutOfRange);
    }
    let after = Expr::col(level::Column::OnHand).add(delta);
    let guard = after
        .clone()
        .gte(Expr::col(level::Column::Reserved))
        .and(after.lte(MAX_STOCK));
    let applied = apply(
        conn,
        product_id,
        LedgerKind::Adjustment,
        (delta, 0),
        guard,
        movement,
    )
    .await;
    match applied {
        // On-hand never sits below reserved, so an addition can only fail on the ceiling.
        Err(StockError::Insufficient { .. }) if delta > 0 => Err(StockError::OutOfRange),
        other => other,
    }
}

/// The sign of `reserved_delta` a positive quantity gives each kind.
fn expected_sign(kind: LedgerKind) -> i64 {
    if kind == LedgerKind::Reserve { 1 } else { -1 }
}

/// One conditional UPDATE and its ledger row. Run inside a transaction.
async fn apply(
    conn: &impl ConnectionTrait,
    product_id: ProductId,
    kind: LedgerKind,
    (on_hand_delta, reserved_delta): (i64, i64),
    guard: SimpleExpr,
    movement: Movement,
) -> Result<Levels, StockError> {
    // Reservations move whole units; an adjustment moves at least one.
    let moved = if kind == LedgerKind::Adjustment {
        on_hand_delta.abs()
    } else {
        reserved_delta.abs()
    };
    if moved < 1
        || (kind != LedgerKind::Adjustment && reserved_delta.signum() != expected_sign(kind))
    {
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
        kind: Set(kind),
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
