//! The queries of orders: plain functions of a connection. Every change of state is one
//! conditional UPDATE (`… WHERE status = from`), so of two racing writers exactly one wins,
//! and its event row is written in the same transaction.

use super::entity::{event, line, order};
use super::model::{OrderStatus, StockHold};
use crate::db::ids::UserId;
use crate::db::relaxed_commit;
use crate::webhooks::EventType;
use chrono::Utc;
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};
use uuid::Uuid;

/// An order and its lines.
#[derive(Debug, Clone)]
pub struct Placed {
    pub order: order::Model,
    pub lines: Vec<line::Model>,
}

/// A row of the order's event log.
pub(super) fn entry(
    order_id: Uuid,
    from: Option<OrderStatus>,
    to: OrderStatus,
    domain_event: Option<&str>,
    detail: Option<String>,
) -> event::ActiveModel {
    event::ActiveModel {
        id: Set(Uuid::now_v7()),
        order_id: Set(order_id),
        from_status: Set(from),
        to_status: Set(to),
        event: Set(domain_event.map(str::to_string)),
        detail: Set(detail),
        created_at: Set(Utc::now()),
    }
}

/// Appends an event to the order's log and emits its domain event to the webhooks
/// subscribed to it, in the same transaction.
async fn record(
    conn: &(impl ConnectionTrait + TransactionTrait),
    order_id: Uuid,
    from: Option<OrderStatus>,
    to: OrderStatus,
    domain_event: Option<&str>,
    detail: Option<String>,
) -> Result<(), DbErr> {
    event::Entity::insert(entry(order_id, from, to, domain_event, detail.clone()))
        .exec_without_returning(conn)
        .await?;
    if let Some(event_type) = domain_event.and_then(EventType::parse) {
        let data = serde_json::json!({
            "order_id": order_id,
            "status": to,
            "previous_status": from,
            "reason": detail,
        });
        crate::webhooks::emit(conn, event_type, data).await?;
    }
    Ok(())
}

/// Appends a note to the order's log without a change of state (a refund went through).
pub async fn note(
    conn: &(impl ConnectionTrait + TransactionTrait),
    order_id: Uuid,
    status: OrderStatus,
    detail: String,
) -> Result<(), DbErr> {
    let detail = detail.chars().take(200).collect();
    record(conn, order_id, Some(status), status, None, Some(detail)).await
}

/// What a transition sets besides the status.
#[derive(Debug, Default)]
pub struct Changes {
    pub payment_ref: Option<String>,
    pub shipment_ref: Option<String>,
    /// Why; kept on the order (rejections, failures, cancels) and in the event.
    pub reason: Option<String>,
    /// The transition's transaction commits without waiting for the WAL flush
    /// (`db::relaxed_commit`). For saga steps only: a commit a database crash forgets is
    /// redone by the step's re-run (its job's completion, later in the WAL, is forgotten
    /// with it), and providers deduplicate the re-run's calls by their idempotency key.
    pub relaxed: bool,
}

impl Changes {
    /// A forward saga step's transition: a relaxed commit, nothing else set yet.
    pub fn step() -> Self {
        Self {
            relaxed: true,
            ..Self::default()
        }
    }
}

/// The order as a transition expects to find it.
#[derive(Debug, Clone, Copy)]
pub struct Expected {
    pub status: OrderStatus,
    /// `Some`: only if a charge had (`true`) or had not (`false`) been asked for — so an
    /// order about to end unpaid loses to a charge that starts meanwhile, and its writer
    /// looks again and refunds.
    pub charge_requested: Option<bool>,
}

impl From<OrderStatus> for Expected {
    fn from(status: OrderStatus) -> Self {
        Self {
            status,
            charge_requested: None,
        }
    }
}

impl Expected {
    /// `order` as it was read: its status and whether its charge had been asked for.
    pub fn as_read(order: &order::Model) -> Self {
        Self {
            status: order.status,
            charge_requested: Some(order.charge_requested_at.is_some()),
        }
    }
}

