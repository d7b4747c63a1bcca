use super::*;

const OPEN_FOR: Duration = Duration::from_secs(5);

/// A breaker that opens after `failures` failures in a row (the database pools' kind).
fn breaker(failures: u32) -> Breaker {
    Breaker::new(
        "test",
        BreakerSettings::consecutive(failures, OPEN_FOR),
        BreakerMetrics::noop(),
    )
}

/// The providers' kind, with resilience4j's defaults: window 20, at least 10 calls, 50%.
fn windowed() -> Breaker {
    let settings = BreakerSettings {
        window: 20,
        minimum_calls: 10,
        failure_rate: 0.5,
        open_for: OPEN_FOR,
        half_open_calls: 3,
    };
    Breaker::new("windowed", settings, BreakerMetrics::noop())
}

fn succeed(breaker: &Breaker, times: u32) {
    for _ in 0..times {
        breaker.permit().expect("let through").succeeded();
    }
}

fn fail(breaker: &Breaker, times: u32) {
    for _ in 0..times {
        breaker.permit().expect("let through").failed();
    }
}

/// The error type of a call: a lost connection or a query the dependency refused.
#[derive(Debug, PartialEq)]
enum CallError {
    Lost,
    Refused,
    Rejected(u64),
}

impl From<Rejected> for CallError {
    fn from(r: Rejected) -> Self {
        CallError::Rejected(r.retry_after_secs())
    }
}

async fn call(breaker: &Breaker, outcome: Result<(), CallError>) -> Result<(), CallError> {
    breaker
        .call(async { outcome }, |e| *e == CallError::Lost)
        .await
}

#[tokio::test(start_paused = true)]
async fn opens_after_the_threshold_of_consecutive_failures_and_rejects_at_once() {
    let breaker = breaker(3);
    fail(&breaker, 2);
    assert_eq!(breaker.state(), State::Closed);
    fail(&breaker, 1);
    assert_eq!(breaker.state(), State::Open);
    tokio::time::advance(Duration::from_millis(1500)).await;
    let rejected = breaker.permit().err().expect("rejected while open");
    assert_eq!(rejected.retry_after, Duration::from_millis(3500));
    assert_eq!(rejected.retry_after_secs(), 4, "rounded up");
    assert_eq!(
        rejected.to_string(),
        "circuit breaker test is open; retry in 4 s"
    );
}

#[tokio::test(start_paused = true)]
async fn a_success_resets_the_count_of_failures() {
    let breaker = breaker(3);
    fail(&breaker, 2);
    breaker.permit().expect("closed").succeeded();
    fail(&breaker, 2);
    assert_eq!(breaker.state(), State::Closed, "never three in a row");
}

#[tokio::test(start_paused = true)]
async fn errors_that_are_not_failures_do_not_open_it() {
    let breaker = breaker(1);
    for _ in 0..5 {
        assert_eq!(
            call(&breaker, Err(CallError::Refused)).await,
            Err(CallError::Refused)
        );
    }
    assert_eq!(breaker.state(), State::Closed);
    assert_eq!(
        call(&breaker, Err(CallError::Lost)).await,
        Err(CallError::Lost)
    );
    assert_eq!(call(&breaker, Ok(())).await, Err(CallError::Rejected(5)));
}

#[tokio::test(start_paused = true)]
async fn after_the_cool_down_one_probe_at_a_time_goes_through() {
    let breaker = breaker(1);
    fail(&breaker, 1);
    tokio::time::advance(OPEN_FOR).await;
    assert_eq!(breaker.state(), State::HalfOpen);
    let probe = breaker.permit().expect("the probe");
    let waiting = breaker
        .permit()
        .err()
        .expect("a second call waits for the probe");
    assert_eq!(waiting.retry_after_secs(), 1);
    probe.succeeded();
    assert_eq!(breaker.state(), State::Closed);
    breaker.permit().expect("closed again").succeeded();
}

#[tokio::test(start_paused = true)]
async fn a_failed_probe_opens_it_for_another_cool_down() {
    let breaker = breaker(1);
    fail(&breaker, 1);
    tokio::time::advance(OPEN_FOR).await;
    breaker.permit().expect("the probe").failed();
    assert_eq!(breaker.state(), State::Open);
    let rejected = breaker.permit().err().expect("open again");
    assert_eq!(rejected.retry_after, OPEN_FOR);
}

