//! `Display`/`Debug` impls that return `Err` (without panicking) and
//! `Serialize` impls that return an error, in every position: each line
//! stays one JSON object with no key twice, no record is lost, the thread
//! keeps working.

mod common;

use std::fmt;

use common::records::Logs;
use serde::{Serialize, Serializer};
use tracing_audit::Kind;
use tracing_audit::Transaction;
use tracing_audit::{diff, Changes};

/// Writes some text, then fails.
struct Fails;

impl fmt::Display for Fails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("partial \"text")?;
        Err(fmt::Error)
    }
}

impl fmt::Debug for Fails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Fails {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeMap};
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("ok", &1)?;
        let _ = map;
        Err(S::Error::custom("failed halfway"))
    }
}

#[test]
fn values_whose_formatting_fails_give_whole_records() {
    let mut logs = Logs::new();
    logs.run(|| {
        tracing::info_span!("r", request_id = %Fails, user_id = ?Fails, user_info = %Fails).in_scope(|| {
            tracing_audit::set_user_info(Fails, &Fails);
            tracing_audit::create!(model: Fails, id: Fails, user: Fails, user_info: Fails, instance: Fails, extra: Fails);
            tracing_audit::update!(model: "M", id: 1, changes: diff(&Fails, &Fails));
            tracing_audit::update!(model: "M", id: 2, changes: Changes::new().with("f", Fails, Fails));
            tracing_audit::bulk_delete!(model: Fails, ids: Fails);
            tracing_audit::login!(user: Fails, user_info: Fails, client_ip: Fails, user_agent: Fails, error: Fails, extra: Fails);
            tracing::info!(a = %Fails, b = ?Fails, "message {}", Fails);
            tracing::info!(target: "audit.login", event = %Fails, success = ?Fails);
            tracing::info!(target: "audit.request", path = %Fails, user_info = %Fails);
            let tx = Transaction::begin();
            tx.in_scope(|| tracing_audit::delete!(model: Fails, id: Fails));
            tx.commit();
        });
    });
    // The strict reader refuses a broken line.
    assert_eq!(logs.take(Kind::Audit).len(), 5);
    assert_eq!(logs.take(Kind::Login).len(), 2);
    assert_eq!(logs.take(Kind::App).len(), 1);
    assert_eq!(logs.take(Kind::Api).len(), 1);
    logs.run(|| {
        for i in 0..100 {
            tracing::info!(i, "after");
        }
    });
    let app = logs.take(Kind::App);
    assert_eq!(app.len(), 100);
    assert!(app.iter().all(|l| l.record["message"] == "after"));
}
