//! A `Debug`, `Display` or `Serialize` impl that panics while the crate
//! formats a record: the record is still written, the value replaced by
//! `"[panicked: <message>]"`, the panic does not reach the caller, and the
//! thread's formatting state is intact afterwards: 1,000 ordinary records
//! made next on the same thread are whole, each with its `message`.

mod common;

use std::fmt;

use common::records::{check_envelope, Logs, Record};
use serde::{Serialize, Serializer};
use serde_json::{json, Value};
use tracing_audit::Kind;
use tracing_audit::{diff, Changes};

/// Panics in `Debug`, `Display` and `Serialize`, saying which.
struct Boom;

impl fmt::Debug for Boom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Some text first: the marker replaces it.
        f.write_str("partial ")?;
        panic!("boom in Debug")
    }
}

impl fmt::Display for Boom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("partial ")?;
        panic!("boom in Display")
    }
}

impl Serialize for Boom {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let _ = s;
        panic!("boom in Serialize")
    }
}

/// Panics in `Serialize` halfway through a map.
struct BoomInside;

impl Serialize for BoomInside {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("ok", &1)?;
        map.serialize_entry("bad", &Boom)?;
        map.end()
    }
}

/// An error whose `Display` panics.
#[derive(Debug)]
struct BoomError;

impl fmt::Display for BoomError {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("boom in an error")
    }
}

impl std::error::Error for BoomError {}

const DEBUG: &str = "[panicked: boom in Debug]";
const DISPLAY: &str = "[panicked: boom in Display]";
const SERIALIZE: &str = "[panicked: boom in Serialize]";

/// Makes one record of each kind with a panicking value in it.
fn hostile_records() {
    // Application records: a Debug field, a Display field, the message,
    // an error, a field named like a record body.
    tracing::info!(d = ?Boom, s = %Boom, n = 1, "fields");
    tracing::info!("message {}", Boom);
    tracing::error!(
        error = &BoomError as &(dyn std::error::Error + 'static),
        "failed"
    );
    tracing::info!(audit = ?Boom, "body-named");
    // A span whose context fields panic.
    tracing::info_span!("req", user_id = ?Boom, request_id = %Boom).in_scope(|| {
        tracing::info!("in the span");
    });
    // CRUD records: instance, extra, changes, user_info, model, id, ids.
    tracing_audit::create!(model: "Doc", id: 1, instance: Boom, extra: BoomInside);
    let changes = Changes::new().with("f", Boom, 1);
    tracing_audit::update!(model: "Doc", id: 2, changes: changes);
    tracing_audit::update!(model: "Doc", id: 3, changes: diff(&Boom, &json!({"a": 1})));
    tracing_audit::read!(model: "Doc", id: 4, user: 7, user_info: Boom);
    tracing_audit::read!(model: Boom, id: Boom);
    tracing_audit::bulk_delete!(model: "Doc", ids: Boom);
    tracing::info_span!("req", request_id = "r-1").in_scope(|| {
        tracing_audit::set_user_info(Boom, &Boom);
        tracing_audit::delete!(model: "Doc", id: 5);
    });
    // Login records.
    tracing_audit::login!(user: Boom, user_info: Boom, extra: Boom, user_agent: Boom);
}

fn str_at<'r>(r: &'r Record, path: &[&str]) -> &'r Value {
    let mut v = &r[path[0]];
    for key in &path[1..] {
        v = &v[*key];
    }
    v
}

#[track_caller]
fn assert_at(r: &Record, path: &[&str], expected: &str) {
    assert_eq!(
        str_at(r, path),
        &json!(expected),
        "{}: {}",
        path.join("."),
        serde_json::to_string(r).unwrap()
    );
}

