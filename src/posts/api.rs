//! HTTP endpoints for posts, addressed by slug.

use super::model::{parse_body, parse_title};
use super::{PostChanges, PostCursor, PostStatus, Slug};
use crate::auth::{BearerAuth, Permission, caller_may, optional_principal};
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
enum PostTags {
    /// Articles: public when published, drafts for editors.
    Posts,
}

#[derive(Object)]
#[oai(example)]
pub struct Post {
    id: Uuid,
    slug: String,
    title: String,
    body: String,
    status: PostStatus,
    author_id: Uuid,
    published_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl Example for Post {
    fn example() -> Self {
        let at = DateTime::<Utc>::from_timestamp(1_764_000_000, 0).unwrap_or_default();
        Self {
            id: Uuid::nil(),
            slug: "launch-day".into(),
            title: "Launch day".into(),
            body: "We are live.".into(),
            status: PostStatus::Published,
            author_id: Uuid::nil(),
            published_at: Some(at),
            created_at: at,
            updated_at: at,
        }
    }
}

impl From<super::Model> for Post {
    fn from(m: super::Model) -> Self {
        Self {
            id: m.id,
            slug: m.slug,
            title: m.title,
            body: m.body,
            status: m.status,
            author_id: m.author_id,
            published_at: m.published_at,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Object)]
struct PostList {
    items: Vec<Post>,
    next_cursor: Option<String>,
}

#[derive(Object)]
#[oai(example)]
struct CreatePostRequest {
    title: String,
    body: String,
    /// Made from the title (and made unique) when absent.
    slug: Option<String>,
}

impl Example for CreatePostRequest {
    fn example() -> Self {
        Self {
            title: "Launch day".into(),
            body: "We are live.".into(),
            slug: None,
        }
    }
}

#[derive(Object)]
struct UpdatePostRequest {
    title: Option<String>,
    body: Option<String>,
    /// A new slug; the post is addressed by it from then on.
    slug: Option<String>,
}

fn not_found() -> ApiError {
    ApiError::NotFound("no such post".into())
}

fn collect<T>(result: Result<T, FieldError>, errors: &mut Vec<FieldError>) -> Option<T> {
    result.map_err(|e| errors.push(e)).ok()
}

async fn change_status(
    state: &AppState,
    auth: &BearerAuth,
    slug: &str,
    status: PostStatus,
) -> Result<Json<Post>, ApiError> {
    auth.0.require(Permission::ManagePosts)?;
    let post = super::set_status(state.db().write(), slug, status).await?;
    super::cached::invalidate(state, &[slug]).await;
    Ok(Json(post.into()))
}

fn validators(post: &super::Model) -> Validators {
    Validators {
        tag: format!("post-{}-v{}", post.id, post.version),
        last_modified: Some(post.updated_at),
        surrogate_keys: format!("post-{} posts", post.id),
    }
}

#[derive(Default)]
pub struct PostsApi;

#[OpenApi(tag = "PostTags::Posts")]
impl PostsApi {
    /// List posts
    ///
    /// Published posts, newest first. Editors and admins may ask for `status=draft`.
    #[oai(path = "/posts", method = "get", operation_id = "list_posts")]
    async fn list(
        &self,
        state: Data<&AppState>,
        req: &Request,
        status: Query<Option<PostStatus>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] limit: Query<Option<u64>>,
        cursor: Query<Option<String>>,
    ) -> Result<Cached<PostList>, ApiError> {
        let (limit, cursor) = pagination::page_request::<PostCursor>(limit.0, cursor.0.as_deref())?;
        let rows = match status.0.unwrap_or(PostStatus::Published) {
            PostStatus::Published if cursor.is_none() => {
                Ok(super::cached::first_page(&state, limit + 1).await?)
            }
            PostStatus::Published => {
                super::latest_published(&state.db().read(), cursor, limit + 1).await
            }
            PostStatus::Draft => {
                let caller = optional_principal(req, &state).await?;
                caller
                    .ok_or_else(|| {
                        ApiError::Unauthorized("drafts are visible to editors only; sign in".into())
                    })?
                    .require(Permission::ManagePosts)?;
                super::latest_drafts(&state.db().read(), cursor, limit + 1).await
            }
        }?;
        let (rows, next_cursor) = pagination::split_page(rows, limit, |p| PostCursor {
            at: p.published_at.unwrap_or(p.created_at),
            id: p.id,
        });
        let validators = Validators {
            tag: list_tag("posts", rows.iter().map(|p| validators(p).tag)),
            last_modified: rows.iter().map(|p| p.updated_at).max(),
            surrogate_keys: "posts".into(),
        };
        let body = PostList {
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

    /// One post
    ///
    /// Drafts are 404 except to editors and admins.
    #[oai(path = "/posts/:slug", method = "get", operation_id = "get_post")]
    async fn get(
        &self,
        state: Data<&AppState>,
        req: &Request,
        slug: Path<String>,
    ) -> Result<Cached<Post>, ApiError> {
        let policy = &state.config().cache.public_cache_control;
        if let Some(post) = super::cached::published(&state, &slug.0).await? {
            return Ok(respond(req, policy, validators(&post), post.into()));
        }
        if !caller_may(req, &state, Permission::ManagePosts).await? {
            return Err(not_found());
        }
        let post = super::find_by_slug(state.db().write(), &slug.0)
            .await?
            .ok_or_else(not_found)?;
        Ok(respond(req, policy, validators(&post), post.into()))
    }

    /// Create a draft
    #[oai(path = "/posts", method = "post", operation_id = "create_post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: Json<CreatePostRequest>,
    ) -> Result<Created<Post>, ApiError> {
        auth.0.require(Permission::ManagePosts)?;
        let author_id = auth.0.user_id()?.0;
        let mut errors = Vec::new();
        let title = collect(parse_title(&body.title), &mut errors);
        let text = collect(parse_body(&body.body), &mut errors);
        let slug = body
            .slug
            .as_deref()
            .map(|s| collect(Slug::parse(s), &mut errors));
        let (Some(title), Some(body)) = (title, text) else {
            return Err(ApiError::fields(errors));
        };
        if !errors.is_empty() {
            return Err(ApiError::fields(errors));
        }
        let new = super::NewPost {
            author_id,
            title,
            body,
            slug: slug.flatten(),
        };
        let post = super::create(state.db().write(), new).await?;
        super::cached::invalidate(&state, &[&post.slug]).await;
        Ok(Created::Created(Json(post.into())))
    }

    /// Edit a post
    #[oai(path = "/posts/:slug", method = "patch", operation_id = "update_post")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        slug: Path<String>,
        body: Json<UpdatePostRequest>,
    ) -> Result<Json<Post>, ApiError> {
        auth.0.require(Permission::ManagePosts)?;
        let mut errors = Vec::new();
        let changes = PostChanges {
            title: body
                .title
                .as_deref()
                .and_then(|t| collect(parse_title(t), &mut errors)),
            body: body
                .body
                .as_deref()
                .and_then(|b| collect(parse_body(b), &mut errors)),
            slug: body
                .slug
                .as_deref()
                .and_then(|s| collect(Slug::parse(s), &mut errors)),
        };
        if !errors.is_empty() {
            return Err(ApiError::fields(errors));
        }
        let post = super::update(state.db().write(), &slug.0, changes).await?;
        super::cached::invalidate(&state, &[&slug.0, &post.slug]).await;
        Ok(Json(post.into()))
    }

    /// Publish a post
    #[oai(
        path = "/posts/:slug/publish",
        method = "post",
        operation_id = "publish_post"
    )]
    async fn publish(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        slug: Path<String>,
    ) -> Result<Json<Post>, ApiError> {
        change_status(&state, &auth, &slug.0, PostStatus::Published).await
    }

    /// Return a post to draft
    #[oai(
        path = "/posts/:slug/unpublish",
        method = "post",
        operation_id = "unpublish_post"
    )]
    async fn unpublish(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        slug: Path<String>,
    ) -> Result<Json<Post>, ApiError> {
        change_status(&state, &auth, &slug.0, PostStatus::Draft).await
    }

    /// Delete a post
    #[oai(path = "/posts/:slug", method = "delete", operation_id = "delete_post")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        slug: Path<String>,
    ) -> Result<NoContent, ApiError> {
        auth.0.require(Permission::ManagePosts)?;
        super::delete(state.db().write(), &slug.0).await?;
        super::cached::invalidate(&state, &[&slug.0]).await;
        Ok(NoContent::Done)
    }
}
