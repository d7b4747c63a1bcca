//! Shared values for the examples in the OpenAPI document, so examples that refer to one
//! another (a post and its author, a job and its email) agree.

use chrono::{DateTime, Utc};

/// The instant every example is stamped with: 2025-11-24T16:00:00Z.
pub fn example_time() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_764_000_000, 0).unwrap_or_default()
}
