//! The console's operations pages — routes, cache, database, rate limits, resilience —
//! show figures recorded from real traffic, only to admins; the cache purge needs its CSRF
//! token and makes the next read a miss.

use crate::backend_tests;
use crate::cache::published;
use crate::cache_redis::fleet;
use crate::helpers::{Backend, TestApp, csrf_field};
use crate::rate_limit::{limited, per_minute};
use levee::config::{Duration as ConfigDuration, KeyKind, RouteRule};
use levee::users::Role;
use std::time::{Duration, Instant};

backend_tests!(
    the_routes_page_lists_each_route_with_its_count_sorted_as_asked,
    the_cache_page_shows_namespaces_and_a_purge_makes_the_next_read_a_miss,
    the_database_page_lists_the_pools_of_each_role,
    the_rate_limits_page_counts_rejections_per_policy,
    editors_get_403_and_no_menu_entry_for_the_operations_pages,
);

const PAGES: [&str; 5] = [
    "/admin/routes",
    "/admin/cache",
    "/admin/database",
    "/admin/ratelimits",
    "/admin/resilience",
];

/// The body of `path` for the session `cookie`, which must answer 200.
pub async fn page(app: &TestApp, cookie: &str, path: &str) -> String {
    let resp = app.get_with_cookie(path, Some(cookie)).await;
    assert_eq!(resp.status(), 200, "{path}");
    resp.text().await.expect("body")
}

/// The text of `<td data-field="{name}">` in the table row marked `row`.
pub fn field(html: &str, row: &str, name: &str) -> String {
    let start = html.find(row).unwrap_or_else(|| panic!("{row} in {html}"));
    let row_html = &html[start
        ..html[start..]
            .find("</tr>")
            .map_or(html.len(), |e| start + e)];
    let marker = format!(r#"data-field="{name}">"#);
    let at = row_html
        .find(&marker)
        .unwrap_or_else(|| panic!("{name} in {row_html}"));
    row_html[at + marker.len()..]
        .split('<')
        .next()
        .unwrap_or_default()
        .to_string()
}

async fn the_routes_page_lists_each_route_with_its_count_sorted_as_asked(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, admin) = app.console(Role::Admin).await;
    for path in ["/posts", "/posts", "/posts", "/products"] {
        assert_eq!(app.get(path).await.status(), 200);
    }
    let posts = r#"data-route="/posts" data-method="GET""#;
    let products = r#"data-route="/products" data-method="GET""#;
    let html = page(&app, &admin.cookie, "/admin/routes?sort=requests&dir=desc").await;
    assert_eq!(field(&html, posts, "requests"), "3");
    assert_eq!(field(&html, products, "requests"), "1");
    assert_eq!(field(&html, posts, "errors"), "0 (0.0%)");
    assert!(
        html.find(posts) < html.find(products),
        "most requests first"
    );
    let current = r#"<th aria-sort="descending"><a href="/admin/routes?sort=requests"#;
    let at = html.find(current).expect("the sorted column is marked") + current.len();
    let link = html[at..].split('"').next().unwrap_or_default();
    assert!(
        link.ends_with("dir=asc"),
        "it links to the other direction: {link}"
    );
    let html = page(&app, &admin.cookie, "/admin/routes?sort=requests&dir=asc").await;
    assert!(
        html.find(products) < html.find(posts),
        "fewest requests first"
    );
    let html = page(
        &app,
        &admin.cookie,
        "/admin/routes?sort=nonsense&dir=sideways",
    )
    .await;
    assert!(
        html.contains(posts),
        "an unknown sort falls back to the default"
    );
}

