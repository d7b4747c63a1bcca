//! HTTP endpoints for the catalog, addressed by SKU.

use super::model::{parse_description, parse_product_name, parse_sku};
use super::{Price, ProductChanges, ProductFilter, Stocked};
use crate::auth::{BearerAuth, Permission, Principal, caller_may};
use crate::db::pagination;
use crate::error::{ApiError, FieldError};
use crate::rest::caching::{Cached, Validators, list_tag, respond};
use crate::rest::responses::{Created, NoContent};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::Example;
use poem_openapi::{Object, OpenApi, Tags};
use uuid::Uuid;

#[derive(Tags)]
enum ProductTags {
    /// The catalog: public reads, admin writes.
    Products,
}

#[derive(Object)]
#[oai(example)]
pub struct Product {
    id: Uuid,
    sku: String,
    name: String,
    description: String,
    price: Price,
    active: bool,
    /// Units that can be bought now (on hand minus reserved).
    available: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl Example for Product {
    fn example() -> Self {
        let at = DateTime::<Utc>::from_timestamp(1_764_000_000, 0).unwrap_or_default();
        Self {
            id: Uuid::nil(),
            sku: "TEE-BLK-L".into(),
            name: "Black tee, L".into(),
            description: "Organic cotton.".into(),
            price: Price::example(),
            active: true,
            available: 42,
            created_at: at,
            updated_at: at,
        }
    }
}

impl From<Stocked> for Product {
    fn from(s: Stocked) -> Self {
        let p = s.product;
        Self {
            id: p.id,
            sku: p.sku,
            name: p.name,
            description: p.description,
            price: Price {
                amount: p.price_amount,
                currency: p.currency,
            },
            active: p.active,
            available: s.levels.available(),
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Object)]
struct ProductList {
    items: Vec<Product>,
    next_cursor: Option<String>,
}

#[derive(Object)]
#[oai(example)]
struct CreateProductRequest {
    sku: String,
    name: String,
    description: Option<String>,
    price: Price,
    /// Initial units on hand (default 0).
    stock: Option<i64>,
}

impl Example for CreateProductRequest {
    fn example() -> Self {
        Self {
            sku: "TEE-BLK-L".into(),
            name: "Black tee, L".into(),
            description: None,
            price: Price::example(),
            stock: Some(100),
        }
    }
}

#[derive(Object)]
struct UpdateProductRequest {
    sku: Option<String>,
    name: Option<String>,
    description: Option<String>,
    price: Option<Price>,
    active: Option<bool>,
}

/// Who a ledger entry names as the mover of stock.
pub fn actor_of(principal: &Principal) -> String {
    match principal {
        Principal::User { id, .. } => format!("user:{id}"),
        Principal::ApiKey { id, .. } => format!("api_key:{id}"),
    }
}

fn gather<T>(result: Result<T, FieldError>, errors: &mut Vec<FieldError>) -> Option<T> {
    result.map_err(|e| errors.push(e)).ok()
}

fn not_found() -> ApiError {
    ApiError::NotFound("no such product".into())
}

#[derive(Default)]
pub struct ProductsApi;

/// Stock is part of the representation, so the tag changes with it as well as with edits.
fn validators(stocked: &Stocked) -> Validators {
    let p = &stocked.product;
    Validators {
        tag: format!(
            "product-{}-v{}-s{}-{}",
            p.id, p.version, stocked.levels.on_hand, stocked.levels.reserved
        ),
        last_modified: Some(p.updated_at),
        surrogate_keys: format!("product-{} products", p.id),
    }
}

#[OpenApi(tag = "ProductTags::Products")]
impl ProductsApi {
    /// List products
    ///
    /// Active products ordered by SKU; filter by price range (minor units) and currency.
    #[oai(path = "/products", method = "get", operation_id = "list_products")]
    #[expect(
        clippy::too_many_arguments,
        reason = "one argument per documented query parameter"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        req: &Request,
        #[oai(validator(minimum(value = "0")))] min_price: Query<Option<i64>>,
        #[oai(validator(minimum(value = "0")))] max_price: Query<Option<i64>>,
        currency: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] limit: Query<Option<u64>>,
        cursor: Query<Option<String>>,
    ) -> Result<Cached<ProductList>, ApiError> {
        let (limit, after) = pagination::page_request::<String>(limit.0, cursor.0.as_deref())?;
        let filter = ProductFilter {
            min_price: min_price.0,
            max_price: max_price.0,
            currency: currency.0,
            after,
        };
        let rows = super::cached::page(&state, filter, limit + 1).await?;
        let (rows, next_cursor) = pagination::split_page(rows, limit, |s| s.product.sku.clone());
        let validators = Validators {
            tag: list_tag("products", rows.iter().map(|s| validators(s).tag)),
            last_modified: None,
            surrogate_keys: "products".into(),
        };
        let body = ProductList {
            items: rows.into_iter().map(Into::into).collect(),
            next_cursor,
        };
        Ok(respond(
            req,
            &state.config().cache.public_cache_control,
            validators,
            body,
        ))
    }

