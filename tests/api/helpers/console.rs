//! Driving the admin console like a browser: the sign-in form with its CSRF cookie, the
//! session cookie, and the CSRF token of signed-in forms.

use super::app::TestApp;
use super::requests::PASSWORD;
use levee::users::{self, Role};

/// The `name=value` of cookie `name` among a response's `Set-Cookie` headers.
pub fn set_cookie(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

/// The `name=value` part of cookie `name`, as a `Cookie` header sends it back.
pub fn console_cookie(resp: &reqwest::Response, name: &str) -> String {
    let header = set_cookie(resp, name).expect("the cookie is set");
    header.split(';').next().unwrap_or_default().to_string()
}

/// The whole `Set-Cookie` header of the session cookie.
pub fn session_set_cookie(resp: &reqwest::Response) -> Option<String> {
    set_cookie(resp, "levee_admin")
}

/// The value of the first hidden `csrf_token` field in `html`.
pub fn csrf_field(html: &str) -> String {
    let marker = r#"name="csrf_token" value=""#;
    let start = html.find(marker).expect("a csrf_token field") + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The text of the element marked `data-metric="name"` (an overview tile's number).
pub fn metric_in(html: &str, name: &str) -> String {
    let marker = format!(r#"data-metric="{name}">"#);
    let start = html.find(&marker).expect("the metric is shown") + marker.len();
    html[start..]
        .split('<')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Fetches the sign-in form of the levee at `base` and posts `email` and `password` with
/// its CSRF token; `client` must not follow redirects.
pub async fn sign_in(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let form = client
        .get(format!("{base}/admin/login"))
        .send()
        .await
        .expect("request");
    assert_eq!(form.status(), 200);
    let login_cookie = console_cookie(&form, "levee_admin_login");
    let csrf = csrf_field(&form.text().await.expect("body"));
    client
        .post(format!("{base}/admin/login"))
        .header(reqwest::header::COOKIE, login_cookie)
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .expect("request")
}

/// A signed-in console session: the `Cookie` header to send.
#[derive(Debug, Clone)]
pub struct Console {
    pub cookie: String,
    pub email: String,
}

impl TestApp {
    /// A GET with optional cookies, redirects not followed.
    pub async fn get_with_cookie(&self, path: &str, cookie: Option<&str>) -> reqwest::Response {
        let mut req = self.client.get(self.url(path));
        if let Some(cookie) = cookie {
            req = req.header(reqwest::header::COOKIE, cookie);
        }
        req.send().await.expect("request")
    }

    /// A form POST with cookies.
    pub async fn post_form(
        &self,
        path: &str,
        cookie: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header(reqwest::header::COOKIE, cookie)
            .form(fields)
            .send()
            .await
            .expect("request")
    }

    /// Fetches the sign-in form and posts `email` and `password` with its CSRF token.
    pub async fn console_sign_in(&self, email: &str, password: &str) -> reqwest::Response {
        sign_in(&self.client, &self.url(""), email, password).await
    }

    /// Signs `email` in to the console; panics unless it succeeds.
    pub async fn console_session_of(&self, email: &str) -> Console {
        let resp = self.console_sign_in(email, PASSWORD).await;
        assert_eq!(resp.status(), 303, "console sign-in of {email}");
        Console {
            cookie: console_cookie(&resp, "levee_admin"),
            email: email.to_string(),
        }
    }

    /// A new staff account with `role`, signed in to the console.
    pub async fn console(&self, role: Role) -> (users::Model, Console) {
        let (user, email) = self.new_account(role).await;
        (user, self.console_session_of(&email).await)
    }
}