async fn the_cache_page_shows_namespaces_and_a_purge_makes_the_next_read_a_miss(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let editor = app.account(Role::Editor).await;
    let slug = published(&app, &editor, "Purged soon").await;
    let path = format!("/posts/{slug}");
    let read = || async { assert_eq!(app.get(&path).await.status(), 200) };
    read().await;
    read().await;
    let (_, admin) = app.console(Role::Admin).await;
    let html = page(&app, &admin.cookie, "/admin/cache").await;
    assert_eq!(field(&html, r#"data-namespace="post""#, "fetches"), "1");
    assert!(
        !html.contains(r#"data-metric="l1_entries">0<"#),
        "L1 holds the post (counted after moka's pending maintenance)"
    );
    assert!(!html.contains("data-notice"));

    let fetches = || app.state.cache().fetch_count();
    let before = fetches();
    let fields = [("namespace", "post"), ("key", slug.as_str())];
    let forged = app
        .post_form("/admin/cache/purge", &admin.cookie, &fields)
        .await;
    assert_eq!(forged.status(), 403, "no CSRF token");
    read().await;
    assert_eq!(fetches(), before, "still cached");

    let token = csrf_field(&html);
    let with_token = [fields[0], fields[1], ("csrf_token", token.as_str())];
    let purged = app
        .post_form("/admin/cache/purge", &admin.cookie, &with_token)
        .await;
    assert_eq!(purged.status(), 303);
    let location = purged.headers()["location"].to_str().expect("location");
    assert_eq!(location, "/admin/cache?notice=purged");
    read().await;
    assert_eq!(fetches(), before + 1, "the read after the purge is a miss");
    let html = page(&app, &admin.cookie, location).await;
    assert!(html.contains(r#"<p class="notice" data-notice>Purged on every instance."#));
    assert_eq!(field(&html, r#"data-namespace="post""#, "fetches"), "2");

    let whole = [("namespace", "post"), ("key", ""), ("csrf_token", &token)];
    let purged = app
        .post_form("/admin/cache/purge", &admin.cookie, &whole)
        .await;
    assert_eq!(purged.status(), 303, "a whole namespace");
    read().await;
    assert_eq!(fetches(), before + 2);
    let bad = [("namespace", "Post:*"), ("key", ""), ("csrf_token", &token)];
    let refused = app
        .post_form("/admin/cache/purge", &admin.cookie, &bad)
        .await;
    assert_eq!(refused.status(), 400, "namespaces are bounded");
}

async fn the_database_page_lists_the_pools_of_each_role(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, admin) = app.console(Role::Admin).await;
    let html = page(&app, &admin.cookie, "/admin/database").await;
    let pools: &[&str] = match backend {
        Backend::Sqlite => &[
            r#"data-pool="sqlite-writer" data-role="write""#,
            r#"data-pool="sqlite-readers" data-role="read""#,
        ],
        Backend::Postgres => &[r#"data-pool="primary" data-role="write, read""#],
    };
    for pool in pools {
        let max: u32 = field(&html, pool, "max").parse().expect("a number");
        assert!(max >= 1, "{pool}: the configured maximum");
        let open: u32 = field(&html, pool, "in_use").parse::<u32>().expect("in use")
            + field(&html, pool, "idle").parse::<u32>().expect("idle");
        assert!(open <= max, "{pool}");
    }
    assert!(html.contains("No replicas configured"));
}

async fn the_rate_limits_page_counts_rejections_per_policy(backend: Backend) {
    let tight = |c: &mut levee::config::Config| {
        limited((1000, 60, 1000))(c);
        c.rate_limit
            .policies
            .insert("tight".into(), per_minute(KeyKind::Ip, 2));
        c.rate_limit.routes.insert(
            0,
            RouteRule {
                path: "/products".into(),
                methods: vec!["GET".into()],
                policies: vec!["tight".into()],
            },
        );
    };
    let Some(app) = TestApp::spawn_with(backend, tight, None).await else {
        return;
    };
    let statuses: Vec<u16> = futures_util::future::join_all((0..4).map(|_| app.get("/products")))
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        2,
        "{statuses:?}"
    );
    let (_, admin) = app.console(Role::Admin).await;
    let html = page(&app, &admin.cookie, "/admin/ratelimits").await;
    let row = r#"data-policy="tight""#;
    assert_eq!(field(&html, row, "allowed"), "2");
    assert_eq!(field(&html, row, "rejected"), "2");
    assert!(
        html.contains(r#"aria-label="Decisions of tight per minute""#),
        "charted"
    );
    assert_eq!(field(&html, r#"data-policy="login""#, "rejected"), "0");
}

async fn editors_get_403_and_no_menu_entry_for_the_operations_pages(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, editor) = app.console(Role::Editor).await;
    let overview = page(&app, &editor.cookie, "/admin/").await;
    for path in PAGES {
        assert!(
            !overview.contains(&format!(r#"href="{path}""#)),
            "{path} in the menu"
        );
        let resp = app.get_with_cookie(path, Some(&editor.cookie)).await;
        assert_eq!(resp.status(), 403, "{path}");
    }
    let token = csrf_field(&overview);
    let fields = [("namespace", "post"), ("key", ""), ("csrf_token", &token)];
    let purge = app
        .post_form("/admin/cache/purge", &editor.cookie, &fields)
        .await;
    assert_eq!(purge.status(), 403);
    let (_, admin) = app.console(Role::Admin).await;
    let overview = page(&app, &admin.cookie, "/admin/").await;
    for path in PAGES {
        assert!(
            overview.contains(&format!(r#"href="{path}""#)),
            "{path} in the menu"
        );
        page(&app, &admin.cookie, path).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namespace_purged_on_one_instance_is_a_miss_on_the_other() {
    // A long L1 TTL: only the purge's message can make B drop its copy.
    let long_l1 = |c: &mut levee::config::Config| c.cache.l1_ttl = ConfigDuration::secs(300);
    let Some((a, b)) = fleet(long_l1).await else {
        return;
    };
    let editor = a.account(Role::Editor).await;
    let slug = published(&a, &editor, "Fleet purge").await;
    let path = format!("/posts/{slug}");
    assert_eq!(b.get(&path).await.status(), 200);
    let before = b.state.cache().fetch_count();
    assert_eq!(b.get(&path).await.status(), 200);
    assert_eq!(b.state.cache().fetch_count(), before, "B holds it in L1");

    let (_, admin) = a.console(Role::Admin).await;
    let token = csrf_field(&page(&a, &admin.cookie, "/admin/cache").await);
    let fields = [("namespace", "post"), ("key", ""), ("csrf_token", &token)];
    let purged = a
        .post_form("/admin/cache/purge", &admin.cookie, &fields)
        .await;
    assert_eq!(purged.headers()["location"], "/admin/cache?notice=purged");
    let deadline = Instant::now() + Duration::from_secs(2);
    while b.state.cache().fetch_count() == before && Instant::now() < deadline {
        assert_eq!(b.get(&path).await.status(), 200);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        b.state.cache().fetch_count(),
        before + 1,
        "B's next read after the purge went to the database"
    );
}
