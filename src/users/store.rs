//! Queries of the `users` table, on any connection or transaction the caller holds (auth
//! changes passwords inside its own transactions).

use super::entity::{ActiveModel, Column, Entity as Users, Model};
use super::error::UsersError;
use super::model::{Email, Role, UserStatus};
use crate::db::ids::UserId;
use crate::db::is_unique_violation;
use crate::db::pagination::PageRequest;
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

pub struct NewUser {
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    /// Set for accounts whose address is known good (made by an admin on the CLI).
    pub email_verified_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Inserts a user; a taken email (the unique index decides, not a prior read) is `EmailTaken`.
pub async fn create(conn: &impl ConnectionTrait, new: NewUser) -> Result<Model, UsersError> {
    let now = chrono::Utc::now();
    let row = ActiveModel {
        id: Set(UserId::generate()),
        email: Set(new.email),
        name: Set(new.name),
        role: Set(new.role),
        status: Set(UserStatus::Active),
        password_hash: Set(new.password_hash),
        email_verified_at: Set(new.email_verified_at),
        deleted_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    row.insert(conn).await.map_err(|e| {
        if is_unique_violation(&e) {
            UsersError::EmailTaken
        } else {
            UsersError::Db(e)
        }
    })
}

/// The account `id`, unless it was deleted.
pub async fn find(conn: &impl ConnectionTrait, id: UserId) -> Result<Option<Model>, DbErr> {
    Ok(find_any(conn, id)
        .await?
        .filter(|user| user.deleted_at.is_none()))
}

/// The row of account `id`, deleted or not (for the anonymiser).
pub async fn find_any(conn: &impl ConnectionTrait, id: UserId) -> Result<Option<Model>, DbErr> {
    crate::db::unique(Users::find_by_id(id).into_model(), conn).await
}

/// The account holding `email`, unless it was deleted.
pub async fn find_by_email(
    conn: &impl ConnectionTrait,
    email: &Email,
) -> Result<Option<Model>, DbErr> {
    let found = Users::find()
        .filter(Column::Email.eq(email.as_str()))
        .filter(Column::DeletedAt.is_null())
        .into_model();
    crate::db::unique(found, conn).await
}

/// Filters for the admin user list, which is ordered by email.
#[derive(Debug, Default)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    pub email_prefix: Option<String>,
    /// Emails containing this text anywhere (the console's search box).
    pub email_contains: Option<String>,
}

/// A `LIKE` pattern matching `text` literally (lower-cased, as emails are stored), with
/// `%` before it when `anywhere`, and `%` after it.
fn like_pattern(text: &str, anywhere: bool) -> LikeExpr {
    let escaped = text
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let lead = if anywhere { "%" } else { "" };
    LikeExpr::new(format!("{lead}{escaped}%")).escape('\\')
}

/// The rows of one page of users matching `filter`, by email (the cursor is the last email).
pub(super) async fn list(
    conn: &impl ConnectionTrait,
    filter: UserFilter,
    page: &PageRequest<String>,
) -> Result<Vec<Model>, DbErr> {
    let mut query = Users::find()
        .filter(Column::DeletedAt.is_null())
        .order_by_asc(Column::Email)
        .limit(page.rows());
    if let Some(role) = filter.role {
        query = query.filter(Column::Role.eq(role));
    }
    if let Some(status) = filter.status {
        query = query.filter(Column::Status.eq(status));
    }
    if let Some(prefix) = filter.email_prefix {
        query = query.filter(Expr::col(Column::Email).like(like_pattern(&prefix, false)));
    }
    if let Some(text) = filter.email_contains {
        query = query.filter(Expr::col(Column::Email).like(like_pattern(&text, true)));
    }
    if let Some(after) = &page.after {
        query = query.filter(Column::Email.gt(after.as_str()));
    }
    query.all(conn).await
}

/// Fields an update may change; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct UserChanges {
    pub name: Option<String>,
    /// A new address; one another account holds is `EmailTaken` (the unique index decides).
    pub email: Option<Email>,
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    pub password_hash: Option<String>,
    /// Marks the address verified at this time.
    pub email_verified_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Marks the account deleted at this time.
    pub deleted_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Applies `changes` to account `id`; a deleted account is `NotFound`.
pub async fn update(
    conn: &impl ConnectionTrait,
    id: UserId,
    changes: UserChanges,
) -> Result<Model, UsersError> {
    let current = find(conn, id).await?.ok_or(UsersError::NotFound)?;
    apply(conn, current, changes).await
}

/// Applies `changes` to the row `current`, deleted or not.
pub async fn apply(
    conn: &impl ConnectionTrait,
    current: Model,
    changes: UserChanges,
) -> Result<Model, UsersError> {
    let mut row: ActiveModel = current.into();
    if let Some(name) = changes.name {
        row.name = Set(name);
    }
    if let Some(email) = changes.email {
        row.email = Set(email);
    }
    if let Some(role) = changes.role {
        row.role = Set(role);
    }
    if let Some(status) = changes.status {
        row.status = Set(status);
    }
    if let Some(hash) = changes.password_hash {
        row.password_hash = Set(hash);
    }
    if let Some(at) = changes.email_verified_at {
        row.email_verified_at = Set(Some(at));
    }
    if let Some(at) = changes.deleted_at {
        row.deleted_at = Set(Some(at));
    }
    row.updated_at = Set(chrono::Utc::now());
    row.update(conn).await.map_err(|e| {
        if is_unique_violation(&e) {
            UsersError::EmailTaken
        } else {
            e.into()
        }
    })
}

/// Whether any account that was not deleted has `role` (for first-run hints).
pub async fn exists_with_role(conn: &impl ConnectionTrait, role: Role) -> Result<bool, DbErr> {
    Ok(Users::find()
        .filter(Column::Role.eq(role))
        .filter(Column::DeletedAt.is_null())
        .one(conn)
        .await?
        .is_some())
}
