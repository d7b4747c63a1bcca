//! Admin endpoints beside the product: stock adjustments and the ledger.

use super::{Levels, Movement, entity::ledger, service};
use crate::auth::{BearerAuth, Permission};
use crate::db::pagination::PageRequest;
use crate::error::{ApiError, FieldError};
use crate::products::api::{actor_of, addressed};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::Example;
use poem_openapi::{Object, OpenApi, Tags};
use uuid::Uuid;

#[derive(Tags)]
enum InventoryTags {
    /// Stock levels and their history (admins).
    Inventory,
}

#[derive(Object)]
#[oai(example)]
struct StockAdjustment {
    /// Units to add (deliveries) or remove (damage, counts); not zero, at most 1,000,000,000
    /// either way. Stock may not drop below what is reserved nor rise above 1,000,000,000.
    delta: i64,
    /// Why, 1–200 characters; kept in the ledger.
    #[oai(deserialize_with = "crate::rest::body::text")]
    reason: String,
}

impl Example for StockAdjustment {
    fn example() -> Self {
        Self {
            delta: 50,
            reason: "delivery 2026-11-25".into(),
        }
    }
}

#[derive(Object)]
#[oai(example)]
struct Stock {
    sku: String,
    on_hand: i64,
    reserved: i64,
    available: i64,
}

impl Stock {
    fn new(sku: String, levels: Levels) -> Self {
        Self {
            sku,
            on_hand: levels.on_hand,
            reserved: levels.reserved,
            available: levels.available(),
        }
    }
}

impl Example for Stock {
    fn example() -> Self {
        Self {
            sku: "TEE-BLK-L".into(),
            on_hand: 150,
            reserved: 8,
            available: 142,
        }
    }
}

#[derive(Object)]
#[oai(example)]
struct LedgerEntry {
    id: Uuid,
    /// `adjustment`, `reserve`, `release` or `commit`.
    kind: String,
    on_hand_delta: i64,
    reserved_delta: i64,
    reason: String,
    actor: String,
    #[oai(nullable)]
    reference: Option<String>,
    created_at: DateTime<Utc>,
}

impl Example for LedgerEntry {
    fn example() -> Self {
        Self {
            id: Uuid::nil(),
            kind: "adjustment".into(),
            on_hand_delta: 50,
            reserved_delta: 0,
            reason: "delivery 2026-11-25".into(),
            actor: "user:00000000-0000-0000-0000-000000000000".into(),
            reference: None,
            created_at: crate::rest::examples::example_time(),
        }
    }
}

impl From<ledger::Model> for LedgerEntry {
    fn from(m: ledger::Model) -> Self {
        Self {
            id: m.id,
            // A plain string in the document; the stored value is an enum.
            kind: sea_orm::ActiveEnum::to_value(&m.kind),
            on_hand_delta: m.on_hand_delta,
            reserved_delta: m.reserved_delta,
            reason: m.reason,
            actor: m.actor,
            reference: m.reference,
            created_at: m.created_at,
        }
    }
}

crate::list_object!(Ledger of LedgerEntry);

#[derive(Default)]
pub struct InventoryApi;

#[OpenApi(tag = "InventoryTags::Inventory")]
impl InventoryApi {
    /// Adjust stock on hand
    #[oai(
        path = "/products/:sku/stock-adjustments",
        method = "post",
        operation_id = "adjust_stock"
    )]
    async fn adjust(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        sku: Path<String>,
        body: Json<StockAdjustment>,
    ) -> Result<Json<Stock>, ApiError> {
        auth.0.require(Permission::AdjustInventory)?;
        let reason = body.reason.trim();
        if reason.is_empty() || reason.chars().count() > 200 {
            return Err(ApiError::invalid(FieldError::at(
                "/reason",
                "must be 1–200 characters",
            )));
        }
        let movement = Movement::new(reason, actor_of(&auth.0));
        let levels =
            service::adjust_stock(&state, &addressed(&sku.0)?, body.delta, movement).await?;
        Ok(Json(Stock::new(sku.0, levels)))
    }

    /// The inventory ledger of a product, newest first
    #[oai(
        path = "/products/:sku/ledger",
        method = "get",
        operation_id = "product_ledger"
    )]
    async fn ledger(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        sku: Path<String>,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] limit: Query<Option<u64>>,
        cursor: Query<Option<String>>,
    ) -> Result<Json<Ledger>, ApiError> {
        auth.0.require(Permission::ReadInventory)?;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let page = service::history(&state, &addressed(&sku.0)?, page).await?;
        Ok(Json(Ledger::from(page)))
    }
}
