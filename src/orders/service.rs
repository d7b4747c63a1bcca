//! What the order endpoints ask for: placing an order (priced here, then committed with
//! its lines, its first saga step and its `Idempotency-Key`'s response by the
//! [`PlacementWriter`](super::PlacementWriter)), reading orders as their owner or as staff,
//! and cancelling.

use super::entity::{event, line, order};
use super::error::OrdersError;
use super::model::{Address, OrderStatus, StockHold, WantedLine};
use super::saga::{self, Step, counted};
use super::store::{self, Changes, OrderFilter, Placed};
use crate::db::ids::UserId;
use crate::db::pagination::{Page, PageRequest};
use crate::error::FieldError;
use crate::idempotency::{self, Outcome, Request, StoredResponse};
use crate::products::{Currency, Sku};
use crate::state::AppState;
use chrono::{SubsecRound, Utc};
use sea_orm::ConnectionTrait;
use std::collections::HashMap;
use uuid::Uuid;

/// A validated order from a customer, before prices are looked up.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub user: UserId,
    pub lines: Vec<WantedLine>,
    pub address: Address,
}

/// Who is looking at (or cancelling) orders: a customer sees their own, staff every one.
#[derive(Debug, Clone, Copy)]
pub struct Viewer {
    pub user: Option<UserId>,
    pub staff: bool,
}

impl Viewer {
    fn may_see(&self, order: &order::Model) -> bool {
        self.staff || self.user == Some(order.user_id)
    }
}

/// Places the order under the caller's idempotency key: the key's record (with
/// `respond`'s rendering, for replays) commits with the order and its first saga step,
/// and a retry gets that response without placing a second order.
pub async fn place(
    state: &AppState,
    new: NewOrder,
    request: &Request,
    respond: impl FnOnce(&Placed) -> StoredResponse,
) -> Result<Outcome<Placed>, OrdersError> {
    let config = &state.config().idempotency;
    let outcome = idempotency::with_claim(state.db(), config, request, async |claim| {
        let placed = priced(state, new).await?;
        let completion = claim.completion(respond(&placed));
        state.placements().write(placed.clone(), completion).await?;
        Ok::<_, OrdersError>(placed)
    })
    .await?;
    if let Outcome::Fresh(_) = outcome {
        counted(OrderStatus::Pending);
    }
    Ok(outcome)
}

/// The order priced from the current catalog, not yet written. Lines naming unknown,
/// archived or inactive products, or a second currency, are refused with a pointer to
/// the line.
async fn priced(state: &AppState, new: NewOrder) -> Result<Placed, OrdersError> {
    let skus = new.lines.iter().map(|l| l.sku.clone()).collect();
    let products: HashMap<Sku, crate::products::Model> =
        crate::products::find_many(state.db().write(), skus)
            .await?
            .into_iter()
            .map(|p| (p.sku.clone(), p))
            .collect();
    let id = Uuid::now_v7();
    let (mut errors, mut lines) = (Vec::new(), Vec::new());
    let mut currency: Option<&Currency> = None;
    let mut total: Option<i64> = Some(0);
    for (i, wanted) in new.lines.iter().enumerate() {
        let pointer = format!("/items/{i}/sku");
        let product = match products.get(&wanted.sku) {
            None => Err("no such product"),
            Some(p) if p.archived_at.is_some() => Err("this product has been withdrawn"),
            Some(p) if !p.active => Err("this product is not on sale"),
            Some(p) => Ok(p),
        };
        let product = match product {
            Ok(p) => p,
            Err(why) => {
                errors.push(FieldError::at(pointer, why));
                continue;
            }
        };
        match currency {
            Some(c) if *c != product.currency => errors.push(FieldError::at(
                pointer,
                format!(
                    "is priced in {}; an order is in one currency ({c})",
                    product.currency
                ),
            )),
            _ => currency = Some(&product.currency),
        }
        total =
            total.and_then(|t| t.checked_add(product.price_amount.checked_mul(wanted.quantity)?));
        lines.push(line::Model {
            order_id: id,
            line_no: i32::try_from(i).unwrap_or(i32::MAX),
            product_id: product.id,
            sku: product.sku.clone(),
            quantity: wanted.quantity,
            unit_price: product.price_amount,
        });
    }
    let (Some(currency), Some(total), true) = (currency, total, errors.is_empty()) else {
        if errors.is_empty() {
            errors.push(FieldError::at("/items", "the total is too large"));
        }
        return Err(OrdersError::Lines(errors));
    };
    // Microseconds, as stored: the 202's body matches what a GET reads back.
    let now = Utc::now().trunc_subsecs(6);
    let deadline = chrono::Duration::from_std(state.config().orders.deadline.get())
        .unwrap_or(chrono::Duration::MAX);
    let order = order::Model {
        id,
        user_id: new.user,
        status: OrderStatus::Pending,
        stock: StockHold::None,
        currency: currency.clone(),
        total_amount: total,
        shipping_address: serde_json::to_string(&new.address).unwrap_or_default(),
        payment_ref: None,
        shipment_ref: None,
        reason: None,
        deadline_at: now + deadline,
        charge_requested_at: None,
        created_at: now,
        updated_at: now,
    };
    Ok(Placed { order, lines })
}

