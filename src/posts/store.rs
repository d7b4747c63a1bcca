//! The queries of posts: plain functions of a connection, so the service picks the pool
//! and the transaction and the cache can wrap the public reads.

use super::entity::{ActiveModel, Column, Entity as Posts, Model};
use super::error::PostsError;
use super::model::{PostStatus, Slug};
use crate::db::ids::{PostId, UserId};
use crate::db::save_next_version;
use crate::rest::preconditions::IfMatch;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TryInsertResult,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Generated slugs try `slug`, `slug-2` … `slug-9`, then a random suffix.
const NUMBERED_ATTEMPTS: u32 = 9;

/// Position in a list: the sort timestamp and id of the last row seen.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct PostCursor {
    pub at: DateTime<Utc>,
    pub id: PostId,
}

impl PostCursor {
    /// Where `post` sits in its list: published posts by `published_at`, drafts by
    /// `created_at`.
    pub fn of(post: &Model) -> Self {
        Self {
            at: post.published_at.unwrap_or(post.created_at),
            id: post.id,
        }
    }
}

pub struct NewPost {
    pub author_id: UserId,
    pub title: String,
    pub body: String,
    /// Explicit slug; when absent one is made from the title and made unique.
    pub slug: Option<Slug>,
}

/// Inserts a draft, making a slug from the title unique when none was given.
pub async fn insert(conn: &impl ConnectionTrait, new: NewPost) -> Result<Model, PostsError> {
    let explicit = new.slug.is_some();
    let base = new.slug.unwrap_or_else(|| Slug::from_title(&new.title));
    let now = Utc::now();
    let candidates = std::iter::once(base.clone())
        .chain((2..=NUMBERED_ATTEMPTS).map(|n| base.numbered(n)))
        .chain(std::iter::once_with(|| {
            Slug::from_title(&format!(
                "{} {}",
                base.as_str(),
                &Uuid::new_v4().simple().to_string()[..6]
            ))
        }));
    for slug in candidates {
        let id = PostId::generate();
        let row = ActiveModel {
            id: Set(id),
            author_id: Set(new.author_id),
            title: Set(new.title.clone()),
            slug: Set(slug),
            body: Set(new.body.clone()),
            status: Set(PostStatus::Draft),
            published_at: Set(None),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
        };
        // The unique index decides; with an explicit slug a clash is the caller's error.
        // `ON CONFLICT DO NOTHING` rather than a caught violation, which would abort the
        // caller's transaction on PostgreSQL. Without `RETURNING`: sea-orm reports a
        // conflict of a single-row insert with returning as an error (docs/PITFALLS.md).
        let inserted = Posts::insert(row)
            .on_conflict_do_nothing_on([Column::Slug])
            .exec_without_returning(conn)
            .await?;
        match inserted {
            TryInsertResult::Inserted(1) => {
                return Posts::find_by_id(id)
                    .one(conn)
                    .await?
                    .ok_or_else(|| DbErr::RecordNotFound("the inserted post".into()).into());
            }
            _ if explicit => return Err(PostsError::SlugTaken),
            _ => continue,
        }
    }
    Err(PostsError::SlugTaken)
}

/// Any post by slug, drafts included (for editors).
pub async fn find_by_slug(
    conn: &impl ConnectionTrait,
    slug: &Slug,
) -> Result<Option<Model>, DbErr> {
    crate::db::unique(
        Posts::find()
            .filter(Column::Slug.eq(slug.clone()))
            .into_model(),
        conn,
    )
    .await
}

/// A published post by slug — the public read.
pub async fn find_published(
    conn: &impl ConnectionTrait,
    slug: &Slug,
) -> Result<Option<Model>, DbErr> {
    Ok(find_by_slug(conn, slug)
        .await?
        .filter(|p| p.status == PostStatus::Published))
}

/// Posts of `status`, newest first, after `cursor`: published posts by publication time
/// (served by the partial index), drafts by creation time.
pub async fn latest(
    conn: &impl ConnectionTrait,
    status: PostStatus,
    cursor: Option<PostCursor>,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    let at = match status {
        PostStatus::Published => Column::PublishedAt,
        PostStatus::Draft => Column::CreatedAt,
    };
    let mut query = Posts::find()
        .filter(Column::Status.eq(status))
        .order_by_desc(at)
        .order_by_desc(Column::Id)
        .limit(limit);
    if let Some(c) = cursor {
        query = query.filter(before(at, c));
    }
    query.all(conn).await
}

/// Rows strictly after the cursor in `(at DESC, id DESC)` order.
fn before(at: Column, cursor: PostCursor) -> Condition {
    Condition::any().add(at.lt(cursor.at)).add(
        Condition::all()
            .add(at.eq(cursor.at))
            .add(Column::Id.lt(cursor.id)),
    )
}

