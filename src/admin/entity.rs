//! The `admin_sessions` table: one row per signed-in console session.

pub mod admin_session {
    use crate::db::ids::UserId;
    use sea_orm::entity::prelude::*;

    /// A console session; the cookie holds the token, the row only its SHA-256.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "admin_sessions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(unique)]
        pub token_hash: String,
        pub user_id: UserId,
        /// Key of the HMAC that makes the session's CSRF tokens.
        pub csrf_secret: String,
        pub created_at: DateTimeUtc,
        pub last_seen_at: DateTimeUtc,
        /// The absolute end (`admin.session_lifetime` after sign-in).
        pub expires_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
