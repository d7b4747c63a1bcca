//! User accounts: who they are, their role and status. Authentication lives in `auth`.

pub mod api;
mod entity;
mod error;
mod model;
mod service;
mod store;

pub use entity::{Column, Entity, Model};
pub use error::UsersError;
pub use model::{Email, NAME, Role, UserStatus, check_password};
pub use service::{administer, get, get_fresh, list, update_profile};
pub use store::{
    NewUser, UserChanges, UserFilter, apply, create, exists_with_role, find, find_any,
    find_by_email, update,
};