#[derive(Debug, Default)]
pub struct PostChanges {
    pub title: Option<String>,
    pub body: Option<String>,
    pub slug: Option<Slug>,
}

/// The post at `slug`, if `if_match` allows a change to its current version.
async fn find_for_change(
    conn: &impl ConnectionTrait,
    slug: &Slug,
    if_match: Option<&IfMatch>,
) -> Result<Model, PostsError> {
    let post = find_by_slug(conn, slug)
        .await?
        .ok_or(PostsError::NotFound)?;
    match if_match {
        Some(m) if !m.allows(&post.version_tag()) => Err(PostsError::PreconditionFailed),
        _ => Ok(post),
    }
}

/// Saves `row`, read at `version`, unless another change saved first.
async fn save(
    conn: &impl ConnectionTrait,
    row: ActiveModel,
    version: i64,
    if_match: Option<&IfMatch>,
) -> Result<Model, PostsError> {
    save_next_version(conn, row, version)
        .await
        .map_err(|e| PostsError::saving(e, if_match.is_some()))
}

pub async fn update(
    conn: &impl ConnectionTrait,
    slug: &Slug,
    changes: PostChanges,
    if_match: Option<&IfMatch>,
) -> Result<Model, PostsError> {
    let post = find_for_change(conn, slug, if_match).await?;
    let version = post.version;
    let mut row: ActiveModel = post.into();
    if let Some(title) = changes.title {
        row.title = Set(title);
    }
    if let Some(body) = changes.body {
        row.body = Set(body);
    }
    if let Some(slug) = changes.slug {
        row.slug = Set(slug);
    }
    save(conn, row, version, if_match).await
}

/// Publishes (stamping `published_at` when it was a draft, and emitting `post.published`
/// in `conn`, the caller's transaction) or unpublishes.
pub async fn set_status(
    conn: &(impl ConnectionTrait + sea_orm::TransactionTrait),
    slug: &Slug,
    status: PostStatus,
    if_match: Option<&IfMatch>,
) -> Result<Model, PostsError> {
    let post = find_for_change(conn, slug, if_match).await?;
    if post.status == status {
        return Ok(post);
    }
    let version = post.version;
    let mut row: ActiveModel = post.into();
    row.status = Set(status);
    row.published_at = Set((status == PostStatus::Published).then(Utc::now));
    let post = save(conn, row, version, if_match).await?;
    if status == PostStatus::Published {
        let data = serde_json::json!({"id": post.id, "slug": post.slug, "title": post.title, "published_at": post.published_at});
        crate::webhooks::emit(conn, crate::webhooks::EventType::PostPublished, data).await?;
    }
    Ok(post)
}

/// Deletes the post as read: a change saved in between wins, like a racing edit.
pub async fn delete(
    conn: &impl ConnectionTrait,
    slug: &Slug,
    if_match: Option<&IfMatch>,
) -> Result<Model, PostsError> {
    let post = find_for_change(conn, slug, if_match).await?;
    let deleted = Posts::delete_many()
        .filter(Column::Id.eq(post.id))
        .filter(Column::Version.eq(post.version))
        .exec(conn)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(PostsError::saving(
            crate::db::SaveError::Stale,
            if_match.is_some(),
        ));
    }
    Ok(post)
}

/// Inserts many published posts in one statement, skipping slugs that exist (seeding).
/// `(slug, title, body, published_at)` each; a slug that is not valid fails the batch.
pub async fn insert_published_batch(
    conn: &impl ConnectionTrait,
    author_id: UserId,
    posts: Vec<(String, String, String, DateTime<Utc>)>,
) -> Result<(), DbErr> {
    if posts.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let mut rows = Vec::with_capacity(posts.len());
    for (slug, title, body, published_at) in posts {
        let slug = Slug::parse(&slug)
            .map_err(|e| DbErr::Custom(format!("seed slug `{slug}` {}", e.detail)))?;
        rows.push(ActiveModel {
            id: Set(PostId::generate()),
            author_id: Set(author_id),
            title: Set(title),
            slug: Set(slug),
            body: Set(body),
            status: Set(PostStatus::Published),
            published_at: Set(Some(published_at)),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
        });
    }
    Posts::insert_many(rows)
        .on_conflict_do_nothing_on([Column::Slug])
        .exec(conn)
        .await?;
    Ok(())
}

/// Counts posts whose slug starts with `prefix` (seeding progress).
pub async fn count_with_slug_prefix(
    conn: &impl ConnectionTrait,
    prefix: &str,
) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    Posts::find()
        .filter(Expr::col(Column::Slug).like(format!("{prefix}%")))
        .count(conn)
        .await
}
