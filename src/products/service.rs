//! What the catalog endpoints ask for. The service picks the pool (plain reads from a
//! replica, staff reads and writes on the primary), owns the write transactions, serves
//! the public reads through the cache and invalidates it after every change — stock
//! changes included: `available` is part of a product's representation.

use super::error::ProductsError;
use super::model::Sku;
use super::store::{self, NewProduct, ProductChanges, ProductFilter, Stocked};
use crate::cache::CachedCollection;
use crate::db::ids::ProductId;
use crate::db::pagination::{Page, PageRequest};
use crate::inventory;
use crate::rest::preconditions::IfMatch;
use crate::rest::rendered::Rendered;
use crate::state::AppState;
use sea_orm::DbErr;
use std::sync::Arc;

const PRODUCTS: CachedCollection = CachedCollection::new("product", "products");

/// An active product with its stock, by SKU, as `render` shows it — the public read,
/// through the cache, which keeps the finished response so a hit renders nothing.
pub async fn listed(
    state: &AppState,
    sku: &Sku,
    render: fn(&Stocked) -> Rendered,
) -> Result<Option<Arc<Rendered>>, ProductsError> {
    let (db, key) = (state.db().clone(), sku.clone());
    PRODUCTS
        .item(state.cache(), sku.as_str(), move || async move {
            let stocked = store::find_listed(&db.read(), &key).await?;
            Ok(stocked.map(|stocked| render(&stocked).with_gzip()))
        })
        .await
}

/// A page of active products by SKU; only the unfiltered first page is cached.
pub async fn list(
    state: &AppState,
    filter: ProductFilter,
    page: PageRequest<Sku>,
) -> Result<Page<Stocked>, ProductsError> {
    let (rows, after) = (page.rows(), page.after);
    let first = filter.is_empty() && after.is_none();
    let db = state.db().clone();
    let found = PRODUCTS
        .page(state.cache(), first, rows, move || async move {
            Ok::<_, ProductsError>(store::list_listed(&db.read(), filter, after, rows).await?)
        })
        .await?;
    Ok(Page::from_rows(found, page.limit, sku_of))
}

/// A page of every product that is not archived, active or not, by SKU, with its stock
/// (staff view), from the primary.
pub async fn list_all(
    state: &AppState,
    page: PageRequest<Sku>,
) -> Result<Page<Stocked>, ProductsError> {
    let rows = page.rows();
    let found = store::list_all(state.db().write(), page.after, rows).await?;
    Ok(Page::from_rows(found, page.limit, sku_of))
}

/// Any product that is not archived, active or not, with its stock (staff view), from
/// the primary.
pub async fn find(state: &AppState, sku: &Sku) -> Result<Stocked, ProductsError> {
    let product = store::find(state.db().write(), sku)
        .await?
        .ok_or(ProductsError::NotFound)?;
    with_levels(state, product).await
}

/// The id of the product at `sku`, if it exists and is not archived.
pub async fn id_of(state: &AppState, sku: &Sku) -> Result<Option<ProductId>, DbErr> {
    Ok(store::find(state.db().write(), sku).await?.map(|p| p.id))
}

/// Creates the product with its opening stock, moved by `actor`.
pub async fn create(
    state: &AppState,
    new: NewProduct,
    actor: &str,
) -> Result<Stocked, ProductsError> {
    let txn = state.db().begin_write().await?;
    let created = store::insert(&txn, new, actor).await?;
    txn.commit().await?;
    invalidate(state, &[&created.product.sku]).await;
    Ok(created)
}

/// A staff edit; emits `product.updated` to the webhooks in the edit's transaction.
pub async fn update(
    state: &AppState,
    sku: &Sku,
    changes: ProductChanges,
    if_match: Option<&IfMatch>,
) -> Result<Stocked, ProductsError> {
    let txn = state.db().begin_write().await?;
    let product = store::update(&txn, sku, changes, if_match).await?;
    let data = serde_json::json!({
        "id": product.id,
        "sku": product.sku,
        "name": product.name,
        "price": {"amount": product.price_amount, "currency": product.currency},
        "active": product.active,
        "version": product.version,
    });
    crate::webhooks::emit(&txn, crate::webhooks::EventType::ProductUpdated, data).await?;
    txn.commit().await?;
    invalidate(state, &[sku, &product.sku]).await;
    with_levels(state, product).await
}

/// Archives the product: it leaves the catalog, its history stays, its SKU stays taken.
pub async fn archive(
    state: &AppState,
    sku: &Sku,
    if_match: Option<&IfMatch>,
) -> Result<(), ProductsError> {
    store::archive(state.db().write(), sku, if_match).await?;
    invalidate(state, &[sku]).await;
    Ok(())
}

/// After a change to the products at `skus` (old and new SKU on a rename, or their stock).
pub async fn invalidate(state: &AppState, skus: &[&Sku]) {
    invalidate_in(state.cache(), skus).await;
}

/// The same, for code that holds the cache but no `AppState` (job handlers: orders move
/// stock, and `available` is part of a product's representation).
pub async fn invalidate_in(cache: &crate::cache::Cache, skus: &[&Sku]) {
    let keys: Vec<&str> = skus.iter().map(|s| s.as_str()).collect();
    PRODUCTS.invalidate(cache, &keys).await;
}

/// The sort key of the product lists.
fn sku_of(stocked: &Stocked) -> Sku {
    stocked.product.sku.clone()
}

async fn with_levels(state: &AppState, product: super::Model) -> Result<Stocked, ProductsError> {
    let levels = inventory::levels(state.db().write(), product.id)
        .await?
        .ok_or(ProductsError::NotFound)?;
    Ok(Stocked { product, levels })
}
