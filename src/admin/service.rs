//! Signing in and out of the console, and resolving a session cookie to a staff member.
//! The password check is the API's (`Auth::check_credentials`: throttle, disabled
//! accounts); the console adds that only staff (admins and editors) may sign in.

use super::entity::admin_session::Model as Session;
use super::sessions;
use crate::auth::AuthError;
use crate::state::AppState;
use crate::users::{self, Role, UserStatus};
use sea_orm::DbErr;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Wrong email or password, or an account that is not staff: one answer for both, so
    /// the form does not reveal which accounts exist or are staff.
    #[error("invalid email or password")]
    BadCredentials,
    #[error("this account is disabled")]
    Disabled,
    #[error("too many failed sign-ins; try again in {retry_after} s")]
    Throttled { retry_after: u64 },
    #[error("the form expired or did not come from this console; reload it and try again")]
    Csrf,
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error("sign-in failed: {0}")]
    Auth(AuthError),
}

impl From<AuthError> for AdminError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::BadCredentials | AuthError::Field(_) => AdminError::BadCredentials,
            AuthError::Disabled => AdminError::Disabled,
            AuthError::Throttled { retry_after } => AdminError::Throttled { retry_after },
            AuthError::Db(e) => AdminError::Db(e),
            other => AdminError::Auth(other),
        }
    }
}

/// Who may use the console at all.
pub fn is_staff(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Editor)
}

/// A signed-in staff member and their session.
#[derive(Clone)]
pub struct Staff {
    pub user: users::Model,
    pub session: Session,
}

/// Checks the credentials and opens a session; answers the token for the cookie.
pub async fn sign_in(
    state: &AppState,
    email: &str,
    password: &str,
    ip: Option<std::net::IpAddr>,
) -> Result<String, AdminError> {
    let user = state
        .auth()
        .check_credentials(state.db(), email, password, ip)
        .await?;
    if !is_staff(user.role) {
        return Err(AdminError::BadCredentials);
    }
    let token = sessions::create(state.db().write(), user.id, &state.config().admin).await?;
    tracing::info!(user.id = %user.id, "signed in to the admin console");
    Ok(token)
}

/// The staff member behind a session token, or `None` when the session is unknown or
/// over, or its account is disabled or no longer staff (the session is then deleted).
/// Reads go to the primary: a session opened a moment ago on another instance counts.
pub async fn resume(state: &AppState, token: &str) -> Result<Option<Staff>, AdminError> {
    let conn = state.db().write();
    let Some(session) = sessions::resume(conn, token, &state.config().admin).await? else {
        return Ok(None);
    };
    match users::find(conn, session.user_id).await? {
        Some(user) if user.status == UserStatus::Active && is_staff(user.role) => {
            Ok(Some(Staff { user, session }))
        }
        _ => {
            sessions::delete(conn, session.id).await?;
            Ok(None)
        }
    }
}

pub async fn sign_out(state: &AppState, staff: &Staff) -> Result<(), AdminError> {
    sessions::delete(state.db().write(), staff.session.id).await?;
    Ok(())
}