    /// One product
    ///
    /// Inactive products are 404 except to admins.
    #[oai(path = "/products/:sku", method = "get", operation_id = "get_product")]
    async fn get(
        &self,
        state: Data<&AppState>,
        req: &Request,
        sku: Path<String>,
    ) -> Result<Cached<Product>, ApiError> {
        let policy = &state.config().cache.public_cache_control;
        if let Some(listed) = super::cached::listed(&state, &sku.0).await? {
            return Ok(respond(req, policy, validators(&listed), listed.into()));
        }
        if !caller_may(req, &state, Permission::ManageProducts).await? {
            return Err(not_found());
        }
        let db = state.db().write();
        let product = super::find(db, &sku.0).await?.ok_or_else(not_found)?;
        let levels = crate::inventory::levels(db, product.id)
            .await?
            .ok_or_else(not_found)?;
        let stocked = Stocked { product, levels };
        Ok(respond(req, policy, validators(&stocked), stocked.into()))
    }

    /// Create a product
    #[oai(path = "/products", method = "post", operation_id = "create_product")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: Json<CreateProductRequest>,
    ) -> Result<Created<Product>, ApiError> {
        auth.0.require(Permission::ManageProducts)?;
        let body = body.0;
        let mut errors = body.price.validate("/price");
        let sku = gather(parse_sku(&body.sku, "/sku"), &mut errors);
        let name = gather(parse_product_name(&body.name), &mut errors);
        let description = gather(
            parse_description(body.description.as_deref().unwrap_or_default()),
            &mut errors,
        );
        let stock = body.stock.unwrap_or(0);
        if stock < 0 {
            errors.push(FieldError::at("/stock", "must not be negative"));
        }
        let (Some(sku), Some(name), Some(description), true) =
            (sku, name, description, errors.is_empty())
        else {
            return Err(ApiError::fields(errors));
        };
        let new = super::NewProduct {
            sku,
            name,
            description,
            price: body.price,
            stock,
        };
        let txn = state.db().begin_write().await?;
        let created = super::create(&txn, new, &actor_of(&auth.0)).await?;
        txn.commit().await?;
        super::cached::invalidate(&state, &[&created.product.sku]).await;
        Ok(Created::Created(Json(created.into())))
    }

    /// Edit a product
    #[oai(
        path = "/products/:sku",
        method = "patch",
        operation_id = "update_product"
    )]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        sku: Path<String>,
        body: Json<UpdateProductRequest>,
    ) -> Result<Json<Product>, ApiError> {
        auth.0.require(Permission::ManageProducts)?;
        let body = body.0;
        let mut errors = body
            .price
            .as_ref()
            .map(|p| p.validate("/price"))
            .unwrap_or_default();
        let changes = ProductChanges {
            sku: body
                .sku
                .as_deref()
                .and_then(|s| gather(parse_sku(s, "/sku"), &mut errors)),
            name: body
                .name
                .as_deref()
                .and_then(|n| gather(parse_product_name(n), &mut errors)),
            description: body
                .description
                .as_deref()
                .and_then(|d| gather(parse_description(d), &mut errors)),
            price: body.price,
            active: body.active,
        };
        if !errors.is_empty() {
            return Err(ApiError::fields(errors));
        }
        let db = state.db().write();
        let product = super::update(db, &sku.0, changes).await?;
        super::cached::invalidate(&state, &[&sku.0, &product.sku]).await;
        let levels = crate::inventory::levels(db, product.id)
            .await?
            .ok_or_else(not_found)?;
        Ok(Json(Stocked { product, levels }.into()))
    }

    /// Delete (archive) a product
    ///
    /// The product disappears from the catalog; its ledger and order history stay, and its
    /// SKU cannot be reused.
    #[oai(
        path = "/products/:sku",
        method = "delete",
        operation_id = "delete_product"
    )]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        sku: Path<String>,
    ) -> Result<NoContent, ApiError> {
        auth.0.require(Permission::ManageProducts)?;
        super::archive(state.db().write(), &sku.0).await?;
        super::cached::invalidate(&state, &[&sku.0]).await;
        Ok(NoContent::Done)
    }
}
