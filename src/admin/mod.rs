//! The admin console at `/admin`: server-rendered pages (askama, `web/templates/admin/`)
//! with embedded, content-hashed assets (`web/static/`), for staff only. Sessions live in
//! the database (`sessions`), forms carry CSRF tokens bound to the session (`csrf`), and
//! the overview shows the fleet's statistics (`overview`, from `crate::stats`, published by
//! every process to a shared store: `fleet`). The
//! console is not part of the OpenAPI document.

mod api_keys;
mod assets;
mod cache;
mod charts;
mod content;
mod csrf;
mod database;
pub mod entity;
mod figures;
pub mod fleet;
mod orders;
mod overview;
mod pages;
mod queues;
mod ratelimits;
mod reports;
mod resilience;
mod route_stats;
mod routes;
mod service;
mod sessions;
mod settings;
mod users;
mod web;
mod webhooks;

pub use service::{AdminError, is_staff};

use crate::config::AdminConfig;
use crate::jobs::{JobKind, Outcome, Registry};
use crate::state::AppState;
use poem::http::StatusCode;
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route, get, post};

/// The console's routes, to be nested at `/admin`: all but the sign-in form and the
/// static assets need a session.
pub fn routes() -> impl Endpoint<Output = Response> {
    Route::new()
        .at(
            "/login",
            get(routes::session::login_form).post(routes::session::login),
        )
        .at("/static/:name", get(assets::serve))
        .at("/", get(routes::overview::show))
        .at("/overview/live", get(routes::overview::live))
        .at("/routes", get(routes::route_stats::show))
        .at("/cache", get(routes::cache::show))
        .at("/cache/purge", post(routes::cache::purge))
        .at("/database", get(routes::database::show))
        .at("/ratelimits", get(routes::ratelimits::show))
        .at("/resilience", get(routes::resilience::show))
        .at("/logout", post(routes::session::logout))
        .at("/users", get(routes::users::search))
        .at("/users/:id", get(routes::users::show))
        .at("/users/:id/role", post(routes::users::change_role))
        .at(
            "/users/:id/disable",
            get(routes::users::confirm_disable).post(routes::users::disable),
        )
        .at(
            "/users/:id/delete",
            get(routes::users::confirm_delete).post(routes::users::delete),
        )
        .at("/users/:id/enable", post(routes::users::enable))
        .at(
            "/users/:id/send-reset-link",
            post(routes::users::send_reset_link),
        )
        .at("/api-keys", get(routes::api_keys::list))
        .at("/api-keys/:id/revoke", post(routes::api_keys::revoke))
        .at("/settings", get(routes::settings::show))
        .at("/queues", get(routes::queues::show))
        .at("/content", get(routes::content::show))
        .at("/content/products/:sku", get(routes::content::product))
        .at("/queues/replay", post(routes::queues::replay))
        .at("/queues/jobs/:id", get(routes::queues::job))
        .at("/queues/jobs/:id/:action", post(routes::queues::act))
        .at("/orders", get(routes::orders::list))
        .at("/orders/:id", get(routes::orders::show))
        .at("/orders/:id/cancel", post(routes::orders::cancel))
        .at(
            "/reports",
            get(routes::reports::list).post(routes::reports::request),
        )
        .at("/reports/:id/download", get(routes::reports::download))
        .at("/webhooks", get(routes::webhooks::show))
        .at(
            "/webhooks/deliveries/:id/resend",
            post(routes::webhooks::resend),
        )
        .around(require_session)
}

/// Lets requests with a live staff session through (with `Staff` in the request data);
/// everything else — no cookie, an expired session, a bearer token — gets 303 to the
/// sign-in form, whether or not the page exists.
async fn require_session<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    let path = req.uri().path();
    if path == "/login" || path.starts_with("/static/") {
        return Ok(next.call(req).await?.into_response());
    }
    let state = req
        .data::<AppState>()
        .cloned()
        .ok_or_else(|| poem::Error::from_status(StatusCode::INTERNAL_SERVER_ERROR))?;
    let token = web::cookie(&req, web::SESSION_COOKIE).map(str::to_string);
    let staff = match token {
        Some(token) => service::resume(&state, &token).await,
        None => Ok(None),
    };
    match staff {
        Ok(Some(staff)) => {
            req.set_data(staff);
            Ok(next.call(req).await?.into_response())
        }
        Ok(None) => Ok(web::see_other("/admin/login", &[])),
        Err(e) => {
            tracing::error!(error = %e, "resuming an admin session failed");
            let text = "The console cannot reach its database; try again shortly.".to_string();
            Ok(routes::message(
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                "Unavailable",
                text,
            ))
        }
    }
}

/// Deletes console sessions past their idle or absolute expiry. Scheduled by the
/// built-in `prune-admin-sessions` cron entry.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct PruneSessions {}

impl JobKind for PruneSessions {
    const NAME: &'static str = "admin.prune";
}

/// Registers the console's job kinds.
pub fn register_jobs(registry: &mut Registry, config: &AdminConfig) {
    let config = config.clone();
    registry.register::<PruneSessions, _, _>(move |_, ctx| {
        let config = config.clone();
        async move {
            let deleted = sessions::prune(ctx.db.write(), &config).await;
            Outcome::of_pruning(deleted, "expired admin console sessions")
        }
    });
}
