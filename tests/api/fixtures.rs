//! Extra routes mounted at `/__test` inside every middleware layer: a JSON echo with field
//! validation and a slow handler, to exercise error rendering, deadlines and shedding.

use poem::endpoint::BoxEndpoint;
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
}

pub fn routes() -> Option<BoxEndpoint<'static>> {
    Some(
        OpenApiService::new(FixtureApi, "fixtures", "1")
            .into_endpoint()
            .boxed(),
    )
}
