//! Reports over the API: requested (202 + Location), generated in the background in chunks,
//! downloaded as CSV that parses back to the table's rows (quoting, formula cells defused),
//! filtered by creation time, idempotent, admin-only, 404/409 before they can be
//! downloaded, and pruned with their chunks once expired.

use crate::backend_tests;
use crate::helpers::jobs::{run_job, spawn_without_workers};
use crate::helpers::reports::{finished, insert_products, parse, sku};
use crate::helpers::{Backend, TestApp, problem};
use levee::config::{IntIn, Size};
use levee::users::Role;
use reqwest::Method;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use std::time::Duration;

backend_tests!(
    an_admin_downloads_a_products_report_that_parses_back_to_the_table,
    users_and_orders_reports_have_their_columns_and_honour_the_window,
    a_repeated_idempotency_key_queues_one_report,
    only_admins_and_reports_keys_may_use_reports,
    downloads_before_done_are_409_and_unknown_reports_404,
    expired_reports_are_pruned_with_their_chunks,
    a_rerun_after_a_crash_starts_the_file_over,
);

const SOON: Duration = Duration::from_secs(30);

/// Small chunks and pages, so a few hundred rows span many of each.
fn small_chunks(c: &mut levee::config::Config) {
    c.reports.chunk_size = Size(4096);
    c.reports.page_rows = IntIn::new(25);
}

/// Requests a report as `token`; returns the 202's body and its absolute Location.
async fn request(app: &TestApp, token: &str, body: Value) -> (Value, String) {
    let resp = app
        .send_as(Method::POST, "/reports", token, Some(body))
        .await;
    assert_eq!(resp.status(), 202);
    let location = resp.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_string();
    let report: Value = resp.json().await.expect("json");
    assert_eq!(
        location,
        format!("/reports/{}", report["id"].as_str().expect("id"))
    );
    (report, app.url(&location))
}

/// Requests a report and waits until it is done; returns it.
async fn done(app: &TestApp, token: &str, body: Value) -> Value {
    let (_, location) = request(app, token, body).await;
    let report = finished(&app.client, &location, token, SOON).await;
    assert_eq!(report["status"], "done", "{report}");
    report
}

/// Downloads a done report's CSV, checking the headers; returns the bytes.
async fn download(app: &TestApp, token: &str, report: &Value) -> Vec<u8> {
    let url = report["download_url"].as_str().expect("download_url");
    let resp = app.get_as(url, token).await;
    assert_eq!(resp.status(), 200);
    let header = |name: &str| resp.headers()[name].to_str().expect("ascii").to_string();
    assert_eq!(header("content-type"), "text/csv; charset=utf-8");
    let id = report["id"].as_str().expect("id");
    let kind = report["type"].as_str().expect("type");
    assert_eq!(
        header("content-disposition"),
        format!("attachment; filename=\"{kind}-{id}.csv\"")
    );
    assert_eq!(header("content-length"), report["bytes"].to_string());
    let bytes = resp.bytes().await.expect("body").to_vec();
    assert_eq!(bytes.len() as u64, report["bytes"].as_u64().expect("bytes"));
    bytes
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    crate::helpers::count(app.state.db(), sql).await
}

/// A name with what CSV must quote, and now and then a formula.
fn tricky_name(i: usize) -> String {
    match i % 4 {
        0 => format!("=HYPERLINK(\"http://x.invalid/{i}\")"),
        1 => format!("Tee \"{i}\", black"),
        2 => format!("-{i} off; 100% cotton ✓"),
        _ => format!("plain {i}"),
    }
}

async fn an_admin_downloads_a_products_report_that_parses_back_to_the_table(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, small_chunks, None).await else {
        return;
    };
    const ROWS: usize = 300;
    insert_products(app.state.db(), ROWS, tricky_name).await;
    let admin = app.account(Role::Admin).await;

    let report = done(&app, &admin.access, json!({"type": "products"})).await;
    assert_eq!(report["rows"], ROWS);
    assert!(report["completed_at"].is_string() && report["error"].is_null());
    let chunks = count(&app, "SELECT COUNT(*) AS n FROM report_chunks").await;
    assert!(chunks > 5, "4 KiB chunks split the file: {chunks}");

    let (header, rows) = parse(&download(&app, &admin.access, &report).await);
    assert_eq!(
        header,
        [
            "id",
            "sku",
            "name",
            "description",
            "price_amount",
            "currency",
            "active",
            "archived_at",
            "created_at",
            "updated_at"
        ]
    );
    assert_eq!(rows.len(), ROWS);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row[1], sku(i), "{row:?}");
        let name = tricky_name(i);
        let expected = if i % 4 == 0 || i % 4 == 2 {
            format!("'{name}")
        } else {
            name
        };
        assert_eq!(row[2], expected, "formulas are defused, the rest kept");
        assert_eq!(row[3], format!("line one\nline two of {i}"));
        assert_eq!(row[4], i.to_string(), "numbers are not defused");
        assert_eq!(row[6], (i % 7 != 0).to_string());
        assert_eq!(row[7], "");
    }
}

