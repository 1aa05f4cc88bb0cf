//! Ten real secret shapes, each placed in every field a user can reach
//! (CRUD, bulk, login, API, process and application records, every form of
//! `user_info`, the span context, declared context fields, `%`/`?` values,
//! errors, the `log` bridge), then every file the layer produced is read
//! as bytes and searched for the raw secret. Plus the other side: keys and
//! text that look like secrets to a careless matcher are written as they
//! are.
//!
//! Not covered here: the console (see `tests/console.rs`), and the `log`
//! bridge's target and module path and object keys (not scanned: names of
//! code and of fields, not values).

mod common;

use std::error::Error;
use std::fmt;
use std::fs;
use std::path::Path;
use std::sync::Once;

use common::records::{Logs, Record};
use serde_json::{json, Value};
use tracing_audit::Kind;
use tracing_audit::{diff, Changes};

const MASK: &str = "[REDACTED]";

/// A shape: how it is written, and the parts of it that must never reach a
/// file.
struct Shape {
    name: &'static str,
    text: &'static str,
    raw: &'static [&'static str],
}

const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

/// The shapes recognized by their value, wherever they sit in a string.
const VALUE_SHAPES: &[Shape] = &[
    Shape {
        name: "bearer token",
        text: "Authorization: Bearer 9f8e7d6c5b4a3f2e1d0c",
        raw: &["9f8e7d6c5b4a3f2e1d0c"],
    },
    Shape {
        name: "basic credentials",
        text: "Authorization: Basic YWxpY2U6czNjcjN0LXB3",
        raw: &["YWxpY2U6czNjcjN0LXB3"],
    },
    Shape {
        name: "jwt",
        text: JWT,
        raw: &[
            "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
            "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ",
        ],
    },
    Shape {
        name: "url userinfo",
        text: "connecting to postgres://admin:Sup3rS3cretPw@db.internal:5432/app",
        raw: &["Sup3rS3cretPw", "admin:"],
    },
    Shape {
        name: "stripe key",
        text: "using sk_live_51HqLyjWDarjtT1zdp7dc4eC39 for billing",
        raw: &["51HqLyjWDarjtT1zdp7dc4eC39"],
    },
    Shape {
        name: "aws key",
        text: "aws AKIAIOSFODNN7EXAMPLE configured",
        raw: &["IOSFODNN7EXAMPLE"],
    },
    Shape {
        name: "github token",
        text: "token ghp_16C7e42F292c6912E7710c838347Ae178B4a",
        raw: &["16C7e42F292c6912E7710c838347Ae178B4a"],
    },
    Shape {
        name: "card in text",
        text: "paid with 4111 1111 1111 1111 today",
        raw: &["4111 1111 1111 1111", "4111111111111111"],
    },
];

/// The shapes recognized by the key they are kept under.
const KEY_SHAPES: &[(&str, &str)] = &[
    ("userPassword", "hunter2-correct-horse"),
    ("refresh", "rt-8c1f9a77e2b04d6f"),
];

/// Every file under `dir`, as text (lossy), with its name.
fn every_file(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(every_file(&path));
        } else {
            let bytes = fs::read(&path).unwrap();
            out.push((
                path.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }
    out
}

/// Asserts that no file holds any of `raw`, and that the files do hold
/// records (a record lost is not a secret kept).
#[track_caller]
fn assert_in_no_file(logs: &Logs, what: &str, raw: &[&str]) {
    logs.guard.flush().unwrap();
    let files = every_file(logs.dir.path());
    assert!(!files.is_empty());
    for (name, text) in &files {
        for secret in raw {
            if let Some(at) = text.find(secret) {
                let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
                let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
                panic!("{what}: {secret:?} is in {name}:\n{}", &text[start..end]);
            }
        }
    }
}

/// An error whose message is `text`, with a source saying it again.
#[derive(Debug)]
struct Failure(String, Option<Box<Failure>>);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "request failed: {}", self.0)
    }
}

impl Error for Failure {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.1.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

fn install_log_bridge() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Forwards `log` records to the thread's current subscriber.
        tracing_log::LogTracer::init().unwrap();
    });
}

/// The layer every placement test uses: two declared context fields, one
/// of them named like a secret.
fn logs() -> Logs {
    Logs::with(|b| b.context_field("origin").context_field("refresh"))
}

