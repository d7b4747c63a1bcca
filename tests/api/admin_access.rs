//! Who gets into the admin console: staff with a session only; wrong passwords,
//! customers, bearer tokens and API keys are all turned away, and every form needs its
//! CSRF token.

use crate::backend_tests;
use crate::helpers::{Backend, PASSWORD, TestApp, csrf_field, session_set_cookie};
use levee::users::Role;
use serde_json::json;

backend_tests!(
    console_pages_send_visitors_without_a_session_to_the_sign_in_form,
    wrong_passwords_and_customers_are_refused_alike,
    admins_and_editors_sign_in_and_see_what_their_role_allows,
    forms_without_a_valid_csrf_token_are_forbidden,
);

fn location(resp: &reqwest::Response) -> &str {
    resp.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

async fn console_pages_send_visitors_without_a_session_to_the_sign_in_form(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for path in [
        "/admin",
        "/admin/",
        "/admin/overview/live",
        "/admin/no-such-page",
    ] {
        let resp = app.get(path).await;
        assert_eq!(resp.status(), 303, "{path}");
        assert_eq!(location(&resp), "/admin/login", "{path}");
    }
    // API credentials of an admin do not open the console.
    let admin = app.account(Role::Admin).await;
    let key = app
        .send_as(
            reqwest::Method::POST,
            "/api-keys",
            &admin.access,
            Some(json!({"name": "ops", "scopes": ["users:read", "jobs:admin"]})),
        )
        .await;
    assert_eq!(key.status(), 201);
    let key: serde_json::Value = key.json().await.expect("json");
    let key = key["key"].as_str().expect("key").to_string();
    for credential in [admin.access.as_str(), key.as_str()] {
        let resp = app.get_as("/admin/", credential).await;
        assert_eq!(resp.status(), 303);
        assert_eq!(location(&resp), "/admin/login");
    }
    let form = app.get("/admin/login").await;
    assert_eq!(form.status(), 200);
    let html = form.text().await.expect("body");
    for field in [
        r#"name="email""#,
        r#"name="password""#,
        r#"name="csrf_token""#,
    ] {
        assert!(html.contains(field), "{field} in {html}");
    }
    let doc = app.get_json("/openapi.json").await;
    assert!(
        doc["paths"]
            .as_object()
            .expect("paths")
            .keys()
            .all(|p| !p.starts_with("/admin")),
        "the console is not in the OpenAPI document"
    );
}

async fn wrong_passwords_and_customers_are_refused_alike(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, admin_email) = app.new_account(Role::Admin).await;
    let wrong = app.console_sign_in(&admin_email, "not the password").await;
    assert_eq!(wrong.status(), 401);
    assert!(session_set_cookie(&wrong).is_none());
    let wrong_page = wrong.text().await.expect("body");
    let customer = app.customer().await;
    let refused = app.console_sign_in(&customer.email, PASSWORD).await;
    assert_eq!(refused.status(), 401);
    assert!(session_set_cookie(&refused).is_none());
    let refused_page = refused.text().await.expect("body");
    let message = "invalid email or password";
    assert!(wrong_page.contains(message), "{wrong_page}");
    assert!(refused_page.contains(message), "{refused_page}");
    let unknown = app.console_sign_in("nobody@example.com", PASSWORD).await;
    assert_eq!(unknown.status(), 401);
}

