//! `http_server_request_duration_seconds` by method, route and status, with its handles
//! kept: a labelled `histogram!` builds, allocates and hashes its label set on every call,
//! and this one runs on every request. The keys are a closed set (standard methods, route
//! patterns, the statuses levee answers with), so the map stays small.

use metrics::Histogram;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

type Key = (&'static str, Arc<str>, u16);

#[derive(Default)]
pub(super) struct Durations {
    series: RwLock<HashMap<Key, Histogram>>,
}

impl Durations {
    /// The series of `method` (a label from `method_label`), `route` and `status`.
    pub fn series(&self, method: &'static str, route: &Arc<str>, status: u16) -> Histogram {
        let key = (method, route.clone(), status);
        if let Some(found) = self.read().get(&key) {
            return found.clone();
        }
        let mut series = self.series.write().unwrap_or_else(|e| e.into_inner());
        series
            .entry(key)
            .or_insert_with(|| {
                metrics::histogram!(
                    "http_server_request_duration_seconds",
                    "method" => method,
                    "route" => metrics::SharedString::from(route.clone()),
                    "status" => status.to_string(),
                )
            })
            .clone()
    }

    /// A poisoned lock still holds a valid map.
    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<Key, Histogram>> {
        self.series.read().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_series_per_method_route_and_status() {
        let durations = Durations::default();
        let (posts, post): (Arc<str>, Arc<str>) = ("/posts".into(), "/posts/:slug".into());
        let seconds = 0.001;
        for _ in 0..3 {
            durations.series("GET", &posts, 200).record(seconds);
            durations
                .series("GET", &Arc::from("/posts"), 200)
                .record(seconds);
        }
        durations.series("GET", &post, 200).record(seconds);
        durations.series("GET", &post, 404).record(seconds);
        durations.series("HEAD", &post, 200).record(seconds);
        assert_eq!(durations.read().len(), 4);
    }
}