/// Moves the order from `from` to `to` if it is still as `from` expects, with its event.
/// `false` when another writer moved it first.
pub async fn transition(
    conn: &(impl ConnectionTrait + TransactionTrait),
    id: Uuid,
    from: impl Into<Expected>,
    to: OrderStatus,
    changes: Changes,
) -> Result<bool, DbErr> {
    let expected = from.into();
    let from = expected.status;
    let mut update = order::Entity::update_many()
        .col_expr(order::Column::Status, Expr::value(to))
        .col_expr(order::Column::UpdatedAt, Expr::value(Utc::now()));
    if let Some(reference) = changes.payment_ref {
        update = update.col_expr(order::Column::PaymentRef, Expr::value(reference));
    }
    if let Some(reference) = changes.shipment_ref {
        update = update.col_expr(order::Column::ShipmentRef, Expr::value(reference));
    }
    // Bounded: reasons are levee's own messages or a provider's, cut to the column.
    let reason: Option<String> = changes.reason.map(|r| r.chars().take(200).collect());
    if let Some(reason) = &reason {
        update = update.col_expr(order::Column::Reason, Expr::value(reason.clone()));
    }
    let charge = order::Column::ChargeRequestedAt;
    update = match expected.charge_requested {
        Some(true) => update.filter(charge.is_not_null()),
        Some(false) => update.filter(charge.is_null()),
        None => update,
    };
    if changes.relaxed {
        update = update.filter(Expr::cust(relaxed_commit(conn.get_database_backend())));
    }
    let moved = update
        .filter(order::Column::Id.eq(id))
        .filter(order::Column::Status.eq(from))
        .exec(conn)
        .await?
        .rows_affected
        == 1;
    if moved {
        record(conn, id, Some(from), to, to.domain_event(), reason).await?;
    }
    Ok(moved)
}

/// Notes that the payment provider is about to be asked to charge the order (the first
/// time; a retry keeps the first time). `false` when the order is no longer reserved: the
/// charge must not be made.
pub async fn charge_requested(conn: &impl ConnectionTrait, id: Uuid) -> Result<bool, DbErr> {
    let column = order::Column::ChargeRequestedAt;
    let first = Func::coalesce([Expr::col(column), Expr::value(Utc::now())]);
    Ok(order::Entity::update_many()
        .col_expr(column, first.into())
        .filter(order::Column::Id.eq(id))
        .filter(order::Column::Status.eq(OrderStatus::Reserved))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

/// Keeps the reference of a shipment created for an order that was cancelled meanwhile,
/// for its recall; a second call (the step re-run) keeps the first.
pub async fn keep_shipment(
    conn: &impl ConnectionTrait,
    id: Uuid,
    reference: String,
) -> Result<(), DbErr> {
    order::Entity::update_many()
        .col_expr(order::Column::ShipmentRef, Expr::value(reference))
        .filter(order::Column::Id.eq(id))
        .filter(order::Column::ShipmentRef.is_null())
        .exec(conn)
        .await
        .map(|_| ())
}

/// Moves the order's stock from `from` to `to` if it is still there: the guard that lets a
/// compensation run twice but release once.
pub async fn move_stock(
    conn: &impl ConnectionTrait,
    id: Uuid,
    from: StockHold,
    to: StockHold,
) -> Result<bool, DbErr> {
    Ok(order::Entity::update_many()
        .col_expr(order::Column::Stock, Expr::value(to))
        .filter(order::Column::Id.eq(id))
        .filter(order::Column::Stock.eq(from))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

pub async fn find(conn: &impl ConnectionTrait, id: Uuid) -> Result<Option<order::Model>, DbErr> {
    crate::db::unique(order::Entity::find_by_id(id).into_model(), conn).await
}

/// The lines of the given orders, by order then line number.
pub async fn lines_of(
    conn: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> Result<Vec<line::Model>, DbErr> {
    line::Entity::find()
        .filter(line::Column::OrderId.is_in(ids))
        .order_by_asc(line::Column::OrderId)
        .order_by_asc(line::Column::LineNo)
        .all(conn)
        .await
}

/// The order's event log, oldest first.
pub async fn events(conn: &impl ConnectionTrait, id: Uuid) -> Result<Vec<event::Model>, DbErr> {
    event::Entity::find()
        .filter(event::Column::OrderId.eq(id))
        .order_by_asc(event::Column::Id)
        .all(conn)
        .await
}

/// Which orders a list shows.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    /// One customer's orders; `None` for all (staff).
    pub user: Option<UserId>,
    pub status: Option<OrderStatus>,
}

/// Orders matching `filter`, newest first, older than the `before` id (ids are UUIDv7).
pub async fn list(
    conn: &impl ConnectionTrait,
    filter: OrderFilter,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<order::Model>, DbErr> {
    let mut query = order::Entity::find()
        .order_by_desc(order::Column::Id)
        .limit(limit);
    if let Some(user) = filter.user {
        query = query.filter(order::Column::UserId.eq(user));
    }
    if let Some(status) = filter.status {
        query = query.filter(order::Column::Status.eq(status));
    }
    if let Some(before) = before {
        query = query.filter(order::Column::Id.lt(before));
    }
    query.all(conn).await
}
