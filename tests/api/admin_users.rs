//! The console's users pages: searching, changing a role, disabling and deleting through
//! a confirmation (with the same effect as the API's), sending a reset link, revoking API
//! keys, and who may.

use crate::backend_tests;
use crate::helpers::{Backend, PASSWORD, TestApp, csrf_field};
use levee::users::Role;
use serde_json::json;

backend_tests!(
    the_search_finds_users_by_any_part_of_their_email,
    disabling_through_the_confirmation_ends_the_users_api_access,
    admins_change_roles_in_the_console,
    editors_may_not_open_the_users_or_settings_pages,
    user_forms_without_the_csrf_token_are_forbidden,
    revoking_a_key_in_the_console_stops_it_at_once,
    the_console_mails_a_reset_link_and_shows_verification,
    the_console_deletes_an_account_after_asking,
);

/// The body of a 200 console page.
async fn page(app: &TestApp, path: &str, cookie: &str) -> String {
    let resp = app.get_with_cookie(path, Some(cookie)).await;
    assert_eq!(resp.status(), 200, "{path}");
    resp.text().await.expect("body")
}

fn location(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

async fn the_search_finds_users_by_any_part_of_their_email(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, admin) = app.console(Role::Admin).await;
    let customer = app.customer().await;
    let row = format!(r#"<tr data-user-id="{}">"#, customer.user_id);
    // `customer-<hex>@example.com`: search by the middle, in another case.
    let middle = customer.email[9..17].to_uppercase();
    let found = page(&app, &format!("/admin/users?q={middle}"), &admin.cookie).await;
    assert!(found.contains(&row), "{found}");
    assert!(found.contains(&format!(r#"href="/admin/users/{}""#, customer.user_id)));
    assert!(
        !found.contains(&format!("{}<", admin.email)),
        "only matches"
    );
    let none = page(&app, "/admin/users?q=nobody-like-this", &admin.cookie).await;
    assert!(!none.contains("data-user-id"), "{none}");
    // `%` and `_` are matched literally, not as wildcards.
    let literal = page(&app, "/admin/users?q=%25", &admin.cookie).await;
    assert!(!literal.contains("data-user-id"), "{literal}");
    let long = "a".repeat(255);
    let refused = app
        .get_with_cookie(&format!("/admin/users?q={long}"), Some(&admin.cookie))
        .await;
    assert_eq!(refused.status(), 400, "the search text is bounded");
    let bad_cursor = app
        .get_with_cookie("/admin/users?cursor=garbage!", Some(&admin.cookie))
        .await;
    assert_eq!(bad_cursor.status(), 400);
    let everyone = page(&app, "/admin/users", &admin.cookie).await;
    assert_eq!(everyone.matches("data-user-id").count(), 2, "{everyone}");
}

async fn disabling_through_the_confirmation_ends_the_users_api_access(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, admin) = app.console(Role::Admin).await;
    let customer = app.customer().await;
    let user_page = format!("/admin/users/{}", customer.user_id);
    let shown = page(&app, &user_page, &admin.cookie).await;
    assert!(shown.contains(r#"<span data-field="status">active</span>"#));
    assert!(shown.contains(&format!(r#"action="{user_page}/disable""#)));
    assert!(shown.contains(r#"data-action="disable""#));

    let confirm = page(&app, &format!("{user_page}/disable"), &admin.cookie).await;
    assert!(confirm.contains(r#"data-action="confirm""#), "{confirm}");
    let token = csrf_field(&confirm);
    let done = app
        .post_form(
            &format!("{user_page}/disable"),
            &admin.cookie,
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(done.status(), 303);
    let back = location(&done);
    assert!(back.starts_with(&format!("{user_page}?notice=")), "{back}");
    let after = page(&app, &back, &admin.cookie).await;
    assert!(after.contains(r#"<span data-field="status">disabled</span>"#));
    assert!(after.contains("data-notice"), "{after}");

    assert_eq!(app.login(&customer.email, PASSWORD).await.status(), 401);
    assert_eq!(app.refresh(&customer.refresh).await.status(), 401);

    // Enabling lets them in again; the old refresh token stays revoked.
    let token = csrf_field(&after);
    let enabled = app
        .post_form(
            &format!("{user_page}/enable"),
            &admin.cookie,
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(enabled.status(), 303);
    let again = page(&app, &location(&enabled), &admin.cookie).await;
    assert!(again.contains(r#"<span data-field="status">active</span>"#));
    assert_eq!(app.login(&customer.email, PASSWORD).await.status(), 200);
    assert_eq!(app.refresh(&customer.refresh).await.status(), 401);
}

async fn admins_change_roles_in_the_console(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, admin) = app.console(Role::Admin).await;
    let api_admin = app.account(Role::Admin).await;
    let customer = app.customer().await;
    let user_page = format!("/admin/users/{}", customer.user_id);
    let shown = page(&app, &user_page, &admin.cookie).await;
    assert!(shown.contains(r#"<span data-field="role">customer</span>"#));
    let token = csrf_field(&shown);
    let role_url = format!("{user_page}/role");
    let bad = app
        .post_form(
            &role_url,
            &admin.cookie,
            &[("csrf_token", &token), ("role", "root")],
        )
        .await;
    assert_eq!(bad.status(), 400);
    let changed = app
        .post_form(
            &role_url,
            &admin.cookie,
            &[("csrf_token", &token), ("role", "editor")],
        )
        .await;
    assert_eq!(changed.status(), 303);
    let after = page(&app, &location(&changed), &admin.cookie).await;
    assert!(after.contains(r#"<span data-field="role">editor</span>"#));
    let through_api: serde_json::Value = app
        .get_as(&format!("/users/{}", customer.user_id), &api_admin.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(through_api["role"], "editor");
    let unknown = format!("/admin/users/{}/role", uuid::Uuid::now_v7());
    let missing = app
        .post_form(
            &unknown,
            &admin.cookie,
            &[("csrf_token", &token), ("role", "editor")],
        )
        .await;
    assert_eq!(missing.status(), 404);
    let garbage = app
        .get_with_cookie("/admin/users/not-an-id", Some(&admin.cookie))
        .await;
    assert_eq!(garbage.status(), 404);
}

async fn editors_may_not_open_the_users_or_settings_pages(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (customer, _) = app.new_account(Role::Customer).await;
    let (_, editor) = app.console(Role::Editor).await;
    let home = page(&app, "/admin/", &editor.cookie).await;
    for link in ["/admin/users", "/admin/api-keys", "/admin/settings"] {
        assert!(
            !home.contains(&format!(r#"href="{link}""#)),
            "{link} in the menu"
        );
    }
    let user_page = format!("/admin/users/{}", customer.id.0);
    for path in [
        "/admin/users".to_string(),
        user_page.clone(),
        format!("{user_page}/disable"),
        "/admin/api-keys".into(),
        "/admin/settings".into(),
    ] {
        let resp = app.get_with_cookie(&path, Some(&editor.cookie)).await;
        assert_eq!(resp.status(), 403, "{path}");
    }
    let token = csrf_field(&home);
    for (path, role) in [("role", "admin"), ("disable", ""), ("enable", "")] {
        let resp = app
            .post_form(
                &format!("{user_page}/{path}"),
                &editor.cookie,
                &[("csrf_token", &token), ("role", role)],
            )
            .await;
        assert_eq!(resp.status(), 403, "{path}");
    }
    let (_, admin) = app.console(Role::Admin).await;
    let unchanged = page(&app, &user_page, &admin.cookie).await;
    assert!(unchanged.contains(r#"<span data-field="role">customer</span>"#));
    assert!(unchanged.contains(r#"<span data-field="status">active</span>"#));
    let home = page(&app, "/admin/", &admin.cookie).await;
    for link in ["/admin/users", "/admin/api-keys", "/admin/settings"] {
        assert!(
            home.contains(&format!(r#"href="{link}""#)),
            "{link} for admins"
        );
    }
}

async fn user_forms_without_the_csrf_token_are_forbidden(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, admin) = app.console(Role::Admin).await;
    let customer = app.customer().await;
    let user_page = format!("/admin/users/{}", customer.user_id);
    for (path, fields) in [
        ("disable", vec![]),
        ("disable", vec![("csrf_token", "forged")]),
        ("enable", vec![]),
        ("role", vec![("role", "admin")]),
        ("send-reset-link", vec![]),
        ("delete", vec![("csrf_token", "forged")]),
    ] {
        let resp = app
            .post_form(&format!("{user_page}/{path}"), &admin.cookie, &fields)
            .await;
        assert_eq!(resp.status(), 403, "{path} {fields:?}");
    }
    let shown = page(&app, &user_page, &admin.cookie).await;
    assert!(shown.contains(r#"<span data-field="status">active</span>"#));
    assert!(shown.contains(r#"<span data-field="role">customer</span>"#));
    assert_eq!(app.refresh(&customer.refresh).await.status(), 200);
}

async fn revoking_a_key_in_the_console_stops_it_at_once(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, admin) = app.console(Role::Admin).await;
    let owner = app.account(Role::Admin).await;
    let created = app
        .send_as(
            reqwest::Method::POST,
            "/api-keys",
            &owner.access,
            Some(json!({"name": "billing sync", "scopes": ["users:read"]})),
        )
        .await;
    assert_eq!(created.status(), 201);
    let created: serde_json::Value = created.json().await.expect("json");
    let (id, key) = (
        created["id"].as_str().expect("id"),
        created["key"].as_str().expect("key"),
    );
    assert_eq!(app.get_as("/users", key).await.status(), 200);

    let listed = page(&app, "/admin/api-keys", &admin.cookie).await;
    assert!(
        listed.contains(&format!(r#"<tr data-key-id="{id}">"#)),
        "{listed}"
    );
    assert!(listed.contains("billing sync") && listed.contains("users:read"));
    assert!(!listed.contains(key), "the secret is never shown again");
    let revoke = format!("/admin/api-keys/{id}/revoke");
    let forged = app.post_form(&revoke, &admin.cookie, &[]).await;
    assert_eq!(forged.status(), 403);
    assert_eq!(app.get_as("/users", key).await.status(), 200);
    let token = csrf_field(&listed);
    let done = app
        .post_form(&revoke, &admin.cookie, &[("csrf_token", &token)])
        .await;
    assert_eq!(done.status(), 303);
    assert_eq!(app.get_as("/users", key).await.status(), 401);
    let after = page(&app, &location(&done), &admin.cookie).await;
    assert!(
        after.contains("data-notice") && after.contains(">revoked<"),
        "{after}"
    );
}

async fn the_console_mails_a_reset_link_and_shows_verification(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, crate::mail::fast, None).await else {
        return;
    };
    let (_, admin) = app.console(Role::Admin).await;
    let api_admin = app.account(Role::Admin).await;
    let customer = app.customer().await;
    let user_page = format!("/admin/users/{}", customer.user_id);
    let shown = page(&app, &user_page, &admin.cookie).await;
    assert!(shown.contains(r#"<span data-field="email-verified">not verified</span>"#));
    let token = csrf_field(&shown);
    let sent = app
        .post_form(
            &format!("{user_page}/send-reset-link"),
            &admin.cookie,
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(sent.status(), 303);
    assert_eq!(location(&sent), format!("{user_page}?notice=reset-sent"));
    let mails =
        crate::accounts_reset::emails(&app, &api_admin, &customer.email, "Reset your", 1).await;
    assert!(
        mails[0]["text_body"]
            .as_str()
            .unwrap_or_default()
            .contains("token=")
    );
}

async fn the_console_deletes_an_account_after_asking(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, crate::mail::fast, None).await else {
        return;
    };
    let (_, admin) = app.console(Role::Admin).await;
    let customer = app.customer().await;
    let user_page = format!("/admin/users/{}", customer.user_id);
    let shown = page(&app, &user_page, &admin.cookie).await;
    assert!(shown.contains(&format!(r#"action="{user_page}/delete""#)));
    let asked = page(&app, &format!("{user_page}/delete"), &admin.cookie).await;
    assert!(asked.contains("cannot be undone"), "{asked}");
    assert_eq!(
        app.refresh(&customer.refresh).await.status(),
        200,
        "asking changes nothing"
    );
    let deleted = app
        .post_form(
            &format!("{user_page}/delete"),
            &admin.cookie,
            &[("csrf_token", &csrf_field(&asked))],
        )
        .await;
    assert_eq!(deleted.status(), 303);
    assert_eq!(location(&deleted), "/admin/users?notice=deleted");
    let listed = page(&app, "/admin/users?notice=deleted", &admin.cookie).await;
    assert!(listed.contains("The account was deleted"), "{listed}");
    assert!(!listed.contains(&customer.user_id.to_string()), "{listed}");
    assert_eq!(app.refresh(&customer.refresh).await.status(), 401);
    crate::accounts_delete::anonymised(&app, customer.user_id).await;
    let gone = app.get_with_cookie(&user_page, Some(&admin.cookie)).await;
    assert_eq!(gone.status(), 404);
    assert_eq!(app.login(&customer.email, PASSWORD).await.status(), 401);
}
