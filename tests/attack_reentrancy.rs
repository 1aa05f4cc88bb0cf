//! A `Serialize` impl that makes records of its own (and opens and commits
//! a transaction, and calls `set_user`) while the crate formats a record,
//! then panics: neither the inner records nor the outer one is lost, no
//! deadlock, the thread keeps working. Under a global subscriber, where
//! `tracing` does not drop events made inside another (a scoped one,
//! `with_default`, does: `tracing-core`'s behaviour, not the crate's).

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::records::{Logs, Record};
use serde::{Serialize, Serializer};
use serde_json::Value;
use tracing_audit::Kind;
use tracing_audit::Transaction;

/// Makes records of its own, then panics: reentrancy.
struct Reenter;

impl Serialize for Reenter {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        tracing_audit::create!(model: "Inner", id: 1);
        tracing::info!("inner app record");
        tracing_audit::login!(user: "inner");
        panic!("after inner records")
    }
}

/// Opens, fills and commits a transaction of its own, then panics.
struct ReenterTx;

impl Serialize for ReenterTx {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        let tx = Transaction::begin();
        tx.in_scope(|| tracing_audit::create!(model: "InnerTx", id: 1));
        tx.commit();
        tracing_audit::set_user("inner-user");
        panic!("after an inner transaction")
    }
}

/// Calls `set_user` and makes a record from inside `set_user`'s own
/// rendering of the user's details, then panics.
struct ReenterSetUser;

impl Serialize for ReenterSetUser {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        tracing_audit::set_user("nested");
        tracing_audit::create!(model: "InnerSetUser", id: 1);
        panic!("after a nested set_user")
    }
}

/// A span value whose `Debug` makes a record and sets the user.
struct ReenterDebug;

impl std::fmt::Debug for ReenterDebug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        tracing_audit::set_user("from-debug");
        tracing_audit::create!(model: "InnerDebug", id: 1);
        f.write_str("t-1")
    }
}

fn has_marker(v: &Value, what: &str) -> bool {
    match v {
        Value::String(s) => s.contains("[panicked: ") && s.contains(what),
        Value::Array(a) => a.iter().any(|v| has_marker(v, what)),
        Value::Object(o) => o.values().any(|v| has_marker(v, what)),
        _ => false,
    }
}

fn models(records: &[Record]) -> Vec<&str> {
    let mut m: Vec<&str> = records
        .iter()
        .map(|r| r["model"].as_str().unwrap())
        .collect();
    m.sort();
    m
}

#[test]
fn a_serialize_that_makes_records_or_transactions_then_panics_loses_nothing() {
    let mut logs = Logs::with(|b| b.max_line_bytes(4096));
    tracing::dispatcher::set_global_default(logs.dispatch.clone()).unwrap();

    // Records made inside, then a panic.
    tracing::info_span!("request", request_id = "r-1").in_scope(|| {
        tracing_audit::create!(model: "Outer", id: 1, instance: Reenter);
        let tx = Transaction::begin();
        tx.in_scope(|| tracing_audit::create!(model: "OuterTx", id: 2, extra: Reenter));
        tx.commit();
    });
    let audit: Vec<Record> = logs
        .take(Kind::Audit)
        .into_iter()
        .map(|l| l.record)
        .collect();
    assert_eq!(
        models(&audit),
        ["Inner", "Inner", "Outer", "OuterTx"],
        "{audit:?}"
    );
    for r in &audit {
        assert_eq!(r["request_id"], "r-1", "{r:?}");
    }
    let outer: Vec<&Record> = audit.iter().filter(|r| r["model"] != "Inner").collect();
    assert!(outer
        .iter()
        .all(|r| has_marker(&Value::Object((*r).clone()), "after inner records")));
    assert_eq!(logs.take(Kind::Login).len(), 2);
    assert_eq!(logs.take(Kind::App).len(), 2);

    // A transaction opened and committed inside, inside a transaction; on
    // a thread of its own: a deadlock on a span's data would hang.
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let request = tracing::info_span!("request", request_id = "r-2");
        let _request = request.enter();
        let tx = Transaction::begin();
        tx.in_scope(|| tracing_audit::create!(model: "Outer", id: 1, instance: ReenterTx));
        tx.commit();
        tracing_audit::create!(model: "Direct", id: 2, instance: ReenterTx);
        done_tx.send(()).unwrap();
    });
    done_rx
        .recv_timeout(Duration::from_secs(120))
        .expect("deadlocked (or panicked) in a reentrant transaction");
    let audit: Vec<Record> = logs
        .take(Kind::Audit)
        .into_iter()
        .map(|l| l.record)
        .collect();
    assert_eq!(
        models(&audit),
        ["Direct", "InnerTx", "InnerTx", "Outer"],
        "{audit:?}"
    );

    // `set_user` whose details' Serialize calls `set_user` and makes a
    // record; a span value whose Debug does the same.
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let request = tracing::info_span!("request", request_id = "r-3");
        let _request = request.enter();
        tracing_audit::set_user_info("outer", &ReenterSetUser);
        tracing_audit::create!(model: "AfterSetUser", id: 2);
        let tenant = tracing::info_span!("tenant", tenant = ?ReenterDebug);
        tenant.in_scope(|| tracing_audit::create!(model: "InTenant", id: 3));
        done_tx.send(()).unwrap();
    });
    done_rx
        .recv_timeout(Duration::from_secs(120))
        .expect("deadlocked (or panicked) in a reentrant set_user");
    let audit: Vec<Record> = logs
        .take(Kind::Audit)
        .into_iter()
        .map(|l| l.record)
        .collect();
    assert_eq!(
        models(&audit),
        ["AfterSetUser", "InTenant", "InnerDebug", "InnerSetUser"],
        "{audit:?}"
    );
    let after = audit.iter().find(|r| r["model"] == "AfterSetUser").unwrap();
    assert_eq!(after["user_id"], "outer", "{after:?}");
    assert!(
        has_marker(&after["user_info"], "after a nested set_user"),
        "{after:?}"
    );
    let in_tenant = audit.iter().find(|r| r["model"] == "InTenant").unwrap();
    assert_eq!(in_tenant["tenant"], "t-1", "{in_tenant:?}");

    // The thread keeps working.
    for i in 0..1000 {
        tracing_audit::create!(model: "After", id: i);
    }
    let after = logs.take(Kind::Audit);
    assert_eq!(after.len(), 1000);
    assert!(after.iter().all(|l| l.record["message"].is_string()));
}
