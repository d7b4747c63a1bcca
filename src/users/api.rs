//! HTTP endpoints for the signed-in user (`/me`) and user administration (`/users`).

use super::{NAME, Role, UserFilter, UserStatus};
use crate::auth::{BearerAuth, Permission, Principal};
use crate::db::ids::UserId;
use crate::db::pagination::PageRequest;
use crate::error::{ApiError, FieldError};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::Example;
use poem_openapi::{Object, OpenApi, Tags};
use uuid::Uuid;

#[derive(Tags)]
pub(crate) enum UserTags {
    /// The signed-in user.
    Me,
    /// User administration (admins, or API keys with `users:*` scopes).
    Users,
}

/// A user account.
#[derive(Object)]
#[oai(example)]
pub struct User {
    id: UserId,
    email: String,
    name: String,
    role: Role,
    status: UserStatus,
    /// When the address was verified (a verification or password-reset link was used);
    /// `null` until then.
    #[oai(nullable)]
    email_verified_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl Example for User {
    fn example() -> Self {
        let at = crate::rest::examples::example_time();
        Self {
            id: UserId(Uuid::nil()),
            email: "ada@example.com".into(),
            name: "Ada".into(),
            role: Role::Customer,
            status: UserStatus::Active,
            email_verified_at: Some(at),
            created_at: at,
            updated_at: at,
        }
    }
}

impl From<super::Model> for User {
    fn from(m: super::Model) -> Self {
        Self {
            id: m.id,
            email: m.email.into(),
            name: m.name,
            role: m.role,
            status: m.status,
            email_verified_at: m.email_verified_at,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// Changes to your own account. Changing the password needs the current one and signs
/// out every session. Changing the email needs the current password too, and only sends a
/// confirmation link to the new address (and a notice to the current one): the address
/// changes when the link is used (`POST /auth/email-change/confirm`).
#[derive(Object)]
#[oai(example)]
struct UpdateMeRequest {
    #[oai(deserialize_with = "crate::rest::body::absent_or_value")]
    name: Option<String>,
    /// A new address, to be confirmed by the link sent to it.
    #[oai(deserialize_with = "crate::rest::body::absent_or_value")]
    email: Option<String>,
    #[oai(deserialize_with = "crate::rest::body::absent_or_value")]
    password: Option<String>,
    #[oai(deserialize_with = "crate::rest::body::absent_or_value")]
    current_password: Option<String>,
}

impl Example for UpdateMeRequest {
    fn example() -> Self {
        Self {
            name: Some("Ada L.".into()),
            email: None,
            password: None,
            current_password: None,
        }
    }
}

/// Changes an admin may make to any account. Disabling signs the user out everywhere.
/// Changing the role needs a signed-in admin: no API key scope grants it.
#[derive(Object)]
#[oai(example)]
struct UpdateUserRequest {
    #[oai(deserialize_with = "crate::rest::body::absent_or_value")]
    role: Option<Role>,
    #[oai(deserialize_with = "crate::rest::body::absent_or_value")]
    status: Option<UserStatus>,
}

impl Example for UpdateUserRequest {
    fn example() -> Self {
        Self {
            role: Some(Role::Editor),
            status: None,
        }
    }
}

crate::list_object!(UserList of User);

#[derive(Default)]
pub struct MeApi;

#[OpenApi(tag = "UserTags::Me")]
impl MeApi {
    /// Your account
    #[oai(path = "/me", method = "get", operation_id = "get_me")]
    async fn get(&self, state: Data<&AppState>, auth: BearerAuth) -> Result<Json<User>, ApiError> {
        // Read from the primary: right after a change the caller must see it.
        let id = auth.0.user_id()?;
        Ok(Json(super::get_fresh(state.db(), id).await?.into()))
    }

    /// Change your name, password or email address
    ///
    /// A new `email` is not taken at once: a link to confirm it goes to the new address and
    /// a notice to the current one, and the answer still shows the current address. 409
    /// when another account holds the new address.
    #[oai(path = "/me", method = "patch", operation_id = "update_me")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: Json<UpdateMeRequest>,
    ) -> Result<Json<User>, ApiError> {
        let id = auth.0.user_id()?;
        let session = match auth.0 {
            Principal::User { session, .. } => session,
            Principal::ApiKey { .. } => None,
        };
        let body = body.0;
        let name = body
            .name
            .as_deref()
            .map(|n| NAME.parse(n))
            .transpose()
            .map_err(ApiError::invalid)?;
        let current = || {
            body.current_password.as_deref().ok_or_else(|| {
                ApiError::invalid(FieldError::at(
                    "/current_password",
                    "is required to change the password or email",
                ))
            })
        };
        // Checked before a password change replaces it; the link is issued after it, which
        // would revoke an earlier one.
        let asking = match &body.email {
            Some(email) => Some((
                email,
                state
                    .auth()
                    .check_current_password(state.db(), id, current()?)
                    .await?,
            )),
            None => None,
        };
        if let Some(password) = &body.password {
            let current = current()?;
            state
                .auth()
                .change_password(state.db(), id, current, password)
                .await?;
        }
        if let Some((email, user)) = asking {
            let mailing = crate::accounts::Mailing::new(state.config(), state.jobs().clone());
            crate::accounts::request_email_change(state.db(), &mailing, &user, session, email)
                .await?;
        }
        let user = super::update_profile(state.db(), id, name).await?;
        Ok(Json(user.into()))
    }
}

#[derive(Default)]
pub struct UsersApi;

#[OpenApi(tag = "UserTags::Users")]
impl UsersApi {
    /// List users
    ///
    /// Ordered by email; filter by role, status or email prefix.
    #[oai(path = "/users", method = "get", operation_id = "list_users")]
    #[expect(
        clippy::too_many_arguments,
        reason = "one argument per documented query parameter"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        role: Query<Option<Role>>,
        status: Query<Option<UserStatus>>,
        email_prefix: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] limit: Query<Option<u64>>,
        cursor: Query<Option<String>>,
    ) -> Result<Json<UserList>, ApiError> {
        auth.0.require(Permission::ReadUsers)?;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let filter = UserFilter {
            role: role.0,
            status: status.0,
            email_prefix: email_prefix.0,
            email_contains: None,
        };
        Ok(Json(super::list(state.db(), filter, page).await?.into()))
    }

