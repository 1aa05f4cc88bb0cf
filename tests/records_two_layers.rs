//! Two audit layers in one subscriber (`registry().with(a).with(b)`), each
//! built by `layer()…build()` with its own directory: no panic, and each
//! writes every record to its own files, with the span context, the user
//! set by `set_user` and the transactions' records, as if it were alone.

mod common;

use common::records::{read_records, Record};
use serde_json::json;
use tracing_audit::redact::Policy;
use tracing_audit::Kind;
use tracing_audit::{AuditGuard, Transaction};
use tracing_subscriber::layer::SubscriberExt;

fn ids(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["instance_id"].as_str().unwrap().to_owned())
        .collect()
}

fn records(guard: &AuditGuard, kind: Kind) -> Vec<Record> {
    guard.flush().unwrap();
    read_records(guard.path(kind).unwrap())
}

#[test]
fn two_audit_layers_in_one_subscriber_each_write_every_record_with_its_context() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, guard_a) = tracing_audit::layer()
        .log_dir(dir_a.path())
        .app_filter("info")
        .context_field("org")
        .build()
        .unwrap();
    // The second layer: another directory, a redaction policy that also
    // masks `email`, and a context field of its own.
    let (b, guard_b) = tracing_audit::layer()
        .log_dir(dir_b.path())
        .app_filter("info")
        .context_field("shard")
        .redaction(Policy::default().with_key("email"))
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(a).with(b);
    tracing::subscriber::with_default(subscriber, || {
        let request = tracing::info_span!("request", request_id = "r-1", org = "o-1", shard = 3);
        let _request = request.enter();
        tracing_audit::set_user_info(7, &json!({"email": "a@b.c"}));
        tracing::info_span!("handler").in_scope(|| {
            tracing_audit::create!(model: "Order", id: "direct");
            let committed = Transaction::begin();
            committed.in_scope(|| {
                tracing_audit::create!(model: "Order", id: "committed");
                let nested = Transaction::begin();
                nested.in_scope(|| tracing_audit::update!(model: "Stock", id: "nested"));
                nested.commit();
            });
            committed.commit();
            let rolled_back = Transaction::begin();
            rolled_back.in_scope(|| tracing_audit::delete!(model: "Order", id: "rolled-back"));
            rolled_back.rollback();
            tracing_audit::login!(client_ip: "203.0.113.9");
            tracing::info!("app record");
        });
    });

    for (name, guard) in [("a", &guard_a), ("b", &guard_b)] {
        let audit = records(guard, Kind::Audit);
        assert_eq!(
            ids(&audit),
            ["direct", "committed", "nested"],
            "layer {name}"
        );
        let login = records(guard, Kind::Login);
        assert_eq!(login.len(), 1, "layer {name}: {login:?}");
        let app = records(guard, Kind::App);
        assert_eq!(app.len(), 1, "layer {name}: {app:?}");
        for r in audit.iter().chain(&login).chain(&app) {
            assert_eq!(r["request_id"], "r-1", "layer {name}: {r:?}");
            assert_eq!(r["user_id"], "7", "layer {name}: {r:?}");
        }
    }
    // Each layer renders the context as it would alone: its own context
    // fields, its own redaction.
    let (audit_a, audit_b) = (
        records(&guard_a, Kind::Audit),
        records(&guard_b, Kind::Audit),
    );
    for r in &audit_a {
        assert_eq!(r["org"], "o-1", "{r:?}");
        assert!(!r.contains_key("shard"), "{r:?}");
        assert_eq!(r["user_info"], json!({"email": "a@b.c"}), "{r:?}");
    }
    for r in &audit_b {
        assert_eq!(r["shard"], "3", "{r:?}");
        assert!(!r.contains_key("org"), "{r:?}");
        assert_eq!(r["user_info"], json!({"email": "[REDACTED]"}), "{r:?}");
    }
}

#[test]
fn two_audit_layers_with_the_same_settings_write_the_same_records() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, guard_a) = tracing_audit::layer()
        .log_dir(dir_a.path())
        .build()
        .unwrap();
    let (b, guard_b) = tracing_audit::layer()
        .log_dir(dir_b.path())
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(a).with(b);
    tracing::subscriber::with_default(subscriber, || {
        for i in 0..100 {
            tracing::info_span!("request", request_id = i, tenant = "acme").in_scope(|| {
                tracing_audit::read!(model: "Doc", id: i);
            });
        }
    });
    let strip = |mut r: Record| {
        r.remove("timestamp");
        r.remove("event_id");
        r
    };
    let a: Vec<_> = records(&guard_a, Kind::Audit)
        .into_iter()
        .map(strip)
        .collect();
    let b: Vec<_> = records(&guard_b, Kind::Audit)
        .into_iter()
        .map(strip)
        .collect();
    assert_eq!(a.len(), 100);
    assert_eq!(a, b);
    assert_eq!(a[42]["request_id"], "42");
}