async fn users_and_orders_reports_have_their_columns_and_honour_the_window(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    let customer = app.customer().await;

    let users = done(&app, &admin.access, json!({"type": "users"})).await;
    let (header, rows) = parse(&download(&app, &admin.access, &users).await);
    assert_eq!(
        header,
        [
            "id",
            "email",
            "name",
            "role",
            "status",
            "created_at",
            "updated_at"
        ]
    );
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .any(|r| r[1] == customer.email && r[3] == "customer")
    );

    let orders = done(&app, &admin.access, json!({"type": "orders"})).await;
    let (header, rows) = parse(&download(&app, &admin.access, &orders).await);
    assert_eq!(header[..3], ["id", "user_id", "status"]);
    assert!(rows.is_empty() && orders["rows"] == 0);

    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let window = json!({"type": "users", "from": later});
    let none = done(&app, &admin.access, window).await;
    assert_eq!(none["rows"], 0, "nobody was created after `from`");
    assert_eq!(none["from"].as_str().map(|s| s.is_empty()), Some(false));
    let earlier = "2020-01-01T00:00:00Z";
    let window = json!({"type": "users", "from": earlier, "to": later});
    assert_eq!(done(&app, &admin.access, window).await["rows"], 2);

    let backwards = json!({"type": "users", "from": later, "to": earlier});
    let resp = app
        .send_as(Method::POST, "/reports", &admin.access, Some(backwards))
        .await;
    let body = problem(resp, 422).await;
    assert_eq!(crate::helpers::pointers(&body), ["/to"]);
    for bad in [
        json!({"type": "secrets"}),
        json!({"type": "users", "from": null}),
    ] {
        let resp = app
            .send_as(Method::POST, "/reports", &admin.access, Some(bad.clone()))
            .await;
        assert!(resp.status().is_client_error(), "{bad}");
    }
}

async fn a_repeated_idempotency_key_queues_one_report(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    let body = json!({"type": "products"});
    let first = app
        .post_keyed("/reports", &admin.access, "report-1", &body)
        .await;
    assert_eq!(first.status(), 202);
    let location = first.headers()["location"].clone();
    let first: Value = first.json().await.expect("json");
    let again = app
        .post_keyed("/reports", &admin.access, "report-1", &body)
        .await;
    assert_eq!(again.status(), 202);
    assert_eq!(again.headers()["idempotency-replayed"], "true");
    assert_eq!(again.headers()["location"], location);
    let again: Value = again.json().await.expect("json");
    assert_eq!(again["id"], first["id"]);
    let other = json!({"type": "users"});
    let mismatch = app
        .post_keyed("/reports", &admin.access, "report-1", &other)
        .await;
    problem(mismatch, 422).await;

    let list: Value = app
        .get_as("/reports", &admin.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list["items"][0]["id"], first["id"]);
}

async fn only_admins_and_reports_keys_may_use_reports(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    let (report, _) = request(&app, &admin.access, json!({"type": "users"})).await;
    let id = report["id"].as_str().expect("id");
    let key_with = |scopes: Value| {
        let (app, admin) = (&app, &admin.access);
        async move {
            let body = json!({"name": "reports", "scopes": scopes});
            let resp = app
                .send_as(Method::POST, "/api-keys", admin, Some(body))
                .await;
            let created: Value = resp.json().await.expect("json");
            created["key"].as_str().expect("key").to_string()
        }
    };
    let editor = app.account(Role::Editor).await.access;
    let customer = app.customer().await.access;
    let unrelated = key_with(json!(["users:read"])).await;
    let paths = [
        "/reports".to_string(),
        format!("/reports/{id}"),
        format!("/reports/{id}/download"),
    ];
    for token in [&editor, &customer, &unrelated] {
        let resp = app
            .send_as(
                Method::POST,
                "/reports",
                token,
                Some(json!({"type": "users"})),
            )
            .await;
        problem(resp, 403).await;
        for path in &paths {
            problem(app.get_as(path, token).await, 403).await;
        }
    }
    let reporting = key_with(json!(["reports:read"])).await;
    request(&app, &reporting, json!({"type": "products"})).await;
    assert_eq!(app.get_as(&paths[1], &reporting).await.status(), 200);
    assert_eq!(app.get(&paths[0]).await.status(), 401);
}

