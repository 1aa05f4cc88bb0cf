//! The built-in rules and the per-rule actions: a webhook on every DELETE
//! of one model, the 5xx rate over real requests, a user predicate with a
//! callback.
#![cfg(feature = "alert")]

mod alert_support;
mod common;
#[cfg(feature = "axum")]
mod http_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use alert_support::{wait_for, Receiver};
use common::records::Logs;
use tracing_audit::alert::{Alert, Alerts, Rule, Webhook};

#[test]
fn a_delete_of_invoice_triggers_its_webhook_a_delete_of_product_does_not() {
    let receiver = Receiver::start();
    let logs = Logs::with(|b| {
        b.alerts(
            Alerts::new()
                .rule(Rule::deleted("Invoice").webhook(Webhook::new(receiver.url("/invoices"))))
                .rule(Rule::deleted("Order")),
        )
    });
    logs.run(|| {
        tracing_audit::delete!(model: "Product", id: 8);
        tracing_audit::delete!(model: "Invoice", id: 7);
        tracing_audit::update!(model: "Invoice", id: 7, changes: tracing_audit::Changes::new().with("total", 1, 2));
        tracing_audit::delete!(model: "Invoices", id: 9);
        tracing_audit::bulk_delete!(model: "Invoice", ids: [10, 11]);
        tracing_audit::delete!(model: "Product", id: 12);
        tracing_audit::delete!(model: "Order", id: 13);
    });
    let Logs { guard, dir, .. } = logs;
    drop(guard); // every record evaluated, every delivery made
    let calls = receiver.calls();
    let mut seen: Vec<(String, String, String)> = calls
        .iter()
        .map(|c| {
            let p = c.json();
            assert_eq!(c.path, "/invoices");
            assert_eq!(p["rule"], "deleted:Invoice");
            assert_eq!(p["record"]["model"], "Invoice");
            (
                p["record"]["event_type"].as_str().unwrap().to_owned(),
                p["message"].as_str().unwrap().to_owned(),
                p["record"]["instance_id"].to_string(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(seen.len(), 2, "{calls:#?}");
    assert_eq!(seen[0].0, "BULK_DELETE");
    assert_eq!(
        seen[1],
        (
            "DELETE".into(),
            "DELETE of Invoice (id: 7)".into(),
            "\"7\"".into()
        )
    );
    // The Order rule has no webhook of its own: its alert is a record only.
    let audit = common::records::read_records(&dir.path().join("audit.log"));
    let rules: Vec<&str> = audit
        .iter()
        .filter(|r| r["name"] == "audit.alert")
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules.iter().filter(|r| **r == "deleted:Invoice").count(), 2);
    assert_eq!(rules.iter().filter(|r| **r == "deleted:Order").count(), 1);
    assert_eq!(rules.len(), 3, "{rules:?}");
}

#[test]
fn a_predicate_rule_calls_back_with_the_matching_record_only() {
    let got: Arc<Mutex<Vec<Alert>>> = Arc::default();
    let kept = Arc::clone(&got);
    let logins: Arc<Mutex<Vec<Alert>>> = Arc::default();
    let kept_logins = Arc::clone(&logins);
    let logs = Logs::with(|b| {
        b.alerts(
            Alerts::new()
                .rule(
                    Rule::matching("big refund", |r| {
                        r.str("model") == Some("Refund")
                            && r.f64("extra.amount").is_some_and(|a| a > 1000.0)
                    })
                    .callback(move |a| kept.lock().unwrap().push(a.clone())),
                )
                // Reads login records only.
                .rule(
                    Rule::matching("anything", |_| true)
                        .target("audit.login")
                        .callback(move |a| kept_logins.lock().unwrap().push(a.clone())),
                ),
        )
    });
    logs.run(|| {
        tracing_audit::login!(user: "root");
        tracing_audit::create!(model: "Refund", id: 1, extra: serde_json::json!({"amount": 20}));
        tracing_audit::create!(model: "Refund", id: 2, extra: serde_json::json!({"amount": 5000}));
        tracing_audit::create!(model: "Payment", id: 3, extra: serde_json::json!({"amount": 9000}));
        tracing::info!(amount = 99999, "not a refund");
    });
    let alert = wait_for("the callback", || got.lock().unwrap().first().cloned());
    assert_eq!(alert.rule, "big refund");
    assert_eq!(alert.record["instance_id"], "2");
    assert_eq!(alert.key, alert.record["event_id"].as_str().unwrap());
    let Logs { guard, .. } = logs;
    let stats = guard.alert_stats().unwrap();
    drop(guard);
    assert_eq!(got.lock().unwrap().len(), 1);
    assert_eq!(stats.rule_panics, 0);
    let logins = logins.lock().unwrap();
    assert_eq!(logins.len(), 1, "{logins:#?}");
    assert_eq!(logins[0].record["name"], "audit.login");
}

#[cfg(feature = "axum")]
#[test]
fn the_5xx_rate_over_real_requests_alerts_once_per_window() {
    use axum::http::StatusCode;
    use axum::routing::get;
    use tracing_audit::http::AuditLayer;

    let got: Arc<Mutex<Vec<Alert>>> = Arc::default();
    let kept = Arc::clone(&got);
    let logs = Logs::with(|b| {
        b.alerts(
            Alerts::new()
                .rule(
                    Rule::server_errors(0.25)
                        .min_requests(10)
                        .window(Duration::from_secs(600)),
                )
                .callback(move |a| kept.lock().unwrap().push(a.clone())),
        )
    });
    let app = axum::Router::new()
        .route("/ok", get(|| async { "fine" }))
        .route("/fail", get(|| async { StatusCode::SERVICE_UNAVAILABLE }))
        .layer(AuditLayer::new());
    let server = http_support::Server::start(logs, app);
    // 8 good answers, then failures: the rate passes 25 % at the third
    // failure of 11 requests; the rest of the window stays quiet.
    server.run(async {
        for _ in 0..8 {
            server.client.get(server.url("/ok")).send().await.unwrap();
        }
        for _ in 0..12 {
            let r = server.client.get(server.url("/fail")).send().await.unwrap();
            assert_eq!(r.status(), 503);
        }
    });
    server.wait_records(20);
    let alert = wait_for("the 5xx alert", || got.lock().unwrap().first().cloned());
    assert_eq!(alert.rule, "server_errors");
    assert_eq!(alert.key, "service");
    assert_eq!(alert.count, 3);
    assert_eq!(alert.record["response_repr"]["status_code"], 503);
    assert_eq!(
        alert.message,
        "3 of 11 requests answered 5xx within 600 s (over 25.0 %)"
    );
    let http_support::Server { logs, .. } = server;
    let Logs { guard, .. } = logs;
    drop(guard);
    assert_eq!(got.lock().unwrap().len(), 1);
}

/// Alerts collected by a callback.
fn collected() -> (Arc<Mutex<Vec<Alert>>>, impl Fn(&Alert) + Send + Sync) {
    let got: Arc<Mutex<Vec<Alert>>> = Arc::default();
    let kept = Arc::clone(&got);
    (got, move |a: &Alert| kept.lock().unwrap().push(a.clone()))
}

#[test]
fn a_delete_held_by_a_transaction_alerts_once_committed_and_never_if_rolled_back() {
    let (got, callback) = collected();
    let logs = Logs::with(|b| {
        b.alerts(
            Alerts::new()
                .rule(Rule::deleted("Invoice"))
                .callback(callback),
        )
    });
    logs.run(|| {
        let tx = tracing_audit::Transaction::begin();
        tx.in_scope(|| tracing_audit::delete!(model: "Invoice", id: "committed"));
        tx.commit();
        let tx = tracing_audit::Transaction::begin();
        tx.in_scope(|| tracing_audit::delete!(model: "Invoice", id: "rolled-back"));
        tx.rollback();
        // The word is in the line, not in the event type: read, no alert.
        let changes = tracing_audit::Changes::new().with("status", "DELETE", "kept");
        tracing_audit::update!(model: "Invoice", id: "updated", changes: changes);
    });
    let Logs { guard, .. } = logs;
    // Every record evaluated, every callback run.
    let seen = guard.shutdown().alerts.unwrap().records_seen;
    let ids: Vec<String> = got
        .lock()
        .unwrap()
        .iter()
        .map(|a| a.record["instance_id"].to_string())
        .collect();
    assert_eq!(ids, ["\"committed\""]);
    // The committed delete and the update that mentions DELETE; the other
    // records were passed over on the caller's thread.
    assert_eq!(seen, 2);
}

#[test]
fn a_predicate_on_an_application_target_reads_that_target_only() {
    let (got, callback) = collected();
    let logs = Logs::with(|b| {
        b.alerts(
            Alerts::new()
                .rule(
                    Rule::matching("job failed", |r| r.str("level") == Some("ERROR"))
                        .target("jobs"),
                )
                .callback(callback),
        )
    });
    logs.run(|| {
        tracing::error!(target: "jobs", "nightly export failed");
        tracing::error!(target: "web", "not a job");
        tracing::info!(target: "jobs", "nightly export started");
    });
    let Logs { guard, .. } = logs;
    drop(guard);
    let got = got.lock().unwrap();
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].record["name"], "jobs");
    assert_eq!(got[0].record["message"], "nightly export failed");
}
