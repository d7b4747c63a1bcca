//! HTTP endpoints for posts, addressed by slug.

use super::model::{BODY, TITLE};
use super::{NewPost, PostChanges, PostStatus, PostsError, Slug, service};
use crate::auth::{BearerAuth, Permission, caller_may, optional_principal};
use crate::db::pagination::PageRequest;
use crate::error::ApiError;
use crate::idempotency::Outcome;
use crate::rest::caching::{Cached, Validators, list_tag, respond};
use crate::rest::idempotency::{IdempotencyKey, IdempotentError, stored_json};
use crate::rest::preconditions::{ConditionalError, IfMatch, edit_precondition};
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

pub use objects::Post;
use objects::{CreatePostRequest, PostList, UpdatePostRequest};

#[derive(Tags)]
enum PostTags {
    /// Articles: public when published, drafts for editors.
    Posts,
}

/// The post a path names, for writes: a path that is no valid slug names no post.
fn addressed(raw: &str) -> Result<Slug, PostsError> {
    Slug::parse(raw).map_err(|_| PostsError::NotFound)
}

/// Publishing is a state change, not an edit: `If-Match` is honoured but never required.
async fn change_status(
    state: &AppState,
    auth: &BearerAuth,
    slug: &str,
    status: PostStatus,
    if_match: Option<&str>,
) -> Result<Json<Post>, ConditionalError> {
    auth.0.require(Permission::ManagePosts)?;
    let if_match = IfMatch::from_header(if_match, false)?;
    let post = service::set_status(state, &addressed(slug)?, status, if_match.as_ref()).await?;
    Ok(Json(post.into()))
}

fn validators(post: &super::Model) -> Validators {
    Validators {
        tag: post.version_tag(),
        last_modified: Some(post.updated_at),
        surrogate_keys: format!("post-{} posts", post.id),
    }
}

/// One post's response, as the cache keeps it.
fn render(post: &super::Model) -> Rendered {
    Rendered::new(&Post::from(post.clone()), validators(post))
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
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let status = status.0.unwrap_or(PostStatus::Published);
        if status == PostStatus::Draft {
            optional_principal(req, &state)
                .await?
                .ok_or_else(|| {
                    ApiError::Unauthorized("drafts are visible to editors only; sign in".into())
                })?
                .require(Permission::ManagePosts)?;
        }
        let page = service::list(&state, status, page).await?;
        let validators = Validators {
            tag: list_tag("posts", page.items.iter().map(|p| validators(p).tag)),
            last_modified: page.items.iter().map(|p| p.updated_at).max(),
            surrogate_keys: "posts".into(),
        };
        Ok(respond(
            req,
            &state.config().cache.public_cache_control,
            validators,
            PostList::from(page),
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
        let post = public_or_staff(
            Slug::parse(&slug.0).ok(),
            async |slug| service::published(&state, slug, render).await,
            async || caller_may(req, &state, Permission::ManagePosts).await,
            async |slug| Ok(Arc::new(render(&service::find(&state, slug).await?))),
            PostsError::NotFound,
        )
        .await?;
        Ok(post.respond(req, policy))
    }

    /// Create a draft
    ///
    /// Send `Idempotency-Key` to make a retry safe: a repeat within `idempotency.ttl`
    /// answers the first response again (marked `Idempotency-Replayed: true`) and creates
    /// no second post.
    #[oai(path = "/posts", method = "post", operation_id = "create_post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// A unique value per post to create (e.g. a UUID), 1–255 printable ASCII
        /// characters; the same key with another body is refused with 422.
        #[oai(name = "Idempotency-Key")]
        idempotency: IdempotencyKey<false>,
        body: Json<CreatePostRequest>,
    ) -> Result<Outcome<Created<Post>>, IdempotentError> {
        auth.0.require(Permission::ManagePosts)?;
        let author_id = auth.0.user_id()?;
        let mut errors = Vec::new();
        let title = collect(TITLE.parse(&body.title), &mut errors);
        let text = collect(BODY.parse(&body.body), &mut errors);
        let slug = body
            .slug
            .as_deref()
            .and_then(|s| collect(Slug::parse(s), &mut errors));
        let (Some(title), Some(body), true) = (title, text, errors.is_empty()) else {
            return Err(ApiError::fields(errors).into());
        };
        let new = NewPost {
            author_id,
            title,
            body,
            slug,
        };
        let request = idempotency.of_caller(auth.0.idempotency_scope());
        let created = service::create(&state, new, request.as_ref(), |post| {
            stored_json(201, &Post::from(post.clone()))
        })
        .await?;
        Ok(created.map(|post| Created::Created(Json(post.into()))))
    }

    /// Edit a post
    #[oai(path = "/posts/:slug", method = "patch", operation_id = "update_post")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        slug: Path<String>,
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
        body: Json<UpdatePostRequest>,
    ) -> Result<Json<Post>, ConditionalError> {
        auth.0.require(Permission::ManagePosts)?;
        let if_match = edit_precondition(&state.config().server, if_match.0.as_deref())?;
        let mut errors = Vec::new();
        let changes = PostChanges {
            title: body
                .title
                .as_deref()
                .and_then(|t| collect(TITLE.parse(t), &mut errors)),
            body: body
                .body
                .as_deref()
                .and_then(|b| collect(BODY.parse(b), &mut errors)),
            slug: body
                .slug
                .as_deref()
                .and_then(|s| collect(Slug::parse(s), &mut errors)),
        };
        if !errors.is_empty() {
            return Err(ApiError::fields(errors).into());
        }
        let post =
            service::update(&state, &addressed(&slug.0)?, changes, if_match.as_ref()).await?;
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
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
    ) -> Result<Json<Post>, ConditionalError> {
        change_status(
            &state,
            &auth,
            &slug.0,
            PostStatus::Published,
            if_match.0.as_deref(),
        )
        .await
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
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
    ) -> Result<Json<Post>, ConditionalError> {
        change_status(
            &state,
            &auth,
            &slug.0,
            PostStatus::Draft,
            if_match.0.as_deref(),
        )
        .await
    }

    /// Delete a post
    #[oai(path = "/posts/:slug", method = "delete", operation_id = "delete_post")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        slug: Path<String>,
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
    ) -> Result<NoContent, ConditionalError> {
        auth.0.require(Permission::ManagePosts)?;
        let if_match = edit_precondition(&state.config().server, if_match.0.as_deref())?;
        service::delete(&state, &addressed(&slug.0)?, if_match.as_ref()).await?;
        Ok(NoContent::Done)
    }
}
