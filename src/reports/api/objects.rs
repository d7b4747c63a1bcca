//! The representations of reports: what the endpoints read and write as JSON.

use super::super::entity::report;
use super::super::model::{ReportStatus, ReportType};
use crate::rest::examples::example_time;
use chrono::{DateTime, Utc};
use poem_openapi::Object;
use poem_openapi::payload::Payload;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::Example;
use uuid::Uuid;

/// What to export. `from` and `to` narrow it to rows created in `[from, to)`.
#[derive(Object)]
#[oai(example)]
pub struct CreateReportRequest {
    /// `orders`, `products` or `users`.
    #[oai(rename = "type")]
    pub kind: ReportType,
    /// Only rows created at or after this instant (RFC 3339); leave it out for no bound.
    #[oai(deserialize_with = "crate::rest::body::absent_or_value")]
    pub from: Option<DateTime<Utc>>,
    /// Only rows created before this instant (RFC 3339), later than `from`; leave it out
    /// for no bound.
    #[oai(deserialize_with = "crate::rest::body::absent_or_value")]
    pub to: Option<DateTime<Utc>>,
}

impl Example for CreateReportRequest {
    fn example() -> Self {
        Self {
            kind: ReportType::Products,
            from: None,
            to: None,
        }
    }
}

/// A report. `status` moves `pending → running → done` (or `failed`); once `done`,
/// `download_url` gives the CSV. Reports expire (404) at `expires_at`.
#[derive(Object)]
#[oai(example)]
pub struct Report {
    id: Uuid,
    #[oai(rename = "type")]
    kind: ReportType,
    status: ReportStatus,
    #[oai(nullable)]
    from: Option<DateTime<Utc>>,
    #[oai(nullable)]
    to: Option<DateTime<Utc>>,
    /// Data rows in the CSV (the header row not counted); final once `done`.
    rows: i64,
    /// Size of the CSV in bytes; final once `done`.
    bytes: i64,
    /// Why generation failed.
    #[oai(nullable)]
    error: Option<String>,
    created_at: DateTime<Utc>,
    #[oai(nullable)]
    started_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    completed_at: Option<DateTime<Utc>>,
    expires_at: DateTime<Utc>,
    /// The CSV's address, relative (`/reports/{id}/download`); `null` until `done`.
    #[oai(nullable)]
    download_url: Option<String>,
}

/// The report's address, relative.
pub fn location(id: Uuid) -> String {
    format!("/reports/{id}")
}

impl From<report::Model> for Report {
    fn from(r: report::Model) -> Self {
        Self {
            download_url: (r.status == ReportStatus::Done)
                .then(|| format!("{}/download", location(r.id))),
            id: r.id,
            kind: r.kind,
            status: r.status,
            from: r.from_at,
            to: r.to_at,
            rows: r.rows,
            bytes: r.bytes,
            error: r.error,
            created_at: r.created_at,
            started_at: r.started_at,
            completed_at: r.completed_at,
            expires_at: r.expires_at,
        }
    }
}

impl Example for Report {
    fn example() -> Self {
        let id = Uuid::from_u128(0x019a_b5c0_3c00_7000_8000_0000_0000_0001);
        Self {
            id,
            kind: ReportType::Products,
            status: ReportStatus::Done,
            from: None,
            to: None,
            rows: 100_000,
            bytes: 15_728_640,
            error: None,
            created_at: example_time(),
            started_at: Some(example_time()),
            completed_at: Some(example_time()),
            expires_at: example_time() + chrono::Duration::days(7),
            download_url: Some(format!("{}/download", location(id))),
        }
    }
}

crate::list_object!(pub ReportList of Report);

/// A report's file as a response body: CSV, streamed.
pub struct CsvFile(pub poem::Body);

/// The start of a products report, for the document.
const EXAMPLE_CSV: &str = "id,sku,name,description,price_amount,currency,active,archived_at,created_at,updated_at\n\
019ab5c0-3c00-7000-8000-000000000002,TEE-BLK-L,\"Tee, black\",Organic cotton.,1999,EUR,true,,2025-11-24T16:00:00Z,2025-11-24T16:00:00Z\n";

impl Payload for CsvFile {
    const CONTENT_TYPE: &'static str = "text/csv; charset=utf-8";

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            format: Some("binary"),
            example: Some(serde_json::Value::String(EXAMPLE_CSV.into())),
            ..MetaSchema::new("string")
        }))
    }
}

impl poem::IntoResponse for CsvFile {
    fn into_response(self) -> poem::Response {
        poem::Response::builder()
            .content_type(Self::CONTENT_TYPE)
            .body(self.0)
    }
}
