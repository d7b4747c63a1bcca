//! The `reports.generate` job: writes a report's CSV into `report_chunks`, reading its rows
//! a page at a time and storing a chunk whenever the buffer passes `reports.chunk_size`, so
//! memory stays flat whatever the report's size. A rerun (after a crash, or a retry) drops
//! the chunks of the attempt before and starts over. The `reports.prune` job deletes
//! expired reports (cron entry `prune-reports`).

use super::entity::report;
use super::model::{ReportStatus, ReportType};
use super::sources::{Source, Window};
use super::store::{self, Finish};
use crate::config::ReportsConfig;
use crate::db::{Db, clock};
use crate::jobs::{JobContext, JobKind, Outcome, Registry};
use sea_orm::DbErr;
use serde::{Deserialize, Serialize};
use std::time::Instant;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GenerateReport {
    pub report_id: Uuid,
}

impl JobKind for GenerateReport {
    const NAME: &'static str = "reports.generate";
}

#[derive(Serialize, Deserialize)]
pub struct PruneReports {}

impl JobKind for PruneReports {
    const NAME: &'static str = "reports.prune";
}

/// Registers `reports.generate` and `reports.prune`.
pub fn register_jobs(registry: &mut Registry, config: &ReportsConfig) {
    let config = config.clone();
    registry.register::<GenerateReport, _, _>(move |job, ctx| {
        let config = config.clone();
        async move { generate(job.report_id, ctx, &config).await }
    });
    registry.register::<PruneReports, _, _>(|_, ctx| async move {
        Outcome::of_pruning(prune(&ctx.db).await, "expired reports")
    });
}

/// Deletes reports past their expiry, with their files; returns how many.
pub async fn prune(db: &Db) -> Result<u64, DbErr> {
    let conn = db.write();
    store::prune(conn, clock::now(conn).await?).await
}

/// Creates `levee_reports_total` at zero for every type and outcome.
pub fn register_series() {
    for kind in [ReportType::Orders, ReportType::Products, ReportType::Users] {
        for outcome in [ReportStatus::Done, ReportStatus::Failed] {
            counted(kind, outcome, 0);
        }
    }
}

fn counted(kind: ReportType, outcome: ReportStatus, n: u64) {
    metrics::counter!("levee_reports_total", "type" => kind.as_str(), "outcome" => outcome.as_str())
        .increment(n);
}

#[tracing::instrument(skip_all, fields(report.id = %id, job.attempt = ctx.attempt))]
async fn generate(id: Uuid, ctx: JobContext, config: &ReportsConfig) -> Outcome {
    let started = Instant::now();
    let db = &ctx.db;
    let begun = async {
        let now = clock::now(db.write()).await?;
        let Some(report) = store::find_live(db.write(), id, now).await? else {
            return Ok(None);
        };
        if !store::start(db.write(), id, now).await? {
            return Ok(None);
        }
        store::delete_chunks(db.write(), id).await?;
        Ok::<_, DbErr>(Some((report, now)))
    };
    let (report, attempt_started) = match begun.await {
        Ok(Some(found)) => found,
        // Expired, deleted or already finished: nothing left to do.
        Ok(None) => return Outcome::Done,
        Err(e) => return Outcome::Retry(e.to_string()),
    };
    let kind = report.kind;
    let written = write(db, &report, config).await;
    let last = ctx.attempt >= GenerateReport::MAX_ATTEMPTS;
    let end = match &written {
        Ok((rows, bytes)) => Finish::Done {
            rows: *rows,
            bytes: *bytes,
        },
        Err(e) if last => Finish::Failed(e.to_string().chars().take(500).collect()),
        Err(e) => return Outcome::Retry(e.to_string()),
    };
    let finished = async {
        let now = clock::now(db.write()).await?;
        store::finish(db.write(), id, attempt_started, end, now).await
    };
    match (finished.await, written) {
        (Err(e), _) => Outcome::Retry(e.to_string()),
        // Another attempt took the report over; its end is the one recorded.
        (Ok(false), _) => Outcome::Done,
        (Ok(true), Ok((rows, bytes))) => {
            counted(kind, ReportStatus::Done, 1);
            let labels = [("type", kind.as_str())];
            metrics::counter!("levee_report_rows_total", &labels).increment(rows as u64);
            metrics::counter!("levee_report_bytes_total", &labels).increment(bytes as u64);
            metrics::histogram!("levee_report_generation_seconds", &labels)
                .record(started.elapsed().as_secs_f64());
            tracing::info!(rows, bytes, "report generated");
            Outcome::Done
        }
        (Ok(true), Err(e)) => {
            counted(kind, ReportStatus::Failed, 1);
            Outcome::Fail(e.to_string())
        }
    }
}

/// Writes the report's CSV (header row, then its rows by id); returns rows and bytes.
async fn write(
    db: &Db,
    report: &report::Model,
    config: &ReportsConfig,
) -> Result<(i64, i64), DbErr> {
    let source = Source::of(report.kind);
    let window = Window {
        from: report.from_at,
        to: report.to_at,
    };
    let page_rows = config.page_rows.get();
    let mut file = ChunkedFile::new(report.id, config.chunk_size.bytes());
    file.record(db, source.header()).await?;
    let (mut after, mut rows, mut cells) = (None, 0i64, Vec::new());
    loop {
        let page = source.page(&db.read(), window, after, page_rows).await?;
        for row in &page {
            after = Some(source.cells(row, &mut cells)?);
            file.record(db, &cells).await?;
            rows += 1;
        }
        if (page.len() as u64) < page_rows {
            break;
        }
    }
    Ok((rows, file.close(db).await?))
}

/// A CSV file written into `report_chunks`: records go to a buffer, which is stored as the
/// next chunk whenever it reaches `limit` bytes.
struct ChunkedFile {
    report: Uuid,
    writer: csv::Writer<Vec<u8>>,
    limit: usize,
    seq: i32,
    bytes: i64,
}

fn csv_error(e: impl std::fmt::Display) -> DbErr {
    DbErr::Custom(format!("writing the CSV: {e}"))
}

impl ChunkedFile {
    fn new(report: Uuid, limit: u64) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        Self {
            report,
            writer: Self::buffer(limit),
            limit,
            seq: 0,
            bytes: 0,
        }
    }

    fn buffer(limit: usize) -> csv::Writer<Vec<u8>> {
        csv::Writer::from_writer(Vec::with_capacity(limit + limit / 8))
    }

    async fn record<I, T>(&mut self, db: &Db, cells: I) -> Result<(), DbErr>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        self.writer.write_record(cells).map_err(csv_error)?;
        // Moves csv's own small buffer into ours, so its length is the whole buffer's.
        self.writer.flush().map_err(csv_error)?;
        if self.writer.get_ref().len() >= self.limit {
            self.spill(db).await?;
        }
        Ok(())
    }

    /// Stores the buffer as the next chunk and starts an empty one.
    async fn spill(&mut self, db: &Db) -> Result<(), DbErr> {
        let full = std::mem::replace(&mut self.writer, Self::buffer(self.limit));
        let data = full.into_inner().map_err(csv_error)?;
        if data.is_empty() {
            return Ok(());
        }
        self.bytes += data.len() as i64;
        store::insert_chunk(db.write(), self.report, self.seq, data).await?;
        self.seq += 1;
        Ok(())
    }

    /// Stores what is left; returns the file's size.
    async fn close(mut self, db: &Db) -> Result<i64, DbErr> {
        self.spill(db).await?;
        Ok(self.bytes)
    }
}
