//! The public reads of posts through the cache, and the invalidation every write triggers.

use super::Model;
use crate::app::AppState;
use crate::db::pagination::DEFAULT_LIMIT;
use crate::error::ApiError;

const POST: &str = "post";
const LISTS: &str = "posts";
const FIRST_PAGE: &str = "first";

/// A published post by slug.
pub async fn published(state: &AppState, slug: &str) -> Result<Option<Model>, ApiError> {
    let (db, owned) = (state.db().clone(), slug.to_string());
    state
        .cache()
        .get_or_fetch(POST, slug, move || async move {
            Ok(super::find_published(db.read(), &owned).await?)
        })
        .await
}

/// The newest published posts (one more than a page, to know if another follows). Only the
/// default first page is cached: it takes nearly all the traffic.
pub async fn first_page(state: &AppState, rows: u64) -> Result<Vec<Model>, ApiError> {
    let db = state.db().clone();
    let fetch =
        move || async move { Ok(Some(super::latest_published(db.read(), None, rows).await?)) };
    if rows != DEFAULT_LIMIT + 1 {
        return Ok(fetch().await?.unwrap_or_default());
    }
    Ok(state
        .cache()
        .get_or_fetch(LISTS, FIRST_PAGE, fetch)
        .await?
        .unwrap_or_default())
}

/// After a write to the post at `slugs` (old and new slug on a rename).
pub async fn invalidate(state: &AppState, slugs: &[&str]) {
    for slug in slugs {
        state.cache().invalidate(POST, slug).await;
    }
    state.cache().invalidate(LISTS, FIRST_PAGE).await;
}