    /// One user
    ///
    /// Users may read their own account; anyone else's is 404 unless the caller may read users.
    #[oai(path = "/users/:id", method = "get", operation_id = "get_user")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<UserId>,
    ) -> Result<Json<User>, ApiError> {
        let is_self = matches!(auth.0, Principal::User { id: me, .. } if me == id.0);
        if !is_self && !auth.0.allows(Permission::ReadUsers) {
            // 404, not 403: ids of other accounts must not be confirmable.
            return Err(ApiError::NotFound("no such user".into()));
        }
        Ok(Json(super::get(state.db(), id.0).await?.into()))
    }

    /// Change a user's role or status
    ///
    /// Role changes are for signed-in admins only; API keys (even with `users:write`)
    /// may change the status.
    #[oai(path = "/users/:id", method = "patch", operation_id = "update_user")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<UserId>,
        body: Json<UpdateUserRequest>,
    ) -> Result<Json<User>, ApiError> {
        auth.0.require(Permission::ManageUsers)?;
        if body.role.is_some() {
            auth.0.require(Permission::ChangeRoles)?;
        }
        let user = super::administer(state.db(), id.0, body.role, body.status).await?;
        Ok(Json(user.into()))
    }

    /// Delete a user's account
    ///
    /// As `POST /me/delete` does for its owner: disabled and signed out at once, personal
    /// data anonymised in the background, orders kept with their totals and items. From
    /// then on the account is gone: reading, changing or deleting it is 404, and no list
    /// shows it.
    #[oai(path = "/users/:id", method = "delete", operation_id = "delete_user")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<UserId>,
    ) -> Result<crate::accounts::privacy_api::DeletionAccepted, ApiError> {
        auth.0.require(Permission::ManageUsers)?;
        crate::accounts::delete_account(state.db(), state.jobs(), id.0).await?;
        Ok(crate::accounts::privacy_api::DeletionAccepted::queued())
    }
}
