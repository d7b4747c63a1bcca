//! `webhook_endpoints`, `webhook_events` (the stable payload of each event),
//! `webhook_deliveries` (one per event and subscribed endpoint) and `webhook_attempts`
//! (one per try, bounded by the retry schedule and pruned with their event).

pub mod endpoint {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_endpoints")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub url: String,
        pub description: String,
        /// The subscribed event types as a JSON array of strings.
        pub event_types: String,
        /// Signs every delivery; shown to admins only when created or rotated.
        pub secret: String,
        /// The secret before the last rotation, still signing until `previous_secret_until`.
        pub previous_secret: Option<String>,
        pub previous_secret_until: Option<DateTimeUtc>,
        pub enabled: bool,
        /// Why it was disabled (by an admin, or after failing for `webhooks.disable_after`).
        pub disabled_reason: Option<String>,
        /// Since when every delivery has failed; cleared by a success.
        pub failing_since: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_events")]
    pub struct Model {
        /// The payload's `id`, the same on every attempt: receivers deduplicate on it.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub event_type: String,
        /// The payload's `data`, as JSON text.
        pub data: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod delivery {
    use super::super::model::DeliveryStatus;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_deliveries")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub event_id: Uuid,
        pub endpoint_id: Uuid,
        pub status: DeliveryStatus,
        pub attempts: i32,
        pub last_status_code: Option<i32>,
        pub last_latency_ms: Option<i64>,
        pub last_error: Option<String>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod attempt {
    use super::super::model::AttemptOutcome;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_attempts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub delivery_id: Uuid,
        pub endpoint_id: Uuid,
        pub outcome: AttemptOutcome,
        pub status_code: Option<i32>,
        pub latency_ms: i64,
        pub error: Option<String>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
