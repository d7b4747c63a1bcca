//! The client's address as the rate limiter sees it: IPv4 clients on a dual-stack listener,
//! only the configured forwarded header believed, the walk from the right ending at the first
//! hop it cannot read; and invented HTTP methods kept out of the metric labels.

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::rate_limit::limited;
use levee::config::{Config, ForwardedHeader};

/// One request per minute per client, behind a trusted proxy on 127.0.0.1.
fn behind_proxy(header: ForwardedHeader) -> impl FnOnce(&mut Config) {
    move |c: &mut Config| {
        limited((1, 60, 1))(c);
        c.server.trusted_proxies = vec!["127.0.0.1/32".parse().expect("cidr")];
        c.server.forwarded_header = header;
    }
}

/// The status of `GET /posts` sent to `127.0.0.1` with these headers.
async fn status(app: &TestApp, headers: &[(&str, &str)]) -> u16 {
    let url = format!("http://127.0.0.1:{}/posts", app.addr.port());
    let mut sent = app.client.get(url);
    for (name, value) in headers {
        sent = sent.header(*name, *value);
    }
    sent.send().await.expect("request").status().as_u16()
}

async fn ipv4_clients_on_a_dual_stack_listener_are_told_apart(backend: Backend) {
    let dual_stack = |c: &mut Config| {
        behind_proxy(ForwardedHeader::XForwardedFor)(c);
        c.server.host = "::".parse().expect("ip");
    };
    let Some(app) = TestApp::spawn_with(backend, dual_stack, None).await else {
        return;
    };
    // The peer is ::ffff:127.0.0.1 here: it must still match the IPv4 trusted proxy.
    let xff = |ip| [("x-forwarded-for", ip)];
    assert_eq!(status(&app, &xff("198.51.100.1")).await, 200);
    assert_eq!(status(&app, &xff("198.51.100.2")).await, 200, "own quota");
    // Mapped IPv4 clients are keyed as IPv4, not as the one /64 `::ffff:0:0/96` lies in.
    assert_eq!(status(&app, &xff("::ffff:198.51.100.3")).await, 200);
    assert_eq!(status(&app, &xff("::ffff:198.51.100.4")).await, 200);
    assert_eq!(status(&app, &xff("198.51.100.4")).await, 429, "same client");
}

async fn only_the_configured_forwarded_header_is_believed(backend: Backend) {
    let tweak = behind_proxy(ForwardedHeader::XForwardedFor);
    let Some(app) = TestApp::spawn_with(backend, tweak, None).await else {
        return;
    };
    let both = |forwarded| {
        [
            ("x-forwarded-for", "198.51.100.1"),
            ("forwarded", forwarded),
        ]
    };
    assert_eq!(status(&app, &both("for=203.0.113.1")).await, 200);
    assert_eq!(
        status(&app, &both("for=203.0.113.2")).await,
        429,
        "a client-chosen Forwarded header buys no fresh quota"
    );

    let tweak = behind_proxy(ForwardedHeader::Forwarded);
    let Some(app) = TestApp::spawn_with(backend, tweak, None).await else {
        return;
    };
    let both = |xff| {
        [
            ("forwarded", "for=\"[2001:db8::1]:4711\""),
            ("x-forwarded-for", xff),
        ]
    };
    assert_eq!(status(&app, &both("198.51.100.1")).await, 200);
    assert_eq!(status(&app, &both("198.51.100.2")).await, 429);
}

async fn an_unparseable_hop_ends_the_walk_at_the_last_trusted_address(backend: Backend) {
    let tweak = behind_proxy(ForwardedHeader::XForwardedFor);
    let Some(app) = TestApp::spawn_with(backend, tweak, None).await else {
        return;
    };
    // The proxy could not name its client ("unknown"): the hops left of it are the
    // client's own words, so the proxy itself is the client.
    let xff = |hops| [("x-forwarded-for", hops)];
    assert_eq!(status(&app, &xff("198.51.100.1, unknown")).await, 200);
    assert_eq!(status(&app, &xff("198.51.100.2, unknown")).await, 429);
}

async fn invented_methods_add_no_metric_series(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for i in 0..20 {
        let method = reqwest::Method::from_bytes(format!("INVENTED{i}").as_bytes());
        let sent = app
            .client
            .request(method.expect("method"), app.url("/health"));
        sent.send().await.expect("request");
    }
    let metrics = app.get("/metrics").await.text().await.expect("metrics");
    assert!(!metrics.contains("INVENTED"), "{metrics}");
    assert!(metrics.contains(r#"method="other",route="#), "{metrics}");
}

backend_tests!(
    ipv4_clients_on_a_dual_stack_listener_are_told_apart,
    only_the_configured_forwarded_header_is_believed,
    an_unparseable_hop_ends_the_walk_at_the_last_trusted_address,
    invented_methods_add_no_metric_series,
);
