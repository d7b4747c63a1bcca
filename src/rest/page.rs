//! One shape for every list response: `{items, next_cursor}`. poem-openapi 5.1 names a
//! generic object after its parameters (`Page_Post`), so each list keeps its own component
//! name (`PostList`, …) through this macro instead of a generic type.

/// Declares the list object `$name` (`{items: [$item], next_cursor}`) and its conversion
/// from a `db::pagination::Page` of anything that converts into `$item`; its example is
/// one `$item` example and a cursor.
#[macro_export]
macro_rules! list_object {
    ($vis:vis $name:ident of $item:ty) => {
        #[derive(poem_openapi::Object)]
        #[oai(example)]
        $vis struct $name {
            items: Vec<$item>,
            #[oai(nullable)]
            next_cursor: Option<String>,
        }

        impl poem_openapi::types::Example for $name {
            fn example() -> Self {
                Self {
                    items: vec![<$item as poem_openapi::types::Example>::example()],
                    next_cursor: Some("WyIyMDI1LTExLTI0VDE2OjAwOjAwWiJd".into()),
                }
            }
        }

        impl<T: Into<$item>> From<$crate::db::pagination::Page<T>> for $name {
            fn from(page: $crate::db::pagination::Page<T>) -> Self {
                Self {
                    items: page.items.into_iter().map(Into::into).collect(),
                    next_cursor: page.next_cursor,
                }
            }
        }
    };
}
