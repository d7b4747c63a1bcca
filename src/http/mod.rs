//! HTTP assembly: the OpenAPI service from each feature's API, the docs, and the middleware
//! stack every request passes through (outermost first):
//! observe → CORS → compression → error rendering → load shedding → body limit → deadline
//! → rate limit → routes. The deadline sits outside the rate limiter because the limiter may
//! read the body (login keys on its email; `body_field`): a trickled body must not outlive the deadline.

mod allow;
mod body_field;
mod compress;
pub mod conn;
mod consistency;
mod durations;
mod guard;
mod headers;
mod observe;
mod problem_doc;
mod rate_limit;
pub mod readiness;
pub mod system;
pub mod tls;
mod trace;

pub use observe::{REQUEST_ID_HEADER, RequestId, error_response};

use crate::state::AppState;
use crate::{
    accounts, admin, auth, inventory, job_admin, mail, orders, posts, products, reports, users,
    webhooks,
};
use allow::AllowedMethods;
use poem::endpoint::BoxEndpoint;
use poem::middleware::Cors;
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route};
use poem_openapi::OpenApiService;
use std::sync::Arc;

/// Every feature's API, in the order the docs list them. (Nested: `Default`, which the
/// service needs, is implemented for tuples of at most 12.)
pub(crate) type Apis = (
    system::SystemApi,
    (auth::api::AuthApi, accounts::api::AccountsApi),
    (users::api::MeApi, accounts::privacy_api::PrivacyApi),
    users::api::UsersApi,
    auth::api::ApiKeysApi,
    posts::api::PostsApi,
    products::api::ProductsApi,
    inventory::api::InventoryApi,
    orders::api::OrdersApi,
    reports::api::ReportsApi,
    job_admin::api::JobsApi,
    (mail::api::MailApi, webhooks::api::WebhooksApi),
);

/// The OpenAPI service with every feature's API.
pub fn api_service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(Apis::default(), "levee", env!("CARGO_PKG_VERSION"))
        .description("A single-binary backend for storefront and content sites that must survive traffic surges.")
}

/// The full application endpoint for `state`, with optional extra routes mounted inside
/// every layer.
pub fn router(
    state: &AppState,
    extra: Option<(String, BoxEndpoint<'static>)>,
) -> BoxEndpoint<'static> {
    let config = &state.config().server;
    let api = api_service();
    let mut routes = Route::new()
        .at("/openapi.json", api.spec_endpoint())
        .nest("/docs", api.swagger_ui());
    if state.config().metrics.listen.is_none() {
        routes = routes.at("/metrics", system::metrics_endpoint(state.config()));
    }
    if let Some((prefix, endpoint)) = extra {
        routes = routes.nest(prefix, endpoint);
    }
    let routes = routes
        .nest("/admin", admin::routes())
        .nest("/", api)
        .data(state.clone());

    let routes = consistency_layer(routes, state);
    let guarded = rate_limit::RateLimit::new(routes, state.clone());
    let guarded = guard::Deadline::new(guarded, config.request_timeout.get());
    let guarded = guard::BodyLimit::new(guarded, config.max_body.bytes());
    let guarded = guard::Shed::new(guarded, config.max_in_flight.get() as usize);
    let allowed = Arc::new(AllowedMethods::of::<Apis>());
    let rendered = compress::Compress(
        guarded.around(move |next, req| render_errors(next, req, allowed.clone())),
    );
    let with_cors = match cors(&config.cors_origins) {
        Some(cors) => rendered.with(cors).boxed(),
        None => rendered.boxed(),
    };
    let log = &state.config().log;
    let access = observe::AccessLog {
        sample: log.access_sample,
        slow: log.slow_request.get(),
    };
    observe::Observe::new(
        with_cors,
        config.tls.is_some(),
        state.stats().clone(),
        access,
    )
    .boxed()
}

/// Per-request read routing (read-your-writes tokens, fast replica failover), when
/// replicas could serve reads.
fn consistency_layer(routes: impl Endpoint + 'static, state: &AppState) -> BoxEndpoint<'static> {
    let window = state.config().database.read_your_writes.get();
    if state.db().has_replicas() {
        // Behind a TLS-terminating proxy the public URL tells that clients speak https.
        let server = &state.config().server;
        let secure = server.tls.is_some()
            || server
                .public_url
                .as_deref()
                .and_then(|url| url::Url::parse(url).ok())
                .is_some_and(|url| url.scheme() == "https");
        consistency::ReadYourWrites::new(routes, state.clone(), window, secure).boxed()
    } else {
        routes.map_to_response().boxed()
    }
}

/// Converts errors to problem+json inside CORS and compression, so those layers still
/// decorate error responses. A 405 names the methods the path supports in `Allow`.
async fn render_errors<E: Endpoint>(
    next: E,
    req: Request,
    allowed: Arc<AllowedMethods>,
) -> poem::Result<Response> {
    // Both shared, not copied: this runs on every request, errors are rare.
    let uri = req.uri().clone();
    let request_id = req.data::<RequestId>().cloned();
    match next.call(req).await {
        Ok(resp) => Ok(resp.into_response()),
        Err(err) => {
            let path = uri.path();
            let request_id = request_id.as_ref().map_or("", |id| &id.0);
            let mut resp = error_response(&err, path, request_id);
            if err.is::<poem::error::MethodNotAllowedError>()
                && let Some(methods) = allowed.for_path(path)
                && let Ok(value) = poem::http::HeaderValue::from_str(methods)
            {
                resp.headers_mut().insert(poem::http::header::ALLOW, value);
            }
            Ok(resp)
        }
    }
}

fn cors(origins: &[String]) -> Option<Cors> {
    if origins.is_empty() {
        return None;
    }
    // Credentials are never allowed: the API authenticates with bearer tokens.
    let cors = Cors::new()
        .allow_credentials(false)
        .expose_header(REQUEST_ID_HEADER)
        .expose_header(consistency::TOKEN_HEADER)
        .max_age(600);
    if origins.iter().any(|o| o == "*") {
        Some(cors)
    } else {
        Some(cors.allow_origins(origins.iter().map(String::as_str)))
    }
}
