//! Two audit layers composed in the other ways `tracing-subscriber` offers
//! (`a.and_then(b)`, a `Vec<Box<dyn Layer>>`): no panic, and every layer
//! writes every committed transaction record and gets the user set by
//! `set_user`.

mod common;

use common::records::{read_records, Record};
use serde_json::json;
use tracing_audit::Kind;
use tracing_audit::{AuditGuard, Transaction};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{Layer, Registry};

fn records(guard: &AuditGuard, kind: Kind) -> Vec<Record> {
    guard.flush().unwrap();
    read_records(guard.path(kind).unwrap())
}

fn two() -> (
    (tempfile::TempDir, tempfile::TempDir),
    tracing_audit::FilteredAuditLayer<Registry>,
    AuditGuard,
    tracing_audit::FilteredAuditLayer<Registry>,
    AuditGuard,
) {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, guard_a) = tracing_audit::layer()
        .log_dir(dir_a.path())
        .app_filter("off")
        .build()
        .unwrap();
    let (b, guard_b) = tracing_audit::layer()
        .log_dir(dir_b.path())
        .app_filter("off")
        .build()
        .unwrap();
    ((dir_a, dir_b), a, guard_a, b, guard_b)
}

fn workload() {
    let request = tracing::info_span!("request", request_id = "r-1");
    let _request = request.enter();
    tracing_audit::set_user_info(7, &json!({"name": "alice"}));
    tracing_audit::create!(model: "Order", id: "direct");
    let tx = Transaction::begin();
    tx.in_scope(|| tracing_audit::create!(model: "Order", id: "committed"));
    tx.commit();
    let tx = Transaction::begin();
    tx.in_scope(|| tracing_audit::create!(model: "Order", id: "rolled-back"));
    tx.rollback();
}

fn check(name: &str, guard: &AuditGuard) {
    let audit = records(guard, Kind::Audit);
    let ids: Vec<&str> = audit
        .iter()
        .map(|r| r["instance_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["direct", "committed"], "layer {name}: {audit:?}");
    for r in &audit {
        assert_eq!(r["request_id"], "r-1", "layer {name}: {r:?}");
        assert_eq!(r["user_id"], "7", "layer {name}: {r:?}");
        assert_eq!(
            r["user_info"],
            json!({"name": "alice"}),
            "layer {name}: {r:?}"
        );
    }
}

#[test]
fn two_audit_layers_joined_with_and_then_each_get_the_user_and_the_transactions() {
    let (_dirs, a, guard_a, b, guard_b) = two();
    let subscriber = tracing_subscriber::registry().with(a.and_then(b));
    tracing::subscriber::with_default(subscriber, workload);
    check("a", &guard_a);
    check("b", &guard_b);
}

#[test]
fn two_audit_layers_in_a_vec_each_get_the_user_and_the_transactions() {
    let (_dirs, a, guard_a, b, guard_b) = two();
    let layers: Vec<Box<dyn Layer<Registry> + Send + Sync>> = vec![Box::new(a), Box::new(b)];
    let subscriber = tracing_subscriber::registry().with(layers);
    tracing::subscriber::with_default(subscriber, workload);
    check("a", &guard_a);
    check("b", &guard_b);
}

#[test]
fn an_audit_layer_wrapped_in_an_option_and_a_second_one_both_work() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, guard_a) = tracing_audit::layer()
        .log_dir(dir_a.path())
        .app_filter("off")
        .build()
        .unwrap();
    let (b, guard_b) = tracing_audit::layer()
        .log_dir(dir_b.path())
        .app_filter("off")
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(Some(a)).with(b);
    tracing::subscriber::with_default(subscriber, workload);
    check("a", &guard_a);
    check("b", &guard_b);
}

/// The span that holds the user declares `user_id` but gives no value.
fn workload_empty_user_span() {
    let span = tracing::info_span!("session", user_id = tracing::field::Empty);
    let _span = span.enter();
    tracing_audit::set_user_info(7, &json!({"name": "alice"}));
    tracing_audit::create!(model: "Order", id: "direct");
    let tx = Transaction::begin();
    tx.in_scope(|| tracing_audit::create!(model: "Order", id: "committed"));
    tx.commit();
}

fn check_user(name: &str, guard: &AuditGuard) {
    let audit = records(guard, Kind::Audit);
    assert_eq!(audit.len(), 2, "layer {name}: {audit:?}");
    for r in &audit {
        assert_eq!(r["user_id"], "7", "layer {name}: {r:?}");
    }
}

