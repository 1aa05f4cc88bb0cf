//! Caller code that logs while the crate formats a record (a `Serialize`
//! or `Debug` impl), under a global subscriber where tracing does not
//! suppress nested events: every line stays one JSON object with its own
//! keys, nothing is written twice, nothing deadlocks.

mod common;

use std::fmt;
use std::sync::mpsc;
use std::time::Duration;

use common::records::read_records;
use serde::{Serialize, Serializer};
use tracing_audit::Kind;
use tracing_subscriber::prelude::*;

struct Noisy;

impl Serialize for Noisy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        tracing::info!("inner app record");
        tracing_audit::read!(model: "Inner", id: 2, user_info: serde_json::json!({"k": "v"}));
        s.serialize_str("noisy")
    }
}

struct LogsInDebug;

impl fmt::Debug for LogsInDebug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        tracing::info!("logged from Debug");
        f.write_str("u-9")
    }
}

#[test]
fn records_made_while_a_record_is_formatted_are_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (audit, guard) = tracing_audit::layer()
        .log_dir(dir.path())
        .app_filter("info")
        .build()
        .unwrap();
    tracing_subscriber::registry().with(audit).init();

    // A Serialize impl that logs, inside a request span.
    tracing::info_span!("req", request_id = "r-1").in_scope(|| {
        tracing_audit::update!(model: "Outer", id: 1, user: "explicit", instance: Noisy);
    });

    // A span value whose Debug logs, recorded on a span that is entered:
    // must not deadlock on the span's data.
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let span = tracing::info_span!("req2", user_id = tracing::field::Empty);
        let _entered = span.enter();
        span.record("user_id", tracing::field::debug(LogsInDebug));
        tracing_audit::read!(model: "Doc", id: 3);
        done_tx.send(()).unwrap();
    });
    done_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("recording a span field whose Debug logs deadlocked");

    guard.flush().unwrap();
    let audit = read_records(&dir.path().join(Kind::Audit.file_name()));
    let app = read_records(&dir.path().join(Kind::App.file_name()));

    let outer: Vec<_> = audit.iter().filter(|r| r["model"] == "Outer").collect();
    let inner: Vec<_> = audit.iter().filter(|r| r["model"] == "Inner").collect();
    assert_eq!(outer.len(), 1, "{audit:?}");
    assert_eq!(
        inner.len(),
        1,
        "the nested record is written once: {audit:?}"
    );
    let (outer, inner) = (outer[0], inner[0]);
    assert_eq!(outer["message"], "UPDATE event for Outer (id: 1)");
    assert_eq!(outer["user_id"], "explicit");
    assert_eq!(outer["user_info"], serde_json::json!({}));
    assert_eq!(outer["instance_repr"], "noisy");
    assert!(outer.get("truncated").is_none(), "{outer:?}");
    assert_eq!(inner["message"], "READ event for Inner (id: 2)");
    assert_eq!(inner["user_id"], "", "the outer record's user is its own");
    assert_eq!(inner["user_info"], serde_json::json!({"k": "v"}));
    assert_eq!(inner["request_id"], "r-1");

    let messages: Vec<_> = app.iter().map(|r| r["message"].clone()).collect();
    assert!(
        messages.contains(&"inner app record".into()),
        "{messages:?}"
    );
    assert!(
        messages.contains(&"logged from Debug".into()),
        "{messages:?}"
    );
    let doc: Vec<_> = audit.iter().filter(|r| r["model"] == "Doc").collect();
    assert_eq!(doc.len(), 1);
    assert_eq!(doc[0]["user_id"], "u-9");
}
