//! Typed ids: a `UserId` cannot be passed where a `PostId` is expected. Each is a UUID,
//! stored in the same column as before (sea-orm `DeriveValueType`), and shown in the
//! OpenAPI document exactly as a plain UUID (poem-openapi `NewType`).

/// Declares a UUID id newtype usable as an entity column, a path or query parameter and
/// a JSON field.
macro_rules! uuid_id {
    ($($(#[doc = $doc:literal])* $name:ident),* $(,)?) => {$(
        // Rustdoc only: poem-openapi's `NewType` would turn a doc comment into a schema
        // `title` on every field and parameter of this type, changing the OpenAPI document.
        $(#[cfg_attr(doc, doc = $doc)])*
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            Hash,
            PartialOrd,
            Ord,
            serde::Serialize,
            serde::Deserialize,
            sea_orm::DeriveValueType,
            poem_openapi::NewType,
        )]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            /// A new, time-ordered id (UUID v7).
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        // Primary keys need it; UUIDs are never made from integers.
        impl sea_orm::TryFromU64 for $name {
            fn try_from_u64(_: u64) -> Result<Self, sea_orm::DbErr> {
                Err(sea_orm::DbErr::ConvertFromU64(stringify!($name)))
            }
        }

        impl From<uuid::Uuid> for $name {
            fn from(id: uuid::Uuid) -> Self {
                Self(id)
            }
        }
    )*};
}

uuid_id!(
    /// A user account.
    UserId,
    /// A post.
    PostId,
    /// A product.
    ProductId,
    /// A background job.
    JobId,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_serialise_as_bare_uuids() {
        let id = UserId(uuid::Uuid::nil());
        assert_eq!(
            serde_json::to_string(&id).ok().as_deref(),
            Some("\"00000000-0000-0000-0000-000000000000\"")
        );
        assert_eq!(id.to_string(), uuid::Uuid::nil().to_string());
    }
}
