//! Sign-in, refresh rotation with reuse detection, logout, disabled accounts, password
//! changes, forged tokens, brute-force throttling.

use crate::backend_tests;
use crate::helpers::{Backend, PASSWORD, TestApp, problem, unique_email};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use levee::config::{Duration as ConfigDuration, IntIn};
use levee::users::Role;
use reqwest::Method;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

async fn register_login_me_refresh_and_reuse_revokes_the_family(backend: Backend) {
    let Some(app) = TestApp::spawn_with(
        backend,
        |c| c.auth.refresh_grace = ConfigDuration::secs(0),
        None,
    )
    .await
    else {
        return;
    };
    let email = unique_email("ada");
    let created: Value = app
        .register(&email, PASSWORD)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(created["role"], "customer");
    assert_eq!(created["email"], email);
    assert!(created.get("password_hash").is_none());

    let session = app.session(&email, PASSWORD).await;
    let me: Value = app
        .get_as("/me", &session.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me["email"], email);

    let rotated = app.refresh(&session.refresh).await;
    assert_eq!(rotated.status(), 200);
    let rotated: Value = rotated.json().await.expect("json");
    assert_eq!(rotated["token_type"], "Bearer");
    assert_eq!(rotated["expires_in"], 900);
    let new_refresh = rotated["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_string();
    assert_ne!(new_refresh, session.refresh);
    assert_eq!(
        app.get_as("/me", rotated["access_token"].as_str().expect("access"))
            .await
            .status(),
        200
    );

    // The old token again: theft. The whole family dies, including the new token.
    problem(app.refresh(&session.refresh).await, 401).await;
    problem(app.refresh(&new_refresh).await, 401).await;
    let metrics = app.get("/metrics").await.text().await.expect("metrics");
    assert!(metrics.contains(r#"levee_auth_security_events_total{event="refresh_token_reuse"}"#));
}

async fn a_second_tab_refreshing_within_the_grace_window_stays_signed_in(backend: Backend) {
    let Some(app) = TestApp::spawn_with(
        backend,
        |c| c.auth.refresh_grace = ConfigDuration::secs(2),
        None,
    )
    .await
    else {
        return;
    };
    let session = app.customer().await;
    let first = app.refresh(&session.refresh).await;
    let second = app.refresh(&session.refresh).await;
    assert_eq!(first.status(), 200);
    assert_eq!(
        second.status(),
        200,
        "the immediately previous token is accepted within the grace window"
    );
    let second: Value = second.json().await.expect("json");
    assert_eq!(
        app.refresh(second["refresh_token"].as_str().expect("refresh"))
            .await
            .status(),
        200
    );

    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    problem(app.refresh(&session.refresh).await, 401).await;
}

async fn logout_revokes_the_session(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let session = app.customer().await;
    let resp = app
        .post_json("/auth/logout", json!({"refresh_token": session.refresh}))
        .await;
    assert_eq!(resp.status(), 204);
    problem(app.refresh(&session.refresh).await, 401).await;
    let unknown = app
        .post_json("/auth/logout", json!({"refresh_token": "lvr_unknown"}))
        .await;
    assert_eq!(
        unknown.status(),
        204,
        "logout of an unknown token is a no-op (RFC 7009)"
    );
}

async fn disabled_users_cannot_log_in_or_refresh(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    let victim = app.customer().await;
    let path = format!("/users/{}", victim.user_id);
    let resp = app
        .send_as(
            Method::PATCH,
            &path,
            &admin.access,
            Some(json!({"status": "disabled"})),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let body = problem(app.login(&victim.email, PASSWORD).await, 401).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("disabled")
    );
    problem(app.refresh(&victim.refresh).await, 401).await;
}

async fn a_password_change_revokes_sessions(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let session = app.customer().await;
    let new_password = "an even better passphrase";
    let wrong = app
        .send_as(
            Method::PATCH,
            "/me",
            &session.access,
            Some(json!({"password": new_password, "current_password": "nope"})),
        )
        .await;
    assert_eq!(
        problem(wrong, 422).await["errors"][0]["pointer"],
        "/current_password"
    );
    let missing = app
        .send_as(
            Method::PATCH,
            "/me",
            &session.access,
            Some(json!({"password": new_password})),
        )
        .await;
    problem(missing, 422).await;

    let body = json!({"password": new_password, "current_password": PASSWORD, "name": "Renamed"});
    let resp = app
        .send_as(Method::PATCH, "/me", &session.access, Some(body))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.expect("json")["name"], "Renamed");
    problem(app.refresh(&session.refresh).await, 401).await;
    problem(app.login(&session.email, PASSWORD).await, 401).await;
    assert_eq!(app.login(&session.email, new_password).await.status(), 200);
}

/// Builds an HS256-style token by hand (any header), signed with `secret` through
/// jsonwebtoken's own HMAC, exactly as an attacker holding the key would.
fn jwt(header: Value, claims: Value, secret: &[u8]) -> String {
    let head = URL_SAFE_NO_PAD.encode(header.to_string());
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    let key = jsonwebtoken::EncodingKey::from_secret(secret);
    let signature = jsonwebtoken::crypto::sign(
        format!("{head}.{body}").as_bytes(),
        &key,
        jsonwebtoken::Algorithm::HS256,
    )
    .expect("sign");
    format!("{head}.{body}.{signature}")
}

async fn forged_expired_and_confused_tokens_are_rejected(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let session = app.customer().await;
    let keys = levee::auth::entity::signing_key::Entity::find()
        .all(&app.state.db().read())
        .await
        .expect("keys");
    let secret = URL_SAFE_NO_PAD.decode(&keys[0].secret).expect("secret");
    let now = chrono::Utc::now().timestamp();
    let claims = |exp: i64| json!({"sub": session.user_id, "role": "admin", "iss": "levee", "aud": "levee", "iat": now, "nbf": now - 10, "exp": exp, "jti": uuid::Uuid::new_v4()});
    let good = jwt(
        json!({"alg": "HS256", "typ": "JWT", "kid": keys[0].kid}),
        claims(now + 600),
        &secret,
    );
    assert_eq!(
        app.get_as("/me", &good).await.status(),
        200,
        "the forging helper itself works"
    );

    let (head, rest) = session.access.split_once('.').expect("jwt");
    let (_, signature) = rest.split_once('.').expect("jwt");
    let tampered = format!(
        "{head}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(claims(now + 600).to_string())
    );
    let cases = [
        (
            "expired",
            jwt(
                json!({"alg": "HS256", "kid": keys[0].kid}),
                claims(now - 120),
                &secret,
            ),
        ),
        ("tampered", tampered),
        (
            "wrong kid",
            jwt(
                json!({"alg": "HS256", "kid": "k-unknown"}),
                claims(now + 600),
                &secret,
            ),
        ),
        (
            "wrong key",
            jwt(
                json!({"alg": "HS256", "kid": keys[0].kid}),
                claims(now + 600),
                b"not the key at all, really not",
            ),
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(json!({"alg": "none", "kid": keys[0].kid}).to_string()),
                URL_SAFE_NO_PAD.encode(claims(now + 600).to_string())
            ),
        ),
        (
            "HS/RS confusion",
            jwt(
                json!({"alg": "RS256", "kid": keys[0].kid}),
                claims(now + 600),
                &secret,
            ),
        ),
        (
            "wrong audience",
            jwt(
                json!({"alg": "HS256", "kid": keys[0].kid}),
                json!({"sub": session.user_id, "role": "admin", "iss": "levee", "aud": "elsewhere", "iat": now, "nbf": now, "exp": now + 600, "jti": uuid::Uuid::new_v4()}),
                &secret,
            ),
        ),
        ("garbage", "not.a.jwt".to_string()),
    ];
    for (name, token) in cases {
        let resp = app.get_as("/me", &token).await;
        assert_eq!(resp.status(), 401, "{name} token was accepted");
        assert_eq!(resp.headers()["www-authenticate"], "Bearer", "{name}");
        problem(resp, 401).await;
    }
}

async fn customers_cannot_see_each_other(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (alice, bob) = (app.customer().await, app.customer().await);
    assert_eq!(
        app.get_as(&format!("/users/{}", alice.user_id), &alice.access)
            .await
            .status(),
        200
    );
    let body = problem(
        app.get_as(&format!("/users/{}", bob.user_id), &alice.access)
            .await,
        404,
    )
    .await;
    assert_eq!(body["detail"], "no such user");
    problem(
        app.get_as(&format!("/users/{}", uuid::Uuid::new_v4()), &alice.access)
            .await,
        404,
    )
    .await;
    problem(app.get_as("/users", &alice.access).await, 403).await;
    let patch = app
        .send_as(
            Method::PATCH,
            &format!("/users/{}", bob.user_id),
            &alice.access,
            Some(json!({"role": "admin"})),
        )
        .await;
    problem(patch, 403).await;
}

async fn repeated_failed_logins_are_throttled(backend: Backend) {
    let Some(app) =
        TestApp::spawn_with(backend, |c| c.auth.max_failed_logins = IntIn::new(3), None).await
    else {
        return;
    };
    let session = app.customer().await;
    for _ in 0..3 {
        problem(app.login(&session.email, "wrong password!").await, 401).await;
    }
    let locked = app.login(&session.email, PASSWORD).await;
    assert!(
        locked.headers()["retry-after"]
            .to_str()
            .expect("ascii")
            .parse::<u64>()
            .expect("seconds")
            > 0
    );
    problem(locked, 429).await;
    let other = app.customer().await;
    assert_eq!(
        app.login(&other.email, PASSWORD).await.status(),
        200,
        "other accounts are unaffected"
    );
}

async fn unknown_and_known_emails_fail_alike(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let session = app.customer().await;
    let known = problem(app.login(&session.email, "wrong password!").await, 401).await;
    let unknown = problem(
        app.login(&unique_email("nobody"), "wrong password!").await,
        401,
    )
    .await;
    assert_eq!(known["detail"], unknown["detail"]);
}

backend_tests!(
    register_login_me_refresh_and_reuse_revokes_the_family,
    a_second_tab_refreshing_within_the_grace_window_stays_signed_in,
    logout_revokes_the_session,
    disabled_users_cannot_log_in_or_refresh,
    a_password_change_revokes_sessions,
    forged_expired_and_confused_tokens_are_rejected,
    customers_cannot_see_each_other,
    repeated_failed_logins_are_throttled,
    unknown_and_known_emails_fail_alike,
);
