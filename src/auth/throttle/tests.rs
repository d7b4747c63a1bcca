use super::*;
use crate::config::IntIn;

fn throttle(per_account: u64, per_ip: u64) -> LoginThrottle {
    let config = AuthConfig {
        max_failed_logins: IntIn::new(per_account),
        max_failed_logins_per_ip: IntIn::new(per_ip),
        ..AuthConfig::default()
    };
    LoginThrottle::new(&config, None, true)
}

fn ip(raw: &str) -> Option<IpAddr> {
    raw.parse().ok()
}

#[tokio::test]
async fn an_account_locks_after_its_limit_and_success_unlocks_it() {
    let throttle = throttle(3, 100);
    for _ in 0..3 {
        assert!(throttle.check("a@x.io", ip("1.1.1.1")).await.is_ok());
        throttle
            .record_failure("a@x.io", ip("1.1.1.1"))
            .await
            .expect("counted");
    }
    let Err(Refused::Locked(wait)) = throttle.check("a@x.io", ip("2.2.2.2")).await else {
        panic!("locked");
    };
    assert!((1..=900).contains(&wait), "{wait}");
    assert!(
        throttle.check("b@x.io", ip("1.1.1.1")).await.is_ok(),
        "other accounts are unaffected"
    );
    throttle.record_success("a@x.io").await;
    assert!(throttle.check("a@x.io", ip("1.1.1.1")).await.is_ok());
}

#[tokio::test]
async fn one_ipv6_64_failing_across_many_accounts_is_locked() {
    let throttle = throttle(100, 2);
    for (email, addr) in [("a@x.io", "2001:db8:0:1::a"), ("b@x.io", "2001:db8:0:1::b")] {
        throttle
            .record_failure(email, ip(addr))
            .await
            .expect("counted");
    }
    let same_64 = ip("2001:db8:0:1:ffff::c");
    assert!(matches!(
        throttle.check("c@x.io", same_64).await,
        Err(Refused::Locked(_))
    ));
    assert!(
        throttle
            .check("c@x.io", ip("2001:db8:0:2::c"))
            .await
            .is_ok()
    );
}
