//! Console sessions: stored in the database (so a second instance serves them), ended by
//! idle and absolute expiry, and by the account being disabled or losing its staff role;
//! cookies carry the browser protections.

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, session_set_cookie};
use levee::admin::entity::admin_session;
use levee::config::Duration;
use levee::users::{self, Role, UserChanges, UserStatus};
use sea_orm::EntityTrait;

backend_tests!(
    an_idle_session_ends_after_the_idle_timeout,
    a_busy_session_ends_at_its_absolute_expiry,
    a_disabled_account_or_a_lost_role_ends_the_session,
    reads_touch_the_session_at_most_once_per_interval,
    a_session_opened_on_one_instance_works_on_another,
);

async fn status_of(app: &TestApp, cookie: &str) -> u16 {
    app.get_with_cookie("/admin/", Some(cookie))
        .await
        .status()
        .as_u16()
}

async fn an_idle_session_ends_after_the_idle_timeout(backend: Backend) {
    let Some(app) = TestApp::spawn_with(
        backend,
        |c| {
            c.admin.session_idle_timeout = Duration::millis(1500);
            c.admin.session_touch_interval = Duration::secs(0);
        },
        None,
    )
    .await
    else {
        return;
    };
    let (_, console) = app.console(Role::Admin).await;
    for _ in 0..3 {
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        assert_eq!(
            status_of(&app, &console.cookie).await,
            200,
            "activity keeps it alive"
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(1800)).await;
    assert_eq!(status_of(&app, &console.cookie).await, 303);
    let rows = admin_session::Entity::find()
        .all(app.state.db().write())
        .await
        .expect("sessions");
    assert!(rows.is_empty(), "the expired session was deleted");
}

async fn a_busy_session_ends_at_its_absolute_expiry(backend: Backend) {
    let Some(app) = TestApp::spawn_with(
        backend,
        |c| {
            c.admin.session_idle_timeout = Duration::secs(3);
            c.admin.session_lifetime = Duration::secs(3);
            c.admin.session_touch_interval = Duration::secs(0);
        },
        None,
    )
    .await
    else {
        return;
    };
    let (_, console) = app.console(Role::Editor).await;
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_millis(2200) {
        assert_eq!(status_of(&app, &console.cookie).await, 200);
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert_eq!(
        status_of(&app, &console.cookie).await,
        303,
        "active or not, the session is over"
    );
}

async fn change(app: &TestApp, id: levee::db::ids::UserId, changes: UserChanges) {
    users::update(app.state.db().write(), id, changes)
        .await
        .expect("update user");
}

async fn a_disabled_account_or_a_lost_role_ends_the_session(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (admin, console) = app.console(Role::Admin).await;
    assert_eq!(status_of(&app, &console.cookie).await, 200);
    let disable = UserChanges {
        status: Some(UserStatus::Disabled),
        ..Default::default()
    };
    change(&app, admin.id, disable).await;
    assert_eq!(status_of(&app, &console.cookie).await, 303);
    let enable = UserChanges {
        status: Some(UserStatus::Active),
        ..Default::default()
    };
    change(&app, admin.id, enable).await;
    assert_eq!(
        status_of(&app, &console.cookie).await,
        303,
        "the session was deleted, not suspended"
    );

    let (editor, console) = app.console(Role::Editor).await;
    let demote = UserChanges {
        role: Some(Role::Customer),
        ..Default::default()
    };
    change(&app, editor.id, demote).await;
    assert_eq!(status_of(&app, &console.cookie).await, 303);
}

async fn reads_touch_the_session_at_most_once_per_interval(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, console) = app.console(Role::Admin).await;
    let last_seen = || async {
        admin_session::Entity::find()
            .one(app.state.db().write())
            .await
            .expect("query")
            .expect("a session")
            .last_seen_at
    };
    let before = last_seen().await;
    for _ in 0..3 {
        assert_eq!(status_of(&app, &console.cookie).await, 200);
    }
    assert_eq!(
        last_seen().await,
        before,
        "the default interval is a minute"
    );
}

/// Two instances sharing the database (and Redis, with PostgreSQL): the fleet setup.
async fn a_session_opened_on_one_instance_works_on_another(backend: Backend) {
    let Some(first) = TestApp::spawn(backend).await else {
        return;
    };
    let second = first.spawn_sibling(backend).await;
    let (_, console) = first.console(Role::Admin).await;
    assert_eq!(status_of(&second, &console.cookie).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_cookies_are_http_only_strict_and_scoped_to_the_console() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let (_, email) = app.new_account(Role::Admin).await;
    let resp = app.console_sign_in(&email, crate::helpers::PASSWORD).await;
    let cookie = session_set_cookie(&resp).expect("session cookie");
    for flag in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/admin",
        "Max-Age=43200",
    ] {
        assert!(cookie.contains(flag), "{flag} in {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain http without an https public_url"
    );

    let Some(app) = TestApp::spawn_with(
        Backend::Sqlite,
        |c| c.server.public_url = Some("https://shop.example".into()),
        None,
    )
    .await
    else {
        return;
    };
    let (_, email) = app.new_account(Role::Admin).await;
    let resp = app.console_sign_in(&email, crate::helpers::PASSWORD).await;
    let cookie = session_set_cookie(&resp).expect("session cookie");
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_prune_job_deletes_expired_sessions_only() {
    let Some(app) = TestApp::spawn_with_jobs(
        Backend::Sqlite,
        |c| {
            crate::helpers::jobs::fast(c);
            c.admin.session_idle_timeout = Duration::secs(1);
            c.admin.session_touch_interval = Duration::secs(0);
        },
        |_| {},
    )
    .await
    else {
        return;
    };
    let (_, idle) = app.console(Role::Admin).await;
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let (_, active) = app.console(Role::Editor).await;
    let job = app
        .state
        .jobs()
        .enqueue(
            app.state.db().write(),
            &levee::admin::PruneSessions {},
            levee::jobs::Enqueue::default(),
        )
        .await
        .expect("enqueue");
    let done =
        crate::helpers::jobs::wait_for_state(&app, job.id, levee::jobs::JobState::Completed, 10)
            .await;
    assert_eq!(done.state, levee::jobs::JobState::Completed);
    let rows = admin_session::Entity::find()
        .all(app.state.db().write())
        .await
        .expect("sessions");
    assert_eq!(rows.len(), 1, "only the live session is left");
    assert_eq!(status_of(&app, &active.cookie).await, 200);
    assert_eq!(status_of(&app, &idle.cookie).await, 303);
}
