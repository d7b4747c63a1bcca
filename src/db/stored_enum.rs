//! One declaration for the enums stored as text: snake_case in the database column
//! (`VARCHAR(16)`), in JSON and in the OpenAPI document alike.

/// Declares an enum stored as snake_case text and exposed as a poem-openapi enum.
#[macro_export]
macro_rules! stored_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident),* $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            poem_openapi::Enum,
            sea_orm::EnumIter,
            sea_orm::DeriveActiveEnum,
            serde::Serialize,
            serde::Deserialize,
        )]
        #[oai(rename_all = "snake_case")]
        #[serde(rename_all = "snake_case")]
        #[sea_orm(
            rs_type = "String",
            db_type = "String(sea_orm::sea_query::StringLen::N(16))",
            rename_all = "snake_case"
        )]
        $vis enum $name {
            $($(#[$vmeta])* $variant),*
        }
    };
}
