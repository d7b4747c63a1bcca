//! Products, stock adjustments, the ledger, reservations that never oversell, and seeding.

use crate::backend_tests;
use crate::helpers::{Backend, Session, TestApp, TestDb, levee_command, pointers};
use levee::db::ids::ProductId;
use levee::inventory::{self, LedgerKind, Movement, StockError};
use levee::users::Role;
use reqwest::Method;
use serde_json::{Value, json};

async fn create(app: &TestApp, admin: &Session, body: Value) -> reqwest::Response {
    app.send_as(Method::POST, "/products", &admin.access, Some(body))
        .await
}

fn product(sku: &str, amount: i64, stock: i64) -> Value {
    json!({"sku": sku, "name": format!("Product {sku}"), "price": {"amount": amount, "currency": "EUR"}, "stock": stock})
}

async fn admins_manage_products_and_the_public_reads_them(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    let resp = create(&app, &admin, json!({"sku": "TEE-L", "name": "Tee", "description": "Cotton", "price": {"amount": 1999, "currency": "EUR"}, "stock": 7})).await;
    assert_eq!(resp.status(), 201);
    let created: Value = resp.json().await.expect("json");
    assert_eq!(created["price"], json!({"amount": 1999, "currency": "EUR"}));
    assert_eq!(created["available"], 7);

    let public: Value = app.get("/products/TEE-L").await.json().await.expect("json");
    assert_eq!(public["name"], "Tee");
    let patched = app
        .send_as(
            Method::PATCH,
            "/products/TEE-L",
            &admin.access,
            Some(json!({"price": {"amount": 2499, "currency": "EUR"}, "active": false})),
        )
        .await;
    assert_eq!(patched.status(), 200);
    assert_eq!(
        app.get("/products/TEE-L").await.status(),
        404,
        "inactive products are hidden"
    );
    let staff: Value = app
        .get_as("/products/TEE-L", &admin.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(staff["price"]["amount"], 2499);

    assert_eq!(
        create(&app, &admin, product("TEE-L", 1, 0)).await.status(),
        409
    );
    assert_eq!(
        app.send_as(Method::DELETE, "/products/TEE-L", &admin.access, None)
            .await
            .status(),
        204
    );
    assert_eq!(
        app.get_as("/products/TEE-L", &admin.access).await.status(),
        404
    );
    assert_eq!(
        create(&app, &admin, product("TEE-L", 1, 0)).await.status(),
        409,
        "an archived SKU stays taken"
    );

    let customer = app.customer().await;
    assert_eq!(
        create(&app, &customer, product("NOPE", 1, 0))
            .await
            .status(),
        403
    );
}

async fn product_input_is_validated_per_field(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    let resp = create(&app, &admin, json!({"sku": "bad sku", "name": "", "price": {"amount": -5, "currency": "EURO"}, "stock": -1})).await;
    assert_eq!(resp.status(), 422);
    assert_eq!(
        pointers(&resp.json::<Value>().await.expect("json")),
        [
            "/price/amount",
            "/price/currency",
            "/sku",
            "/name",
            "/stock"
        ]
    );
}

async fn the_list_filters_by_price_and_pages_by_cursor(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    for (sku, amount) in [
        ("A-1", 500),
        ("A-2", 1500),
        ("A-3", 2500),
        ("A-4", 3500),
        ("A-5", 4500),
    ] {
        assert_eq!(
            create(&app, &admin, product(sku, amount, 1)).await.status(),
            201
        );
    }
    let filtered: Value = app
        .get("/products?min_price=1000&max_price=4000")
        .await
        .json()
        .await
        .expect("json");
    let skus: Vec<&str> = filtered["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["sku"].as_str().expect("sku"))
        .collect();
    assert_eq!(skus, ["A-2", "A-3", "A-4"]);

    let first: Value = app
        .get("/products?limit=2")
        .await
        .json()
        .await
        .expect("json");
    let cursor = first["next_cursor"].as_str().expect("more pages");
    let second: Value = app
        .get(&format!("/products?limit=2&cursor={cursor}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(second["items"][0]["sku"], "A-3");
    assert_eq!(app.get("/products?min_price=-1").await.status(), 422);
}

async fn stock_adjustments_are_checked_and_recorded(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    create(&app, &admin, product("SOCK", 300, 10)).await;
    let adjust = |delta: i64, reason: &str| {
        app.send_as(
            Method::POST,
            "/products/SOCK/stock-adjustments",
            &admin.access,
            Some(json!({"delta": delta, "reason": reason})),
        )
    };
    let resp = adjust(5, "delivery").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<Value>().await.expect("json"),
        json!({"sku": "SOCK", "on_hand": 15, "reserved": 0, "available": 15})
    );
    assert_eq!(
        adjust(-100, "count").await.status(),
        409,
        "stock never goes negative"
    );
    assert_eq!(adjust(0, "nothing").await.status(), 422);
    assert_eq!(
        pointers(&adjust(1, "").await.json::<Value>().await.expect("json")),
        ["/reason"]
    );

    let ledger: Value = app
        .get_as("/products/SOCK/ledger", &admin.access)
        .await
        .json()
        .await
        .expect("json");
    let entries = ledger["items"].as_array().expect("items");
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["reason"], "delivery");
    assert_eq!(entries[1]["reason"], "initial stock");
    assert_eq!(entries[0]["actor"], format!("user:{}", admin.user_id));
    let customer = app.customer().await;
    assert_eq!(
        app.get_as("/products/SOCK/ledger", &customer.access)
            .await
            .status(),
        403
    );
    assert_eq!(
        app.get_as("/products/NOPE/ledger", &admin.access)
            .await
            .status(),
        404
    );
}

async fn concurrent_reservations_never_oversell(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    let created: Value = create(&app, &admin, product("HOT-ITEM", 999, 100))
        .await
        .json()
        .await
        .expect("json");
    let id = ProductId(created["id"].as_str().expect("id").parse().expect("uuid"));
    let attempts = (0..500).map(|n| {
        let db = app.state.db().clone();
        tokio::spawn(async move {
            let txn = db.begin_write().await?;
            let outcome = inventory::reserve(
                &txn,
                id,
                1,
                Movement::new("checkout", "test").for_reference(format!("order-{n}")),
            )
            .await;
            txn.commit().await?;
            Ok::<_, sea_orm::DbErr>(outcome)
        })
    });
    let mut succeeded = 0;
    for attempt in futures_util::future::join_all(attempts).await {
        match attempt.expect("task").expect("database") {
            Ok(_) => succeeded += 1,
            Err(StockError::Insufficient { available }) => assert_eq!(available, 0),
            Err(other) => panic!("unexpected: {other}"),
        }
    }
    assert_eq!(succeeded, 100);
    let levels = inventory::levels(app.state.db().write(), id)
        .await
        .expect("levels")
        .expect("row");
    assert_eq!(
        (levels.on_hand, levels.reserved, levels.available()),
        (100, 100, 0)
    );

    let mut entries = Vec::new();
    let mut before = None;
    loop {
        let page = inventory::ledger(app.state.db().write(), id, before, 100)
            .await
            .expect("ledger");
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        entries.extend(page);
    }
    let on_hand: i64 = entries.iter().map(|e| e.on_hand_delta).sum();
    let reserved: i64 = entries.iter().map(|e| e.reserved_delta).sum();
    assert_eq!(
        (on_hand, reserved),
        (100, 100),
        "the ledger reconciles with the levels"
    );
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.kind == LedgerKind::Reserve)
            .count(),
        100
    );

    // Release and commit keep the invariants too.
    let txn = app.state.db().begin_write().await.expect("txn");
    inventory::release(&txn, id, 10, Movement::new("abandoned", "test"))
        .await
        .expect("release");
    inventory::commit(&txn, id, 90, Movement::new("paid", "test"))
        .await
        .expect("commit");
    assert!(matches!(
        inventory::commit(&txn, id, 1, Movement::new("paid", "test")).await,
        Err(StockError::Insufficient { .. })
    ));
    txn.commit().await.expect("commit txn");
    let levels = inventory::levels(app.state.db().write(), id)
        .await
        .expect("levels")
        .expect("row");
    assert_eq!((levels.on_hand, levels.reserved), (10, 0));
}

