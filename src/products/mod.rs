//! The catalog: products with prices in minor units, addressed by SKU.

pub mod api;
mod entity;
mod error;
mod model;
pub mod service;
mod store;

pub use entity::Model;
pub use error::ProductsError;
pub use model::{Currency, Money, Sku};
/// The products an order names, read in the order's transaction.
pub use store::find_many;
pub use store::{NewProduct, ProductChanges, ProductFilter, Stocked};
/// Storage-level writes for seeding: many products in one transaction.
pub use store::{existing_skus, insert};