#[tokio::test(start_paused = true)]
async fn an_abandoned_probe_frees_its_slot() {
    let breaker = breaker(1);
    fail(&breaker, 1);
    tokio::time::advance(OPEN_FOR).await;
    drop(breaker.permit().expect("the probe"));
    assert_eq!(breaker.state(), State::HalfOpen);
    breaker.permit().expect("the next probe").succeeded();
    assert_eq!(breaker.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn late_outcomes_of_calls_from_before_it_opened_do_not_decide() {
    let breaker = breaker(1);
    let early_success = breaker.permit().expect("closed");
    let early_failure = breaker.permit().expect("closed");
    fail(&breaker, 1);
    early_success.succeeded();
    assert_eq!(
        breaker.state(),
        State::Open,
        "a stale success does not close it"
    );
    tokio::time::advance(OPEN_FOR).await;
    let probe = breaker.permit().expect("the probe");
    early_failure.failed();
    probe.succeeded();
    assert_eq!(breaker.state(), State::Closed, "only the probe decides");
}

#[test]
fn the_state_gauge_encodes_closed_half_open_open_as_0_1_2() {
    let values = [State::Closed, State::HalfOpen, State::Open].map(State::gauge_value);
    assert_eq!(values, [0.0, 1.0, 2.0]);
}

#[tokio::test(start_paused = true)]
async fn a_window_needs_its_minimum_of_calls_before_it_can_trip() {
    let breaker = windowed();
    fail(&breaker, 9);
    assert_eq!(
        breaker.state(),
        State::Closed,
        "9 calls are below the minimum"
    );
    fail(&breaker, 1);
    assert_eq!(breaker.state(), State::Open, "10 of 10 failed");
}

#[tokio::test(start_paused = true)]
async fn the_failure_share_of_the_last_calls_decides() {
    let breaker = windowed();
    succeed(&breaker, 11);
    fail(&breaker, 9);
    assert_eq!(breaker.state(), State::Closed, "9 of 20 is below 50%");
    assert_eq!(
        (breaker.view().window_calls, breaker.view().window_failures),
        (20, 9)
    );
    // The oldest success leaves the window: 10 of the last 20 failed.
    fail(&breaker, 1);
    assert_eq!(breaker.state(), State::Open);
}

#[tokio::test(start_paused = true)]
async fn old_failures_slide_out_of_the_window() {
    let breaker = windowed();
    succeed(&breaker, 11);
    fail(&breaker, 9);
    succeed(&breaker, 20);
    assert_eq!(breaker.view().window_failures, 0);
    fail(&breaker, 9);
    assert_eq!(breaker.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn probes_close_it_once_failures_can_no_longer_reach_the_rate() {
    let breaker = windowed();
    fail(&breaker, 10);
    tokio::time::advance(OPEN_FOR).await;
    let probes: Vec<_> = (0..3).map(|_| breaker.permit().expect("probe")).collect();
    assert!(breaker.permit().is_err(), "a fourth call waits");
    let mut probes = probes.into_iter();
    probes.next().expect("probe").failed();
    probes.next().expect("probe").succeeded();
    assert_eq!(breaker.state(), State::HalfOpen, "1 of 3 failed, 1 pending");
    probes.next().expect("probe").succeeded();
    assert_eq!(breaker.state(), State::Closed, "1 of 3 is below 50%");
}

#[tokio::test(start_paused = true)]
async fn two_failed_probes_of_three_open_it_again() {
    let breaker = windowed();
    fail(&breaker, 10);
    tokio::time::advance(OPEN_FOR).await;
    let third = {
        let first = breaker.permit().expect("probe");
        let second = breaker.permit().expect("probe");
        let third = breaker.permit().expect("probe");
        first.failed();
        second.failed();
        third
    };
    assert_eq!(breaker.state(), State::Open);
    third.succeeded();
    assert_eq!(
        breaker.state(),
        State::Open,
        "a late probe no longer decides"
    );
    let states: Vec<State> = breaker.view().transitions.iter().map(|t| t.to).collect();
    assert_eq!(states, [State::Open, State::HalfOpen, State::Open]);
    assert!(breaker.permit().is_err());
    assert_eq!(breaker.view().rejections, 1);
}

#[tokio::test(start_paused = true)]
async fn a_check_before_a_call_is_rejected_while_open_and_takes_no_probe() {
    let breaker = breaker(1);
    assert!(breaker.reject_if_open().is_none(), "closed");
    fail(&breaker, 1);
    let rejected = breaker.reject_if_open().expect("open");
    assert_eq!(rejected.retry_after, OPEN_FOR);
    assert_eq!(breaker.view().rejections, 1);
    tokio::time::advance(OPEN_FOR).await;
    assert!(breaker.reject_if_open().is_none(), "the cool-down is over");
    breaker
        .permit()
        .expect("the probe is still free")
        .succeeded();
    assert_eq!(breaker.state(), State::Closed);
}
