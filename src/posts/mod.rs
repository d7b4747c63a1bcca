//! Posts: the content the public reads during a surge. Published posts are public;
//! drafts exist only for editors and admins.

pub mod api;
pub mod cached;
mod entity;
mod model;
mod service;

pub use entity::Model;
pub use model::{PostStatus, Slug};
pub use service::{
    NewPost, PostChanges, PostCursor, PostsError, count_with_slug_prefix, create, delete,
    find_by_slug, find_published, insert_published_batch, latest_drafts, latest_published,
    set_status, update,
};
