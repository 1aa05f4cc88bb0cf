//! Memory stays bounded and the rules thread survives whatever it reads:
//! the key cap is counted, hostile records and a panicking predicate do
//! not stop later alerts.
#![cfg(feature = "alert")]

mod alert_support;
mod common;

use std::sync::{Arc, Mutex};

use alert_support::wait_for;
use common::records::Logs;
use tracing_audit::alert::{Alert, Alerts, Rule};

fn collecting() -> (
    Arc<Mutex<Vec<Alert>>>,
    impl Fn(&Alert) + Send + Sync + 'static,
) {
    let got: Arc<Mutex<Vec<Alert>>> = Arc::default();
    let kept = Arc::clone(&got);
    (got, move |a: &Alert| kept.lock().unwrap().push(a.clone()))
}

#[test]
fn the_key_cap_is_counted_and_the_rule_keeps_working() {
    let (got, callback) = collecting();
    let logs = Logs::with(|b| {
        b.alerts(
            Alerts::new()
                .rule(Rule::failed_logins_per_ip().threshold(3).max_keys(4))
                .callback(callback),
        )
    });
    logs.run(|| {
        // 10 addresses, one failure each: the fifth and every next evicts one.
        for i in 0..10 {
            tracing_audit::login_failed!(user: "u", client_ip: format!("10.0.0.{i}"));
        }
        for _ in 0..3 {
            tracing_audit::login_failed!(user: "u", client_ip: "10.9.9.9");
        }
    });
    let alert = wait_for("the alert after the cap", || {
        got.lock().unwrap().first().cloned()
    });
    assert_eq!(alert.key, "10.9.9.9");
    let Logs { guard, .. } = logs;
    let stats = guard.alert_stats().unwrap();
    drop(guard);
    // 10 keys into 4 places, then the 11th: 7 evictions.
    assert_eq!(stats.keys_capped, 7, "{stats:?}");
    assert_eq!(stats.records_seen, 13);
    assert_eq!(got.lock().unwrap().len(), 1);
}

#[test]
fn hostile_records_and_a_panicking_predicate_do_not_stop_the_rules() {
    let (got, callback) = collecting();
    let logs = Logs::with(|b| {
        b.alerts(
            Alerts::new()
                .rule(Rule::matching("explodes", |r| {
                    if r.name() == "audit.crud" {
                        panic!("predicate bug");
                    }
                    false
                }))
                .rule(Rule::failed_logins_per_ip())
                .callback(callback),
        )
    });
    let huge = "x".repeat(2 * 1024 * 1024);
    let mut deep = serde_json::json!("bottom");
    for _ in 0..300 {
        deep = serde_json::json!({ "d": deep });
    }
    #[cfg(unix)]
    let not_utf8 = {
        use std::os::unix::ffi::OsStrExt;
        format!("{:?}", std::ffi::OsStr::from_bytes(b"\xff\xfe\x00\x1b[31m"))
    };
    #[cfg(not(unix))]
    let not_utf8 = String::from_utf8_lossy(b"\xff\xfe\x00").into_owned();
    logs.run(|| {
        tracing_audit::login_failed!(user: huge.as_str(), client_ip: huge.as_str(), extra: deep);
        tracing_audit::login_failed!(user: not_utf8.as_str(), client_ip: not_utf8.as_str());
        tracing_audit::delete!(model: "Invoice", id: 1, extra: serde_json::json!({"blob": huge}));
        tracing::error!(target: "audit.login", weird = %not_utf8, "a login record by hand");
        for _ in 0..5 {
            tracing_audit::login_failed!(user: "eve", client_ip: "198.51.100.66");
        }
    });
    let alert = wait_for("the alert after the hostile records", || {
        got.lock().unwrap().first().cloned()
    });
    assert_eq!(alert.key, "198.51.100.66");
    let Logs { guard, .. } = logs;
    let stats = guard.alert_stats().unwrap();
    drop(guard);
    assert!(stats.rule_panics >= 1, "{stats:?}");
    assert_eq!(stats.alerts, 1, "{stats:?}");
    assert_eq!(got.lock().unwrap().len(), 1);
}
