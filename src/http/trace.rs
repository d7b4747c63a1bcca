//! W3C trace context (<https://www.w3.org/TR/trace-context/>): the caller's trace when a
//! valid `traceparent` arrives, else a new one. Ids come from a user-space generator:
//! they identify, they protect nothing.

/// The trace context of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    pub trace_id: String,
    /// The caller's span, when a valid `traceparent` arrived.
    pub parent_id: Option<String>,
    /// This request's own span id, for outgoing `traceparent` headers.
    pub span_id: String,
    pub sampled: bool,
}

impl TraceContext {
    /// Parses `traceparent: 00-<32 hex>-<16 hex>-<2 hex>`; invalid headers start a new trace.
    pub fn from_header(value: Option<&str>) -> Self {
        let span_id = format!("{:016x}", fastrand::u64(1..));
        let parsed = value.and_then(|v| {
            let mut parts = v.trim().split('-');
            let (version, trace, parent, flags) =
                (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
            let valid = version.len() == 2
                && version != "ff"
                && is_lower_hex(trace, 32)
                && is_lower_hex(parent, 16)
                && is_lower_hex(flags, 2)
                && trace.bytes().any(|b| b != b'0')
                && parent.bytes().any(|b| b != b'0');
            valid.then(|| {
                (
                    trace.to_string(),
                    parent.to_string(),
                    u8::from_str_radix(flags, 16).unwrap_or(0) & 1 == 1,
                )
            })
        });
        match parsed {
            Some((trace_id, parent, sampled)) => Self {
                trace_id,
                parent_id: Some(parent),
                span_id,
                sampled,
            },
            None => Self {
                trace_id: format!("{:032x}", fastrand::u128(1..)),
                parent_id: None,
                span_id,
                sampled: false,
            },
        }
    }

    /// The `traceparent` value for calls this request makes downstream.
    pub fn child_header(&self) -> String {
        format!(
            "00-{}-{}-{:02x}",
            self.trace_id,
            self.span_id,
            u8::from(self.sampled)
        )
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
        assert_eq!(ctx.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(ctx.parent_id.as_deref(), Some("00f067aa0ba902b7"));
        assert!(ctx.sampled);
        assert!(
            ctx.child_header()
                .starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-")
        );
        assert_ne!(ctx.span_id, "00f067aa0ba902b7");
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
            assert_eq!(ctx.trace_id.len(), 32);
        }
    }
}
