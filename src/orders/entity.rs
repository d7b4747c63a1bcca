//! `orders`, `order_lines` (prices frozen when the order was placed) and `order_events`
//! (the log of every transition).

pub mod order {
    use super::super::model::{OrderStatus, StockHold};
    use crate::db::ids::UserId;
    use crate::products::Currency;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "orders")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub user_id: UserId,
        pub status: OrderStatus,
        /// Where the order's units stand in the inventory; moved by conditional updates,
        /// so a step that runs twice moves stock once.
        pub stock: StockHold,
        pub currency: Currency,
        pub total_amount: i64,
        /// The shipping address as JSON, as validated when the order was placed.
        pub shipping_address: String,
        pub payment_ref: Option<String>,
        pub shipment_ref: Option<String>,
        /// Why the order was rejected, failed or cancelled.
        pub reason: Option<String>,
        /// Past it, a saga step waiting for an unavailable provider gives up.
        pub deadline_at: DateTimeUtc,
        /// When the payment provider was first asked to charge it: from then on, an order
        /// that ends unpaid is refunded (the answer may have been lost, not the charge).
        pub charge_requested_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod line {
    use crate::db::ids::ProductId;
    use crate::products::Sku;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "order_lines")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub order_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub line_no: i32,
        pub product_id: ProductId,
        pub sku: Sku,
        pub quantity: i64,
        pub unit_price: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod event {
    use super::super::model::OrderStatus;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "order_events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub order_id: Uuid,
        /// `None` for the event that created the order.
        pub from_status: Option<OrderStatus>,
        pub to_status: OrderStatus,
        /// The domain event the transition raised (`order.confirmed`, …), for webhooks.
        pub event: Option<String>,
        pub detail: Option<String>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