/// Places `text` in every string field a caller can fill, and returns how
/// many records of each kind were made.
fn place_value(text: &str) -> [usize; 4] {
    let info_text = json!({"note": text, "nested": {"deep": [text]}}).to_string();
    let info_value = json!({"note": text});
    let err = Failure(
        text.to_owned(),
        Some(Box::new(Failure(text.to_owned(), None))),
    );

    // CRUD: every key of the macros.
    tracing_audit::create!(
        model: "Doc",
        id: text,
        user: text,
        user_info: json!({"note": text}),
        changes: Changes::new().with("note", text, text),
        instance: json!({"note": text, "nested": {"deep": [text]}, "as_json": info_text}),
        extra: json!({"note": text})
    );
    tracing_audit::read!(model: text, id: 1, extra: text);
    tracing_audit::update!(
        model: "Doc",
        id: 1,
        changes: diff(&json!({"a": {"b": "x"}, "l": [1]}), &json!({"a": {"b": text}, "l": [text]}))
    );
    tracing_audit::bulk_delete!(model: "Doc", ids: [text, "2"], user_info: info_text.clone());
    // Login records.
    tracing_audit::login_failed!(
        user: text,
        client_ip: text,
        user_agent: text,
        error: text,
        user_info: json!({"note": text}),
        extra: json!({"note": text})
    );
    tracing_audit::login!(user: 1, user_info: info_text.clone(), extra: text);
    // `user_info` in every form, and the context fields, on spans.
    for span in [
        tracing::info_span!(
            "req",
            user_info = info_text.as_str(),
            request_id = text,
            tenant = text
        ),
        tracing::info_span!("req", user_info = %info_value, request_id = %text, origin = %text),
        tracing::info_span!("req", user_info = ?info_text, tenant = ?text, refresh = "r-1"),
        tracing::info_span!("req", user_info = text, user_id = text),
    ] {
        span.in_scope(|| {
            tracing_audit::read!(model: "Doc", id: 1);
            tracing::info!("inside a span");
        });
    }
    // Set after authentication, as a `Serialize` and as JSON text.
    tracing::info_span!("req", request_id = "r-2").in_scope(|| {
        tracing_audit::set_user_info(text, &info_value);
        tracing_audit::read!(model: "Doc", id: 2);
        tracing_audit::set_user_info(7, &info_text);
        tracing_audit::logout!();
    });
    // `user_info` and context fields given on events.
    tracing::info!(
        user_info = info_text.as_str(),
        request_id = text,
        "event user_info text"
    );
    tracing::info!(user_info = %info_value, tenant = %text, "event user_info display");
    tracing::info!(user_info = ?info_text, origin = ?text, "event user_info debug");
    tracing::info!(user_info = text, "event user_info plain");
    // Application records: message, fields of every kind, errors.
    tracing::info!("{}", text);
    tracing::info!(note = text, shown = %text, debugged = ?text, "fields");
    tracing::warn!(error = &err as &dyn Error, "failed");
    tracing::error!(message = text);
    // API and process records.
    tracing::info!(target: "audit.request", note = text, "{}", text);
    tracing::info!(target: "audit.process", step = %text, "{}", text);
    // The `log` bridge.
    install_log_bridge();
    log::info!("{}", text);
    log::warn!(target: "billing", "charge failed: {}", text);
    // audit, api, login, app
    [10, 1, 3, 14]
}

/// Places `value` under `key` wherever a key can be given, and after it in
/// text (`key=value`, `key: value`, JSON text, `Debug` output).
fn place_under_key(key: &str, value: &str) -> [usize; 4] {
    let object = json!({ key: value });
    let nested = json!({"outer": {key: value}, "list": [{key: value}]});
    let text = object.to_string();
    tracing_audit::create!(
        model: "Doc",
        id: 1,
        user_info: object.clone(),
        changes: Changes::new().with(key, value, value),
        instance: nested.clone(),
        extra: nested.clone()
    );
    tracing_audit::update!(
        model: "Doc",
        id: 1,
        changes: diff(&json!({"a": {key: "old"}}), &json!({"a": {key: value}}))
    );
    tracing_audit::login!(user: 1, user_info: text.clone(), extra: nested.clone());
    for span in [
        tracing::info_span!("req", user_info = text.as_str()),
        tracing::info_span!("req", user_info = %object),
        tracing::info_span!("req", user_info = ?text),
    ] {
        span.in_scope(|| tracing_audit::read!(model: "Doc", id: 1));
    }
    tracing::info_span!("req", request_id = "r-3").in_scope(|| {
        tracing_audit::set_user_info(7, &object);
        tracing_audit::read!(model: "Doc", id: 3);
    });
    tracing::info!(user_info = text.as_str(), "event user_info text");
    tracing::info!(user_info = %object, "event user_info display");
    tracing::info!(user_info = ?text, "event user_info debug");
    tracing::info!(target: "audit.request", user_info = %object, "api");
    // Inside text: `key=value`, `key: value`, JSON text, `Debug` output.
    let map: std::collections::BTreeMap<&str, &str> = [(key, value)].into();
    tracing_audit::login_failed!(
        user: format!("{key}={value}"),
        error: format!("bad {key}: {value}"),
        user_agent: format!("client/1.0 (+https://x.io/cb?{key}={value}&a=1)")
    );
    tracing::info!(note = %text, debugged = ?map, "{key}={value}");
    tracing::info!(target: "audit.process", "step failed with {key}: '{value}'");
    [7, 1, 2, 4]
}

