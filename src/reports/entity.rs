//! `reports` (one requested export and where it stands) and `report_chunks` (its CSV
//! file, in order, deleted with the report by the foreign key's cascade).

pub mod report {
    use super::super::model::{ReportStatus, ReportType};
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "reports")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub kind: ReportType,
        /// Rows created at or after this instant only.
        pub from_at: Option<DateTimeUtc>,
        /// Rows created before this instant only.
        pub to_at: Option<DateTimeUtc>,
        /// Who asked: `user:<id>` or `api-key:<id>`.
        pub requested_by: String,
        pub status: ReportStatus,
        /// Data rows in the file (the header row not counted); final once `done`.
        pub rows: i64,
        /// Size of the file in bytes; final once `done`.
        pub bytes: i64,
        /// Why generation failed.
        pub error: Option<String>,
        pub created_at: DateTimeUtc,
        pub started_at: Option<DateTimeUtc>,
        pub completed_at: Option<DateTimeUtc>,
        /// Past it the report is gone for clients (404) and the prune job deletes it.
        pub expires_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod chunk {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "report_chunks")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub report_id: Uuid,
        /// 0, 1, 2, …: the chunk's place in the file.
        #[sea_orm(primary_key, auto_increment = false)]
        pub seq: i32,
        pub data: Vec<u8>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
