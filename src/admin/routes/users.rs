//! The users pages: search, one account, its role, disabling it (after a confirmation) or
//! enabling it, and mailing it a password-reset link. The same permissions as the API's
//! `/users`: `ReadUsers` to look, `ManageUsers` to change the status or send a link, and
//! `ChangeRoles` besides for the role.

use super::session::CsrfForm;
use super::{
    NoticeQuery, csrf_checked, failed, message, not_found, paged, permitted, render, timed,
};
use crate::admin::pages::Chrome;
use crate::admin::service::Staff;
use crate::admin::users::{self, DisablePage, PAGE_SIZE, UserPage, UsersPage};
use crate::admin::web::{nonce, see_other};
use crate::auth::Permission;
use crate::db::ids::UserId;
use crate::state::AppState;
use crate::users::{self as accounts, Role, UserStatus, UsersError};
use poem::http::StatusCode;
use poem::web::{Data, Form, Path, Query};
use poem::{Response, handler};
use serde::Deserialize;
use std::time::Instant;

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    cursor: String,
    #[serde(default)]
    notice: String,
}

/// `GET /admin/users?q=…&cursor=…`: accounts whose email contains `q`, by email.
#[handler]
pub async fn search(
    state: Data<&AppState>,
    staff: Data<&Staff>,
    Query(query): Query<SearchQuery>,
) -> Response {
    let started = Instant::now();
    if let Err(resp) = permitted(&staff, Permission::ReadUsers) {
        return resp;
    }
    let nonce = nonce();
    let chrome = Chrome::new(&nonce, Some(&staff));
    let (filter, page) = match paged(PAGE_SIZE, &query.cursor, users::search_filter(&query.q)) {
        Ok(parsed) => parsed,
        Err(why) => {
            let page = UsersPage::refused(chrome, &query.q, why);
            return render(StatusCode::BAD_REQUEST, &page, &nonce);
        }
    };
    match accounts::list(state.db(), filter, page).await {
        Ok(found) => {
            let page = UsersPage::new(chrome, &query.q, found, users::notice(&query.notice));
            timed(render(StatusCode::OK, &page, &nonce), started)
        }
        Err(e) => failed(&staff, "Searching users", &e),
    }
}

/// The id in a `/admin/users/{id}` path; anything else is no user.
fn user_id(raw: &str) -> Option<UserId> {
    uuid::Uuid::parse_str(raw).ok().map(UserId)
}

/// The 404 page, or the 500 page for a failure while `what`.
fn user_error(staff: &Staff, what: &str, err: &UsersError) -> Response {
    match err {
        UsersError::NotFound => no_such_user(staff),
        other => failed(staff, what, other),
    }
}

fn no_such_user(staff: &Staff) -> Response {
    not_found(staff, "There is no such user.")
}

/// The account `raw` names, read from the primary (the page follows a change), or the
/// error page to answer instead.
async fn account(state: &AppState, staff: &Staff, raw: &str) -> Result<accounts::Model, Response> {
    let id = user_id(raw).ok_or_else(|| no_such_user(staff))?;
    accounts::get_fresh(state.db(), id)
        .await
        .map_err(|e| user_error(staff, "Reading the user", &e))
}

/// `GET /admin/users/{id}`: the account, with the forms the viewer's role allows.
#[handler]
pub async fn show(
    state: Data<&AppState>,
    staff: Data<&Staff>,
    Path(id): Path<String>,
    Query(query): Query<NoticeQuery>,
) -> Response {
    let started = Instant::now();
    if let Err(resp) = permitted(&staff, Permission::ReadUsers) {
        return resp;
    }
    match account(&state, &staff, &id).await {
        Ok(user) => {
            let nonce = nonce();
            let page = UserPage::new(&nonce, &staff, user, users::notice(&query.notice));
            timed(render(StatusCode::OK, &page, &nonce), started)
        }
        Err(resp) => resp,
    }
}

/// `GET /admin/users/{id}/disable`: asks before disabling.
#[handler]
pub async fn confirm_disable(
    state: Data<&AppState>,
    staff: Data<&Staff>,
    Path(id): Path<String>,
) -> Response {
    confirm(&state, &staff, &id, false).await
}

/// `GET /admin/users/{id}/delete`: asks before deleting.
#[handler]
pub async fn confirm_delete(
    state: Data<&AppState>,
    staff: Data<&Staff>,
    Path(id): Path<String>,
) -> Response {
    confirm(&state, &staff, &id, true).await
}

/// The page that asks before disabling (or, `deleting`, deleting) an account.
async fn confirm(state: &AppState, staff: &Staff, id: &str, deleting: bool) -> Response {
    if let Err(resp) = permitted(staff, Permission::ManageUsers) {
        return resp;
    }
    match account(state, staff, id).await {
        Ok(user) => {
            let nonce = nonce();
            let page = DisablePage::new(&nonce, staff, user, deleting);
            render(StatusCode::OK, &page, &nonce)
        }
        Err(resp) => resp,
    }
}

