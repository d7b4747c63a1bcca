//! Tables owned by authentication.

pub mod signing_key {
    use sea_orm::entity::prelude::*;

    /// An HS256 secret (base64url). The newest signs; all verify.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "signing_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub kid: String,
        pub secret: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod refresh_token {
    use crate::db::ids::UserId;
    use sea_orm::entity::prelude::*;

    /// One refresh token; tokens rotated from one login share a `family_id`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "refresh_tokens")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub family_id: Uuid,
        pub user_id: UserId,
        #[sea_orm(unique)]
        pub token_hash: String,
        pub created_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
        pub used_at: Option<DateTimeUtc>,
        pub revoked_at: Option<DateTimeUtc>,
        /// Set when the token is rotated: with the raw token (which only its holder has)
        /// it derives the successor, so a repeat within grace gets that same successor.
        pub successor_salt: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod api_key {
    use crate::db::ids::UserId;
    use sea_orm::entity::prelude::*;

    /// A server-to-server credential; only its hash is stored.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "api_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub name: String,
        pub prefix: String,
        #[sea_orm(unique)]
        pub key_hash: String,
        /// Space-separated scopes.
        pub scopes: String,
        pub created_by: Option<UserId>,
        pub created_at: DateTimeUtc,
        pub expires_at: Option<DateTimeUtc>,
        pub last_used_at: Option<DateTimeUtc>,
        pub revoked_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        /// The admin who minted the key: the key is only as good as their standing.
        #[sea_orm(
            belongs_to = "crate::users::Entity",
            from = "Column::CreatedBy",
            to = "crate::users::Column::Id"
        )]
        Creator,
    }

    impl Related<crate::users::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Creator.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}
