//! The reports page: recent reports (newest first) with status, rows, size and a download
//! link once done, and a form to request one. Requesting, listing and the file are the
//! API's (`crate::reports::service`); the console adds its session and CSRF token.

use super::csrf;
use super::pages::Chrome;
use super::service::Staff;
use super::users::shown_time;
use crate::db::pagination::Page;
use crate::reports::{Model, ReportStatus, ReportType, Window};
use askama::Template;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::Iterable;

/// Reports per page.
pub const PAGE_SIZE: u64 = 25;

/// What a `?notice=` code after a change says; only fixed messages are shown.
pub fn notice(code: &str) -> Option<&'static str> {
    match code {
        "requested" => Some("The report was requested; it appears here as done when ready."),
        _ => None,
    }
}

/// The report type a form names, or why it is refused.
pub fn parse_type(raw: &str) -> Result<ReportType, String> {
    ReportType::iter()
        .find(|t| t.as_str() == raw.trim())
        .ok_or_else(|| "Choose one of the listed report types.".to_string())
}

/// The window of a form's `from`/`to` dates (`YYYY-MM-DD`, UTC days; `to` inclusive), or
/// why it is refused. Blank means unbounded.
pub fn parse_window(from: &str, to: &str) -> Result<Window, String> {
    let day = |raw: &str, next: bool| -> Result<Option<DateTime<Utc>>, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        let date = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map_err(|_| "Dates are written YYYY-MM-DD.".to_string())?;
        let date = if next { date.succ_opt() } else { Some(date) };
        Ok(date
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc()))
    };
    let window = Window {
        from: day(from, false)?,
        to: day(to, true)?,
    };
    match (window.from, window.to) {
        (Some(from), Some(to)) if from >= to => {
            Err("The first day must not be after the last.".into())
        }
        _ => Ok(window),
    }
}

/// A report type in the form's select.
pub struct TypeOption {
    pub value: &'static str,
}

/// One report as the list shows it.
pub struct ReportRow {
    pub id: String,
    pub kind: &'static str,
    pub status: &'static str,
    pub window: String,
    pub rows: i64,
    pub size: String,
    pub created_at: String,
    pub error: String,
    pub done: bool,
}

impl From<Model> for ReportRow {
    fn from(r: Model) -> Self {
        let day = |t: Option<DateTime<Utc>>| t.map(shown_time).unwrap_or_default();
        let window = match (r.from_at, r.to_at) {
            (None, None) => "all".to_string(),
            (from, to) => format!("{} – {}", day(from), day(to)),
        };
        Self {
            id: r.id.to_string(),
            kind: r.kind.as_str(),
            status: r.status.as_str(),
            window,
            rows: r.rows,
            size: bytesize::ByteSize(u64::try_from(r.bytes).unwrap_or(0))
                .display()
                .iec()
                .to_string(),
            created_at: shown_time(r.created_at),
            error: r.error.unwrap_or_default(),
            done: r.status == ReportStatus::Done,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/reports.html")]
pub struct ReportsPage {
    pub chrome: Chrome,
    pub types: Vec<TypeOption>,
    pub rows: Vec<ReportRow>,
    pub next: Option<String>,
    pub notice: Option<&'static str>,
    pub error: Option<String>,
    pub csrf_token: String,
}

impl ReportsPage {
    pub fn new(
        nonce: &str,
        staff: &Staff,
        page: Page<Model>,
        notice: Option<&'static str>,
    ) -> Self {
        Self {
            chrome: Chrome::new(nonce, Some(staff)),
            types: ReportType::iter()
                .map(|t| TypeOption { value: t.as_str() })
                .collect(),
            next: page
                .next_cursor
                .map(|c| format!("/admin/reports?cursor={c}")),
            rows: page.items.into_iter().map(ReportRow::from).collect(),
            notice,
            error: None,
            csrf_token: csrf::token(&staff.session),
        }
    }

    /// The page with why a request was refused.
    pub fn refused(nonce: &str, staff: &Staff, error: String) -> Self {
        let empty = Page {
            items: Vec::new(),
            next_cursor: None,
        };
        Self {
            error: Some(error),
            ..Self::new(nonce, staff, empty, None)
        }
    }
}
