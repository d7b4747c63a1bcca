//! HTTP endpoints for reports: request one (202), follow it, list them, download its CSV.
//! Admins, and API keys with the `reports:read` scope.

use super::service::{self, NewReport};
use super::sources::Window;
use crate::auth::{BearerAuth, Permission, Principal};
use crate::db::pagination::PageRequest;
use crate::error::{ApiError, FieldError};
use crate::idempotency::Outcome;
use crate::rest::idempotency::{IdempotencyKey, IdempotentError, stored_json};
use crate::rest::responses::{DeclaredProblems, Problems};
use crate::state::AppState;
use poem::Body;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, Tags};
use uuid::Uuid;

mod objects;

use objects::{CreateReportRequest, CsvFile, Report, ReportList, location};

#[derive(Tags)]
enum ReportTags {
    /// CSV exports generated in the background (admins, `reports:read`).
    Reports,
}

/// 202: the report is queued.
#[derive(ApiResponse)]
enum Accepted {
    /// Accepted; poll `Location` until `status` is `done`.
    #[oai(status = 202)]
    Accepted(
        Json<Report>,
        /// The report's address, relative: `/reports/{id}`.
        #[oai(header = "Location")]
        String,
    ),
}

/// The CSV file.
#[derive(ApiResponse)]
enum Csv {
    /// The report as CSV (UTF-8, RFC 4180 quoting, a header row), streamed.
    #[oai(status = 200)]
    File(
        CsvFile,
        /// `attachment; filename="<type>-<id>.csv"`.
        #[oai(header = "Content-Disposition")]
        String,
        /// The file's size in bytes; absent when the response is compressed
        /// (`Accept-Encoding`), whose size is not known in advance.
        #[oai(header = "Content-Length")]
        Option<i64>,
    ),
}

/// A download's problems: unknown or expired, and not finished.
struct DownloadProblems;

impl DeclaredProblems for DownloadProblems {
    const PROBLEMS: &'static [(u16, &'static str)] = &[
        (404, "No such report, or it expired."),
        (
            409,
            "The report is not `done` (still `pending` or `running`, or `failed`).",
        ),
    ];
}

/// Who asked, as stored with the report.
fn requester(principal: &Principal) -> String {
    match principal {
        Principal::User { id, .. } => format!("user:{id}"),
        Principal::ApiKey { id, .. } => format!("api-key:{id}"),
    }
}

#[derive(Default)]
pub struct ReportsApi;

#[OpenApi(tag = "ReportTags::Reports")]
impl ReportsApi {
    /// Request a report
    ///
    /// Queues a CSV export of `orders`, `products` or `users` (optionally only rows
    /// created in `[from, to)`) and answers at once (202); poll `Location` until `status`
    /// is `done`, then fetch `download_url`. Send `Idempotency-Key` to make a retry safe:
    /// a repeat within `idempotency.ttl` answers the first response again (marked
    /// `Idempotency-Replayed: true`) and queues no second report.
    #[oai(path = "/reports", method = "post", operation_id = "create_report")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// A unique value per report to request (e.g. a UUID), 1–255 printable ASCII
        /// characters; the same key with another body is refused with 422.
        #[oai(name = "Idempotency-Key")]
        idempotency: IdempotencyKey<false>,
        body: Json<CreateReportRequest>,
    ) -> Result<Outcome<Accepted>, IdempotentError> {
        auth.0.require(Permission::RunReports)?;
        let window = Window {
            from: body.from,
            to: body.to,
        };
        if let (Some(from), Some(to)) = (window.from, window.to)
            && from >= to
        {
            let why = FieldError::at("/to", "must be later than `from`");
            return Err(ApiError::fields(vec![why]).into());
        }
        let new = NewReport {
            kind: body.kind,
            window,
            requested_by: requester(&auth.0),
        };
        let request = idempotency.of_caller(auth.0.idempotency_scope());
        let created = service::request(&state, new, request.as_ref(), |report| {
            let mut stored = stored_json(202, &Report::from(report.clone()));
            stored
                .headers
                .push(("location".into(), location(report.id)));
            stored
        })
        .await?;
        Ok(created.map(|report| {
            let location = location(report.id);
            Accepted::Accepted(Json(report.into()), location)
        }))
    }

    /// List reports
    ///
    /// Reports not yet expired, newest first.
    #[oai(path = "/reports", method = "get", operation_id = "list_reports")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] limit: Query<Option<u64>>,
        cursor: Query<Option<String>>,
    ) -> Result<Json<ReportList>, ApiError> {
        auth.0.require(Permission::RunReports)?;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        Ok(Json(service::list(&state, page).await?.into()))
    }

    /// One report
    ///
    /// Its status and, once `done`, its `download_url`. Unknown and expired reports are 404.
    #[oai(path = "/reports/:id", method = "get", operation_id = "get_report")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> Result<Json<Report>, ApiError> {
        auth.0.require(Permission::RunReports)?;
        Ok(Json(service::get(&state, id.0).await?.into()))
    }

    /// Download a report
    ///
    /// The CSV of a `done` report, streamed from the database chunk by chunk (any instance
    /// serves it). 409 while the report is not `done`; 404 when unknown or expired.
    #[oai(
        path = "/reports/:id/download",
        method = "get",
        operation_id = "download_report"
    )]
    async fn download(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> Result<Csv, Problems<DownloadProblems>> {
        auth.0.require(Permission::RunReports)?;
        let download = service::download(&state, id.0).await?;
        let name = format!("attachment; filename=\"{}\"", download.file_name());
        let bytes = download.report.bytes;
        let body = Body::from_bytes_stream(download.into_stream());
        Ok(Csv::File(CsvFile(body), name, Some(bytes)))
    }
}
