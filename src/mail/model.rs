//! The `email.send` job: one rendered message, kept whole in the job's payload.

use crate::jobs::JobKind;
use serde::{Deserialize, Serialize};

/// One rendered email to one recipient.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendEmail {
    /// The recipient's address.
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl JobKind for SendEmail {
    const NAME: &'static str = "email.send";
    /// Its own queue, so a slow SMTP server cannot hold every `default` slot.
    const QUEUE: &'static str = "mail";
    /// Mail servers defer (4xx, greylisting) for minutes: with the default backoff,
    /// 8 attempts span about 10 minutes.
    const MAX_ATTEMPTS: i32 = 8;
}
