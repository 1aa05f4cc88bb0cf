//! Transactions: CRUD records are written only when the work they describe
//! commits, in order; rolled back or dropped, they are never written;
//! nested transactions hand their records to the outer one; login, API,
//! process and application records are written at once either way.
//!
//! Single-thread tests use a scoped default subscriber; the async test
//! installs the global default (the only one in this binary).

mod common;

use std::time::Duration;

use common::records::{check_envelope, read_records, Logs, Record};
use serde_json::json;
use tracing_audit::Kind;
use tracing_audit::Transaction;
use tracing_subscriber::layer::SubscriberExt;

fn ids(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["instance_id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_rolled_back_transaction_writes_no_crud_record() {
    let logs = Logs::new();
    logs.run(|| {
        tracing_audit::create!(model: "Order", id: "before");
        let tx = Transaction::begin();
        tx.in_scope(|| {
            tracing_audit::create!(model: "Order", id: "rolled-back-1");
            tracing_audit::update!(model: "Stock", id: "rolled-back-2");
            tracing_audit::bulk_delete!(model: "Cart", ids: ["rolled-back-3"]);
        });
        tx.rollback();
        tracing_audit::create!(model: "Order", id: "after");
    });
    assert_eq!(ids(&logs.records(Kind::Audit)), ["before", "after"]);
}

#[test]
fn a_transaction_dropped_without_commit_writes_no_crud_record() {
    let logs = Logs::new();
    logs.run(|| {
        {
            let tx = Transaction::begin();
            let _entered = tx.enter();
            tracing_audit::create!(model: "Order", id: "dropped");
        }
        // A transaction abandoned by an early return or a panic.
        let result = std::panic::catch_unwind(|| {
            let tx = Transaction::begin();
            tx.in_scope(|| {
                tracing_audit::create!(model: "Order", id: "panicked");
                panic!("the database call failed");
            });
            tx.commit();
        });
        assert!(result.is_err());
        tracing_audit::create!(model: "Order", id: "after");
    });
    assert_eq!(ids(&logs.records(Kind::Audit)), ["after"]);
}

#[test]
fn a_committed_transaction_writes_all_its_records_in_order_only_at_commit() {
    let mut logs = Logs::new();
    let tx = logs.run(|| {
        let request = tracing::info_span!("request", request_id = "r-1");
        let _r = request.enter();
        tracing_audit::set_user(7);
        let tx = Transaction::begin();
        tx.in_scope(|| {
            for n in 0..20 {
                tracing_audit::create!(model: "Line", id: n);
            }
            tracing::info_span!("inner step")
                .in_scope(|| tracing_audit::update!(model: "Order", id: 20));
        });
        tx
    });
    // Nothing is written before the commit.
    assert!(logs.take(Kind::Audit).is_empty());
    logs.run(|| {
        tracing_audit::create!(model: "Other", id: "outside");
        tx.commit();
    });
    let records: Vec<Record> = logs
        .take(Kind::Audit)
        .into_iter()
        .map(|l| l.record)
        .collect();
    let mut expected: Vec<String> = vec!["outside".to_owned()];
    expected.extend((0..=20).map(|n| n.to_string()));
    assert_eq!(ids(&records), expected);
    for r in &records[1..] {
        check_envelope(r, Some("AUDIT"));
        // The context is the one of the moment the record was made.
        assert_eq!(r["request_id"], "r-1", "{r:?}");
        assert_eq!(r["user_id"], "7", "{r:?}");
    }
    assert!(records[0].get("request_id").is_none());
    assert_eq!(records[21]["event_type"], "UPDATE");
}

#[test]
fn inner_commit_then_outer_rollback_writes_nothing() {
    let logs = Logs::new();
    logs.run(|| {
        let outer = Transaction::begin();
        outer.in_scope(|| {
            tracing_audit::create!(model: "Order", id: "outer");
            let inner = Transaction::begin();
            inner.in_scope(|| tracing_audit::create!(model: "Order", id: "inner"));
            inner.commit();
        });
        outer.rollback();
    });
    assert!(logs.records(Kind::Audit).is_empty());
}

#[test]
fn inner_rollback_then_outer_commit_writes_only_the_outer_records() {
    let logs = Logs::new();
    logs.run(|| {
        let outer = Transaction::begin();
        outer.in_scope(|| {
            tracing_audit::create!(model: "Order", id: "outer-1");
            let inner = Transaction::begin();
            inner.in_scope(|| tracing_audit::create!(model: "Order", id: "inner"));
            inner.rollback();
            tracing_audit::create!(model: "Order", id: "outer-2");
        });
        outer.commit();
    });
    assert_eq!(ids(&logs.records(Kind::Audit)), ["outer-1", "outer-2"]);
}

#[test]
fn inner_and_outer_commit_write_everything_in_order_at_the_outer_commit() {
    let mut logs = Logs::new();
    let outer = logs.run(|| {
        let outer = Transaction::begin();
        outer.in_scope(|| {
            tracing_audit::create!(model: "Order", id: "1");
            let inner = Transaction::begin();
            inner.in_scope(|| tracing_audit::create!(model: "Order", id: "2"));
            inner.commit();
            tracing_audit::create!(model: "Order", id: "3");
        });
        outer
    });
    assert!(
        logs.take(Kind::Audit).is_empty(),
        "written at the inner commit"
    );
    logs.run(|| outer.commit());
    let records: Vec<Record> = logs
        .take(Kind::Audit)
        .into_iter()
        .map(|l| l.record)
        .collect();
    assert_eq!(ids(&records), ["1", "2", "3"]);
}

#[test]
fn login_api_process_and_app_records_in_a_rolled_back_transaction_are_written() {
    let logs = Logs::new();
    logs.run(|| {
        let tx = Transaction::begin();
        tx.in_scope(|| {
            tracing_audit::login_failed!(user: "alice", error: "bad password");
            tracing::info!(target: "audit.request", status = 500u64, "POST /orders");
            tracing::info!(target: "audit.process", "payment started");
            tracing::warn!("payment failed");
            tracing_audit::create!(model: "Order", id: 1);
        });
        tx.rollback();
    });
    let login = logs.records(Kind::Login);
    assert_eq!(login.len(), 1);
    assert_eq!(login[0]["event"], "failed_login");
    let api = logs.records(Kind::Api);
    assert_eq!(api.len(), 1);
    assert_eq!(api[0]["extra"], json!({"status": 500}));
    let audit = logs.records(Kind::Audit);
    assert_eq!(audit.len(), 1, "only the process record: {audit:?}");
    assert_eq!(audit[0]["name"], "audit.process");
    assert_eq!(audit[0]["message"], "payment started");
    let app = logs.records(Kind::App);
    assert_eq!(app.len(), 1);
    assert_eq!(app[0]["message"], "payment failed");
}

#[test]
fn async_transactions_hold_records_across_awaits_and_threads() {
    let dir = tempfile::tempdir().unwrap();
    let (layer, guard) = tracing_audit::layer()
        .log_dir(dir.path())
        .app_filter("info")
        .build()
        .unwrap();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer)).unwrap();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut handles = Vec::new();
        for task in 0..16u32 {
            let request = tracing::info_span!("request", request_id = task);
            let fut = async move {
                let tx = Transaction::begin();
                tx.in_future(async {
                    for step in 0..4 {
                        tracing_audit::create!(model: "Task", id: format!("{task}:{step}"));
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        tokio::task::yield_now().await;
                    }
                })
                .await;
                if task % 2 == 0 {
                    tx.commit();
                } else {
                    tx.rollback();
                }
                // A spawned task inside a transaction belongs to it too.
                let tx = Transaction::begin();
                let inner = tokio::spawn(tx.in_future(async move {
                    tokio::task::yield_now().await;
                    tracing_audit::create!(model: "Task", id: format!("{task}:spawned"));
                }));
                inner.await.unwrap();
                if task % 2 == 0 {
                    tx.commit();
                }
            };
            handles.push(tokio::spawn(tracing::Instrument::instrument(fut, request)));
        }
        for h in handles {
            h.await.unwrap();
        }
    });
    drop(runtime);
    guard.flush().unwrap();

    let audit = read_records(guard.path(Kind::Audit).unwrap());
    let mut by_task: std::collections::BTreeMap<u32, Vec<String>> = Default::default();
    for r in &audit {
        check_envelope(r, Some("AUDIT"));
        let id = r["instance_id"].as_str().unwrap();
        let (task, step) = id.split_once(':').unwrap();
        let task: u32 = task.parse().unwrap();
        assert_eq!(r["request_id"], task.to_string(), "{r:?}");
        by_task.entry(task).or_default().push(step.to_owned());
    }
    let committed: Vec<u32> = (0..16).filter(|t| t % 2 == 0).collect();
    assert_eq!(by_task.keys().copied().collect::<Vec<_>>(), committed);
    for steps in by_task.values() {
        assert_eq!(steps, &["0", "1", "2", "3", "spawned"]);
    }
}

