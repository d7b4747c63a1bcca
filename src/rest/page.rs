//! One shape for every list response: `{items, next_cursor}`. poem-openapi 5.1 names a
//! generic object after its parameters (`Page_Post`), so each list keeps its own component
//! name (`PostList`, …) through this macro instead of a generic type.

/// Declares the list object `$name` (`{items: [$item], next_cursor}`) and its conversion
/// from a `db::pagination::Page` of anything that converts into `$item`.
#[macro_export]
macro_rules! list_object {
    ($vis:vis $name:ident of $item:ty) => {
        #[derive(poem_openapi::Object)]
        $vis struct $name {
            items: Vec<$item>,
            next_cursor: Option<String>,
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