async fn downloads_before_done_are_409_and_unknown_reports_404(backend: Backend) {
    let Some(app) = spawn_without_workers(backend).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    let (report, location) = request(&app, &admin.access, json!({"type": "products"})).await;
    assert_eq!(report["status"], "pending");
    assert!(report["download_url"].is_null());
    let resp = app
        .client
        .get(&location)
        .bearer_auth(&admin.access)
        .send()
        .await;
    let shown: Value = resp.expect("get").json().await.expect("json");
    assert_eq!(shown["status"], "pending");
    let id = report["id"].as_str().expect("id");
    let body = problem(
        app.get_as(&format!("/reports/{id}/download"), &admin.access)
            .await,
        409,
    )
    .await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("pending")
    );
    let unknown = uuid::Uuid::now_v7();
    for path in [
        format!("/reports/{unknown}"),
        format!("/reports/{unknown}/download"),
    ] {
        problem(app.get_as(&path, &admin.access).await, 404).await;
    }
}

async fn expired_reports_are_pruned_with_their_chunks(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, small_chunks, None).await else {
        return;
    };
    insert_products(app.state.db(), 100, |i| format!("product {i}")).await;
    let admin = app.account(Role::Admin).await;
    let kept = done(&app, &admin.access, json!({"type": "products"})).await;
    let gone = done(&app, &admin.access, json!({"type": "products"})).await;
    let chunks = count(&app, "SELECT COUNT(*) AS n FROM report_chunks").await;
    assert!(chunks >= 4, "{chunks}");
    let db = app.state.db();
    let past = chrono::Utc::now() - chrono::Duration::minutes(1);
    let id: uuid::Uuid = gone["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("id");
    let expire = db.statement(
        "UPDATE reports SET expires_at = $1 WHERE id = $2",
        vec![past.into(), id.into()],
    );
    db.write().execute_raw(expire).await.expect("expire");

    let url = format!("/reports/{id}");
    problem(app.get_as(&url, &admin.access).await, 404).await;
    problem(
        app.get_as(&format!("{url}/download"), &admin.access).await,
        404,
    )
    .await;
    run_job(&app, "reports.prune").await;
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM reports").await, 1);
    let left = count(&app, "SELECT COUNT(*) AS n FROM report_chunks").await;
    assert_eq!(left * 2, chunks, "the pruned report's chunks went with it");
    let kept_url = kept["download_url"].as_str().expect("url");
    assert_eq!(app.get_as(kept_url, &admin.access).await.status(), 200);
}

async fn a_rerun_after_a_crash_starts_the_file_over(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, small_chunks, None).await else {
        return;
    };
    insert_products(app.state.db(), 60, |i| format!("product {i}")).await;
    let admin = app.account(Role::Admin).await;
    let report = done(&app, &admin.access, json!({"type": "products"})).await;
    let first = download(&app, &admin.access, &report).await;
    let chunks = count(&app, "SELECT COUNT(*) AS n FROM report_chunks").await;
    // As a worker killed mid-run leaves it: running, with a chunk of its own.
    let id: uuid::Uuid = report["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("id");
    let db = app.state.db();
    for (sql, values) in [
        (
            "UPDATE reports SET status = 'running' WHERE id = $1",
            vec![id.into()],
        ),
        (
            "INSERT INTO report_chunks (report_id, seq, data) VALUES ($1, 999, $2)",
            vec![id.into(), b"stale".to_vec().into()],
        ),
    ] {
        db.write()
            .execute_raw(db.statement(sql, values))
            .await
            .expect("crash");
    }
    let job = levee::reports::GenerateReport { report_id: id };
    let enqueue = levee::jobs::Enqueue::default();
    app.state
        .jobs()
        .enqueue(db.write(), &job, enqueue)
        .await
        .expect("enqueue");
    let location = app.url(&format!("/reports/{id}"));
    let again = finished(&app.client, &location, &admin.access, SOON).await;
    assert_eq!(again["status"], "done", "{again}");
    assert_ne!(again["started_at"], report["started_at"], "it ran again");
    assert_eq!(download(&app, &admin.access, &again).await, first);
    let left = count(&app, "SELECT COUNT(*) AS n FROM report_chunks").await;
    assert_eq!(left, chunks, "the stale chunk is gone");
}