async fn admins_and_editors_sign_in_and_see_what_their_role_allows(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, admin) = app.console(Role::Admin).await;
    let page = app.get_with_cookie("/admin/", Some(&admin.cookie)).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("body");
    assert!(html.contains(&admin.email), "the header names the user");
    assert!(
        html.contains(r#"data-metric="queue_waiting""#),
        "admins see the queue"
    );
    assert!(html.contains(r#"data-metric="requests_total""#));

    let (_, editor) = app.console(Role::Editor).await;
    let page = app.get_with_cookie("/admin/", Some(&editor.cookie)).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("body");
    assert!(
        !html.contains("queue_waiting"),
        "editors may not manage jobs in the API, so the console hides the queue"
    );
    let live = app
        .get_with_cookie("/admin/overview/live", Some(&editor.cookie))
        .await;
    assert_eq!(live.status(), 200);
    assert!(
        !live.text().await.expect("body").contains("<html"),
        "a fragment"
    );
}

async fn forms_without_a_valid_csrf_token_are_forbidden(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, email) = app.new_account(Role::Admin).await;
    // The sign-in form's token must match its cookie.
    let form = app.get("/admin/login").await;
    let login_cookie = crate::helpers::console_cookie(&form, "levee_admin_login");
    let forged = app
        .post_form(
            "/admin/login",
            &login_cookie,
            &[
                ("email", &email),
                ("password", PASSWORD),
                ("csrf_token", "forged"),
            ],
        )
        .await;
    assert_eq!(forged.status(), 403);
    assert!(session_set_cookie(&forged).is_none());
    let no_cookie = app
        .post_form(
            "/admin/login",
            "",
            &[("email", &email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(no_cookie.status(), 403);

    let console = app.console_session_of(&email).await;
    let page = app.get_with_cookie("/admin/", Some(&console.cookie)).await;
    let token = csrf_field(&page.text().await.expect("body"));
    for bad in ["", "AAAA", &token[..token.len() - 2]] {
        let resp = app
            .post_form("/admin/logout", &console.cookie, &[("csrf_token", bad)])
            .await;
        assert_eq!(resp.status(), 403, "token {bad:?}");
    }
    // Another session's token is no good either.
    let other = app.console_session_of(&email).await;
    let resp = app
        .post_form("/admin/logout", &other.cookie, &[("csrf_token", &token)])
        .await;
    assert_eq!(resp.status(), 403);
    let still = app.get_with_cookie("/admin/", Some(&console.cookie)).await;
    assert_eq!(still.status(), 200, "refused forms changed nothing");

    let out = app
        .post_form("/admin/logout", &console.cookie, &[("csrf_token", &token)])
        .await;
    assert_eq!(out.status(), 303);
    assert_eq!(location(&out), "/admin/login");
    let cleared = session_set_cookie(&out).expect("cookie cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let after = app.get_with_cookie("/admin/", Some(&console.cookie)).await;
    assert_eq!(after.status(), 303, "logout ended the session");
    let other_page = app.get_with_cookie("/admin/", Some(&other.cookie)).await;
    assert_eq!(other_page.status(), 200, "other sessions live on");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_sign_ins_share_the_login_rate_limit_and_failed_login_throttle() {
    let Some(app) =
        TestApp::spawn_with(Backend::Sqlite, |c| c.rate_limit.enabled = true, None).await
    else {
        return;
    };
    let (_, email) = app.new_account(Role::Admin).await;
    // Failures through the API lock the account for the console too (auth.max_failed_logins = 5).
    for _ in 0..5 {
        assert_eq!(app.login(&email, "wrong password").await.status(), 401);
    }
    let locked = app.console_sign_in(&email, PASSWORD).await;
    assert_eq!(locked.status(), 429);
    assert!(locked.headers().contains_key("retry-after"));
    assert!(session_set_cookie(&locked).is_none());
    // The sign-in form's POST is limited by the login policies (`login_ip` per address,
    // `login` per address and email), like /auth/login; the header names the tighter one.
    let (_, other) = app.new_account(Role::Editor).await;
    let policy = |resp: &reqwest::Response| {
        resp.headers()
            .get("ratelimit-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let resp = app.console_sign_in(&other, "wrong password").await;
        statuses.push(resp.status().as_u16());
        let named = policy(&resp);
        assert!(
            named.starts_with("\"login\"") || named.starts_with("\"login_ip\""),
            "{named}"
        );
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
}
