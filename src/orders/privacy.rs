//! What account deletion does to orders: the shipping addresses of a deleted customer's
//! orders lose everything but the country (kept for tax records); totals, lines and events
//! stay, so the books still add up.

use super::entity::order;
use super::model::Address;
use crate::db::ids::UserId;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

/// What an anonymised address field reads.
pub const DELETED: &str = "deleted";

/// Replaces the shipping address of each of `user_id`'s orders by an anonymous one with
/// the same country; returns how many orders changed.
pub async fn anonymise_customer(
    conn: &impl ConnectionTrait,
    user_id: UserId,
) -> Result<u64, DbErr> {
    let orders = order::Entity::find()
        .filter(order::Column::UserId.eq(user_id))
        .all(conn)
        .await?;
    let mut changed = 0;
    for row in orders {
        let country = serde_json::from_str::<Address>(&row.shipping_address)
            .map(|a| a.country)
            .unwrap_or_default();
        let anonymous = Address {
            name: DELETED.into(),
            line1: DELETED.into(),
            line2: None,
            city: DELETED.into(),
            postal_code: DELETED.into(),
            country,
        };
        let json = serde_json::to_string(&anonymous).unwrap_or_default();
        if json == row.shipping_address {
            continue;
        }
        order::Entity::update_many()
            .col_expr(order::Column::ShippingAddress, Expr::value(json))
            .filter(order::Column::Id.eq(row.id))
            .exec(conn)
            .await?;
        changed += 1;
    }
    Ok(changed)
}
