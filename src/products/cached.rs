//! The public reads of products through the cache, and the invalidation writes trigger
//! (including stock changes: `available` is part of the product's representation).

use super::{ProductFilter, Stocked};
use crate::cache::CachedCollection;
use crate::error::ApiError;
use crate::state::AppState;

const PRODUCTS: CachedCollection = CachedCollection::new("product", "products");

/// An active product with its stock, by SKU.
pub async fn listed(state: &AppState, sku: &str) -> Result<Option<Stocked>, ApiError> {
    let (db, owned) = (state.db().clone(), sku.to_string());
    PRODUCTS
        .item(state.cache(), sku, move || async move {
            Ok(super::find_listed(&db.read(), &owned).await?)
        })
        .await
}

/// A page of the catalog; only the unfiltered first page is cached.
pub async fn page(
    state: &AppState,
    filter: ProductFilter,
    rows: u64,
) -> Result<Vec<Stocked>, ApiError> {
    let first = filter.min_price.is_none()
        && filter.max_price.is_none()
        && filter.currency.is_none()
        && filter.after.is_none();
    let db = state.db().clone();
    PRODUCTS
        .page(state.cache(), first, rows, move || async move {
            Ok(super::list_listed(&db.read(), filter, rows).await?)
        })
        .await
}

/// After a write to the product at `skus` (old and new SKU on a rename).
pub async fn invalidate(state: &AppState, skus: &[&str]) {
    PRODUCTS.invalidate(state.cache(), skus).await;
}