/// The records of each kind, checked to be as many as made.
fn check_counts(logs: &Logs, made: [usize; 4]) -> Vec<Vec<Record>> {
    Kind::ALL
        .iter()
        .zip(made)
        .map(|(&kind, n)| {
            let records = logs.records(kind);
            assert_eq!(records.len(), n, "{kind:?} records");
            records
        })
        .collect()
}

#[test]
fn value_shaped_secrets_reach_no_file_from_any_field() {
    for shape in VALUE_SHAPES {
        let logs = logs();
        let made = logs.run(|| place_value(shape.text));
        let records = check_counts(&logs, made);
        assert_in_no_file(&logs, shape.name, shape.raw);
        // Only the secret part is masked: the application message keeps
        // the text around it.
        let app = &records[3];
        let message = app
            .iter()
            .find(|r| r["message"].as_str().is_some_and(|m| m.contains(MASK)))
            .unwrap_or_else(|| panic!("{}: no masked message in {app:?}", shape.name));
        let expected = tracing_audit::redact::Policy::default()
            .redact_text(shape.text)
            .into_owned();
        assert_ne!(expected, shape.text, "{}", shape.name);
        assert!(
            app.iter().any(|r| r["message"] == expected.as_str()),
            "{}: {message:?}",
            shape.name
        );
    }
}

#[test]
fn without_redaction_every_shape_reaches_the_files() {
    // The search above can fail: with `Policy::none()` each raw secret is
    // found.
    for shape in VALUE_SHAPES {
        let logs = Logs::with(|b| b.redaction(tracing_audit::redact::Policy::none()));
        logs.run(|| place_value(shape.text));
        logs.guard.flush().unwrap();
        let files = every_file(logs.dir.path());
        let secret = shape.raw[0];
        assert!(
            files.iter().any(|(_, text)| text.contains(secret)),
            "{}: {secret:?} not found",
            shape.name
        );
    }
    for &(key, value) in KEY_SHAPES {
        let logs = Logs::with(|b| b.redaction(tracing_audit::redact::Policy::none()));
        logs.run(|| place_under_key(key, value));
        logs.guard.flush().unwrap();
        let files = every_file(logs.dir.path());
        assert!(files.iter().any(|(_, text)| text.contains(value)), "{key}");
    }
}

#[test]
fn user_info_is_an_object_whatever_its_source() {
    let shape = &VALUE_SHAPES[0];
    let logs = logs();
    logs.run(|| place_value(shape.text));
    let note = json!(format!("Authorization: Bearer {MASK}"));
    let audit = logs.records(Kind::Audit);
    // Spans: JSON text, `%`, `?`; then plain text stays text.
    let spans: Vec<&Record> = audit
        .iter()
        .filter(|r| r.get("instance_id") == Some(&json!("1")) && r["event_type"] == "READ")
        .collect();
    for r in &spans[1..4] {
        assert_eq!(r["user_info"]["note"], note, "{r:?}");
    }
    assert_eq!(spans[4]["user_info"], note, "plain text stays a string");
    // Events: JSON text, `%`, `?`.
    let app = logs.records(Kind::App);
    for message in [
        "event user_info text",
        "event user_info display",
        "event user_info debug",
    ] {
        let r = app.iter().find(|r| r["message"] == message).unwrap();
        assert_eq!(r["user_info"]["note"], note, "{r:?}");
    }
    // A `Serialize` string holding JSON, in a macro and through set_user.
    let bulk = audit
        .iter()
        .find(|r| r.get("event_type") == Some(&json!("BULK_DELETE")))
        .unwrap();
    assert_eq!(bulk["user_info"]["note"], note);
    let logout = logs
        .records(Kind::Login)
        .into_iter()
        .find(|r| r["event"] == "logout")
        .unwrap();
    assert_eq!(logout["user_info"]["note"], note);
}

