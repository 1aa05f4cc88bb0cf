//! Panics in the caller's code where an attacker would put them: while a
//! transaction is open, inside `set_user`, in a span value recorded later,
//! with a huge or non-string payload (reentrant ones are in
//! `attack_reentrancy.rs`, under a global subscriber). Every record is
//! written, every line is valid, the caller is not unwound, and the thread
//! keeps working.

mod common;

use std::fmt;

use common::records::{check_envelope, excerpt, Logs};
use serde::{Serialize, Serializer};
use serde_json::Value;
use tracing_audit::Kind;
use tracing_audit::Transaction;

struct Boom(&'static str);

impl fmt::Display for Boom {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("{}", self.0)
    }
}

impl fmt::Debug for Boom {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("{}", self.0)
    }
}

impl Serialize for Boom {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        panic!("{}", self.0)
    }
}

/// Panics with a payload that is not a string.
struct BoomAny;

impl Serialize for BoomAny {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        std::panic::panic_any(42u32)
    }
}

/// Panics with a 4 MB message full of JSON's special characters.
struct BoomHuge;

impl fmt::Display for BoomHuge {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("{}", "\"\\\n\u{0}é".repeat(800_000))
    }
}

fn logs() -> Logs {
    Logs::with(|b| b.max_line_bytes(4096))
}

/// Makes records on the thread and checks none of them is broken.
fn afterwards(logs: &mut Logs) {
    logs.take(Kind::Audit);
    logs.take(Kind::App);
    logs.run(|| {
        for i in 0..1000 {
            tracing_audit::create!(model: "After", id: i);
            tracing::info!(i, "after");
        }
    });
    let audit = logs.take(Kind::Audit);
    let app = logs.take(Kind::App);
    assert_eq!(audit.len(), 1000);
    assert_eq!(app.len(), 1000);
    for (i, l) in audit.iter().enumerate() {
        assert_eq!(l.record["instance_id"], i.to_string());
        assert!(l.record["message"].is_string());
    }
    for l in &app {
        assert_eq!(l.record["message"], "after", "{}", l.text);
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

#[test]
fn panics_while_a_transaction_is_open_and_in_set_user_lose_no_record() {
    let mut logs = logs();
    logs.run(|| {
        let request = tracing::info_span!("request", request_id = "r-1");
        let _request = request.enter();
        let tx = Transaction::begin();
        tx.in_scope(|| {
            tracing_audit::set_user_info(Boom("user id"), &Boom("user info"));
            tracing_audit::create!(model: "Doc", id: 1, instance: Boom("instance"));
            tracing_audit::update!(model: Boom("model"), id: Boom("id"), user: Boom("user"));
            tracing_audit::delete!(model: "Doc", id: 3, extra: BoomAny);
        });
        tx.commit();
        tracing_audit::set_user_info(7, &BoomAny);
        tracing_audit::read!(model: "Doc", id: 4);
    });
    let audit = logs.records(Kind::Audit);
    assert_eq!(audit.len(), 4, "{audit:?}");
    for r in &audit {
        check_envelope(r, Some("AUDIT"));
    }
    assert!(
        has_marker(&audit[0]["user_id"], "user id"),
        "{:?}",
        audit[0]
    );
    assert!(
        has_marker(&audit[0]["user_info"], "user info"),
        "{:?}",
        audit[0]
    );
    // A snapshot that cannot be serialized is written as `instance_repr`.
    assert!(
        has_marker(&audit[0]["instance_repr"], "instance"),
        "{:?}",
        audit[0]
    );
    assert!(has_marker(&audit[1]["model"], "model"), "{:?}", audit[1]);
    assert!(
        has_marker(&audit[2]["extra"], "not a string"),
        "{:?}",
        audit[2]
    );
    assert_eq!(audit[3]["user_id"], "7");
    assert!(
        has_marker(&audit[3]["user_info"], "not a string"),
        "{:?}",
        audit[3]
    );
    afterwards(&mut logs);
}

#[test]
fn a_huge_panic_message_is_cut_and_the_line_fits() {
    let mut logs = logs();
    logs.run(|| {
        tracing_audit::create!(model: "Doc", id: BoomHuge);
        tracing::info!(v = %BoomHuge, "app");
        tracing_audit::login!(user: BoomHuge, error: BoomHuge);
        tracing::info_span!("r", request_id = %BoomHuge).in_scope(|| {
            tracing_audit::read!(model: "Doc", id: 2);
        });
    });
    for kind in [Kind::Audit, Kind::App, Kind::Login] {
        for l in logs.lines(kind) {
            assert!(l.text.len() < 4096, "{kind:?}: {}", excerpt(&l.text));
        }
    }
    assert_eq!(logs.records(Kind::Audit).len(), 2);
    assert_eq!(logs.records(Kind::Login).len(), 1);
    afterwards(&mut logs);
}

#[test]
fn a_span_value_recorded_later_that_panics_does_not_reach_the_caller() {
    let mut logs = logs();
    logs.run(|| {
        let span = tracing::info_span!("s", user_id = tracing::field::Empty, request_id = "r");
        let _span = span.enter();
        span.record("user_id", tracing::field::debug(Boom("recorded")));
        tracing_audit::read!(model: "Doc", id: 1);
    });
    let audit = logs.records(Kind::Audit);
    assert_eq!(audit.len(), 1);
    assert!(
        has_marker(&audit[0]["user_id"], "recorded"),
        "{:?}",
        audit[0]
    );
    afterwards(&mut logs);
}