/// The account a form posted by staff who may manage users (with a valid CSRF token)
/// acts on, or the page saying why not.
async fn managed_account(
    state: &AppState,
    staff: &Staff,
    id: &str,
    csrf_token: &str,
) -> Result<accounts::Model, Response> {
    permitted(staff, Permission::ManageUsers)?;
    csrf_checked(staff, csrf_token)?;
    account(state, staff, id).await
}

/// `POST /admin/users/{id}/delete`: deletes the account as `DELETE /users/{id}` does.
#[handler]
pub async fn delete(
    state: Data<&AppState>,
    staff: Data<&Staff>,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let user = match managed_account(&state, &staff, &id, &form.csrf_token).await {
        Ok(user) => user,
        Err(resp) => return resp,
    };
    match crate::accounts::delete_account(state.db(), state.jobs(), user.id).await {
        Ok(()) => {
            tracing::info!(user.id = %user.id, by = %staff.user.id, "console deleted an account");
            // The account's page is gone with it.
            see_other("/admin/users?notice=deleted", &[])
        }
        Err(e) => failed(&staff, "Deleting the account", &e),
    }
}

/// Applies a role or status change as `PATCH /users/{id}` does, then 303 to the user's
/// page with `notice`.
async fn administer(
    state: &AppState,
    staff: &Staff,
    raw: &str,
    change: (Option<Role>, Option<UserStatus>),
    notice: &str,
) -> Response {
    let Some(id) = user_id(raw) else {
        return no_such_user(staff);
    };
    match accounts::administer(state.db(), id, change.0, change.1).await {
        Ok(user) => {
            tracing::info!(user.id = %user.id, by = %staff.user.id, notice, "console changed a user");
            see_other(&format!("/admin/users/{}?notice={notice}", user.id.0), &[])
        }
        Err(e) => user_error(staff, "Changing the user", &e),
    }
}

/// Checks the permission and the form, then sets the account's status.
async fn set_status(
    state: &AppState,
    staff: &Staff,
    id: &str,
    csrf_token: &str,
    status: UserStatus,
) -> Response {
    if let Err(resp) = permitted(staff, Permission::ManageUsers) {
        return resp;
    }
    if let Err(resp) = csrf_checked(staff, csrf_token) {
        return resp;
    }
    administer(state, staff, id, (None, Some(status)), status.as_str()).await
}

/// `POST /admin/users/{id}/disable`: disables the account and ends its sessions.
#[handler]
pub async fn disable(
    state: Data<&AppState>,
    staff: Data<&Staff>,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    set_status(&state, &staff, &id, &form.csrf_token, UserStatus::Disabled).await
}

/// `POST /admin/users/{id}/enable`: lets a disabled account sign in again.
#[handler]
pub async fn enable(
    state: Data<&AppState>,
    staff: Data<&Staff>,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    set_status(&state, &staff, &id, &form.csrf_token, UserStatus::Active).await
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    role: String,
}

/// `POST /admin/users/{id}/role`: changes the role (admins only, as in the API).
#[handler]
pub async fn change_role(
    state: Data<&AppState>,
    staff: Data<&Staff>,
    Path(id): Path<String>,
    Form(form): Form<RoleForm>,
) -> Response {
    // As in `PATCH /users/{id}`: managing users, and changing roles besides.
    for permission in [Permission::ManageUsers, Permission::ChangeRoles] {
        if let Err(resp) = permitted(&staff, permission) {
            return resp;
        }
    }
    if let Err(resp) = csrf_checked(&staff, &form.csrf_token) {
        return resp;
    }
    let Some(role) = Role::parse(&form.role) else {
        let text = "Choose one of the roles admin, editor or customer.".to_string();
        return message(StatusCode::BAD_REQUEST, Some(&staff), "Bad request", text);
    };
    administer(&state, &staff, &id, (Some(role), None), "role-changed").await
}

/// `POST /admin/users/{id}/send-reset-link`: mails the account a password-reset link, as
/// `POST /auth/password-reset` would (so a disabled account gets none).
#[handler]
pub async fn send_reset_link(
    state: Data<&AppState>,
    staff: Data<&Staff>,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let user = match managed_account(&state, &staff, &id, &form.csrf_token).await {
        Ok(user) => user,
        Err(resp) => return resp,
    };
    let email = user.email.as_str();
    match crate::accounts::request_reset(state.db(), state.jobs(), email).await {
        Ok(()) => {
            tracing::info!(user.id = %user.id, by = %staff.user.id, "console sent a reset link");
            see_other(
                &format!("/admin/users/{}?notice=reset-sent", user.id.0),
                &[],
            )
        }
        Err(e) => failed(&staff, "Sending the reset link", &e),
    }
}
