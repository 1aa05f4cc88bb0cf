//! Attack on alert rule settings: a window as long as `Duration` allows
//! ("never forget") must still alert, once, for each built-in counting
//! rule and the 5xx rate; the rules thread must not fail on it.
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
