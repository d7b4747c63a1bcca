//! Requests to a `TestApp`, and accounts and sessions created through the real API.

use super::app::TestApp;
use levee::users::{self, Email, Role};
use serde_json::{Value, json};
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse battery";

#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: Uuid,
    pub email: String,
    pub access: String,
    pub refresh: String,
}

pub fn unique_email(tag: &str) -> String {
    format!(
        "{tag}-{}@example.com",
        &Uuid::new_v4().simple().to_string()[..12]
    )
}

impl TestApp {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    /// A GET whose JSON body is all the test needs.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        self.get(path).await.json().await.expect("json body")
    }

    /// Starts a GET in the background (for requests that must overlap others).
    pub fn spawn_get(
        &self,
        path: &str,
    ) -> tokio::task::JoinHandle<reqwest::Result<reqwest::Response>> {
        let (client, url) = (self.client.clone(), self.url(path));
        tokio::spawn(async move { client.get(url).send().await })
    }

    pub async fn post_json(&self, path: &str, body: Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    pub async fn get_as(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    /// POSTs `body` (as `serde_json::to_vec` spells it, so a test can fingerprint the same
    /// bytes) with `Idempotency-Key: key`.
    pub async fn post_keyed(
        &self,
        path: &str,
        token: &str,
        key: &str,
        body: &Value,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .header("Content-Type", "application/json")
            .body(serde_json::to_vec(body).expect("json"))
            .send()
            .await
            .expect("request")
    }

    pub async fn send_as(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.expect("request")
    }

    pub async fn register(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_json(
            "/auth/register",
            json!({"email": email, "password": password, "name": "Test User"}),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_json("/auth/login", json!({"email": email, "password": password}))
            .await
    }

    pub async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        self.post_json("/auth/refresh", json!({"refresh_token": refresh_token}))
            .await
    }

    /// Logs in and returns the session; panics unless the login succeeds.
    pub async fn session(&self, email: &str, password: &str) -> Session {
        let resp = self.login(email, password).await;
        assert_eq!(resp.status(), 200, "login of {email}");
        let tokens: Value = resp.json().await.expect("json");
        let access = tokens["access_token"]
            .as_str()
            .expect("access token")
            .to_string();
        let me: Value = self
            .get_as("/me", &access)
            .await
            .json()
            .await
            .expect("json");
        Session {
            user_id: me["id"]
                .as_str()
                .and_then(|id| id.parse().ok())
                .expect("user id"),
            email: email.to_string(),
            access,
            refresh: tokens["refresh_token"]
                .as_str()
                .expect("refresh token")
                .to_string(),
        }
    }

    /// A new customer, registered through the API, signed in.
    pub async fn customer(&self) -> Session {
        let email = unique_email("customer");
        assert_eq!(self.register(&email, PASSWORD).await.status(), 201);
        self.session(&email, PASSWORD).await
    }

    /// A new account with `role` (created as the CLI does), signed in.
    pub async fn account(&self, role: Role) -> Session {
        let (_, email) = self.new_account(role).await;
        self.session(&email, PASSWORD).await
    }

    /// A new account with `role` (created as the CLI does), not signed in anywhere.
    pub async fn new_account(&self, role: Role) -> (users::Model, String) {
        let email = unique_email(role.as_str());
        let hash = self
            .state
            .auth()
            .hasher()
            .hash(PASSWORD)
            .await
            .expect("hash");
        let new = users::NewUser {
            email: Email::parse(&email).expect("email"),
            name: "Staff".into(),
            role,
            password_hash: hash,
            email_verified_at: Some(chrono::Utc::now()),
        };
        let user = users::create(self.state.db().write(), new)
            .await
            .expect("create account");
        (user, email)
    }
}
