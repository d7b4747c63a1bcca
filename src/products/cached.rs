//! The public reads of products through the cache, and the invalidation writes trigger
//! (including stock changes: `available` is part of the product's representation).

use super::{ProductFilter, Stocked};
use crate::app::AppState;
use crate::db::pagination::DEFAULT_LIMIT;
use crate::error::ApiError;

const PRODUCT: &str = "product";
const LISTS: &str = "products";
const FIRST_PAGE: &str = "first";

/// An active product with its stock, by SKU.
pub async fn listed(state: &AppState, sku: &str) -> Result<Option<Stocked>, ApiError> {
    let (db, owned) = (state.db().clone(), sku.to_string());
    state
        .cache()
        .get_or_fetch(PRODUCT, sku, move || async move {
            Ok(super::find_listed(db.read(), &owned).await?)
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
    let fetch = move || async move { Ok(Some(super::list_listed(db.read(), filter, rows).await?)) };
    if !first || rows != DEFAULT_LIMIT + 1 {
        return Ok(fetch().await?.unwrap_or_default());
    }
    Ok(state
        .cache()
        .get_or_fetch(LISTS, FIRST_PAGE, fetch)
        .await?
        .unwrap_or_default())
}

/// After a write to the product at `skus` (old and new SKU on a rename).
pub async fn invalidate(state: &AppState, skus: &[&str]) {
    for sku in skus {
        state.cache().invalidate(PRODUCT, sku).await;
    }
    state.cache().invalidate(LISTS, FIRST_PAGE).await;
}
