//! Config value types that parse human-friendly strings ("30s", "1MiB") and bounded
//! integers, with error messages that say what form is expected.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A duration written as a string such as `"30s"`, `"500ms"` or `"10m"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duration(pub std::time::Duration);

impl Duration {
    pub const fn secs(secs: u64) -> Self {
        Self(std::time::Duration::from_secs(secs))
    }

    pub const fn millis(millis: u64) -> Self {
        Self(std::time::Duration::from_millis(millis))
    }

    pub fn get(self) -> std::time::Duration {
        self.0
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(self.0).to_string())
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrVisitor {
            expected: "duration like \"30s\" or \"500ms\"",
            parse: |s| humantime::parse_duration(s).ok().map(Duration),
        })
    }
}

/// A byte size written as a string such as `"1MiB"` or `"512KiB"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size(pub u64);

impl Size {
    pub const fn mib(n: u64) -> Self {
        Self(n * 1024 * 1024)
    }

    pub fn bytes(self) -> u64 {
        self.0
    }
}

impl Serialize for Size {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&bytesize::ByteSize(self.0).display().iec().to_string())
    }
}

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrVisitor {
            expected: "size like \"1MiB\" or \"64KiB\"",
            parse: |s| {
                s.parse::<bytesize::ByteSize>()
                    .ok()
                    .map(|b| Size(b.as_u64()))
            },
        })
    }
}

/// Accepts only strings, parsed by `parse`; anything else is reported as
/// `expected <form>, got <value>`.
struct StrVisitor<T> {
    expected: &'static str,
    parse: fn(&str) -> Option<T>,
}

impl<T> StrVisitor<T> {
    fn wrong<E: de::Error>(&self, got: impl fmt::Display) -> E {
        E::custom(format_args!("expected {}, got {got}", self.expected))
    }
}

impl<T> Visitor<'_> for StrVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.expected)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        (self.parse)(v.trim()).ok_or_else(|| self.wrong(format_args!("{v:?}")))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        Err(self.wrong(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        Err(self.wrong(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        Err(self.wrong(v))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
        Err(self.wrong(v))
    }
}

/// An integer that must lie in `MIN..=MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct IntIn<const MIN: u64, const MAX: u64>(u64);

impl<const MIN: u64, const MAX: u64> IntIn<MIN, MAX> {
    /// Panics at compile time (in const contexts) when `v` is out of range.
    pub const fn new(v: u64) -> Self {
        assert!(v >= MIN && v <= MAX, "default out of range");
        Self(v)
    }

    pub fn get(self) -> u64 {
        self.0
    }

    /// Clamps `v` into range (for built-in values computed at run time).
    pub fn new_checked(v: u64) -> Self {
        Self(v.clamp(MIN, MAX))
    }

    /// The value as a `u32`; every bound used in the config fits.
    pub fn get_u32(self) -> u32 {
        u32::try_from(self.0).unwrap_or(u32::MAX)
    }
}

impl<'de, const MIN: u64, const MAX: u64> Deserialize<'de> for IntIn<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<const MIN: u64, const MAX: u64>;

        impl<const MIN: u64, const MAX: u64> V<MIN, MAX> {
            fn wrong<E: de::Error>(got: impl fmt::Display) -> E {
                E::custom(format_args!("expected integer {MIN}..={MAX}, got {got}"))
            }
        }

        impl<const MIN: u64, const MAX: u64> Visitor<'_> for V<MIN, MAX> {
            type Value = IntIn<MIN, MAX>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "integer {MIN}..={MAX}")
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                if (MIN..=MAX).contains(&v) {
                    Ok(IntIn(v))
                } else {
                    Err(Self::wrong(v))
                }
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(Self::wrong(v)),
                }
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Err(Self::wrong(format_args!("{v:?}")))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Err(Self::wrong(v))
            }

            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Err(Self::wrong(v))
            }
        }

        d.deserialize_any(V::<MIN, MAX>)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Sample {
        wait: Option<Duration>,
        body: Option<Size>,
        count: Option<IntIn<1, 1000>>,
    }

    fn parse(src: &str) -> Result<Sample, String> {
        toml::from_str::<Sample>(src).map_err(|e| e.message().to_string())
    }

    #[test]
    fn durations_and_sizes_parse_from_strings() {
        let s = parse("wait = \"1m 30s\"\nbody = \"2MiB\"\ncount = 7").expect("valid");
        assert_eq!(s.wait, Some(Duration::secs(90)));
        assert_eq!(s.body, Some(Size::mib(2)));
        assert_eq!(s.count.map(IntIn::get), Some(7));
    }

    #[test]
    fn out_of_range_integer_names_the_range() {
        assert_eq!(
            parse("count = 0").unwrap_err(),
            "expected integer 1..=1000, got 0"
        );
        assert_eq!(
            parse("count = \"lots\"").unwrap_err(),
            "expected integer 1..=1000, got \"lots\""
        );
    }

    #[test]
    fn malformed_duration_and_size_say_the_expected_form() {
        assert_eq!(
            parse("wait = 30").unwrap_err(),
            "expected duration like \"30s\" or \"500ms\", got 30"
        );
        assert!(
            parse("body = \"huge\"")
                .unwrap_err()
                .starts_with("expected size like")
        );
    }

    #[test]
    fn values_round_trip_through_their_display_form() {
        assert_eq!(
            toml::to_string(&std::collections::BTreeMap::from([(
                "d",
                Duration::millis(1500)
            )]))
            .expect("serialize"),
            "d = \"1s 500ms\"\n"
        );
        let shown = serde_json::to_string(&Size::mib(1)).expect("serialize");
        assert_eq!(shown, "\"1.0 MiB\"");
        assert_eq!(
            "1.0 MiB".parse::<bytesize::ByteSize>().map(|b| b.as_u64()),
            Ok(1 << 20)
        );
    }
}