#[test]
fn records_made_in_a_finished_transactions_span_are_written_at_once() {
    let logs = Logs::new();
    logs.run(|| {
        let tx = Transaction::begin();
        let span = tx.span().clone();
        tx.in_scope(|| tracing_audit::create!(model: "Order", id: 1));
        tx.commit();
        // Late work still running in the transaction's span (a task that
        // outlived the commit, say) is not held by it any more.
        span.in_scope(|| tracing_audit::update!(model: "Order", id: 1));
        let tx = Transaction::begin();
        let span = tx.span().clone();
        tx.rollback();
        span.in_scope(|| tracing_audit::delete!(model: "Order", id: 2));
    });
    let audit = logs.records(Kind::Audit);
    let kinds: Vec<_> = audit.iter().map(|r| r["event_type"].clone()).collect();
    assert_eq!(kinds, [json!("CREATE"), json!("UPDATE"), json!("DELETE")]);
}

#[test]
fn a_transaction_of_unknown_outcome_writes_its_records_marked_once() {
    let logs = Logs::new();
    logs.run(|| {
        tracing_audit::create!(model: "Order", id: "plain");
        let outer = Transaction::begin();
        outer.in_scope(|| {
            tracing_audit::create!(model: "Order", id: "outer");
            // An inner one whose outcome is unknown hands its records,
            // marked, to the outer one; the outer one ends unknown too.
            let inner = Transaction::begin();
            inner.in_scope(|| {
                tracing_audit::update!(model: "Stock", id: "inner", extra: json!({"tx_outcome": "unknown"}));
            });
            inner.outcome_unknown();
        });
        outer.outcome_unknown();
        let committed = Transaction::begin();
        committed.in_scope(|| tracing_audit::create!(model: "Order", id: "committed"));
        committed.commit();
    });
    let lines = logs.lines(Kind::Audit);
    let records = logs.records(Kind::Audit);
    assert_eq!(ids(&records), ["plain", "outer", "inner", "committed"]);
    for r in &records {
        check_envelope(r, Some("AUDIT"));
    }
    assert!(records[0].get("tx_outcome").is_none());
    assert_eq!(records[1]["tx_outcome"], "unknown");
    assert_eq!(records[2]["tx_outcome"], "unknown");
    // Marked once, even through two transactions (and a caller's own
    // `extra` key of that name is no mark).
    assert_eq!(
        lines[2].text.matches("\"tx_outcome\"").count(),
        2,
        "{}",
        lines[2].text
    );
    assert_eq!(records[2]["extra"]["tx_outcome"], "unknown");
    assert!(records[3].get("tx_outcome").is_none());
}
