//! The console's resilience page: each process's provider breakers and bulkheads, from the
//! fleet's snapshots, and the guards' effective configuration. Editors are refused it like
//! every operations page (`admin_ops_pages`).

use crate::admin_fleet::{fast_publish, worker_beside};
use crate::admin_ops_pages::{field, page};
use crate::backend_tests;
use crate::helpers::fake_provider::{Action, FakeProvider, Mode};
use crate::helpers::orders::{basket, eventually, for_orders, product};
use crate::helpers::{Backend, TestApp, metric_in};
use levee::config::{Config, Duration as ConfigDuration, IntIn};
use levee::users::Role;

backend_tests!(
    a_fresh_app_shows_both_providers_closed_with_their_configured_guards,
    a_payment_provider_that_keeps_failing_shows_its_breaker_open_with_the_transition,
    a_worker_process_lists_its_own_breakers_beside_the_server,
);

const PATH: &str = "/admin/resilience";
const PAYMENT: &str = r#"<tr data-dependency="payment">"#;
const SHIPPING: &str = r#"<tr data-dependency="shipping">"#;

/// The first `<section class="instance">` of the page: the process that rendered it.
fn this_process(html: &str) -> &str {
    let start = html
        .find(r#"<section class="instance""#)
        .expect("an instance");
    let end = html[start..].find("</section>").expect("its end");
    &html[start..start + end]
}

async fn a_fresh_app_shows_both_providers_closed_with_their_configured_guards(backend: Backend) {
    let shorter = |c: &mut Config| c.resilience.shipping.open_for = Some(ConfigDuration::secs(7));
    let Some(app) = TestApp::spawn_with(backend, shorter, None).await else {
        return;
    };
    let (_, admin) = app.console(Role::Admin).await;
    let html = page(&app, &admin.cookie, PATH).await;
    let this = this_process(&html);
    assert!(this.contains("(this process)"), "{this}");
    for row in [PAYMENT, SHIPPING] {
        assert_eq!(field(this, row, "state"), "closed", "{row}");
        assert_eq!(field(this, row, "window_calls"), "0");
        assert_eq!(field(this, row, "rejections"), "0");
        assert_eq!(
            field(this, row, "bulkhead"),
            "0 / 25",
            "the default bulkhead"
        );
    }
    assert!(this.contains("none since start"), "no transitions yet");
    assert_eq!(metric_in(&html, "breakers_tripped"), "0");
    assert!(
        html.contains("Only this process has reported so far"),
        "the lone process says so"
    );

    let payment = r#"<tr data-guard="payment">"#;
    let shipping = r#"<tr data-guard="shipping">"#;
    assert_eq!(field(&html, payment, "kind"), "simulated");
    assert_eq!(field(&html, payment, "window"), "20");
    assert_eq!(field(&html, payment, "failure_rate"), "50.0%");
    assert_eq!(field(&html, payment, "open_for"), "30s");
    assert_eq!(field(&html, payment, "timeout"), "5s");
    assert_eq!(
        field(&html, shipping, "open_for"),
        "7s",
        "[resilience.shipping] overrides the default"
    );
}

async fn a_payment_provider_that_keeps_failing_shows_its_breaker_open_with_the_transition(
    backend: Backend,
) {
    let fake = FakeProvider::start().await;
    fake.set_mode_of(Action::Charges, Mode::Failing);
    let tweak = |c: &mut Config| {
        for_orders(c);
        fake.configure(c);
        c.providers.payment.timeout = ConfigDuration::millis(500);
        let payment = &mut c.resilience.payment;
        payment.window = Some(IntIn::new(2));
        payment.minimum_calls = Some(IntIn::new(2));
        // Open for the whole test: no probe closes it while the page is read.
        payment.open_for = Some(ConfigDuration::secs(600));
    };
    let Some(app) = TestApp::spawn_with(backend, tweak, None).await else {
        return;
    };
    product(&app, "KETTLE", 3900, "EUR", 5).await;
    let buyer = app.customer().await;
    for _ in 0..2 {
        let resp = app
            .place_order(&buyer.access, basket(&[("KETTLE", 1)]))
            .await;
        assert_eq!(resp.status(), 202);
    }
    let (_, admin) = app.console(Role::Admin).await;
    let open = || async {
        let html = page(&app, &admin.cookie, PATH).await;
        field(this_process(&html), PAYMENT, "state") == "open"
    };
    eventually("two failed charges open the payment breaker", open).await;

    let html = page(&app, &admin.cookie, PATH).await;
    let this = this_process(&html);
    let payment =
        &this[this.find(PAYMENT).expect("payment")..this.find(SHIPPING).expect("shipping")];
    assert!(
        payment.contains(r#"<td class="critical" data-field="state">open</td>"#),
        "the state in words, with its badge: {payment}"
    );
    assert!(
        payment.contains(r#"<li data-to="open"><time datetime=""#),
        "the transition, with its time: {payment}"
    );
    assert_eq!(field(this, SHIPPING, "state"), "closed");
    assert!(this[this.find(SHIPPING).expect("shipping")..].contains("none since start"));
    assert_eq!(metric_in(&html, "breakers_tripped"), "1");
}

async fn a_worker_process_lists_its_own_breakers_beside_the_server(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, fast_publish, None).await else {
        return;
    };
    let _worker = worker_beside(&app);
    let (_, admin) = app.console(Role::Admin).await;
    let worker = r#"data-role="worker" data-state="alive">"#;
    let listed = || async { page(&app, &admin.cookie, PATH).await.contains(worker) };
    eventually("the worker's snapshot is listed", listed).await;

    let html = page(&app, &admin.cookie, PATH).await;
    let section = &html[html.find(worker).expect("the worker")..];
    let section = &section[..section.find("</section>").expect("its end")];
    for row in [PAYMENT, SHIPPING] {
        assert_eq!(
            field(section, row, "state"),
            "closed",
            "{row} of the worker"
        );
    }
    assert!(!html.contains("Only this process has reported so far"));
    assert!(html.contains("in 2 process(es)"), "both counted");
}
