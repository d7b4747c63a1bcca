//! W3C trace context (<https://www.w3.org/TR/trace-context/>): the caller's trace when a
//! valid `traceparent` arrives, else a new one. Ids come from a user-space generator:
//! they identify, they protect nothing.

use std::fmt;

/// The trace context of one request, kept as numbers: the ids are formatted only when a
/// log line shows them (at `warn` no request span is recorded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    pub trace_id: u128,
    /// The caller's span, when a valid `traceparent` arrived.
    pub parent_id: Option<u64>,
    /// This request's own span id.
    pub span_id: u64,
    pub sampled: bool,
}

impl TraceContext {
    /// Parses `traceparent: 00-<32 hex>-<16 hex>-<2 hex>`; invalid headers start a new trace.
    pub fn from_header(value: Option<&str>) -> Self {
        let span_id = fastrand::u64(1..);
        let parsed = value.and_then(|v| {
            let mut parts = v.trim().split('-');
            let (version, trace, parent, flags) =
                (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
            let valid = version.len() == 2
                && version != "ff"
                && is_lower_hex(trace, 32)
                && is_lower_hex(parent, 16)
                && is_lower_hex(flags, 2);
            if !valid {
                return None;
            }
            let trace = u128::from_str_radix(trace, 16).ok().filter(|t| *t != 0)?;
            let parent = u64::from_str_radix(parent, 16).ok().filter(|p| *p != 0)?;
            let flags = u8::from_str_radix(flags, 16).ok()?;
            Some((trace, parent, flags & 1 == 1))
        });
        match parsed {
            Some((trace_id, parent, sampled)) => Self {
                trace_id,
                parent_id: Some(parent),
                span_id,
                sampled,
            },
            None => Self {
                trace_id: fastrand::u128(1..),
                parent_id: None,
                span_id,
                sampled: false,
            },
        }
    }

    /// The trace id as `traceparent` writes it (32 lower-case hex digits).
    pub fn trace_hex(&self) -> impl std::fmt::Display {
        fmt::from_fn(move |f| write!(f, "{:032x}", self.trace_id))
    }

    /// This request's span id (16 lower-case hex digits).
    pub fn span_hex(&self) -> impl std::fmt::Display {
        fmt::from_fn(move |f| write!(f, "{:016x}", self.span_id))
    }

    /// The caller's span id, or nothing for a new trace.
    pub fn parent_hex(&self) -> impl std::fmt::Display {
        fmt::from_fn(move |f| match self.parent_id {
            Some(parent) => write!(f, "{parent:016x}"),
            None => Ok(()),
        })
    }
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_traceparent_keeps_the_callers_trace() {
        let ctx = TraceContext::from_header(Some(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ));
        assert_eq!(
            ctx.trace_hex().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(ctx.parent_hex().to_string(), "00f067aa0ba902b7");
        assert!(ctx.sampled);
        assert_eq!(ctx.span_hex().to_string().len(), 16);
        assert_ne!(ctx.parent_id, Some(ctx.span_id));
    }

    #[test]
    fn an_invalid_traceparent_starts_a_new_trace() {
        for bad in [
            "garbage",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        ] {
            let ctx = TraceContext::from_header(Some(bad));
            assert_eq!(ctx.parent_id, None, "{bad}");
            assert_eq!(ctx.parent_hex().to_string(), "");
            assert_eq!(ctx.trace_hex().to_string().len(), 32);
        }
    }
}
