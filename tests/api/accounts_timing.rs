//! The reset request takes as long for an unknown address as for a known one: 200 of each,
//! interleaved, rate limits off (the test config's default), medians within 10%. Timing
//! on a shared machine is noisy, so it runs on demand:
//! `cargo test --test api -- --ignored accounts_timing --nocapture`.

use crate::accounts_reset::request_reset;
use crate::helpers::{Backend, TestApp, unique_email};
use crate::mail::fast;
use std::time::{Duration, Instant};

const TRIES: usize = 200;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

async fn known_and_unknown_reset_requests_take_alike(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, fast, None).await else {
        return;
    };
    let known = app.customer().await;
    let (mut known_times, mut unknown_times) = (Vec::new(), Vec::new());
    // Warm the pools and the code paths first.
    for _ in 0..20 {
        request_reset(&app, &known.email).await;
    }
    for _ in 0..TRIES {
        for (email, times) in [
            (known.email.clone(), &mut known_times),
            (unique_email("nobody"), &mut unknown_times),
        ] {
            let started = Instant::now();
            let status = request_reset(&app, &email).await.status();
            times.push(started.elapsed());
            assert_eq!(status, 202);
        }
    }
    let (known_median, unknown_median) = (median(known_times), median(unknown_times));
    let ratio = unknown_median.as_secs_f64() / known_median.as_secs_f64();
    eprintln!(
        "reset request timing ({backend:?}, {TRIES} each): known median {known_median:?}, \
         unknown median {unknown_median:?}, unknown/known {ratio:.3}"
    );
    assert!(
        (0.9..=1.1).contains(&ratio),
        "medians differ by more than 10%"
    );
}

mod known_and_unknown_reset_requests_take_alike {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "a timing measurement; run on demand"]
    async fn sqlite() {
        super::known_and_unknown_reset_requests_take_alike(crate::helpers::Backend::Sqlite).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "a timing measurement; run on demand"]
    async fn postgres() {
        super::known_and_unknown_reset_requests_take_alike(crate::helpers::Backend::Postgres).await
    }
}
