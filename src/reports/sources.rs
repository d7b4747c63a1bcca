//! What each report type exports: a table, its columns in CSV order (the header row is
//! their names) and how each is written. Rows are read by keyset pagination on `id`, a
//! page per query, so a report of any size holds one page at a time; `from`/`to` filter on
//! `created_at` (`from` inclusive, `to` exclusive). Secrets (password hashes) and
//! personal data beyond what admins see in the console (shipping addresses) are left out.

use super::model::{ReportType, defused};
use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
use sea_orm::{ConnectionTrait, DbErr, QueryResult};
use uuid::Uuid;

/// How a column is read and written.
#[derive(Clone, Copy)]
enum Cell {
    Id,
    Text,
    OptText,
    Int,
    Bool,
    Time,
    OptTime,
}

/// One report type's table and columns; `id` comes first.
pub struct Source {
    table: &'static str,
    columns: &'static [(&'static str, Cell)],
}

const TIMES: [(&str, Cell); 2] = [("created_at", Cell::Time), ("updated_at", Cell::Time)];

const PRODUCTS: Source = Source {
    table: "products",
    columns: &[
        ("id", Cell::Id),
        ("sku", Cell::Text),
        ("name", Cell::Text),
        ("description", Cell::Text),
        ("price_amount", Cell::Int),
        ("currency", Cell::Text),
        ("active", Cell::Bool),
        ("archived_at", Cell::OptTime),
        TIMES[0],
        TIMES[1],
    ],
};

const USERS: Source = Source {
    table: "users",
    columns: &[
        ("id", Cell::Id),
        ("email", Cell::Text),
        ("name", Cell::Text),
        ("role", Cell::Text),
        ("status", Cell::Text),
        TIMES[0],
        TIMES[1],
    ],
};

const ORDERS: Source = Source {
    table: "orders",
    columns: &[
        ("id", Cell::Id),
        ("user_id", Cell::Id),
        ("status", Cell::Text),
        ("currency", Cell::Text),
        ("total_amount", Cell::Int),
        ("payment_ref", Cell::OptText),
        ("shipment_ref", Cell::OptText),
        ("reason", Cell::OptText),
        TIMES[0],
        TIMES[1],
    ],
};

/// The rows a report covers: created in `[from, to)`.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl Source {
    pub fn of(kind: ReportType) -> &'static Source {
        match kind {
            ReportType::Orders => &ORDERS,
            ReportType::Products => &PRODUCTS,
            ReportType::Users => &USERS,
        }
    }

    /// The header row.
    pub fn header(&self) -> impl Iterator<Item = &'static str> {
        self.columns.iter().map(|(name, _)| *name)
    }

    /// Up to `rows` rows in `window` with ids after `after`, by id.
    pub async fn page(
        &self,
        conn: &impl ConnectionTrait,
        window: Window,
        after: Option<Uuid>,
        rows: u64,
    ) -> Result<Vec<QueryResult>, DbErr> {
        let id = || Expr::col(Alias::new("id"));
        let created = || Expr::col(Alias::new("created_at"));
        let mut query = Query::select();
        query
            .columns(self.columns.iter().map(|(name, _)| Alias::new(*name)))
            .from(Alias::new(self.table))
            .order_by(Alias::new("id"), Order::Asc)
            .limit(rows);
        if let Some(after) = after {
            query.and_where(id().gt(after));
        }
        if let Some(from) = window.from {
            query.and_where(created().gte(from));
        }
        if let Some(to) = window.to {
            query.and_where(created().lt(to));
        }
        let statement = conn.get_database_backend().build(&query);
        conn.query_all_raw(statement).await
    }

    /// Writes `row`'s cells into `cells` (cleared first); returns its id.
    pub fn cells(&self, row: &QueryResult, cells: &mut Vec<String>) -> Result<Uuid, DbErr> {
        cells.clear();
        let mut id = None;
        for (name, cell) in self.columns {
            let time = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
            let text = match cell {
                Cell::Id => {
                    let value: Uuid = row.try_get("", name)?;
                    id.get_or_insert(value);
                    value.to_string()
                }
                Cell::Text => defused(&row.try_get::<String>("", name)?).into_owned(),
                Cell::OptText => row
                    .try_get::<Option<String>>("", name)?
                    .map(|t| defused(&t).into_owned())
                    .unwrap_or_default(),
                Cell::Int => row.try_get::<i64>("", name)?.to_string(),
                Cell::Bool => row.try_get::<bool>("", name)?.to_string(),
                Cell::Time => time(row.try_get("", name)?),
                Cell::OptTime => row
                    .try_get::<Option<DateTime<Utc>>>("", name)?
                    .map(time)
                    .unwrap_or_default(),
            };
            cells.push(text);
        }
        id.ok_or_else(|| DbErr::Custom(format!("{} has no id column", self.table)))
    }
}
