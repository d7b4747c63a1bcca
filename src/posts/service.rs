//! What the posts endpoints ask for. The service picks the pool (plain reads from a
//! replica, staff reads and writes on the primary), serves the public reads through the
//! cache and invalidates it after every write.

use super::Model;
use super::error::PostsError;
use super::model::{PostStatus, Slug};
use super::store::{self, NewPost, PostChanges, PostCursor};
use crate::cache::CachedCollection;
use crate::db::pagination::{Page, PageRequest};
use crate::idempotency::{self, Outcome, Request, StoredResponse};
use crate::rest::preconditions::IfMatch;
use crate::rest::rendered::Rendered;
use crate::state::AppState;
use std::sync::Arc;

/// Items are kept as rendered responses, list pages as rows.
const POSTS: CachedCollection = CachedCollection::new("post", "posts");

/// A published post by slug as `render` shows it — the public read, through the cache,
/// which keeps the finished response so a hit renders nothing.
pub async fn published(
    state: &AppState,
    slug: &Slug,
    render: fn(&Model) -> Rendered,
) -> Result<Option<Arc<Rendered>>, PostsError> {
    let (db, key) = (state.db().clone(), slug.clone());
    POSTS
        .item(state.cache(), slug.as_str(), move || async move {
            let post = store::find_published(&db.read(), &key).await?;
            Ok(post.map(|post| render(&post).with_gzip()))
        })
        .await
}

/// Any post by slug, drafts included (for editors), from the primary.
pub async fn find(state: &AppState, slug: &Slug) -> Result<Model, PostsError> {
    store::find_by_slug(state.db().write(), slug)
        .await?
        .ok_or(PostsError::NotFound)
}

/// Posts of `status`, newest first. Only the default first page of published posts is
/// cached: it takes nearly all the traffic.
pub async fn list(
    state: &AppState,
    status: PostStatus,
    page: PageRequest<PostCursor>,
) -> Result<Page<Model>, PostsError> {
    let (rows, after) = (page.rows(), page.after);
    let db = state.db().clone();
    let fetch = move || async move {
        Ok::<_, PostsError>(store::latest(&db.read(), status, after, rows).await?)
    };
    let found = match status {
        PostStatus::Published => {
            POSTS
                .page(state.cache(), after.is_none(), rows, fetch)
                .await?
        }
        PostStatus::Draft => fetch().await?,
    };
    Ok(Page::from_rows(found, page.limit, PostCursor::of))
}

/// Creates a draft. With an idempotency `request`, under its key: a retry gets the
/// response `respond` rendered for the first, stored in the post's transaction.
pub async fn create(
    state: &AppState,
    new: NewPost,
    request: Option<&Request>,
    respond: impl FnOnce(&Model) -> StoredResponse,
) -> Result<Outcome<Model>, PostsError> {
    let config = &state.config().idempotency;
    let outcome = idempotency::run(
        state.db(),
        config,
        request,
        async move |txn| store::insert(txn, new).await,
        respond,
    )
    .await?;
    if let Outcome::Fresh(post) = &outcome {
        invalidate(state, &[&post.slug]).await;
    }
    Ok(outcome)
}

pub async fn update(
    state: &AppState,
    slug: &Slug,
    changes: PostChanges,
    if_match: Option<&IfMatch>,
) -> Result<Model, PostsError> {
    let post = store::update(state.db().write(), slug, changes, if_match).await?;
    invalidate(state, &[slug, &post.slug]).await;
    Ok(post)
}

/// Publishes or returns to draft.
pub async fn set_status(
    state: &AppState,
    slug: &Slug,
    status: PostStatus,
    if_match: Option<&IfMatch>,
) -> Result<Model, PostsError> {
    let txn = state.db().begin_write().await?;
    let post = store::set_status(&txn, slug, status, if_match).await?;
    txn.commit().await?;
    invalidate(state, &[slug]).await;
    Ok(post)
}

pub async fn delete(
    state: &AppState,
    slug: &Slug,
    if_match: Option<&IfMatch>,
) -> Result<(), PostsError> {
    store::delete(state.db().write(), slug, if_match).await?;
    invalidate(state, &[slug]).await;
    Ok(())
}

/// After a write to the post at `slugs` (old and new slug on a rename).
async fn invalidate(state: &AppState, slugs: &[&Slug]) {
    let keys: Vec<&str> = slugs.iter().map(|s| s.as_str()).collect();
    POSTS.invalidate(state.cache(), &keys).await;
}
