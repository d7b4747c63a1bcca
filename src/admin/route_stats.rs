//! The routes page: rate, errors and duration (RED) per route template and method since
//! the process started, sorted on the server by the column the operator picks
//! (`?sort=p95&dir=desc`), so the table works without script.

use super::figures::{ms, percent, ratio};
use super::pages::Chrome;
use crate::stats::{RouteStats, StatsSnapshot};
use askama::Template;
use std::cmp::Ordering;

/// The sortable columns: query value, heading.
const COLUMNS: [(&str, &str); 7] = [
    ("route", "Route"),
    ("requests", "Requests"),
    ("rate", "Req/s (since start)"),
    ("errors", "Server errors"),
    ("p50", "p50"),
    ("p95", "p95"),
    ("p99", "p99"),
];
const DEFAULT_SORT: &str = "requests";

/// A column heading: its link sorts by it (the other way round when it is the current one).
pub struct Column {
    pub label: &'static str,
    pub href: String,
    /// `aria-sort`: ascending, descending or none.
    pub aria_sort: &'static str,
}

pub struct Row {
    pub method: String,
    pub route: String,
    pub requests: u64,
    pub rate: String,
    pub errors: u64,
    pub error_share: String,
    pub p50: String,
    pub p95: String,
    pub p99: String,
}

#[derive(Template)]
#[template(path = "admin/routes.html")]
pub struct RoutesPage {
    pub chrome: Chrome,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

fn compare(key: &str, a: &RouteStats, b: &RouteStats) -> Ordering {
    let quantile = |q| {
        let of = |r: &RouteStats| r.latency.quantile_ms(q).unwrap_or(-1.0);
        of(a).total_cmp(&of(b))
    };
    match key {
        "route" => (&a.route, &a.method).cmp(&(&b.route, &b.method)),
        // Since start, every route shares the denominator: rate sorts as requests do.
        "requests" | "rate" => a.requests.cmp(&b.requests),
        "errors" => a.errors.cmp(&b.errors),
        "p50" => quantile(0.5),
        "p95" => quantile(0.95),
        _ => quantile(0.99),
    }
}

impl RoutesPage {
    /// `sort` and `dir` come from the query; anything unknown falls back to the default.
    pub fn new(
        chrome: Chrome,
        snap: &StatsSnapshot,
        sort: Option<&str>,
        dir: Option<&str>,
    ) -> Self {
        let key = COLUMNS
            .iter()
            .map(|(key, _)| *key)
            .find(|key| Some(*key) == sort)
            .unwrap_or(DEFAULT_SORT);
        let descending = dir != Some("asc");
        let mut routes: Vec<&RouteStats> = snap.routes.iter().collect();
        routes.sort_by(|a, b| {
            let order = compare(key, a, b);
            if descending { order.reverse() } else { order }
        });
        let uptime = snap.uptime_secs.max(1) as f64;
        let columns = COLUMNS
            .iter()
            .map(|&(name, label)| {
                let current = name == key;
                let next = if current && descending { "asc" } else { "desc" };
                Column {
                    label,
                    href: format!("/admin/routes?sort={name}&dir={next}"),
                    aria_sort: match (current, descending) {
                        (false, _) => "none",
                        (true, true) => "descending",
                        (true, false) => "ascending",
                    },
                }
            })
            .collect();
        let rows = routes
            .into_iter()
            .map(|r| Row {
                method: r.method.clone(),
                route: r.route.clone(),
                requests: r.requests,
                rate: format!("{:.3}", r.requests as f64 / uptime),
                errors: r.errors,
                error_share: percent(ratio(r.errors, r.requests)),
                p50: ms(r.latency.quantile_ms(0.5)),
                p95: ms(r.latency.quantile_ms(0.95)),
                p99: ms(r.latency.quantile_ms(0.99)),
            })
            .collect();
        Self {
            chrome,
            columns,
            rows,
        }
    }
}
