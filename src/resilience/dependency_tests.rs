use super::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

const TIMEOUT: Duration = Duration::from_millis(100);

fn dependency(max_concurrent: u32) -> Dependency {
    Dependency::new(
        "test",
        DependencySettings {
            breaker: BreakerSettings {
                window: 4,
                minimum_calls: 4,
                failure_rate: 0.5,
                open_for: Duration::from_secs(30),
                half_open_calls: 1,
            },
            max_concurrent,
            max_wait: Duration::from_millis(10),
            timeout: TIMEOUT,
        },
    )
}

#[derive(Debug, PartialEq)]
enum ProviderSays {
    Down,
    No,
}

async fn hang() -> Result<(), ProviderSays> {
    tokio::time::sleep(Duration::from_secs(3600)).await;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn slow_calls_time_out_and_open_the_breaker_then_calls_fail_fast() {
    let dependency = dependency(8);
    for _ in 0..4 {
        let result = dependency.call(hang(), |_| true).await;
        assert!(
            matches!(result, Err(CallError::TimedOut(TIMEOUT))),
            "{result:?}"
        );
    }
    assert_eq!(dependency.view().breaker.state, State::Open);
    let made = AtomicU32::new(0);
    let result = dependency
        .call(
            async {
                made.fetch_add(1, Ordering::SeqCst);
                Ok::<_, ProviderSays>(())
            },
            |_| true,
        )
        .await;
    assert!(matches!(result, Err(CallError::Rejected(_))), "{result:?}");
    assert_eq!(
        made.load(Ordering::SeqCst),
        0,
        "an open breaker makes no call"
    );
}

#[tokio::test(start_paused = true)]
async fn a_refusal_is_an_answer_and_does_not_count_against_the_dependency() {
    let dependency = dependency(8);
    for _ in 0..8 {
        let refused = async { Err::<(), _>(ProviderSays::No) };
        let result = dependency.call(refused, |e| *e == ProviderSays::Down);
        assert!(matches!(
            result.await,
            Err(CallError::Failed(ProviderSays::No))
        ));
    }
    assert_eq!(dependency.view().breaker.state, State::Closed);
    assert_eq!(dependency.view().breaker.window_failures, 0);
}

#[tokio::test(start_paused = true)]
async fn a_full_bulkhead_turns_calls_away_without_blaming_the_dependency() {
    let dependency = Arc::new(dependency(2));
    let busy: Vec<_> = (0..2)
        .map(|_| {
            let dependency = dependency.clone();
            tokio::spawn(async move { dependency.call(hang(), |_| true).await.is_err() })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(dependency.view().bulkhead_in_use, 2);
    let result = dependency.call(async { Ok::<_, ProviderSays>(()) }, |_| true);
    assert!(matches!(result.await, Err(CallError::Full(_))));
    for call in busy {
        assert!(call.await.expect("join"), "timed out");
    }
    let view = dependency.view();
    assert_eq!((view.bulkhead_in_use, view.breaker.window_calls), (0, 2));
    assert_eq!(
        view.breaker.window_failures, 2,
        "only the two timeouts count"
    );
}
