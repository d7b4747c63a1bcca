//! The console's settings page: the version and git revision, the migrations, and the
//! effective configuration without a single secret.

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use levee::users::Role;

backend_tests!(settings_show_the_revision_and_migrations_and_never_a_secret);

async fn settings_show_the_revision_and_migrations_and_never_a_secret(backend: Backend) {
    let Some(app) = TestApp::spawn_with(
        backend,
        |c| {
            // PostgreSQL here trusts loopback, so a password in the URL is accepted and
            // ignored; SQLite URLs carry no credentials.
            if let Ok(mut url) = url::Url::parse(&c.database.url)
                && url.scheme() == "postgres"
            {
                url.set_password(Some("s3cret-db")).expect("password");
                c.database.url = url.to_string();
            }
            c.mail.smtp_url = Some("smtp://mailer:s3cret-smtp@127.0.0.1:9".into());
            c.server.public_url = Some("https://shop.example".into());
            c.metrics.token = Some("s3cret-metrics-token".into());
        },
        None,
    )
    .await
    else {
        return;
    };
    let (_, admin) = app.console(Role::Admin).await;
    let resp = app
        .get_with_cookie("/admin/settings", Some(&admin.cookie))
        .await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.expect("body");
    assert!(html.contains("<h1>Settings"), "{html}");
    assert!(
        html.contains(&format!(
            r#"<span data-field="version">{}</span>"#,
            levee::build_info::VERSION
        )),
        "the string `levee --version` prints"
    );
    assert!(levee::build_info::VERSION.contains("(rev "));
    let status = levee::db::migrate::status(app.state.db())
        .await
        .expect("status");
    assert!(!status.is_empty());
    for migration in &status {
        assert!(migration.applied());
        assert!(html.contains(&format!(r#"<tr data-migration="{}"><td>"#, migration.name)));
    }
    assert!(
        !html.contains(r#"data-field="pending""#),
        "nothing is pending"
    );
    for shown in ["max_connections", "smtp_url", "mailer:redacted@127.0.0.1:9"] {
        assert!(html.contains(shown), "{shown} in the page");
    }
    assert!(!html.contains("s3cret"), "a secret leaked:\n{html}");
    if backend == Backend::Postgres {
        assert!(
            html.contains("postgres:redacted@"),
            "the database URL, redacted"
        );
    }
}
