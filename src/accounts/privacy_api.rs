//! HTTP endpoints of a user's own data: deleting the account (`POST /me/delete`; admins use
//! `DELETE /users/{id}`) and exporting what levee holds about them (`GET /me/export`).

use super::export::{Export, ExportedLine, ExportedOrder};
use crate::auth::BearerAuth;
use crate::error::{ApiError, FieldError};
use crate::state::AppState;
use crate::users::api::{User, UserTags};
use poem::web::Data;
use poem::{Body, IntoResponse, Response};
use poem_openapi::payload::{Json, Payload};
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::{Example, Type};
use poem_openapi::{ApiResponse, Object, OpenApi};

/// The password that proves the caller is the account's owner.
#[derive(Object)]
#[oai(example)]
struct DeleteMeRequest {
    #[oai(deserialize_with = "crate::rest::body::text")]
    current_password: String,
}

impl Example for DeleteMeRequest {
    fn example() -> Self {
        Self {
            current_password: "correct horse battery".into(),
        }
    }
}

/// An account deletion under way.
#[derive(Object)]
#[oai(example)]
pub struct DeletionQueued {
    /// What happened and what happens next.
    detail: String,
}

const DELETION_QUEUED: &str = "the account is disabled and signed out everywhere; its personal \
     data is being anonymised (orders keep their totals and items)";

impl Example for DeletionQueued {
    fn example() -> Self {
        Self {
            detail: DELETION_QUEUED.into(),
        }
    }
}

#[derive(ApiResponse)]
pub enum DeletionAccepted {
    /// Accepted: the account is disabled at once and anonymised in the background.
    #[oai(status = 202)]
    Accepted(Json<DeletionQueued>),
}

impl DeletionAccepted {
    pub fn queued() -> Self {
        Self::Accepted(Json(DeletionQueued {
            detail: DELETION_QUEUED.into(),
        }))
    }
}

impl Example for Export {
    fn example() -> Self {
        let at = crate::rest::examples::example_time();
        let order = ExportedOrder {
            id: uuid::Uuid::nil(),
            status: crate::orders::OrderStatus::Completed,
            currency: "EUR".into(),
            total_amount: 2598,
            shipping_address: serde_json::json!({
                "name": "Ada Lovelace", "line1": "12 St James's Square", "line2": null,
                "city": "London", "postal_code": "SW1Y 4JH", "country": "GB"
            }),
            items: vec![ExportedLine {
                sku: "MUG-1".into(),
                quantity: 2,
                unit_price: 1299,
            }],
            created_at: at,
        };
        Self {
            exported_at: at,
            profile: User::example(),
            orders: vec![order],
            api_keys: Vec::new(),
            sessions: Vec::new(),
            emails: Vec::new(),
        }
    }
}

/// The export document, streamed as it is read (documented as [`Export`]).
pub struct ExportJson(Body);

impl Payload for ExportJson {
    const CONTENT_TYPE: &'static str = "application/json";

    fn schema_ref() -> MetaSchemaRef {
        Export::schema_ref()
    }

    fn register(registry: &mut Registry) {
        Export::register(registry);
    }
}

impl IntoResponse for ExportJson {
    fn into_response(self) -> Response {
        Response::builder()
            .content_type(Self::CONTENT_TYPE)
            .header(
                poem::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"levee-export.json\"",
            )
            .body(self.0)
    }
}

#[derive(ApiResponse)]
enum Exported {
    /// Everything levee holds about you.
    #[oai(status = 200)]
    Ok(ExportJson),
}

#[derive(Default)]
pub struct PrivacyApi;

#[OpenApi(tag = "UserTags::Me")]
impl PrivacyApi {
    /// Delete your account
    ///
    /// Needs your current password (422 at `/current_password` otherwise). The account is
    /// disabled at once: every session, API key and pending link of it stops working, and
    /// nobody can sign in to it again. Its address, name and the shipping addresses of its
    /// orders are then anonymised in the background; the orders keep their totals and
    /// items for the shop's books.
    #[oai(path = "/me/delete", method = "post", operation_id = "delete_me")]
    async fn delete_me(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: Json<DeleteMeRequest>,
    ) -> Result<DeletionAccepted, ApiError> {
        let id = auth.0.user_id()?;
        if body.current_password.is_empty() {
            return Err(ApiError::invalid(FieldError::at(
                "/current_password",
                "is required to delete the account",
            )));
        }
        state
            .auth()
            .check_current_password(state.db(), id, &body.current_password)
            .await?;
        super::delete_account(state.db(), state.jobs(), id).await?;
        Ok(DeletionAccepted::queued())
    }

    /// Export your data
    ///
    /// One JSON document of everything levee holds about you: your profile, your orders
    /// with their shipping addresses and items, the metadata of API keys you created (never
    /// the keys), the sessions still signed in (never their tokens), and the emails sent to
    /// your address. Streamed as it is read, so it may be large.
    #[oai(path = "/me/export", method = "get", operation_id = "export_me")]
    async fn export(&self, state: Data<&AppState>, auth: BearerAuth) -> Result<Exported, ApiError> {
        let id = auth.0.user_id()?;
        let user = crate::users::get_fresh(state.db(), id).await?;
        let chunks = super::export::export(state.db().clone(), user);
        Ok(Exported::Ok(ExportJson(Body::from_bytes_stream(chunks))))
    }
}
