//! Posts: the content the public reads during a surge. Published posts are public;
//! drafts exist only for editors and admins.

pub mod api;
mod entity;
mod error;
mod model;
pub mod service;
mod store;

pub use entity::Model;
pub use error::PostsError;
pub use model::{PostStatus, Slug};
pub use store::{NewPost, PostChanges, PostCursor};
/// Storage-level writes that bypass the cache: seeding, and tests that change a row
/// behind the cache's back.
pub use store::{count_with_slug_prefix, insert_published_batch, update};
