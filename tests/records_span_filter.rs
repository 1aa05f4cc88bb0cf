//! Which spans the audit layer's filter lets through: with the application
//! filter `off`, a span reaches the registry only if it declares a context
//! field, is a transaction, or the application filter (or another layer's
//! filter) wants it. Context, the user set by `set_user` and transactions
//! keep working.
//!
//! Every test uses a scoped default subscriber with its filter set
//! explicitly.

mod common;

use common::records::{read_records, Logs};
use tracing::field::Empty;
use tracing_audit::Kind;
use tracing_audit::Transaction;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

fn app_off() -> Logs {
    Logs::with(|b| b.app_filter("off").context_field("org"))
}

#[test]
fn with_the_app_filter_off_a_span_without_context_outside_any_span_is_not_made() {
    let logs = app_off();
    logs.run(|| {
        assert!(tracing::trace_span!("hot").is_disabled());
        assert!(tracing::info_span!("handler", path = "/").is_disabled());
        assert!(tracing::error_span!(target: "hyper::proto", "conn").is_disabled());
    });
}

#[test]
fn a_span_that_declares_a_context_field_or_is_a_transaction_is_made() {
    let logs = app_off();
    logs.run(|| {
        assert!(!tracing::trace_span!("r", request_id = "r-1").is_disabled());
        assert!(!tracing::trace_span!("t", tenant = "acme").is_disabled());
        assert!(!tracing::trace_span!("u", user_id = Empty).is_disabled());
        assert!(!tracing::trace_span!("i", user_info = Empty).is_disabled());
        // Declared with `context_field`.
        assert!(!tracing::trace_span!("o", org = 3).is_disabled());
        let tx = Transaction::begin();
        assert!(!tx.span().is_disabled());
        tx.rollback();
    });
}

#[test]
fn a_span_the_app_filter_enables_is_made() {
    let logs = Logs::with(|b| b.app_filter("off,billing=trace"));
    logs.run(|| {
        assert!(!tracing::trace_span!(target: "billing", "charge").is_disabled());
        assert!(tracing::trace_span!(target: "shipping", "pack").is_disabled());
    });
}

#[test]
fn records_in_a_span_left_out_take_the_context_of_the_spans_around_it() {
    let logs = app_off();
    let task = logs.run(|| {
        let request = tracing::info_span!("request", request_id = "r-7", tenant = "acme");
        let _request = request.enter();
        let step = tracing::trace_span!("step");
        assert!(
            step.is_disabled(),
            "no context field, the app filter is off"
        );
        step.in_scope(|| {
            // The request span is the current span: the user goes there.
            tracing_audit::set_user(7);
            tracing_audit::read!(model: "Doc", id: 1);
        });
        // What a task should be instrumented with.
        tracing::Span::current()
    });
    logs.run(|| {
        task.in_scope(|| tracing_audit::read!(model: "Doc", id: 2));
        tracing_audit::read!(model: "Doc", id: 3);
    });
    let audit = logs.records(Kind::Audit);
    assert_eq!(audit.len(), 3);
    for r in &audit[..2] {
        assert_eq!(r["request_id"], "r-7", "{r:?}");
        assert_eq!(r["tenant"], "acme", "{r:?}");
        assert_eq!(r["user_id"], "7", "{r:?}");
    }
    assert!(!audit[2].contains_key("request_id"), "{:?}", audit[2]);
    assert_eq!(audit[2]["user_id"], "");
}

#[test]
fn a_span_with_context_inside_a_span_left_out_has_the_spans_around_as_parents() {
    let logs = app_off();
    logs.run(|| {
        let request = tracing::info_span!("request", request_id = "r-3");
        let _request = request.enter();
        let step = tracing::debug_span!("step");
        assert!(step.is_disabled());
        let _step = step.enter();
        tracing::info_span!("tenant scope", tenant = "acme").in_scope(|| {
            tracing_audit::read!(model: "Doc", id: 1);
        });
    });
    let audit = logs.records(Kind::Audit);
    assert_eq!(audit[0]["request_id"], "r-3");
    assert_eq!(audit[0]["tenant"], "acme");
}

#[test]
fn set_user_in_a_top_level_span_that_declares_user_id_names_the_user() {
    let logs = app_off();
    logs.run(|| {
        let job = tracing::info_span!("job", user_id = Empty);
        job.in_scope(|| {
            tracing_audit::set_user_info(9, &serde_json::json!({"role": "batch"}));
            tracing::trace_span!("inner").in_scope(|| tracing_audit::read!(model: "Doc", id: 1));
        });
    });
    let audit = logs.records(Kind::Audit);
    assert_eq!(audit[0]["user_id"], "9");
    assert_eq!(audit[0]["user_info"], serde_json::json!({"role": "batch"}));
}

#[test]
fn transactions_work_with_the_app_filter_off_and_no_span_around_them() {
    let logs = app_off();
    logs.run(|| {
        let tx = Transaction::begin();
        tx.in_scope(|| {
            tracing::trace_span!("db").in_scope(|| tracing_audit::create!(model: "Order", id: 1));
        });
        let rolled_back = Transaction::begin();
        rolled_back.in_scope(|| tracing_audit::create!(model: "Order", id: 2));
        rolled_back.rollback();
        // Not written until the commit.
        assert!(read_records(&logs.path(Kind::Audit)).is_empty());
        tx.commit();
    });
    let audit = logs.records(Kind::Audit);
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["instance_id"], "1");
}

#[test]
fn a_span_only_another_layer_wants_is_made_and_skipped_by_the_audit_layer() {
    let dir = tempfile::tempdir().unwrap();
    let (audit, guard) = tracing_audit::layer()
        .log_dir(dir.path())
        .app_filter("off")
        .build()
        .unwrap();
    let console = tracing_subscriber::fmt::layer()
        .with_writer(std::io::sink)
        // Only its own target: the callsites of the other tests in this
        // binary, made while this subscriber exists, stay `never`.
        .with_filter(tracing_subscriber::filter::filter_fn(|meta| {
            meta.target() == "console"
        }));
    let subscriber = tracing_subscriber::registry().with(audit).with(console);
    tracing::subscriber::with_default(subscriber, || {
        let outer = tracing::trace_span!(target: "console", "outer");
        assert!(!outer.is_disabled(), "the console wants it");
        outer.in_scope(|| {
            tracing_audit::read!(model: "Doc", id: 1);
            tracing::info_span!("request", request_id = "r-1").in_scope(|| {
                tracing::trace_span!(target: "console", "inner").in_scope(|| {
                    tracing_audit::set_user(3);
                    tracing_audit::read!(model: "Doc", id: 2);
                });
            });
        });
    });
    guard.flush().unwrap();
    let records = read_records(guard.path(Kind::Audit).unwrap());
    assert_eq!(records.len(), 2);
    assert!(!records[0].contains_key("request_id"));
    assert_eq!(records[1]["request_id"], "r-1");
    assert_eq!(records[1]["user_id"], "3");
}
