//! The request and response bodies of the posts endpoints.

use crate::db::ids::{PostId, UserId};
use crate::posts::PostStatus;
use chrono::{DateTime, Utc};
use poem_openapi::Object;
use poem_openapi::types::Example;
use uuid::Uuid;

#[derive(Object)]
#[oai(example)]
pub struct Post {
    id: PostId,
    slug: String,
    title: String,
    body: String,
    status: PostStatus,
    author_id: UserId,
    #[oai(nullable)]
    published_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl Example for Post {
    fn example() -> Self {
        let at = crate::rest::examples::example_time();
        Self {
            id: PostId(Uuid::nil()),
            slug: "launch-day".into(),
            title: "Launch day".into(),
            body: "We are live.".into(),
            status: PostStatus::Published,
            author_id: UserId(Uuid::nil()),
            published_at: Some(at),
            created_at: at,
            updated_at: at,
        }
    }
}

impl From<crate::posts::Model> for Post {
    fn from(m: crate::posts::Model) -> Self {
        Self {
            id: m.id,
            slug: m.slug.to_string(),
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

crate::list_object!(pub PostList of Post);

#[derive(Object)]
#[oai(example)]
pub struct CreatePostRequest {
    #[oai(deserialize_with = "crate::rest::body::text")]
    pub title: String,
    #[oai(deserialize_with = "crate::rest::body::text")]
    pub body: String,
    /// Made from the title (and made unique) when absent.
    #[oai(deserialize_with = "crate::rest::body::absent_or_value")]
    pub slug: Option<String>,
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
#[oai(example)]
pub struct UpdatePostRequest {
    #[oai(deserialize_with = "crate::rest::body::absent_or_value")]
    pub title: Option<String>,
    #[oai(deserialize_with = "crate::rest::body::absent_or_value")]
    pub body: Option<String>,
    /// A new slug; the post is addressed by it from then on.
    #[oai(deserialize_with = "crate::rest::body::absent_or_value")]
    pub slug: Option<String>,
}

impl Example for UpdatePostRequest {
    fn example() -> Self {
        Self {
            title: Some("Launch day, updated".into()),
            body: None,
            slug: None,
        }
    }
}
