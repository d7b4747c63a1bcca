//! The rate-limits page: each policy's decisions per minute over the last hour, allowed
//! and rejected, as a chart and a table.

use super::charts::{Series, line_chart};
use super::figures::{percent, ratio};
use super::pages::Chrome;
use crate::stats::StatsSnapshot;
use askama::Template;

pub struct PolicyPanel {
    pub policy: String,
    pub quota: String,
    pub allowed: u64,
    pub rejected: u64,
    pub rejected_share: String,
    /// Rejections in the current minute.
    pub rejected_now: u64,
    /// `None` when the policy decided nothing in the last hour.
    pub chart: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/ratelimits.html")]
pub struct RateLimitsPage {
    pub chrome: Chrome,
    pub enabled: bool,
    pub policies: Vec<PolicyPanel>,
}

impl RateLimitsPage {
    pub fn new(chrome: Chrome, snap: &StatsSnapshot, enabled: bool) -> Self {
        let policies = snap
            .rate_limits
            .iter()
            .map(|p| {
                let (allowed, rejected) = (p.allowed(), p.rejected());
                let series = |class, count: fn(&crate::stats::DecisionMinute) -> u64| Series {
                    class,
                    points: p.minutes.iter().map(|m| Some(count(m) as f64)).collect(),
                };
                PolicyPanel {
                    policy: p.policy.clone(),
                    quota: format!("{} per {} s", p.quota, p.window_secs),
                    allowed,
                    rejected,
                    rejected_share: percent(ratio(rejected, allowed + rejected)),
                    rejected_now: p.minutes.last().map_or(0, |m| m.rejected),
                    chart: (allowed + rejected > 0).then(|| {
                        line_chart(
                            &format!("Decisions of {} per minute", p.policy),
                            &[
                                series("allowed", |m| m.allowed),
                                series("rejected", |m| m.rejected),
                            ],
                            &[],
                        )
                    }),
                }
            })
            .collect();
        Self {
            chrome,
            enabled,
            policies,
        }
    }
}
