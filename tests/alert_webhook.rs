//! Failed-login alerts delivered to a real webhook receiver on loopback:
//! one alert per key and window, signed; retried through a failing
//! receiver; counted when the receiver is down for good.
#![cfg(feature = "alert")]

mod alert_support;
mod common;

use std::collections::HashSet;
use std::time::Duration;

use alert_support::{dead_url, hmac_sha256_hex, wait_for, Receiver};
use common::records::Logs;
use tracing_audit::alert::{Alerts, Rule, Webhook};
use tracing_audit::Kind;

const SECRET: &str = "webhook shared secret";

#[test]
fn six_failed_logins_from_one_ip_give_exactly_one_signed_alert() {
    let receiver = Receiver::start();
    let logs = Logs::with(|b| {
        b.alerts(
            Alerts::new()
                .rule(Rule::failed_logins_per_ip())
                .webhook(Webhook::new(receiver.url("/alerts")).secret(SECRET)),
        )
    });
    logs.run(|| {
        for i in 0..6 {
            tracing_audit::login_failed!(user: format!("user{i}"), client_ip: "203.0.113.9", error: "bad password");
        }
        // Another address, under the threshold: no alert.
        for _ in 0..4 {
            tracing_audit::login_failed!(user: "bob", client_ip: "198.51.100.1");
        }
    });
    let call = wait_for("the webhook", || receiver.calls().into_iter().next());
    let login_ids: Vec<String> = logs
        .records(Kind::Login)
        .iter()
        .map(|r| r["event_id"].as_str().unwrap().to_owned())
        .collect();
    let Logs { guard, dir, .. } = logs;
    drop(guard); // evaluates everything queued, delivers what is pending

    // Exactly one call, once every record was evaluated.
    let calls = receiver.calls();
    assert_eq!(calls.len(), 1, "{calls:#?}");
    assert_eq!(call.path, "/alerts");

    // The signature is HMAC-SHA256 of the exact body, checked here
    // independently of the crate.
    let expected = format!("sha256={}", hmac_sha256_hex(SECRET.as_bytes(), &call.body));
    assert_eq!(call.header("x-signature"), Some(expected.as_str()));
    assert_eq!(call.header("content-type"), Some("application/json"));
    // A tampered body would not match.
    let mut tampered = call.body.clone();
    tampered[1] ^= 1;
    assert_ne!(
        expected,
        format!("sha256={}", hmac_sha256_hex(SECRET.as_bytes(), &tampered))
    );

    let payload = call.json();
    assert_eq!(payload["rule"], "failed_logins_per_ip");
    assert_eq!(payload["key"], "203.0.113.9");
    assert_eq!(payload["count"], 5);
    assert_eq!(payload["threshold"], 5);
    assert_eq!(payload["window_secs"], 60.0);
    assert_eq!(payload["service_name"], common::records::SERVICE);
    assert_eq!(call.header("x-alert-id"), payload["alert_id"].as_str());
    // The five records that made it, all in login.log (the first five).
    let ids: Vec<&str> = payload["event_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        login_ids[..5]
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    assert_eq!(payload["record"]["event_id"], login_ids[4].as_str());
    assert_eq!(payload["record"]["client_ip"], "203.0.113.9");

    // The audit.alert record, in audit.log, with the same alert id.
    let audit = common::records::read_records(&dir.path().join("audit.log"));
    let alerts: Vec<_> = audit
        .iter()
        .filter(|r| r["name"] == "audit.alert")
        .collect();
    assert_eq!(alerts.len(), 1, "{audit:#?}");
    let record = alerts[0];
    assert_eq!(record["level"], "AUDIT");
    assert_eq!(record["alert_id"], payload["alert_id"]);
    assert_eq!(record["rule"], "failed_logins_per_ip");
    assert_eq!(record["alert_key"], "203.0.113.9");
    assert_eq!(record["count"], 5);
    assert_eq!(record["event_ids"], payload["event_ids"]);
    assert_eq!(record["service_name"], common::records::SERVICE);
}

#[test]
fn a_receiver_failing_twice_still_gets_the_alert() {
    let receiver = Receiver::failing_first(2);
    let logs = Logs::with(|b| {
        b.alerts(
            Alerts::new()
                .rule(Rule::failed_logins_per_user().threshold(3))
                .webhook(
                    Webhook::new(receiver.url("/hook"))
                        .secret(SECRET)
                        .backoff(Duration::from_millis(20)),
                ),
        )
    });
    logs.run(|| {
        for _ in 0..3 {
            tracing_audit::login_failed!(user: "alice", client_ip: "192.0.2.1");
        }
    });
    let call = wait_for("the retried webhook", || {
        receiver.calls().into_iter().next()
    });
    assert_eq!(call.json()["key"], "alice");
    assert_eq!(receiver.attempts(), 3);
    let stats = wait_for("the delivery count", || {
        let s = logs.guard.alert_stats().unwrap();
        (s.delivered == 1).then_some(s)
    });
    assert_eq!(stats.retries, 2);
    assert_eq!(stats.deliveries_lost(), 0);
    assert_eq!(stats.alerts, 1);
}

#[test]
fn a_receiver_down_for_good_does_not_hold_the_application_and_losses_are_counted() {
    let logs = Logs::with(|b| {
        b.alerts(
            Alerts::new()
                .rule(Rule::failed_logins_per_ip().threshold(2))
                .webhook(
                    Webhook::new(dead_url())
                        .retries(2)
                        .backoff(Duration::from_millis(10))
                        .timeout(Duration::from_secs(2)),
                ),
        )
    });
    // Three addresses, three alerts: every call returns (the records are
    // written) although no delivery can succeed.
    logs.run(|| {
        for ip in ["192.0.2.1", "192.0.2.2", "192.0.2.3"] {
            for _ in 0..2 {
                tracing_audit::login_failed!(user: "x", client_ip: ip);
            }
        }
    });
    assert_eq!(logs.records(Kind::Login).len(), 6);
    let stats = wait_for("three given-up deliveries", || {
        let s = logs.guard.alert_stats().unwrap();
        (s.deliveries_failed == 3).then_some(s)
    });
    assert_eq!(stats.alerts, 3);
    assert_eq!(stats.delivered, 0);
    assert_eq!(stats.retries, 6, "two retries each");
    assert_eq!(stats.deliveries_lost(), 3);
    // The alert records are written all the same.
    let Logs { guard, dir, .. } = logs;
    drop(guard);
    let audit = common::records::read_records(&dir.path().join("audit.log"));
    let keys: HashSet<&str> = audit
        .iter()
        .filter(|r| r["name"] == "audit.alert")
        .map(|r| r["alert_key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, HashSet::from(["192.0.2.1", "192.0.2.2", "192.0.2.3"]));
}
