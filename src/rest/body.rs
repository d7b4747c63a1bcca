//! Request-body field rules shared by every feature's objects. poem-openapi is lenient
//! where the document is not: it reads `null` as an absent optional field and turns JSON
//! numbers and booleans into strings. Fields use these with
//! `#[oai(deserialize_with = "crate::rest::body::…")]` so the server accepts exactly what
//! the document describes.

use poem_openapi::registry::MetaSchemaRef;
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult};
use serde_json::Value;

/// A required string field: only a JSON string is accepted.
pub fn text(value: Option<Value>) -> ParseResult<String> {
    match value {
        Some(Value::String(text)) => Ok(text),
        other => Err(ParseError::expected_type(other.unwrap_or_default())),
    }
}

/// An optional field: absent means "not given", a value is parsed as `T` (a string field
/// only from a JSON string), and an explicit `null` is refused, because the document
/// declares these fields non-nullable.
pub fn absent_or_value<T: ParseFromJSON>(value: Option<Value>) -> ParseResult<Option<T>> {
    match value {
        None => Ok(None),
        Some(Value::Null) => Err(ParseError::custom(
            "null is not allowed here; leave the field out instead",
        )),
        Some(value) if is_string_type::<T>() && !value.is_string() => {
            Err(ParseError::expected_type(value))
        }
        Some(value) => T::parse_from_json(Some(value))
            .map(Some)
            .map_err(ParseError::propagate),
    }
}

/// Whether `T` is documented as a plain JSON string (dates and other formats included).
fn is_string_type<T: ParseFromJSON>() -> bool {
    matches!(T::schema_ref(), MetaSchemaRef::Inline(schema) if schema.ty == "string")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_come_only_from_json_strings() {
        assert_eq!(text(Some(json!("a"))).ok().as_deref(), Some("a"));
        assert!(text(Some(json!(5))).is_err());
        assert!(text(Some(json!(false))).is_err());
        assert!(text(None).is_err());
    }

    #[test]
    fn optional_fields_refuse_null_and_wrong_types() {
        assert_eq!(absent_or_value::<String>(None).ok(), Some(None));
        assert!(absent_or_value::<String>(Some(Value::Null)).is_err());
        assert!(absent_or_value::<String>(Some(json!(1))).is_err());
        assert_eq!(absent_or_value::<i64>(Some(json!(3))).ok(), Some(Some(3)));
    }
}
