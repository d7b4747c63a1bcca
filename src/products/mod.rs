//! The catalog: products with prices in minor units, addressed by SKU.

pub mod api;
pub mod cached;
mod entity;
mod model;
mod service;

pub use entity::Model;
pub use model::Price;
pub use service::{
    NewProduct, ProductChanges, ProductFilter, ProductsError, Stocked, archive, create,
    existing_skus, find, find_listed, list_listed, update,
};
