//! Users: registration input checks and user administration (listing, filters, cursor
//! pages).

use crate::backend_tests;
use crate::helpers::{Backend, PASSWORD, TestApp, pointers, problem, unique_email};
use levee::users::Role;
use serde_json::{Value, json};

async fn bad_registrations_name_the_field_and_create_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let email = unique_email("eve");
    let cases = [
        (
            json!({"email": "not-an-email", "password": PASSWORD, "name": "Eve"}),
            "/email",
        ),
        (
            json!({"email": email, "password": "short", "name": "Eve"}),
            "/password",
        ),
        (
            json!({"email": email, "password": PASSWORD, "name": "x".repeat(101)}),
            "/name",
        ),
        (
            json!({"email": format!("{}@example.com", "e".repeat(300)), "password": PASSWORD, "name": "Eve"}),
            "/email",
        ),
        (
            json!({"email": email, "password": "p".repeat(2000), "name": "Eve"}),
            "/password",
        ),
    ];
    for (body, pointer) in cases {
        let resp = app.post_json("/auth/register", body).await;
        assert_eq!(
            pointers(&problem(resp, 422).await),
            vec![pointer.to_string()]
        );
    }
    assert_eq!(
        app.login(&email, PASSWORD).await.status(),
        401,
        "no account was created"
    );

    assert_eq!(app.register(&email, PASSWORD).await.status(), 201);
    let duplicate = app.register(&email.to_uppercase(), PASSWORD).await;
    assert_eq!(
        pointers(&problem(duplicate, 409).await),
        vec!["/email".to_string()]
    );
}

async fn admins_list_and_filter_users_with_cursor_pages(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    for _ in 0..5 {
        app.customer().await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/users?role=customer&limit=2&cursor={c}"),
            None => "/users?role=customer&limit=2".to_string(),
        };
        let page: Value = app
            .get_as(&path, &admin.access)
            .await
            .json()
            .await
            .expect("json");
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 2);
        seen.extend(
            items
                .iter()
                .map(|u| u["email"].as_str().expect("email").to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5, "every customer exactly once: {seen:?}");
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted);

    let by_prefix: Value = app
        .get_as("/users?email_prefix=admin-", &admin.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(by_prefix["items"].as_array().map(Vec::len), Some(1));
    problem(app.get_as("/users?limit=0", &admin.access).await, 422).await;
    problem(
        app.get_as("/users?cursor=garbage", &admin.access).await,
        422,
    )
    .await;
}

backend_tests!(
    bad_registrations_name_the_field_and_create_nothing,
    admins_list_and_filter_users_with_cursor_pages,
);
