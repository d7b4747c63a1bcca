//! User accounts: who they are, their role and status. Authentication lives in `auth`.

pub mod api;
mod entity;
mod model;
mod service;

pub use entity::Model;
pub use model::{Email, Role, UserStatus, check_password, parse_name};
pub use service::{
    NewUser, UserChanges, UserFilter, UsersError, create, exists_with_role, find, find_by_email,
    list, update,
};
