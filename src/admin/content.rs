//! The content page's view: posts by status for editors and admins, and — only for roles
//! that manage products and read inventory — products with their stock, and one product's
//! stock ledger. Read through the features' own services, paginated by their cursors.

use super::pages::Chrome;
use super::users::shown_time;
use crate::auth::Permission;
use crate::db::pagination::{Page, PageRequest};
use crate::inventory::{self, StockError};
use crate::posts::{self, PostStatus, PostsError};
use crate::products::{self, ProductsError, Sku};
use crate::state::AppState;
use crate::users::Role;
use askama::Template;
use sea_orm::ActiveEnum;

/// Rows per list page.
const PER_PAGE: u64 = 20;

#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    #[error(transparent)]
    Posts(#[from] PostsError),
    #[error(transparent)]
    Products(#[from] ProductsError),
    #[error(transparent)]
    Stock(#[from] StockError),
}

fn request<K: serde::de::DeserializeOwned>(cursor: Option<&str>) -> PageRequest<K> {
    PageRequest::parse_or_first(PER_PAGE, cursor)
}

pub struct PostRow {
    pub title: String,
    pub slug: String,
    pub status: String,
    pub at: String,
}

pub struct ProductRow {
    pub sku: String,
    pub name: String,
    /// `active` or `inactive`.
    pub status: &'static str,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
}

impl From<products::Stocked> for ProductRow {
    fn from(s: products::Stocked) -> Self {
        Self {
            sku: s.product.sku.as_str().to_string(),
            name: s.product.name,
            status: if s.product.active {
                "active"
            } else {
                "inactive"
            },
            on_hand: s.levels.on_hand,
            reserved: s.levels.reserved,
            available: s.levels.available(),
        }
    }
}

pub struct LedgerRow {
    pub at: String,
    pub kind: String,
    pub on_hand_delta: i64,
    pub reserved_delta: i64,
    pub reason: String,
    pub actor: String,
    pub reference: String,
}

/// What it takes to see products and their stock.
pub const STOCK: [Permission; 2] = [Permission::ManageProducts, Permission::ReadInventory];

/// Whether `role` sees products and their stock.
pub fn sees_stock(role: Role) -> bool {
    STOCK.iter().all(|p| p.granted_to(role))
}

/// One list and the cursor of its next page.
pub struct Listed<T> {
    pub rows: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Listed<T> {
    fn from_page<M>(page: Page<M>, row: impl Fn(M) -> T) -> Self {
        Self {
            rows: page.items.into_iter().map(row).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

/// Posts of `status` from `cursor` on, newest first.
pub async fn posts(
    state: &AppState,
    status: PostStatus,
    cursor: Option<&str>,
) -> Result<Listed<PostRow>, ContentError> {
    let page = posts::service::list(state, status, request(cursor)).await?;
    Ok(Listed::from_page(page, |p| PostRow {
        at: shown_time(p.published_at.unwrap_or(p.created_at)),
        title: p.title,
        slug: p.slug.as_str().to_string(),
        status: p.status.to_value(),
    }))
}

/// Products with their stock from `cursor` on, by SKU.
pub async fn products(
    state: &AppState,
    cursor: Option<&str>,
) -> Result<Listed<ProductRow>, ContentError> {
    let page = products::service::list_all(state, request(cursor)).await?;
    Ok(Listed::from_page(page, ProductRow::from))
}

/// The product at `sku` and its ledger from `cursor` on, newest first.
pub async fn product(
    state: &AppState,
    sku: &Sku,
    cursor: Option<&str>,
) -> Result<(ProductRow, Listed<LedgerRow>), ContentError> {
    let product = products::service::find(state, sku).await?;
    let ledger = inventory::service::history(state, sku, request(cursor)).await?;
    let ledger = Listed::from_page(ledger, |e| LedgerRow {
        at: shown_time(e.created_at),
        kind: e.kind.to_value(),
        on_hand_delta: e.on_hand_delta,
        reserved_delta: e.reserved_delta,
        reason: e.reason,
        actor: e.actor,
        reference: e.reference.unwrap_or_default(),
    });
    Ok((product.into(), ledger))
}

#[derive(Template)]
#[template(path = "admin/content.html")]
pub struct ContentPage {
    pub chrome: Chrome,
    /// `published` or `draft`: the posts shown.
    pub status: String,
    pub posts: Listed<PostRow>,
    /// `None` for roles that do not see stock.
    pub products: Option<Listed<ProductRow>>,
}

#[derive(Template)]
#[template(path = "admin/product.html")]
pub struct ProductPage {
    pub chrome: Chrome,
    pub product: ProductRow,
    pub ledger: Listed<LedgerRow>,
}
