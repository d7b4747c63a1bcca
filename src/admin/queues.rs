//! The queues page's view: depth per queue and state, the oldest waiting job's age,
//! throughput over the last hour, and the dead-letter queue with its error histories —
//! read through `job_admin`, the same service the API uses.

use super::charts::{Series, line_chart};
use super::pages::Chrome;
use crate::db::ids::JobId;
use crate::db::pagination::PageRequest;
use crate::job_admin::JobAdminError;
use crate::job_admin::service::{self, JobFilter};
use crate::jobs::{JobState, Model, store};
use crate::state::AppState;
use askama::Template;
use sea_orm::ActiveEnum;
use std::collections::BTreeMap;

/// Minutes of history behind the throughput figures.
const WINDOW_MINUTES: u32 = 60;
/// Dead jobs per page.
const DEAD_PER_PAGE: u64 = 20;

/// One queue's row.
pub struct QueueRow {
    pub queue: String,
    /// Jobs per state that is not finished, e.g. `available 3`.
    pub states: Vec<(String, i64)>,
    /// Age of the oldest due job, `–` when none waits.
    pub oldest_waiting: String,
    /// Completed per minute, averaged over the window.
    pub per_minute: String,
}

/// One failed attempt.
pub struct AttemptError {
    pub attempt: String,
    pub at: String,
    pub error: String,
}

/// A job as the console shows it.
pub struct JobView {
    pub id: String,
    pub kind: String,
    pub queue: String,
    /// The stored state string (`dead`, `completed` …).
    pub state: String,
    pub attempt: i32,
    pub max_attempts: i32,
    pub payload: String,
    pub run_at: String,
    pub created_at: String,
    pub finished_at: String,
    pub errors: Vec<AttemptError>,
}

impl From<Model> for JobView {
    fn from(job: Model) -> Self {
        let errors: Vec<serde_json::Value> = serde_json::from_str(&job.errors).unwrap_or_default();
        let text = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let time = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
        Self {
            id: job.id.to_string(),
            state: job.state.to_value(),
            payload: job.payload,
            kind: job.kind,
            queue: job.queue,
            attempt: job.attempt,
            max_attempts: job.max_attempts,
            run_at: time(job.run_at),
            created_at: time(job.created_at),
            finished_at: job.finished_at.map(time).unwrap_or_default(),
            errors: errors
                .iter()
                .map(|e| AttemptError {
                    attempt: text(&e["attempt"]),
                    at: text(&e["at"]),
                    error: text(&e["error"]),
                })
                .collect(),
        }
    }
}

/// Everything the queues page shows.
pub struct Queues {
    pub queues: Vec<QueueRow>,
    /// Completed per minute over the window, all queues, as an SVG line chart.
    pub chart: String,
    pub completed_in_window: i64,
    pub dead: Vec<JobView>,
    /// Kinds with dead jobs and how many, for the replay buttons.
    pub dead_kinds: Vec<(String, i64)>,
    pub next_cursor: Option<String>,
}

/// What a `?notice=` code after an action says (with the count of a replay). Only these
/// fixed messages are shown, so a link cannot make the console display text of its own.
pub fn notice(code: &str, replayed: Option<u64>) -> Option<String> {
    let text = match code {
        "retried" => "The job runs again with fresh attempts.",
        "cancelled" => "The job is cancelled.",
        "replayed" => {
            return Some(format!(
                "{} dead job(s) run again.",
                replayed.unwrap_or_default()
            ));
        }
        "not-retryable" => "Only a finished, failed or cancelled job can run again.",
        "not-cancellable" => "Only a job that has not started can be cancelled.",
        "no-kind" => "Name the kind whose dead jobs should run again.",
        _ => return None,
    };
    Some(text.to_string())
}

/// The row of `queue`, added empty when the queue has none yet.
fn row<'a>(rows: &'a mut BTreeMap<String, QueueRow>, queue: &str) -> &'a mut QueueRow {
    rows.entry(queue.to_string()).or_insert_with(|| QueueRow {
        queue: queue.to_string(),
        states: Vec::new(),
        oldest_waiting: "–".into(),
        per_minute: "0.00".into(),
    })
}

/// The queues page, dead jobs from `cursor` on.
pub async fn load(state: &AppState, cursor: Option<&str>) -> Result<Queues, JobAdminError> {
    let request = PageRequest::parse_or_first(DEAD_PER_PAGE, cursor);
    let dead = JobFilter {
        state: Some(JobState::Dead),
        ..JobFilter::default()
    };
    let page = service::page(state, dead, request).await?;
    let (counts, oldest) = store::depth(state.db()).await?;
    let completed = store::completed_per_minute(state.db(), WINDOW_MINUTES).await?;
    let mut rows = BTreeMap::new();
    for (queue, state, jobs) in counts {
        row(&mut rows, &queue).states.push((state, jobs));
    }
    for (queue, age) in oldest {
        let age = std::time::Duration::from_secs_f64(age.max(0.0).round());
        row(&mut rows, &queue).oldest_waiting = humantime::format_duration(age).to_string();
    }
    // Oldest minute first; the current, unfinished minute last.
    let now_minute = chrono::Utc::now().timestamp().div_euclid(60);
    let mut per_minute = vec![0_i64; WINDOW_MINUTES as usize];
    let mut totals: BTreeMap<String, i64> = BTreeMap::new();
    for (queue, minute, jobs) in completed {
        *totals.entry(queue).or_default() += jobs;
        let back = usize::try_from(now_minute - minute).unwrap_or(usize::MAX);
        if back < per_minute.len() {
            let slot = per_minute.len() - 1 - back;
            per_minute[slot] += jobs;
        }
    }
    for (queue, total) in &totals {
        row(&mut rows, queue).per_minute =
            format!("{:.2}", *total as f64 / f64::from(WINDOW_MINUTES));
    }
    let chart = line_chart(
        "Jobs completed per minute, last hour",
        &[Series {
            class: "rate",
            points: per_minute.iter().map(|&n| Some(n as f64)).collect(),
        }],
        &[],
    );
    Ok(Queues {
        queues: rows.into_values().collect(),
        chart,
        completed_in_window: totals.values().sum(),
        dead: page.items.into_iter().map(JobView::from).collect(),
        dead_kinds: service::dead_kinds(state).await?,
        next_cursor: page.next_cursor,
    })
}

/// One job with its error history, as the primary has it.
pub async fn job(state: &AppState, id: JobId) -> Result<JobView, JobAdminError> {
    Ok(service::get(state, id).await?.into())
}

#[derive(Template)]
#[template(path = "admin/queues.html")]
pub struct QueuesPage {
    pub chrome: Chrome,
    pub csrf_token: String,
    pub notice: Option<String>,
    pub queues: Queues,
}

#[derive(Template)]
#[template(path = "admin/job.html")]
pub struct JobPage {
    pub chrome: Chrome,
    pub csrf_token: String,
    pub notice: Option<String>,
    pub job: JobView,
}
