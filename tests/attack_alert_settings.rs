//! Attack on alert settings given `Duration::MAX` (a window that never
//! forgets, a shutdown or a webhook that waits for ever): the rules still
//! alert, the delivery thread still delivers, dropping the guard does not
//! panic.
#![cfg(feature = "alert")]

mod alert_support;
mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use alert_support::wait_for;
use common::records::Logs;
use tracing_audit::alert::{Alert, Alerts, Rule};

#[test]
fn a_window_of_duration_max_alerts_once_per_key() {
    let got: Arc<Mutex<Vec<Alert>>> = Arc::default();
    let kept = Arc::clone(&got);
    let logs = Logs::with(|b| {
        b.alerts(
            Alerts::new()
                .rule(
                    Rule::failed_logins_per_ip()
                        .threshold(2)
                        .window(Duration::MAX),
                )
                .rule(
                    Rule::failed_logins_per_user()
                        .threshold(3)
                        .window(Duration::MAX),
                )
                .callback(move |a| kept.lock().unwrap().push(a.clone())),
        )
    });
    logs.run(|| {
        for _ in 0..4 {
            tracing_audit::login_failed!(user: "mallory", client_ip: "203.0.113.9");
        }
    });
    wait_for("an alert of each rule", || {
        (got.lock().unwrap().len() >= 2).then_some(())
    });
    let Logs { guard, .. } = logs;
    let report = guard.shutdown();
    let stats = report.alerts.unwrap();
    assert_eq!(stats.rule_panics, 0, "{stats:?}");
    assert_eq!(stats.alerts, 2, "one per rule and key: {stats:?}");
    let mut rules: Vec<String> = got.lock().unwrap().iter().map(|a| a.rule.clone()).collect();
    rules.sort();
    assert_eq!(rules, ["failed_logins_per_ip", "failed_logins_per_user"]);
}

/// `shutdown_timeout(Duration::MAX)`, "wait for every delivery": dropping
/// the guard must not panic in the caller (a panic in a destructor during
/// unwinding aborts the process), and the alert is delivered.
#[test]
fn a_shutdown_timeout_of_duration_max_waits_without_panicking() {
    let got: Arc<Mutex<Vec<Alert>>> = Arc::default();
    let kept = Arc::clone(&got);
    let logs = Logs::with(|b| {
        b.alerts(
            Alerts::new()
                .rule(Rule::deleted("Invoice"))
                .callback(move |a| kept.lock().unwrap().push(a.clone()))
                .shutdown_timeout(Duration::MAX),
        )
    });
    logs.run(|| tracing_audit::delete!(model: "Invoice", id: 7));
    let Logs { guard, .. } = logs;
    let report = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| guard.shutdown()))
        .expect("the guard's shutdown panicked");
    let stats = report.alerts.unwrap();
    assert_eq!(stats.alerts, 1, "{stats:?}");
    assert_eq!(stats.delivered, 1, "{stats:?}");
    assert_eq!(got.lock().unwrap().len(), 1);
}

/// A webhook with `timeout(Duration::MAX)` ("no timeout") to a receiver
/// that answers: the alert is delivered, the delivery thread survives.
#[test]
fn a_webhook_timeout_of_duration_max_still_delivers() {
    let receiver = alert_support::Receiver::start();
    let logs = Logs::with(|b| {
        b.alerts(
            Alerts::new().rule(Rule::deleted("Invoice")).webhook(
                tracing_audit::alert::Webhook::new(receiver.url("/hook"))
                    .timeout(Duration::MAX)
                    .backoff(Duration::MAX),
            ),
        )
    });
    logs.run(|| tracing_audit::delete!(model: "Invoice", id: 8));
    wait_for("the delivery", || {
        (logs.guard.alert_stats().unwrap().delivered == 1).then_some(())
    });
    assert_eq!(receiver.calls().len(), 1);
}

/// `queue_capacity` and `delivery_capacity` given a huge number (from a
/// config file): building the logs must not panic or abort in the caller
/// (the queues' slots are made when the logs start), and a rule still
/// alerts.
#[test]
fn huge_queue_and_delivery_capacities_still_alert() {
    for capacity in [usize::MAX, 1 << 40] {
        let got: Arc<Mutex<Vec<Alert>>> = Arc::default();
        let kept = Arc::clone(&got);
        let logs = std::panic::catch_unwind(|| {
            Logs::with(|b| {
                b.alerts(
                    Alerts::new()
                        .rule(Rule::deleted("Invoice"))
                        .callback(move |a| kept.lock().unwrap().push(a.clone()))
                        .queue_capacity(capacity)
                        .delivery_capacity(capacity),
                )
            })
        })
        .unwrap_or_else(|_| panic!("starting alerts with capacity {capacity} panicked"));
        logs.run(|| tracing_audit::delete!(model: "Invoice", id: 7));
        wait_for("the alert", || {
            (!got.lock().unwrap().is_empty()).then_some(())
        });
        let Logs { guard, .. } = logs;
        let stats = guard.shutdown().alerts.unwrap();
        assert_eq!(stats.alerts, 1, "{stats:?}");
        assert_eq!(stats.delivered, 1, "{stats:?}");
    }
}