/// One order with its lines, if `viewer` may see it (others get 404, as if it did not exist).
pub async fn get(state: &AppState, viewer: Viewer, id: Uuid) -> Result<Placed, OrdersError> {
    load(&state.db().read(), viewer, id).await
}

async fn load(
    conn: &impl ConnectionTrait,
    viewer: Viewer,
    id: Uuid,
) -> Result<Placed, OrdersError> {
    let order = store::find(conn, id)
        .await?
        .filter(|o| viewer.may_see(o))
        .ok_or(OrdersError::NotFound)?;
    let lines = store::lines_of(conn, vec![id]).await?;
    Ok(Placed { order, lines })
}

/// The event log of an order `viewer` may see, oldest first.
pub async fn events(
    state: &AppState,
    viewer: Viewer,
    id: Uuid,
) -> Result<Vec<event::Model>, OrdersError> {
    let placed = get(state, viewer, id).await?;
    Ok(store::events(&state.db().read(), placed.order.id).await?)
}

/// A page of orders matching `filter`, newest first, each with its lines.
pub async fn list(
    state: &AppState,
    filter: OrderFilter,
    page: PageRequest<Uuid>,
) -> Result<Page<Placed>, OrdersError> {
    let db = state.db().read();
    let orders = store::list(&db, filter, page.after, page.rows()).await?;
    let mut lines: HashMap<Uuid, Vec<line::Model>> = HashMap::new();
    for l in store::lines_of(&db, orders.iter().map(|o| o.id).collect()).await? {
        lines.entry(l.order_id).or_default().push(l);
    }
    let placed = orders
        .into_iter()
        .map(|order| Placed {
            lines: lines.remove(&order.id).unwrap_or_default(),
            order,
        })
        .collect();
    Ok(Page::from_rows(placed, page.limit, |p| p.order.id))
}

/// Cancels the order if it has no shipment yet. One conditional UPDATE decides a race with
/// a running saga step: if the step moved the order first (or asked for its charge), the
/// cancel looks again and compensates for the new state (reserved: release now, and refund
/// if the charge was asked for; paid: refund, then release).
pub async fn cancel(state: &AppState, viewer: Viewer, id: Uuid) -> Result<Placed, OrdersError> {
    // Each lost race means a step moved the order forward (or asked for its charge);
    // there are only so many steps.
    for _ in 0..OrderStatus::CANCELLABLE.len() + 2 {
        let order = store::find(state.db().write(), id)
            .await?
            .filter(|o| viewer.may_see(o))
            .ok_or(OrdersError::NotFound)?;
        if !OrderStatus::CANCELLABLE.contains(&order.status) {
            return Err(OrdersError::NotCancellable(order.status));
        }
        let txn = state.db().begin_write().await?;
        let who = if viewer.staff && viewer.user != Some(order.user_id) {
            "cancelled by staff"
        } else {
            "cancelled by the customer"
        };
        let changes = Changes {
            reason: Some(who.into()),
            ..Changes::default()
        };
        let from = store::Expected::as_read(&order);
        if !store::transition(&txn, id, from, OrderStatus::Cancelled, changes).await? {
            txn.rollback().await?;
            continue;
        }
        // A charge asked for may have been taken even if its answer never came: refund.
        // Stock held by a reserved order goes back at once; a paid order's after its refund.
        if order.status == OrderStatus::Paid || order.charge_requested_at.is_some() {
            saga::enqueue(state.jobs(), &txn, id, Step::Refund).await?;
        }
        let released = match order.status {
            OrderStatus::Reserved => saga::settle_stock(&txn, id, StockHold::Released).await?,
            _ => Vec::new(),
        };
        txn.commit().await?;
        counted(OrderStatus::Cancelled);
        saga::invalidate(state.cache(), &released).await;
        return load(state.db().write(), viewer, id).await;
    }
    Err(OrdersError::NotCancellable(OrderStatus::Cancelled))
}