#[test]
fn set_user_on_a_span_declaring_an_empty_user_id_reaches_both_layers_of_a_vec() {
    let (_dirs, a, guard_a, b, guard_b) = two();
    let layers: Vec<Box<dyn Layer<Registry> + Send + Sync>> = vec![Box::new(a), Box::new(b)];
    let subscriber = tracing_subscriber::registry().with(layers);
    tracing::subscriber::with_default(subscriber, workload_empty_user_span);
    check_user("a", &guard_a);
    check_user("b", &guard_b);
}

#[test]
fn set_user_on_a_span_declaring_an_empty_user_id_reaches_both_layers_of_and_then() {
    let (_dirs, a, guard_a, b, guard_b) = two();
    let subscriber = tracing_subscriber::registry().with(a.and_then(b));
    tracing::subscriber::with_default(subscriber, workload_empty_user_span);
    check_user("a", &guard_a);
    check_user("b", &guard_b);
}

struct Boom;

impl serde::Serialize for Boom {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        panic!("boom in user_info")
    }
}

impl std::fmt::Display for Boom {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        panic!("boom in user_id")
    }
}

#[test]
fn panics_in_set_user_and_in_a_transaction_with_two_layers_lose_nothing() {
    let (_dirs, a, guard_a, b, guard_b) = two();
    let layers: Vec<Box<dyn Layer<Registry> + Send + Sync>> = vec![Box::new(a), Box::new(b)];
    let subscriber = tracing_subscriber::registry().with(layers);
    tracing::subscriber::with_default(subscriber, || {
        let request = tracing::info_span!("request", request_id = "r-1");
        let _request = request.enter();
        tracing_audit::set_user_info(Boom, &Boom);
        let tx = Transaction::begin();
        tx.in_scope(|| {
            tracing_audit::set_user_info(Boom, &Boom);
            tracing_audit::create!(model: Boom, id: Boom, instance: Boom, user_info: Boom);
        });
        tx.commit();
        tracing_audit::create!(model: "Order", id: "after");
    });
    for (name, guard) in [("a", &guard_a), ("b", &guard_b)] {
        let audit = records(guard, Kind::Audit);
        assert_eq!(audit.len(), 2, "layer {name}: {audit:?}");
        for r in &audit {
            assert_eq!(r["request_id"], "r-1", "layer {name}: {r:?}");
            let user = r["user_id"].as_str().unwrap();
            assert!(
                user.contains("[panicked: boom in user_id]"),
                "layer {name}: {r:?}"
            );
        }
        assert_eq!(audit[1]["instance_id"], "after");
    }
}

#[test]
fn set_user_in_a_span_only_the_inner_layer_has_a_context_field_for() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, guard_a) = tracing_audit::layer()
        .log_dir(dir_a.path())
        .app_filter("off")
        .context_field("org")
        .build()
        .unwrap();
    let (b, guard_b) = tracing_audit::layer()
        .log_dir(dir_b.path())
        .app_filter("off")
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(a).with(b);
    tracing::subscriber::with_default(subscriber, || {
        // Only layer `a` declares `org`: the outer layer `b` leaves the
        // span out.
        tracing::info_span!("job", org = "o-1").in_scope(|| {
            tracing_audit::set_user(5);
            tracing_audit::read!(model: "Doc", id: 1);
        });
    });
    let audit = records(&guard_a, Kind::Audit);
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["org"], "o-1");
    assert_eq!(audit[0]["user_id"], "5", "{:?}", audit[0]);
    assert_eq!(records(&guard_b, Kind::Audit).len(), 1);
}

#[test]
fn two_audit_layers_writing_into_the_same_directory_tear_no_line() {
    let dir = tempfile::tempdir().unwrap();
    let builder = || {
        tracing_audit::layer()
            .log_dir(dir.path())
            .app_filter("off")
            .max_file_size(None)
    };
    let (a, guard_a) = builder().build().unwrap();
    let (b, guard_b) = builder().build().unwrap();
    let subscriber = tracing_subscriber::registry().with(a).with(b);
    tracing::subscriber::with_default(subscriber, || {
        for i in 0..20_000 {
            tracing_audit::create!(model: "Order", id: i, extra: json!({"pad": "x".repeat(i % 300)}));
        }
    });
    drop(guard_a);
    drop(guard_b);
    // The strict reader refuses a torn line.
    let audit = read_records(&dir.path().join(Kind::Audit.file_name()));
    assert_eq!(audit.len(), 40_000);
}