#[test]
fn panicking_values_are_replaced_by_a_marker_and_later_records_are_whole() {
    let logs = Logs::new();
    logs.run(|| {
        hostile_records();
        for i in 0..1_000 {
            if i % 2 == 0 {
                tracing::info!(n = i, "normal {}", i);
            } else {
                tracing_audit::update!(model: "Doc", id: i, extra: json!({"i": i}));
            }
        }
    });

    let app = logs.records(Kind::App);
    let audit = logs.records(Kind::Audit);
    let login = logs.records(Kind::Login);
    for r in app.iter().chain(&audit).chain(&login) {
        check_envelope(r, None);
    }
    assert_eq!(app.len(), 5 + 500, "app records");
    assert_eq!(audit.len(), 7 + 500, "audit records");
    assert_eq!(login.len(), 1, "login records");

    // Application records.
    assert_at(&app[0], &["message"], "fields");
    assert_at(&app[0], &["fields", "d"], DEBUG);
    assert_at(&app[0], &["fields", "s"], DISPLAY);
    assert_eq!(app[0]["fields"]["n"], json!(1));
    assert_at(&app[1], &["message"], DISPLAY);
    assert_at(&app[2], &["message"], "failed");
    assert_at(&app[2], &["exception"], "[panicked: boom in an error]");
    assert_at(&app[3], &["message"], "body-named");
    assert_at(&app[3], &["fields", "audit"], DEBUG);
    assert_at(&app[4], &["message"], "in the span");
    assert_at(&app[4], &["user_id"], DEBUG);
    assert_at(&app[4], &["request_id"], DISPLAY);

    // CRUD records.
    assert_at(&audit[0], &["instance_repr"], SERIALIZE);
    assert_at(&audit[0], &["extra"], SERIALIZE);
    assert_at(&audit[0], &["message"], "CREATE event for Doc (id: 1)");
    assert_at(&audit[1], &["changes", "f", "old"], SERIALIZE);
    assert_eq!(audit[1]["changes"]["f"]["new"], json!(1));
    assert_at(&audit[2], &["changes", "", "old"], SERIALIZE);
    assert_at(&audit[3], &["user_info"], SERIALIZE);
    assert_at(&audit[3], &["user_id"], "7");
    assert_at(&audit[4], &["model"], DISPLAY);
    assert_at(&audit[4], &["instance_id"], DISPLAY);
    assert_at(
        &audit[4],
        &["message"],
        &format!("READ event for {DISPLAY} (id: {DISPLAY})"),
    );
    assert_eq!(audit[5]["instance_ids"], json!([SERIALIZE]));
    assert_at(&audit[5], &["event_type"], "BULK_DELETE");
    assert_at(&audit[6], &["user_id"], DISPLAY);
    assert_at(&audit[6], &["user_info"], SERIALIZE);
    assert_at(&audit[6], &["request_id"], "r-1");

    // The login record.
    assert_at(&login[0], &["message"], "User logged in");
    assert_at(&login[0], &["user_id"], DISPLAY);
    assert_at(&login[0], &["user_agent"], DISPLAY);
    assert_at(&login[0], &["user_info"], SERIALIZE);
    assert_at(&login[0], &["extra"], SERIALIZE);

    // The thousand ordinary records after them, all whole.
    for (k, r) in app[5..].iter().enumerate() {
        let i = 2 * k;
        assert_eq!(r["message"], json!(format!("normal {i}")), "{r:?}");
        assert_eq!(r["fields"], json!({"n": i}), "{r:?}");
        assert!(r.get("truncated").is_none(), "{r:?}");
    }
    for (k, r) in audit[7..].iter().enumerate() {
        let i = 2 * k + 1;
        assert_eq!(
            r["message"],
            json!(format!("UPDATE event for Doc (id: {i})")),
            "{r:?}"
        );
        assert_eq!(r["extra"], json!({"i": i}), "{r:?}");
        assert_eq!(r["user_id"], json!(""), "{r:?}");
        assert!(r.get("truncated").is_none(), "{r:?}");
    }
}

#[test]
fn a_value_panicking_halfway_leaves_no_partial_text() {
    let logs = Logs::new();
    logs.run(|| {
        tracing::info!(d = ?Boom, "x");
        tracing_audit::create!(model: "Doc", id: 1, instance: BoomInside);
    });
    let app = logs.lines(Kind::App);
    assert!(!app[0].text.contains("partial"), "{}", app[0].text);
    let audit = logs.lines(Kind::Audit);
    assert!(!audit[0].text.contains("\"ok\""), "{}", audit[0].text);
    assert_at(&audit[0].record, &["instance_repr"], SERIALIZE);
}

/// `user_info = ?value` on an event whose `Debug` panics: the record keeps
/// its own keys, with the marker as `user_info`, like any other field.
#[test]
fn a_panicking_user_info_given_with_debug_on_an_event_is_a_marker() {
    let logs = Logs::new();
    logs.run(|| {
        tracing::info!(user_id = "7", user_info = ?Boom, "app with user");
        tracing::info!(target: "audit.crud", user_info = ?Boom, model = "Doc", "plain audit");
    });
    let app = logs.records(Kind::App);
    assert_eq!(app[0]["message"], "app with user", "{:?}", app[0]);
    assert_eq!(app[0]["user_id"], "7", "{:?}", app[0]);
    assert_eq!(app[0]["user_info"], DEBUG, "{:?}", app[0]);
    let audit = logs.records(Kind::Audit);
    assert_eq!(audit[0]["message"], "plain audit", "{:?}", audit[0]);
    assert_eq!(audit[0]["user_info"], DEBUG, "{:?}", audit[0]);
}
