//! The public reads of posts through the cache, and the invalidation every write triggers.

use super::Model;
use crate::cache::CachedCollection;
use crate::error::ApiError;
use crate::state::AppState;

const POSTS: CachedCollection = CachedCollection::new("post", "posts");

/// A published post by slug.
pub async fn published(state: &AppState, slug: &str) -> Result<Option<Model>, ApiError> {
    let (db, owned) = (state.db().clone(), slug.to_string());
    POSTS
        .item(state.cache(), slug, move || async move {
            Ok(super::find_published(&db.read(), &owned).await?)
        })
        .await
}

/// The newest published posts (one more than a page, to know if another follows). Only the
/// default first page is cached: it takes nearly all the traffic.
pub async fn first_page(state: &AppState, rows: u64) -> Result<Vec<Model>, ApiError> {
    let db = state.db().clone();
    POSTS
        .page(state.cache(), true, rows, move || async move {
            Ok(super::latest_published(&db.read(), None, rows).await?)
        })
        .await
}

/// After a write to the post at `slugs` (old and new slug on a rename).
pub async fn invalidate(state: &AppState, slugs: &[&str]) {
    POSTS.invalidate(state.cache(), slugs).await;
}
