//! The content page (posts; products and stock for admins) and a product's ledger page.

use super::{failed, not_found, permitted, render, timed};
use crate::admin::content::{self, ContentError, ContentPage, ProductPage};
use crate::admin::pages::Chrome;
use crate::admin::service::Staff;
use crate::admin::web::nonce;
use crate::auth::Permission;
use crate::inventory::StockError;
use crate::posts::PostStatus;
use crate::products::{ProductsError, Sku};
use crate::state::AppState;
use poem::http::StatusCode;
use poem::web::{Data, Path, Query};
use poem::{Response, handler};
use serde::Deserialize;
use std::time::Instant;

#[derive(Deserialize)]
pub struct ContentQuery {
    status: Option<PostStatus>,
    posts: Option<String>,
    products: Option<String>,
}

#[derive(Deserialize)]
pub struct LedgerQuery {
    cursor: Option<String>,
}

fn no_such_product(staff: &Staff) -> Response {
    not_found(staff, "No such product.")
}

/// `GET /admin/content`: posts of a status and, for admins, products with their stock.
#[handler]
pub async fn show(
    state: Data<&AppState>,
    staff: Data<&Staff>,
    Query(query): Query<ContentQuery>,
) -> Response {
    let started = Instant::now();
    if let Err(resp) = permitted(&staff, Permission::ManagePosts) {
        return resp;
    }
    let status = query.status.unwrap_or(PostStatus::Published);
    let loaded = async {
        let posts = content::posts(&state, status, query.posts.as_deref()).await?;
        let products = if content::sees_stock(staff.user.role) {
            Some(content::products(&state, query.products.as_deref()).await?)
        } else {
            None
        };
        Ok::<_, ContentError>((posts, products))
    };
    let (posts, products) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return failed(&staff, "Loading the content", &e),
    };
    let nonce = nonce();
    let page = ContentPage {
        chrome: Chrome::new(&nonce, Some(&staff)),
        status: sea_orm::ActiveEnum::to_value(&status),
        posts,
        products,
    };
    timed(render(StatusCode::OK, &page, &nonce), started)
}

/// `GET /admin/content/products/{sku}`: a product's stock and its ledger.
#[handler]
pub async fn product(
    state: Data<&AppState>,
    staff: Data<&Staff>,
    Path(sku): Path<String>,
    Query(query): Query<LedgerQuery>,
) -> Response {
    let started = Instant::now();
    for needed in content::STOCK {
        if let Err(resp) = permitted(&staff, needed) {
            return resp;
        }
    }
    let Ok(sku) = Sku::parse(&sku, "/sku") else {
        return no_such_product(&staff);
    };
    let (product, ledger) = match content::product(&state, &sku, query.cursor.as_deref()).await {
        Ok(found) => found,
        Err(
            ContentError::Products(ProductsError::NotFound)
            | ContentError::Stock(StockError::NotFound),
        ) => return no_such_product(&staff),
        Err(e) => return failed(&staff, "Loading the product", &e),
    };
    let nonce = nonce();
    let page = ProductPage {
        chrome: Chrome::new(&nonce, Some(&staff)),
        product,
        ledger,
    };
    timed(render(StatusCode::OK, &page, &nonce), started)
}