backend_tests!(
    admins_manage_products_and_the_public_reads_them,
    product_input_is_validated_per_field,
    the_list_filters_by_price_and_pages_by_cursor,
    stock_adjustments_are_checked_and_recorded,
    concurrent_reservations_never_oversell,
    seeding_is_idempotent,
);

async fn seeding_is_idempotent(backend: Backend) {
    let Some((_db, url)) = TestDb::create(backend).await else {
        return;
    };
    let seed = || {
        levee_command(&["seed", "--posts", "1200", "--products", "30"])
            .env("LEVEE_DATABASE__URL", &url)
            .output()
            .expect("run")
    };
    let first = seed();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let out = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(
        out.contains("posts: 1200 seed posts present") && out.contains("products: 30 created"),
        "{out}"
    );
    let again = seed();
    let out = String::from_utf8_lossy(&again.stdout).to_string();
    assert!(
        out.contains("posts: 1200 seed posts present")
            && out.contains("products: 0 created, 30 already present"),
        "{out}"
    );
    // Newest first across batches (500 rows each): bench scripts rank popularity by number.
    let conn = sea_orm::Database::connect(&url).await.expect("connect");
    let rows = sea_orm::ConnectionTrait::query_all_raw(
        &conn,
        sea_orm::Statement::from_string(
            sea_orm::ConnectionTrait::get_database_backend(&conn),
            "SELECT slug FROM posts ORDER BY published_at DESC",
        ),
    )
    .await
    .expect("slugs");
    let slugs: Vec<String> = rows
        .iter()
        .map(|r| r.try_get_by_index(0).expect("slug"))
        .collect();
    let expected: Vec<String> = (1..=1200).map(|i| format!("seed-post-{i:06}")).collect();
    assert_eq!(slugs, expected);
    conn.close().await.expect("close");
}
