//! The outcome of one check, and the IETF RateLimit header fields that describe it
//! (draft-ietf-httpapi-ratelimit-headers).

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// Requests still allowed right now.
    pub remaining: u64,
    /// Until the quota is whole again.
    pub reset: Duration,
    /// For a rejection: until the next request would be allowed.
    pub retry_after: Duration,
}

fn whole_seconds(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

impl Decision {
    /// `Retry-After` in whole seconds, rounded up and at least 1.
    pub fn retry_after_secs(&self) -> u64 {
        whole_seconds(self.retry_after).max(1)
    }

    /// `RateLimit: "name";r=…;t=…`. For a rejection `t` is the Retry-After value, so a
    /// client honouring either waits long enough.
    pub fn header(&self, policy: &str) -> String {
        let t = if self.allowed {
            whole_seconds(self.reset)
        } else {
            self.retry_after_secs()
        };
        format!("\"{policy}\";r={};t={t}", self.remaining)
    }
}

/// `RateLimit-Policy: "name";q=…;w=…`.
pub fn policy_header(policy: &str, quota: u64, window: Duration) -> String {
    format!("\"{policy}\";q={quota};w={}", whole_seconds(window))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_follow_the_draft_syntax() {
        let ok = Decision {
            allowed: true,
            remaining: 42,
            reset: Duration::from_millis(16_200),
            retry_after: Duration::ZERO,
        };
        assert_eq!(ok.header("public"), "\"public\";r=42;t=17");
        let no = Decision {
            allowed: false,
            remaining: 0,
            reset: Duration::from_secs(60),
            retry_after: Duration::from_millis(600),
        };
        assert_eq!(no.header("public"), "\"public\";r=0;t=1");
        assert_eq!(no.retry_after_secs(), 1);
        assert_eq!(
            policy_header("public", 100, Duration::from_secs(60)),
            "\"public\";q=100;w=60"
        );
    }
}
