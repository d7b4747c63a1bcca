//! What the report endpoints ask for: requesting a report (its row and its generation job
//! in one transaction, under the caller's `Idempotency-Key` when sent), reading reports,
//! and a finished report's file as a stream of its stored chunks.

use super::entity::report;
use super::error::ReportsError;
use super::generate::GenerateReport;
use super::model::{ReportStatus, ReportType};
use super::sources::Window;
use super::store;
use crate::db::clock;
use crate::db::pagination::{Page, PageRequest};
use crate::idempotency::{self, Outcome, Request, StoredResponse};
use crate::jobs::Enqueue;
use crate::state::AppState;
use futures_util::stream::{self, BoxStream, StreamExt};
use sea_orm::DbErr;
use uuid::Uuid;

/// A validated request for a report.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub kind: ReportType,
    pub window: Window,
    /// `user:<id>` or `api-key:<id>`.
    pub requested_by: String,
}

/// A finished report's file: its row (name, size) and its bytes, chunk by chunk.
pub struct Download {
    pub report: report::Model,
    chunks: BoxStream<'static, Result<Vec<u8>, DbErr>>,
}

impl Download {
    /// `<type>-<id>.csv`.
    pub fn file_name(&self) -> String {
        format!("{}-{}.csv", self.report.kind.as_str(), self.report.id)
    }

    /// The chunks as I/O results, as HTTP bodies stream them.
    pub fn into_stream(
        self,
    ) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
        self.chunks
            .map(|chunk| chunk.map_err(std::io::Error::other))
    }
}

/// Inserts the report (`pending`) and enqueues its generation in one transaction; with an
/// idempotency `request`, a retry gets the response `respond` rendered for the first.
#[tracing::instrument(skip_all, fields(report.type = new.kind.as_str()), err)]
pub async fn request(
    state: &AppState,
    new: NewReport,
    request: Option<&Request>,
    respond: impl FnOnce(&report::Model) -> StoredResponse,
) -> Result<Outcome<report::Model>, ReportsError> {
    let retention = chrono::Duration::from_std(state.config().reports.retention.get())
        .unwrap_or(chrono::Duration::MAX);
    idempotency::run(
        state.db(),
        &state.config().idempotency,
        request,
        async |txn| {
            let now = clock::now(txn).await?;
            let row = report::Model {
                id: Uuid::now_v7(),
                kind: new.kind,
                from_at: new.window.from,
                to_at: new.window.to,
                requested_by: new.requested_by,
                status: ReportStatus::Pending,
                rows: 0,
                bytes: 0,
                error: None,
                created_at: now,
                started_at: None,
                completed_at: None,
                expires_at: now.checked_add_signed(retention).unwrap_or(now),
            };
            store::insert(txn, row.clone()).await?;
            let job = GenerateReport { report_id: row.id };
            state.jobs().enqueue(txn, &job, Enqueue::default()).await?;
            Ok::<_, ReportsError>(row)
        },
        respond,
    )
    .await
}

/// The report `id`, unless unknown or expired. From the primary: a client polling the
/// report it just requested must see it.
pub async fn get(state: &AppState, id: Uuid) -> Result<report::Model, ReportsError> {
    let conn = state.db().write();
    let now = clock::now(conn).await?;
    store::find_live(conn, id, now)
        .await?
        .ok_or(ReportsError::NotFound)
}

/// Live reports, newest first.
pub async fn list(
    state: &AppState,
    page: PageRequest<Uuid>,
) -> Result<Page<report::Model>, ReportsError> {
    let conn = state.db().write();
    let now = clock::now(conn).await?;
    let rows = store::list(conn, page.after, page.rows(), now).await?;
    Ok(Page::from_rows(rows, page.limit, |r| r.id))
}

/// The file of the `done` report `id`, read one chunk per query as the client takes it,
/// so no instance holds more than a chunk of it. It ends at the recorded size: a chunk an
/// abandoned attempt wrote past the end is never sent.
pub async fn download(state: &AppState, id: Uuid) -> Result<Download, ReportsError> {
    let report = get(state, id).await?;
    if report.status != ReportStatus::Done {
        return Err(ReportsError::NotReady(report.status));
    }
    let db = state.db().clone();
    let left = usize::try_from(report.bytes).unwrap_or(0);
    let chunks = stream::unfold(Some((0i32, left)), move |next| {
        let db = db.clone();
        async move {
            let (seq, left) = next.filter(|(_, left)| *left > 0)?;
            match store::chunk(db.write(), id, seq).await {
                Ok(Some(mut data)) => {
                    data.truncate(left);
                    let next = seq.checked_add(1).map(|seq| (seq, left - data.len()));
                    Some((Ok(data), next))
                }
                Ok(None) => None,
                Err(e) => Some((Err(e), None)),
            }
        }
    })
    .boxed();
    Ok(Download { report, chunks })
}
