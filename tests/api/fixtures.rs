//! Extra routes mounted at `/__test` inside every middleware layer: a JSON echo with field
//! validation and a slow handler, to exercise error rendering, deadlines and shedding.

use levee::AppState;
use levee::error::ApiError;
use poem::endpoint::BoxEndpoint;
use poem::web::Data;
use poem::{EndpointExt, IntoEndpoint};
use poem_openapi::param::Query;
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{Object, OpenApi, OpenApiService};
use std::time::Duration;

#[derive(Object)]
pub struct Item {
    #[oai(validator(max_length = 10))]
    name: String,
}

pub struct FixtureApi;

#[OpenApi]
impl FixtureApi {
    #[oai(path = "/echo", method = "post")]
    async fn echo(&self, item: Json<Item>) -> Json<Item> {
        item
    }

    #[oai(path = "/slow", method = "get")]
    async fn slow(&self, ms: Query<u64>) -> PlainText<&'static str> {
        tokio::time::sleep(Duration::from_millis(ms.0)).await;
        PlainText("done")
    }

    /// Holds the write connection for `ms` milliseconds.
    #[oai(path = "/hold-db", method = "get")]
    async fn hold_db(
        &self,
        state: Data<&AppState>,
        ms: Query<u64>,
    ) -> poem::Result<PlainText<&'static str>> {
        let txn = state.db().begin_write().await.map_err(ApiError::from)?;
        tokio::time::sleep(Duration::from_millis(ms.0)).await;
        txn.commit().await.map_err(ApiError::from)?;
        Ok(PlainText("held"))
    }
}

pub fn routes() -> Option<BoxEndpoint<'static>> {
    Some(
        OpenApiService::new(FixtureApi, "fixtures", "1")
            .into_endpoint()
            .boxed(),
    )
}
