//! HTTP endpoints for the catalog, addressed by SKU.

use super::model::{DESCRIPTION, NAME, Sku};
use super::{NewProduct, ProductChanges, ProductFilter, ProductsError, Stocked, service};
use crate::auth::{BearerAuth, Permission, Principal, caller_may};
use crate::db::pagination::PageRequest;
use crate::error::{ApiError, FieldError};
use crate::inventory::MAX_STOCK;
use crate::rest::caching::{Cached, Validators, list_tag, respond};
use crate::rest::preconditions::{ConditionalError, edit_precondition};
use crate::rest::rendered::Rendered;
use crate::rest::responses::{Created, NoContent};
use crate::rest::visibility::public_or_staff;
use crate::state::AppState;
use crate::validate::collect;
use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{OpenApi, Tags};
use std::sync::Arc;

mod objects;

use objects::{CreateProductRequest, ProductList, UpdateProductRequest};
pub use objects::{Price, Product};

#[derive(Tags)]
enum ProductTags {
    /// The catalog: public reads, admin writes.
    Products,
}

/// Who a ledger entry names as the mover of stock.
pub fn actor_of(principal: &Principal) -> String {
    match principal {
        Principal::User { id, .. } => format!("user:{id}"),
        Principal::ApiKey { id, .. } => format!("api_key:{id}"),
    }
}

/// The product a path names, for writes (after the permission check): a path that is no
/// valid SKU names no product.
pub fn addressed(raw: &str) -> Result<Sku, ProductsError> {
    Sku::parse(raw, "/sku").map_err(|_| ProductsError::NotFound)
}

#[derive(Default)]
pub struct ProductsApi;

/// Stock is part of the representation, so the tag changes with it as well as with edits.
fn validators(stocked: &Stocked) -> Validators {
    let p = &stocked.product;
    Validators {
        tag: format!(
            "{}-s{}-{}",
            p.version_tag(),
            stocked.levels.on_hand,
            stocked.levels.reserved
        ),
        last_modified: Some(p.updated_at),
        surrogate_keys: format!("product-{} products", p.id),
    }
}

/// One product's response, as the cache keeps it.
fn render(stocked: &Stocked) -> Rendered {
    Rendered::new(&Product::from(stocked.clone()), validators(stocked))
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
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let filter = ProductFilter {
            min_price: min_price.0,
            max_price: max_price.0,
            currency: currency.0,
        };
        let page = service::list(&state, filter, page).await?;
        let validators = Validators {
            tag: list_tag("products", page.items.iter().map(|s| validators(s).tag)),
            last_modified: None,
            surrogate_keys: "products".into(),
        };
        Ok(respond(
            req,
            &state.config().cache.public_cache_control,
            validators,
            ProductList::from(page),
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
        let stocked = public_or_staff(
            Sku::parse(&sku.0, "/sku").ok(),
            async |sku| service::listed(&state, sku, render).await,
            async || caller_may(req, &state, Permission::ManageProducts).await,
            async |sku| Ok(Arc::new(render(&service::find(&state, sku).await?))),
            ProductsError::NotFound,
        )
        .await?;
        Ok(stocked.respond(req, policy))
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
        let mut errors = Vec::new();
        let price = body
            .price
            .parse("/price")
            .map_err(|e| errors.extend(e))
            .ok();
        let sku = collect(Sku::parse(&body.sku, "/sku"), &mut errors);
        let name = collect(NAME.parse(&body.name), &mut errors);
        let description = collect(
            DESCRIPTION.parse(body.description.as_deref().unwrap_or_default()),
            &mut errors,
        );
        let stock = body.stock.unwrap_or(0);
        if !(0..=MAX_STOCK).contains(&stock) {
            errors.push(FieldError::at("/stock", format!("must be 0–{MAX_STOCK}")));
        }
        let (Some(price), Some(sku), Some(name), Some(description), true) =
            (price, sku, name, description, errors.is_empty())
        else {
            return Err(ApiError::fields(errors));
        };
        let new = NewProduct {
            sku,
            name,
            description,
            price,
            stock,
        };
        let created = service::create(&state, new, &actor_of(&auth.0)).await?;
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
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
        body: Json<UpdateProductRequest>,
    ) -> Result<Json<Product>, ConditionalError> {
        auth.0.require(Permission::ManageProducts)?;
        let if_match = edit_precondition(&state.config().server, if_match.0.as_deref())?;
        let body = body.0;
        let mut errors = Vec::new();
        let changes = ProductChanges {
            price: body
                .price
                .and_then(|p| p.parse("/price").map_err(|e| errors.extend(e)).ok()),
            sku: body
                .sku
                .as_deref()
                .and_then(|s| collect(Sku::parse(s, "/sku"), &mut errors)),
            name: body
                .name
                .as_deref()
                .and_then(|n| collect(NAME.parse(n), &mut errors)),
            description: body
                .description
                .as_deref()
                .and_then(|d| collect(DESCRIPTION.parse(d), &mut errors)),
            active: body.active,
        };
        if !errors.is_empty() {
            return Err(ApiError::fields(errors).into());
        }
        let stocked =
            service::update(&state, &addressed(&sku.0)?, changes, if_match.as_ref()).await?;
        Ok(Json(stocked.into()))
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
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
    ) -> Result<NoContent, ConditionalError> {
        auth.0.require(Permission::ManageProducts)?;
        let if_match = edit_precondition(&state.config().server, if_match.0.as_deref())?;
        service::archive(&state, &addressed(&sku.0)?, if_match.as_ref()).await?;
        Ok(NoContent::Done)
    }
}
