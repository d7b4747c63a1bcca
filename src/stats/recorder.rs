//! The in-process recorder the HTTP layer feeds beside its Prometheus metrics: per-route
//! totals since start and a ring of 60 one-minute slots. Recording takes a shared read
//! lock (the route map only grows, and only for new route templates) and atomic adds.

use super::histogram::{AtomicHistogram, Histogram};
use super::snapshot::{MinuteStats, RouteStats};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Minutes of history kept.
pub const MINUTES: usize = 60;

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    /// Answers with a 5xx status: the server failed, not the client.
    errors: AtomicU64,
    latency: AtomicHistogram,
}

impl Counters {
    fn record(&self, server_error: bool, elapsed: Duration) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if server_error {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        self.latency.record(elapsed);
    }
}

#[derive(Default)]
struct MinuteSlot {
    /// Minutes since the Unix epoch this slot counts; a slot from an older lap of the
    /// ring is cleared by the first request of its new minute.
    minute: AtomicU64,
    counters: Counters,
}

/// Requests of one route template, by method (a route rarely has more than a few).
type MethodCounters = Vec<(&'static str, Arc<Counters>)>;

/// Request statistics of this process.
pub struct Recorder {
    routes: RwLock<HashMap<String, MethodCounters>>,
    minutes: [MinuteSlot; MINUTES],
}

impl Default for Recorder {
    fn default() -> Self {
        Self {
            routes: RwLock::new(HashMap::new()),
            minutes: std::array::from_fn(|_| MinuteSlot::default()),
        }
    }
}

/// Seconds since the Unix epoch.
pub fn epoch_seconds(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// Minutes since the Unix epoch.
pub fn epoch_minute(at: SystemTime) -> u64 {
    epoch_seconds(at) / 60
}

impl Recorder {
    /// Counts one answered request of `method` on the route template `route`.
    pub fn record(&self, method: &'static str, route: &str, status: u16, elapsed: Duration) {
        self.record_at(SystemTime::now(), method, route, status, elapsed);
    }

    fn record_at(
        &self,
        at: SystemTime,
        method: &'static str,
        route: &str,
        status: u16,
        elapsed: Duration,
    ) {
        let server_error = status >= 500;
        self.route_counters(method, route)
            .record(server_error, elapsed);
        let minute = epoch_minute(at);
        let slot = &self.minutes[(minute % MINUTES as u64) as usize];
        super::ring::enter(&slot.minute, minute, || {
            slot.counters.requests.store(0, Ordering::Relaxed);
            slot.counters.errors.store(0, Ordering::Relaxed);
            slot.counters.latency.reset();
        });
        slot.counters.record(server_error, elapsed);
    }

    fn route_counters(&self, method: &'static str, route: &str) -> Arc<Counters> {
        let find = |routes: &HashMap<String, MethodCounters>| {
            routes
                .get(route)
                .and_then(|methods| methods.iter().find(|(m, _)| *m == method))
                .map(|(_, counters)| counters.clone())
        };
        if let Some(found) = find(&self.routes.read().unwrap_or_else(|e| e.into_inner())) {
            return found;
        }
        let mut routes = self.routes.write().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = find(&routes) {
            return found;
        }
        let counters = Arc::new(Counters::default());
        routes
            .entry(route.to_string())
            .or_default()
            .push((method, counters.clone()));
        counters
    }

    /// Every route's totals since the process started, sorted by route and method.
    pub fn routes(&self) -> Vec<RouteStats> {
        let routes = self.routes.read().unwrap_or_else(|e| e.into_inner());
        let mut all: Vec<RouteStats> = routes
            .iter()
            .flat_map(|(route, methods)| {
                methods.iter().map(|(method, c)| RouteStats {
                    method: (*method).to_string(),
                    route: route.clone(),
                    requests: c.requests.load(Ordering::Relaxed),
                    errors: c.errors.load(Ordering::Relaxed),
                    latency: c.latency.snapshot(),
                })
            })
            .collect();
        all.sort_by(|a, b| (&a.route, &a.method).cmp(&(&b.route, &b.method)));
        all
    }

    /// The last `MINUTES` minutes up to `now`, oldest first; minutes without requests
    /// are present with zero counts.
    pub fn minutes(&self, now: SystemTime) -> Vec<MinuteStats> {
        let current = epoch_minute(now);
        (0..MINUTES as u64)
            .rev()
            .map(|ago| {
                let minute = current.saturating_sub(ago);
                let slot = &self.minutes[(minute % MINUTES as u64) as usize];
                let counted = slot.minute.load(Ordering::Acquire) == minute;
                let load = |c: &AtomicU64| {
                    if counted {
                        c.load(Ordering::Relaxed)
                    } else {
                        0
                    }
                };
                MinuteStats {
                    minute,
                    requests: load(&slot.counters.requests),
                    errors: load(&slot.counters.errors),
                    latency: if counted {
                        slot.counters.latency.snapshot()
                    } else {
                        Histogram::default()
                    },
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at_minute(minute: u64, second: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(minute * 60 + second)
    }

    #[test]
    fn routes_count_requests_and_server_errors_per_method() {
        let recorder = Recorder::default();
        let ms = Duration::from_millis(3);
        recorder.record("GET", "/posts", 200, ms);
        recorder.record("GET", "/posts", 503, ms);
        recorder.record("POST", "/posts", 404, ms);
        let routes = recorder.routes();
        assert_eq!(routes.len(), 2);
        assert_eq!(
            (
                routes[0].method.as_str(),
                routes[0].requests,
                routes[0].errors
            ),
            ("GET", 2, 1)
        );
        assert_eq!(
            (
                routes[1].method.as_str(),
                routes[1].requests,
                routes[1].errors
            ),
            ("POST", 1, 0)
        );
        assert_eq!(routes[0].latency.count(), 2);
    }

    #[test]
    fn minutes_are_bucketed_and_a_lap_of_the_ring_clears_old_slots() {
        let recorder = Recorder::default();
        let ms = Duration::from_millis(1);
        recorder.record_at(at_minute(1000, 5), "GET", "/a", 200, ms);
        recorder.record_at(at_minute(1000, 59), "GET", "/a", 500, ms);
        recorder.record_at(at_minute(1002, 0), "GET", "/a", 200, ms);
        let history = recorder.minutes(at_minute(1002, 30));
        assert_eq!(history.len(), MINUTES);
        let last3: Vec<(u64, u64, u64)> = history[MINUTES - 3..]
            .iter()
            .map(|m| (m.minute, m.requests, m.errors))
            .collect();
        assert_eq!(last3, vec![(1000, 2, 1), (1001, 0, 0), (1002, 1, 0)]);
        // Sixty minutes later minute 1060 reuses minute 1000's slot.
        recorder.record_at(at_minute(1060, 1), "GET", "/a", 200, ms);
        let history = recorder.minutes(at_minute(1060, 2));
        assert_eq!(
            history[MINUTES - 1].requests,
            1,
            "the old lap's counts are gone"
        );
        assert!(history.iter().all(|m| m.minute != 1000));
        assert_eq!(history[0].minute, 1001);
        assert_eq!(recorder.routes()[0].requests, 4, "totals keep everything");
    }
}
