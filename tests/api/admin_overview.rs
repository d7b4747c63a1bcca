//! The console's overview reports what `/metrics` reports, and its pages ship with hashed,
//! immutable assets and a strict Content-Security-Policy.

use crate::helpers::{
    Backend, CHEAP_HASHING_TOML, LeveeProcess, PASSWORD, TestApp, console_cookie, levee_command,
    metric_in, sign_in,
};
use levee::users::Role;
use std::io::Write;
use std::process::Stdio;

/// Creates an admin in the levee configured by `config` with `levee user create`.
fn create_admin(config: &std::path::Path, email: &str) {
    let mut child = levee_command(&[
        "--config",
        config.to_str().expect("utf-8"),
        "user",
        "create",
        "--email",
        email,
        "--role",
        "admin",
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(PASSWORD.as_bytes()).expect("write");
    drop(stdin);
    assert!(child.wait().expect("wait").success(), "user create");
}

/// The sum of every sample of `metric` whose labels contain `labels`.
fn sum_of(metrics: &str, metric: &str, labels: &str) -> u64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(&format!("{metric}{{")) && l.contains(labels))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_counts_the_requests_and_cache_hits_that_metrics_reports() {
    // Its own process: the Prometheus recorder is process-wide, shared by in-process apps.
    let dir = tempfile::tempdir().expect("tempdir");
    let levee = LeveeProcess::serve_sqlite(dir.path(), CHEAP_HASHING_TOML);
    let config = dir.path().join("levee.toml");
    tokio::task::spawn_blocking(move || create_admin(&config, "root@example.com"))
        .await
        .expect("cli");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let base = levee.url("");
    let signed_in = sign_in(&client, &base, "root@example.com", PASSWORD).await;
    assert_eq!(signed_in.status(), 303);
    let cookie = console_cookie(&signed_in, "levee_admin");
    for path in [
        "/posts",
        "/posts",
        "/posts",
        "/products",
        "/posts/no-such-post",
        "/health",
    ] {
        client.get(levee.url(path)).send().await.expect("traffic");
    }
    let metrics = client
        .get(levee.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let requests = sum_of(&metrics, "http_server_request_duration_seconds_count", "");
    let misses = sum_of(&metrics, "levee_cache_requests_total", r#"tier="db""#);
    let hits = sum_of(&metrics, "levee_cache_requests_total", "") - misses;
    assert!(requests >= 8 && hits > 0 && misses > 0, "{metrics}");

    let page = client
        .get(levee.url("/admin/"))
        .header(reqwest::header::COOKIE, &cookie)
        .send()
        .await
        .expect("overview");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("body");
    assert_eq!(
        metric_in(&html, "requests_total"),
        (requests + 1).to_string(),
        "every request before the overview, the scrape of /metrics included"
    );
    let ratio = 100.0 * hits as f64 / (hits + misses) as f64;
    assert_eq!(metric_in(&html, "cache_hit_ratio"), format!("{ratio:.1}%"));
    assert_eq!(metric_in(&html, "replica_lag"), "no replicas configured");
    assert!(
        html.contains("<svg class=\"chart\""),
        "charts are inline SVG"
    );
    assert!(
        html.contains("<code>GET /posts</code>"),
        "the slowest routes are listed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_use_hashed_immutable_assets_under_a_strict_policy() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let (_, console) = app.console(Role::Admin).await;
    let page = app.get_with_cookie("/admin/", Some(&console.cookie)).await;
    let csp = page
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .expect("a policy")
        .to_string();
    let html = page.text().await.expect("body");
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src"))
        .expect("script-src");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let nonce = script_src
        .strip_prefix("script-src 'nonce-")
        .and_then(|n| n.strip_suffix('\''))
        .expect("a nonce");
    assert!(
        html.contains(&format!(r#"nonce="{nonce}""#)),
        "the script carries it"
    );
    assert!(!html.contains("style=\""), "no inline styles");
    let again = app.get_with_cookie("/admin/", Some(&console.cookie)).await;
    let again = again.headers()["content-security-policy"]
        .to_str()
        .expect("csp");
    assert!(!again.contains(nonce), "a fresh nonce per response");

    for (ext, content_type) in [
        ("css", "text/css"),
        ("js", "text/javascript"),
        ("svg", "image/svg+xml"),
    ] {
        let url = html
            .split('"')
            .find(|u| u.starts_with("/admin/static/") && u.ends_with(&format!(".{ext}")))
            .expect("the page links the asset")
            .to_string();
        let name = url.trim_start_matches("/admin/static/");
        assert_eq!(name.split('.').count(), 3, "name.hash.ext: {name}");
        let resp = app.get(&url).await;
        assert_eq!(resp.status(), 200, "{url}");
        let header = |h: &str| resp.headers()[h].to_str().expect("header").to_string();
        assert!(header("content-type").starts_with(content_type), "{url}");
        assert_eq!(
            header("cache-control"),
            "public, max-age=31536000, immutable"
        );
        let stale = url.replace(name.split('.').nth(1).expect("hash"), "0000000000");
        assert_eq!(app.get(&stale).await.status(), 404, "{stale}");
    }
}
