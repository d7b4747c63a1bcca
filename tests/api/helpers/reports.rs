//! Reports: products inserted in bulk straight into the database, polling a report until it
//! is finished, and reading a CSV back with the `csv` crate.

use levee::db::Db;
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Query};
use serde_json::Value;
use std::time::{Duration, Instant};

/// Rows per INSERT: well under both backends' limits on bound parameters.
const BATCH: usize = 500;

/// Inserts `count` products (`RPT-000001`, …) named by `name`, priced `i` cents, in
/// multi-row INSERTs; returns nothing the test cannot recompute from `i`.
pub async fn insert_products(db: &Db, count: usize, name: impl Fn(usize) -> String) {
    let now = chrono::Utc::now();
    let columns = [
        "id",
        "sku",
        "name",
        "description",
        "price_amount",
        "currency",
        "active",
        "version",
        "created_at",
        "updated_at",
    ];
    for start in (0..count).step_by(BATCH) {
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new("products"))
            .columns(columns.map(Alias::new));
        for i in start..(start + BATCH).min(count) {
            insert.values_panic([
                uuid::Uuid::now_v7().into(),
                sku(i).into(),
                name(i).into(),
                format!("line one\nline two of {i}").into(),
                (i as i64).into(),
                "EUR".into(),
                (i % 7 != 0).into(),
                1i64.into(),
                now.into(),
                now.into(),
            ]);
        }
        let conn = db.write();
        let statement = conn.get_database_backend().build(&insert);
        conn.execute_raw(statement).await.expect("insert products");
    }
}

/// The SKU `insert_products` gives product `i`.
pub fn sku(i: usize) -> String {
    format!("RPT-{i:06}")
}

/// Polls `location` (an absolute URL) as `token` until the report is `done` or `failed`.
pub async fn finished(
    client: &reqwest::Client,
    location: &str,
    token: &str,
    limit: Duration,
) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let resp = client
            .get(location)
            .bearer_auth(token)
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status(), 200, "{location}");
        let report: Value = resp.json().await.expect("json");
        let status = report["status"].as_str().unwrap_or_default().to_string();
        if status == "done" || status == "failed" || Instant::now() > deadline {
            return report;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The header and the records of a CSV file.
pub fn parse(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(bytes);
    let header = reader
        .headers()
        .expect("a header row")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| {
            r.expect("a CSV record")
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect();
    (header, rows)
}