#[test]
fn secrets_under_secret_keys_reach_no_file() {
    for &(key, value) in KEY_SHAPES {
        let logs = logs();
        let made = logs.run(|| place_under_key(key, value));
        check_counts(&logs, made);
        assert_in_no_file(&logs, key, &[value]);
    }
    // As field names of application events and spans.
    let logs = Logs::with(|b| b.context_field("refresh").context_field("userPassword"));
    logs.run(|| {
        tracing::info_span!("req", refresh = "rt-span-1", userPassword = "pw-span-1")
            .in_scope(|| tracing_audit::read!(model: "Doc", id: 1));
        tracing::info!(
            userPassword = "pw-event-1",
            refresh = "rt-event-1",
            "fields"
        );
        tracing::info!(target: "audit.request", refreshToken = %"rt-event-2", "api");
    });
    let audit = logs.records(Kind::Audit);
    assert_eq!(audit[0]["refresh"], MASK);
    assert_eq!(audit[0]["userPassword"], MASK);
    assert_in_no_file(
        &logs,
        "field names",
        &[
            "rt-span-1",
            "pw-span-1",
            "pw-event-1",
            "rt-event-1",
            "rt-event-2",
        ],
    );
}

#[test]
fn keys_that_only_look_like_secret_words_are_kept() {
    let logs = Logs::new();
    let keys = [
        "authorId",
        "author",
        "shipping",
        "passenger",
        "sessions_count",
        "compass",
        "opinion",
        "spinner",
        "passage",
        "pinyin_name",
    ];
    let mut object = serde_json::Map::new();
    for k in keys {
        object.insert(k.to_owned(), json!(format!("value of {k}")));
    }
    let object = Value::Object(object);
    logs.run(|| {
        tracing_audit::create!(model: "Doc", id: 1, instance: object.clone(), extra: object.clone());
        tracing::info!(authorId = 7, shipping = "express", passenger = "Ann", "app");
    });
    let audit = logs.records(Kind::Audit);
    // `pinyin_name` has no segment `pin`; `sessions_count` ends in a
    // plural that is not the key's last word, so it is not `session`.
    assert_eq!(audit[0]["instance_repr"], object);
    assert_eq!(audit[0]["extra"], object);
    assert_eq!(
        logs.records(Kind::App)[0]["fields"],
        json!({"authorId": 7, "shipping": "express", "passenger": "Ann"})
    );
}

#[test]
fn ordinary_text_is_written_as_it_is() {
    let texts = [
        "The bearer of this letter is a friend",
        "Bearer authentication is described in RFC 6750",
        "Basic idea: keep it simple",
        "see https://example.com/a/b?c=1#d and mail a@b.c",
        "order 1234567890123452 shipped",
        "timestamp 1732812345678901234, epoch ms 1732812345678",
        "request 0193a2b4-7c1e-7000-8000-000000000001",
        "version 1.2.3-beta.4 on disk_test_case_number_twelve",
        "pnpm_install finished; task-runner-1234567890abcdefghijkl",
        "eyJ is how base64 JSON starts",
        "AKIA alone, AIza alone, sk_live_ alone",
        "phone +1 415 555 2671, ISBN 978-3-16-148410-0",
        "UPDATE event for Product (id: 42)",
    ];
    let logs = Logs::new();
    logs.run(|| {
        for text in texts {
            tracing::info!(note = text, "{}", text);
            tracing_audit::read!(model: "Doc", id: text, extra: json!({"note": text}));
        }
    });
    let app = logs.records(Kind::App);
    let audit = logs.records(Kind::Audit);
    for (i, text) in texts.iter().enumerate() {
        assert_eq!(app[i]["message"], *text);
        assert_eq!(app[i]["fields"]["note"], *text);
        assert_eq!(audit[i]["instance_id"], *text);
        assert_eq!(audit[i]["extra"]["note"], *text);
    }
}
