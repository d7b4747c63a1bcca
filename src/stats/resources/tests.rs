use super::*;
use std::time::Duration;

fn lookups(namespace: &str, l1_hits: u64, l2_hits: u64, fetches: u64) -> NamespaceLookups {
    NamespaceLookups {
        namespace: namespace.into(),
        l1_hits,
        l2_hits,
        stale: 1,
        fetches,
    }
}

#[test]
fn cache_details_add_up_by_namespace_and_redis_user() {
    let mut ours = CacheDetail {
        namespaces: vec![lookups("post", 6, 0, 2)],
        l1_entries: 3,
        l1_bytes: 300,
        l1_evictions: 1,
        redis_errors: [("cache".to_string(), 2)].into(),
    };
    let theirs = CacheDetail {
        namespaces: vec![lookups("post", 2, 4, 2), lookups("lists", 1, 0, 1)],
        l1_entries: 1,
        l1_bytes: 100,
        l1_evictions: 0,
        redis_errors: [("cache".to_string(), 1), ("jobs".to_string(), 5)].into(),
    };
    ours.merge(&theirs);
    let names: Vec<&str> = ours
        .namespaces
        .iter()
        .map(|n| n.namespace.as_str())
        .collect();
    assert_eq!(names, ["lists", "post"]);
    let post = &ours.namespaces[1];
    assert_eq!(
        (post.l1_hits, post.l2_hits, post.stale, post.fetches),
        (8, 4, 2, 4)
    );
    assert_eq!(post.l1_ratio(), Some(0.5));
    assert_eq!(
        post.l2_ratio(),
        Some(0.5),
        "L2 answered half of L1's misses"
    );
    assert_eq!(post.hit_ratio(), Some(0.75));
    assert_eq!(
        (ours.l1_entries, ours.l1_bytes, ours.l1_evictions),
        (4, 400, 1)
    );
    assert_eq!(ours.redis_errors["cache"], 3);
    assert_eq!(ours.redis_errors["jobs"], 5);
    assert_eq!(NamespaceLookups::default().hit_ratio(), None);
}

#[test]
fn pools_of_one_name_add_up() {
    let pool = |name: &str, in_use, ms| {
        let acquire = crate::stats::AtomicHistogram::default();
        acquire.record(Duration::from_millis(ms));
        PoolStats {
            name: name.into(),
            role: "write, read".into(),
            in_use,
            idle: 1,
            max: 10,
            acquire: acquire.snapshot(),
            timeouts: 1,
        }
    };
    let mut ours = vec![pool("primary", 2, 1)];
    PoolStats::merge(&mut ours, &[pool("primary", 3, 50), pool("replica", 1, 1)]);
    assert_eq!(ours.len(), 2);
    let primary = &ours[0];
    assert_eq!(
        (primary.in_use, primary.idle, primary.max, primary.timeouts),
        (5, 2, 20, 2)
    );
    assert_eq!(primary.acquire.count(), 2);
}

fn lag(minute: u64, samples: u64, max_lag_us: u64) -> LagMinute {
    LagMinute {
        minute,
        samples,
        unreachable: 0,
        out_of_rotation: 0,
        max_lag_us,
    }
}

#[test]
fn replica_histories_keep_the_worst_lag_of_each_minute() {
    let history = |name: &str, minutes| ReplicaHistory {
        name: name.into(),
        minutes,
    };
    let mut ours = vec![history("r1", vec![lag(10, 2, 500), lag(11, 2, 0)])];
    let theirs = [history("r1", vec![lag(11, 1, 9000), lag(12, 1, 0)])];
    ReplicaHistory::merge(&mut ours, &theirs);
    assert_eq!(
        ours[0].minutes,
        [lag(10, 2, 500), lag(11, 3, 9000), lag(12, 1, 0)]
    );
    assert_eq!(ours[0].minutes[1].max_lag_ms(), Some(9.0));
    let unreachable = LagMinute {
        unreachable: 3,
        ..lag(13, 3, 0)
    };
    assert_eq!(unreachable.max_lag_ms(), None, "no sample reached it");
}

#[test]
fn policy_decisions_add_up_per_minute_and_keep_the_last_hour() {
    let decisions = |minutes: std::ops::Range<u64>, rejected| PolicyDecisions {
        policy: "public".into(),
        quota: 100,
        window_secs: 60,
        minutes: minutes
            .map(|minute| DecisionMinute::from_counts((minute, [1, rejected])))
            .collect(),
    };
    let mut ours = vec![decisions(0..60, 0)];
    PolicyDecisions::merge(&mut ours, &[decisions(30..90, 2)]);
    let merged = &ours[0];
    assert_eq!(merged.minutes.len(), crate::stats::MINUTES);
    assert_eq!(
        merged.minutes[0].minute, 30,
        "the oldest minutes are dropped"
    );
    assert_eq!(merged.minutes[0].allowed, 2);
    assert_eq!((merged.allowed(), merged.rejected()), (90, 120));
}
