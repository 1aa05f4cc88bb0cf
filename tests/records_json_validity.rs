//! Every line the layer writes is exactly one JSON object, with no key
//! twice and an intact envelope, whatever the caller passes: as a message,
//! as application fields (including fields named like envelope keys), as
//! context, as CRUD, login and API record contents, as the target, module
//! path and file of a record bridged from the `log` crate, and as strings
//! far longer than a line may be.

mod common;

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fmt;

use common::records::{
    assert_json_eq, check_envelope, excerpt, json_eq, parse_line, redacted, split_cut_marker, Line,
    Logs, Record, SERVICE,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Value};
use tracing_audit::redact::Policy;
use tracing_audit::Kind;
use tracing_audit::DEFAULT_MAX_LINE_BYTES;
use tracing_audit::{diff, Changes};

const TEN_MB: usize = 10 * 1024 * 1024;

/// Strings of every kind: arbitrary Unicode, JSON syntax and control
/// characters, lossily decoded bytes, arbitrary chars.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\\x00-\\x1f\\x7f\"\\\\/{}\\[\\]:,a-z0-9 \\x{80}-\\x{9f}\\x{2028}\\x{2029}\\x{feff}é€😀]{0,48}",
        prop::collection::vec(any::<u8>(), 0..48)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        prop::collection::vec(any::<char>(), 0..24).prop_map(|c| c.into_iter().collect()),
    ]
}

#[derive(Debug, Clone)]
struct Input {
    a: String,
    b: String,
    c: String,
    bytes: Vec<u8>,
    f: f64,
    g: f64,
    i: i64,
    u: u64,
    flag: bool,
    map: HashMap<String, f64>,
    ids: Vec<String>,
}

impl Input {
    fn lossy(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// A nested value built from the generated data.
    fn value(&self) -> Value {
        json!({
            "name": self.a,
            "f": self.f,
            "nested": {"b": self.b, "list": [self.c, self.lossy(), self.i, self.u, self.g]},
            "map": self.map,
            "flag": self.flag,
        })
    }
}

prop_compose! {
    fn input()(
        a in text(),
        b in text(),
        c in text(),
        bytes in prop::collection::vec(any::<u8>(), 0..64),
        f in prop::num::f64::ANY,
        g in prop::num::f64::ANY,
        i in any::<i64>(),
        u in any::<u64>(),
        flag in any::<bool>(),
        map in prop::collection::hash_map(text(), prop::num::f64::ANY, 0..6),
        ids in prop::collection::vec(text(), 0..5),
    ) -> Input {
        Input { a, b, c, bytes, f, g, i, u, flag, map, ids }
    }
}

/// An error with a source, whose texts are generated.
#[derive(Debug)]
struct TestError {
    msg: String,
    source: Option<Box<TestError>>,
}

impl fmt::Display for TestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for TestError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// What a string field, a `serde` string or a context string becomes:
/// itself with its secret values (a card number, say) masked in place.
fn masked(s: &str) -> Value {
    Value::String(Policy::default().redact_text(s).into_owned())
}

/// A float field: itself, or `null` when JSON cannot hold it.
fn float(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
}

/// The `changes` a record must show for `changes`: secret paths masked on
/// both sides, values redacted.
fn expected_changes(changes: &Changes) -> Value {
    let policy = Policy::default();
    let mut out = serde_json::Map::new();
    for c in changes {
        let secret = c.field.split('.').any(|s| policy.is_secret_key(s));
        let (old, new) = if secret {
            (json!(policy.mask()), json!(policy.mask()))
        } else {
            (redacted(&c.old, &policy), redacted(&c.new, &policy))
        };
        out.insert(c.field.clone(), json!({"old": old, "new": new}));
    }
    Value::Object(out)
}

fn check(cond: bool, what: impl FnOnce() -> String) -> Result<(), TestCaseError> {
    if cond {
        Ok(())
    } else {
        Err(TestCaseError::fail(what()))
    }
}

fn field<'r>(r: &'r Record, path: &[&str]) -> &'r Value {
    let mut v = r.get(path[0]).unwrap_or(&Value::Null);
    for key in &path[1..] {
        v = v.get(*key).unwrap_or(&Value::Null);
    }
    v
}

fn eq(r: &Record, path: &[&str], expected: &Value) -> Result<(), TestCaseError> {
    let actual = field(r, path);
    check(json_eq(actual, expected), || {
        format!(
            "{}: expected {}, got {}\nrecord: {}",
            path.join("."),
            excerpt(&expected.to_string()),
            excerpt(&actual.to_string()),
            excerpt(&Value::Object(r.clone()).to_string())
        )
    })
}

/// The checks every line gets: one object, no key twice, the envelope.
fn check_lines(lines: &[Line], level: Option<&str>, ids: &mut HashSet<String>) {
    for line in lines {
        assert!(
            line.text.len() < DEFAULT_MAX_LINE_BYTES,
            "line of {} bytes",
            line.text.len()
        );
        check_envelope(&line.record, level);
        assert_eq!(line.record["service_name"], SERVICE);
        assert!(
            line.record.get("truncated").is_none(),
            "nothing was cut, yet: {}",
            line.text
        );
        let id = line.record["event_id"].as_str().unwrap().to_owned();
        assert!(ids.insert(id), "event_id twice: {}", line.text);
    }
}

fn emit(inp: &Input) {
    let (a, b, c) = (inp.a.as_str(), inp.b.as_str(), inp.c.as_str());
    let lossy = inp.lossy();
    let value = inp.value();

    // Application records.
    tracing::info!("{}", a);
    tracing::info!(message = b);
    tracing::warn!(
        s = a,
        t = %b,
        d = ?c,
        lossy = lossy.as_str(),
        f = inp.f,
        g = inp.g,
        i = inp.i,
        u = inp.u,
        flag = inp.flag,
        "values"
    );
    tracing::info!(
        timestamp = a,
        level = b,
        name = c,
        event_id = lossy.as_str(),
        service_name = a,
        module = b,
        path = c,
        line = inp.i,
        fields = inp.u,
        truncated = inp.flag,
        exception = b,
        "{}",
        c
    );
    tracing::info!(message = a, "{}", b);
    tracing::info!(
        user_id = a,
        request_id = inp.f,
        tenant = inp.i,
        user_info = b,
        "ctx"
    );
    let err = TestError {
        msg: a.to_owned(),
        source: Some(Box::new(TestError {
            msg: b.to_owned(),
            source: None,
        })),
    };
    tracing::error!(error = &err as &(dyn std::error::Error + 'static), "failed");
    tracing::info!(audit = a, "str audit");
    tracing::info!(audit = ?c, "debug audit");
    tracing::info_span!("req", request_id = a, tenant = %b, user_id = inp.i, org = c)
        .in_scope(|| tracing::info!(probe = true, "in span"));
    tracing::info_span!("req2", request_id = "fixed").in_scope(|| {
        tracing_audit::set_user_info(a, &value);
        tracing::info!("after set_user");
        tracing_audit::create!(model: "User", id: 1);
    });

    // CRUD records.
    tracing_audit::create!(model: a, id: b, instance: value, extra: inp.map);
    let before = json!({"s": a, "f": inp.f, "nested": {"x": b, "m": inp.map}});
    let after = json!({"s": b, "f": inp.g, "nested": {"x": a, "m": {}}});
    tracing_audit::update!(model: "Doc", id: inp.i, changes: diff(&before, &after));
    tracing_audit::bulk_create!(model: "Doc", ids: inp.ids);
    tracing::info!(
        target: "audit.crud",
        timestamp = a,
        level = b,
        event_id = c,
        model = inp.f,
        "{}",
        lossy
    );
    let envelope_keys = json!({
        "timestamp": a, "level": b, "event_id": c, "message": lossy, "service_name": b,
    });
    tracing_audit::read!(model: "Doc", id: c, user: a, user_info: value, extra: envelope_keys);
    tracing_audit::delete!(model: "Doc", id: inp.u, instance: inp.map, extra: inp.bytes);

    // Login records.
    tracing_audit::login_failed!(user: a, error: b, client_ip: lossy, user_agent: c, extra: inp.map);
    tracing_audit::login!(user: inp.i, user_info: value);

    // An API record.
    tracing::info!(
        target: "audit.request",
        method = a,
        status = inp.u,
        duration = inp.f,
        "{}",
        b
    );

    // A `log` crate record, as the bridge passes it on: its target, module
    // path and file are the caller's text.
    let _ = tracing_log::format_trace(
        &log::Record::builder()
            .args(format_args!("{}", lossy))
            .level(log::Level::Info)
            .target(a)
            .module_path(Some(b))
            .file(Some(c))
            .line(Some(7))
            .build(),
    );
}

fn verify(inp: &Input, logs: &mut Logs, ids: &mut HashSet<String>) -> Result<(), TestCaseError> {
    let policy = Policy::default();
    let (a, b, c) = (inp.a.as_str(), inp.b.as_str(), inp.c.as_str());
    let lossy = inp.lossy();
    let value = inp.value();
    let map_value = serde_json::to_value(&inp.map).unwrap();

    let app = logs.take(Kind::App);
    let audit = logs.take(Kind::Audit);
    let login = logs.take(Kind::Login);
    let api = logs.take(Kind::Api);
    check_lines(&app, None, ids);
    check_lines(&audit, Some("AUDIT"), ids);
    check_lines(&login, Some("LOGIN"), ids);
    check_lines(&api, Some("API"), ids);
    check(app.len() == 12, || format!("{} app lines", app.len()))?;
    check(audit.len() == 7, || format!("{} audit lines", audit.len()))?;
    check(login.len() == 2, || format!("{} login lines", login.len()))?;
    check(api.len() == 1, || format!("{} api lines", api.len()))?;
    let app: Vec<&Record> = app.iter().map(|l| &l.record).collect();
    let audit: Vec<&Record> = audit.iter().map(|l| &l.record).collect();

    for r in &app[..11] {
        eq(r, &["name"], &json!("records_json_validity"))?;
        eq(r, &["module"], &json!("records_json_validity"))?;
        eq(r, &["path"], &json!(file!()))?;
        check(r.get("line").is_some_and(Value::is_u64), || {
            format!("line: {r:?}")
        })?;
        check(r.get("fields").is_some_and(Value::is_object), || {
            format!("fields: {r:?}")
        })?;
    }

    // info!("{}", a) and info!(message = b)
    eq(app[0], &["level"], &json!("INFO"))?;
    eq(app[0], &["message"], &masked(a))?;
    eq(app[0], &["fields"], &json!({}))?;
    eq(app[1], &["message"], &masked(b))?;
    eq(app[1], &["fields"], &json!({}))?;

    // Values of every type.
    let r = app[2];
    eq(r, &["level"], &json!("WARN"))?;
    eq(r, &["message"], &json!("values"))?;
    let expected = json!({
        "s": masked(a),
        "t": masked(b),
        "d": masked(&format!("{c:?}")),
        "lossy": masked(&lossy),
        "f": float(inp.f),
        "g": float(inp.g),
        "i": inp.i,
        "u": inp.u,
        "flag": inp.flag,
    });
    eq(r, &["fields"], &expected)?;

    // Fields named like envelope keys stay in `fields`.
    let r = app[3];
    eq(r, &["level"], &json!("INFO"))?;
    eq(r, &["message"], &masked(c))?;
    let expected = json!({
        "timestamp": masked(a),
        "level": masked(b),
        "name": masked(c),
        "event_id": masked(&lossy),
        "service_name": masked(a),
        "module": masked(b),
        "path": masked(c),
        "line": inp.i,
        "fields": inp.u,
        "truncated": inp.flag,
        "exception": masked(b),
    });
    eq(r, &["fields"], &expected)?;
    check(r.get("exception").is_none(), || {
        format!("a str field made an exception: {r:?}")
    })?;

    // message = a, "{}", b: one message, one of the two.
    let m = &app[4]["message"];
    check(*m == masked(a) || *m == masked(b), || {
        format!("message {m}")
    })?;

    // Context keys given on the event itself.
    let r = app[5];
    eq(r, &["user_id"], &masked(a))?;
    check(r.get("request_id").is_some_and(Value::is_string), || {
        format!("request_id: {r:?}")
    })?;
    eq(r, &["tenant"], &json!(inp.i.to_string()))?;
    eq(r, &["user_info"], &masked(b))?;
    eq(r, &["fields"], &json!({}))?;

    // An error with its source.
    let r = app[6];
    eq(r, &["level"], &json!("ERROR"))?;
    eq(r, &["exception"], &json!(format!("{a}: {b}")))?;
    eq(r, &["fields", "error"], &json!(format!("{a}: {b}")))?;

    // A field that happens to be called `audit`.
    eq(app[7], &["fields"], &json!({"audit": masked(a)}))?;
    eq(
        app[8],
        &["fields"],
        &json!({"audit": masked(&format!("{c:?}"))}),
    )?;

    // Span context.
    let r = app[9];
    eq(r, &["request_id"], &masked(a))?;
    eq(r, &["tenant"], &masked(b))?;
    eq(r, &["user_id"], &json!(inp.i.to_string()))?;
    eq(r, &["fields"], &json!({"probe": true}))?;
    check(r.get("org").is_none(), || {
        format!("undeclared context: {r:?}")
    })?;

    // set_user: the user's id as given, the info redacted.
    let info = redacted(&value, &policy);
    for r in [app[10], audit[0]] {
        eq(r, &["user_id"], &masked(a))?;
        eq(r, &["user_info"], &info)?;
        eq(r, &["request_id"], &json!("fixed"))?;
    }

    // The `log` record: its target, module path and file as they are.
    let r = app[11];
    eq(r, &["name"], &json!(a))?;
    eq(r, &["module"], &json!(b))?;
    eq(r, &["path"], &json!(c))?;
    eq(r, &["line"], &json!(7))?;
    eq(r, &["message"], &masked(&lossy))?;
    eq(r, &["fields"], &json!({}))?;

    // create!
    let r = audit[1];
    eq(r, &["name"], &json!("audit.crud"))?;
    eq(
        r,
        &["message"],
        &json!(format!("CREATE event for {a} (id: {b})")),
    )?;
    eq(r, &["model"], &masked(a))?;
    eq(r, &["event_type"], &json!("CREATE"))?;
    eq(r, &["instance_id"], &masked(b))?;
    eq(r, &["instance_repr"], &redacted(&value, &policy))?;
    eq(r, &["extra"], &redacted(&map_value, &policy))?;
    eq(r, &["changes"], &json!({}))?;
    eq(r, &["user_id"], &json!(""))?;
    eq(r, &["user_info"], &json!({}))?;
    check(r.get("request_id").is_none(), || {
        format!("request_id: {r:?}")
    })?;

    // update! with a diff.
    let r = audit[2];
    let before = json!({"s": a, "f": inp.f, "nested": {"x": b, "m": inp.map}});
    let after = json!({"s": b, "f": inp.g, "nested": {"x": a, "m": {}}});
    eq(r, &["event_type"], &json!("UPDATE"))?;
    eq(r, &["instance_id"], &masked(&inp.i.to_string()))?;
    eq(r, &["changes"], &expected_changes(&diff(&before, &after)))?;

    // bulk_create!
    let r = audit[3];
    let n = inp.ids.len();
    eq(
        r,
        &["message"],
        &json!(format!(
            "BULK_CREATE event for Doc ({n} instance{})",
            if n == 1 { "" } else { "s" }
        )),
    )?;
    let ids: Vec<Value> = inp.ids.iter().map(|id| masked(id)).collect();
    eq(r, &["instance_ids"], &Value::Array(ids))?;
    eq(r, &["instance_id"], &masked(&inp.ids.join(",")))?;

    // A plain tracing event on audit.crud: fields in `extra`.
    let r = audit[4];
    eq(r, &["message"], &masked(&lossy))?;
    eq(
        r,
        &["extra"],
        &json!({"timestamp": masked(a), "level": masked(b), "event_id": masked(c), "model": float(inp.f)}),
    )?;
    eq(r, &["user_id"], &json!(""))?;

    // read! with a user and envelope-named keys in `extra`.
    let r = audit[5];
    eq(
        r,
        &["message"],
        &json!(format!("READ event for Doc (id: {c})")),
    )?;
    eq(r, &["user_id"], &masked(a))?;
    eq(r, &["user_info"], &info)?;
    let extra = json!({
        "timestamp": a, "level": b, "event_id": c, "message": lossy, "service_name": b,
    });
    eq(r, &["extra"], &redacted(&extra, &policy))?;

    // delete! with a map snapshot and bytes as `extra`.
    let r = audit[6];
    eq(r, &["event_type"], &json!("DELETE"))?;
    eq(r, &["instance_id"], &masked(&inp.u.to_string()))?;
    eq(r, &["instance_repr"], &redacted(&map_value, &policy))?;
    eq(r, &["extra"], &json!(inp.bytes))?;

    // login_failed! and login!
    let r = &login[0].record;
    eq(r, &["name"], &json!("audit.login"))?;
    eq(r, &["message"], &json!("Failed login attempt"))?;
    eq(r, &["event"], &json!("failed_login"))?;
    eq(r, &["success"], &json!(false))?;
    eq(r, &["user_id"], &masked(a))?;
    eq(r, &["error"], &masked(b))?;
    eq(r, &["client_ip"], &masked(&lossy))?;
    eq(r, &["user_agent"], &masked(c))?;
    eq(r, &["extra"], &redacted(&map_value, &policy))?;
    eq(r, &["user_info"], &json!({}))?;
    let r = &login[1].record;
    eq(r, &["event"], &json!("login"))?;
    eq(r, &["user_id"], &masked(&inp.i.to_string()))?;
    eq(r, &["user_info"], &info)?;
    eq(r, &["client_ip"], &Value::Null)?;

    // An API record.
    let r = &api[0].record;
    eq(r, &["name"], &json!("audit.request"))?;
    eq(r, &["message"], &masked(b))?;
    eq(
        r,
        &["extra"],
        &json!({"method": masked(a), "status": inp.u, "duration": float(inp.f)}),
    )?;
    Ok(())
}

#[test]
fn every_line_is_one_json_object_whatever_the_caller_passes() {
    let logs = RefCell::new(Logs::new());
    let ids = RefCell::new(HashSet::new());
    let mut runner = TestRunner::new(Config {
        cases: 256,
        failure_persistence: None,
        max_shrink_iters: 512,
        ..Config::default()
    });
    let result = runner.run(&input(), |inp| {
        let mut logs = logs.borrow_mut();
        logs.run(|| emit(&inp));
        verify(&inp, &mut logs, &mut ids.borrow_mut())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

// ---------------------------------------------------------------------
// Strings far longer than a line may be.

/// Asserts the line fits and says it was cut.
fn assert_fits_and_truncated(line: &Line) {
    assert!(
        line.text.len() < DEFAULT_MAX_LINE_BYTES,
        "line of {} bytes, over DEFAULT_MAX_LINE_BYTES ({DEFAULT_MAX_LINE_BYTES}): {}",
        line.text.len() + 1,
        excerpt(&line.text)
    );
    assert_eq!(
        line.record.get("truncated"),
        Some(&json!(true)),
        "no \"truncated\":true: {}",
        excerpt(&line.text)
    );
    check_envelope(&line.record, None);
}

/// Asserts `value` is a cut prefix of `original` ending in the marker
/// `…[cut N bytes]`, N the bytes left out.
#[track_caller]
fn assert_cut(value: &Value, original: &str, what: &str) {
    let s = value
        .as_str()
        .unwrap_or_else(|| panic!("{what}: not a string: {}", excerpt(&value.to_string())));
    let (kept, n) =
        split_cut_marker(s).unwrap_or_else(|| panic!("{what}: no cut marker: {}", excerpt(s)));
    assert!(
        original.starts_with(kept),
        "{what}: not a prefix of the original"
    );
    assert!(kept.len() < original.len(), "{what}: nothing was cut");
    assert_eq!(
        kept.len() + n,
        original.len(),
        "{what}: N is not the bytes cut"
    );
}

#[test]
fn a_10_mb_message_or_field_is_cut_and_the_line_fits() {
    let big = "x".repeat(TEN_MB);
    let logs = Logs::new();
    logs.run(|| {
        tracing::info!("{}", big);
        tracing::info!(message = big.as_str());
        tracing::info!(s = big.as_str(), d = %big, "fields");
        tracing::info!(dbg = ?big, "debug");
    });
    let lines = logs.lines(Kind::App);
    assert_eq!(lines.len(), 4);
    for line in &lines {
        assert_fits_and_truncated(line);
    }
    assert_cut(&lines[0].record["message"], &big, "message");
    assert_cut(&lines[1].record["message"], &big, "message field");
    assert_cut(&lines[2].record["fields"]["s"], &big, "str field");
    assert_cut(&lines[2].record["fields"]["d"], &big, "display field");
    assert_eq!(lines[2].record["message"], "fields");
    let dbg = format!("{big:?}");
    assert_cut(&lines[3].record["fields"]["dbg"], &dbg, "debug field");
}

#[test]
fn a_10_mb_string_of_control_characters_and_quotes_is_cut_and_the_line_fits() {
    // Each of these bytes takes 2 to 6 bytes once escaped.
    let big = "\u{1}\"\\\n\u{7f}".repeat(TEN_MB / 5);
    let logs = Logs::new();
    logs.run(|| {
        tracing::info!("{}", big);
        tracing::info!(s = big.as_str(), "field");
        tracing_audit::create!(model: "Blob", id: 1, instance: json!({"blob": big}));
    });
    let app = logs.lines(Kind::App);
    let audit = logs.lines(Kind::Audit);
    assert_eq!(app.len(), 2);
    assert_eq!(audit.len(), 1);
    for line in app.iter().chain(&audit) {
        assert_fits_and_truncated(line);
    }
    assert_cut(&app[0].record["message"], &big, "message");
    assert_cut(&app[1].record["fields"]["s"], &big, "field");
    let r = &audit[0].record;
    assert_eq!(r["level"], "AUDIT");
    assert_eq!(r["model"], "Blob");
    assert_eq!(r["instance_id"], "1");
}

#[test]
fn a_10_mb_string_in_crud_instance_extra_and_changes_is_cut_and_the_line_fits() {
    let big = "y".repeat(TEN_MB);
    let logs = Logs::new();
    logs.run(|| {
        tracing_audit::update!(
            model: "Blob",
            id: 7,
            instance: json!({"blob": big}),
            extra: json!({"note": big}),
            changes: Changes::new().with("blob", "", &big)
        );
        tracing_audit::create!(model: "Blob", id: 8, instance: big);
        tracing_audit::login_failed!(user: big, user_agent: big, extra: json!({"why": big}));
    });
    let audit = logs.lines(Kind::Audit);
    let login = logs.lines(Kind::Login);
    assert_eq!(audit.len(), 2);
    assert_eq!(login.len(), 1);
    for line in audit.iter().chain(&login) {
        assert_fits_and_truncated(line);
    }
    let r = &audit[0].record;
    assert_eq!(r["level"], "AUDIT");
    assert_eq!(r["message"], "UPDATE event for Blob (id: 7)");
    assert_eq!(r["instance_id"], "7");
    assert_cut(&r["instance_repr"]["blob"], &big, "instance_repr.blob");
    assert_cut(&r["extra"]["note"], &big, "extra.note");
    assert_cut(&r["changes"]["blob"]["new"], &big, "changes.blob.new");
    assert_eq!(r["changes"]["blob"]["old"], "");
    assert_cut(&audit[1].record["instance_repr"], &big, "instance_repr");
    let r = &login[0].record;
    assert_eq!(r["level"], "LOGIN");
    assert_eq!(r["event"], "failed_login");
    assert_cut(&r["user_id"], &big, "user_id");
    assert_cut(&r["user_agent"], &big, "user_agent");
}

#[test]
fn many_fields_just_under_the_string_cap_are_cut_to_fit_the_line() {
    // Each fits the 16 KiB string cap; together they are over 96 KiB.
    let s = "z".repeat(15_000);
    let logs = Logs::new();
    logs.run(|| {
        tracing::info!(
            f1 = s.as_str(),
            f2 = s.as_str(),
            f3 = s.as_str(),
            f4 = s.as_str(),
            f5 = s.as_str(),
            f6 = s.as_str(),
            f7 = s.as_str(),
            f8 = s.as_str(),
            "{}",
            s
        );
        let v: Vec<&str> = vec![s.as_str(); 8];
        tracing_audit::create!(model: "Wide", id: 1, instance: v, extra: json!({"s": s}));
    });
    let app = logs.lines(Kind::App);
    let audit = logs.lines(Kind::Audit);
    assert_eq!((app.len(), audit.len()), (1, 1));
    for line in app.iter().chain(&audit) {
        assert_fits_and_truncated(line);
    }
    let r = &app[0].record;
    for i in 1..=8 {
        assert_cut(&r["fields"][format!("f{i}")], &s, "field");
    }
    assert_cut(&r["message"], &s, "message");
    let r = &audit[0].record;
    assert_eq!(r["model"], "Wide");
    assert_eq!(r["event_type"], "CREATE");
    assert_eq!(r["instance_id"], "1");
}

#[test]
fn a_huge_snapshot_is_left_out_and_the_identifying_keys_stay() {
    // 200,000 short strings: no string to cut, the record is too long.
    let items: Vec<String> = (0..200_000).map(|i| format!("item-{i}")).collect();
    let logs = Logs::new();
    logs.run(|| {
        tracing::info_span!("req", request_id = "r-big").in_scope(|| {
            tracing_audit::create!(model: "Cart", id: 99, instance: items, extra: items, user: 5);
            tracing_audit::login!(user: 5, client_ip: "203.0.113.9", extra: items);
        });
    });
    let audit = logs.lines(Kind::Audit);
    let login = logs.lines(Kind::Login);
    assert_eq!((audit.len(), login.len()), (1, 1));
    for line in audit.iter().chain(&login) {
        assert_fits_and_truncated(line);
        assert_eq!(line.record["request_id"], "r-big");
        assert_eq!(line.record["user_id"], "5");
    }
    let r = &audit[0].record;
    assert_eq!(r["model"], "Cart");
    assert_eq!(r["event_type"], "CREATE");
    assert_eq!(r["instance_id"], "99");
    assert_eq!(r["message"], "CREATE event for Cart (id: 99)");
    let r = &login[0].record;
    assert_eq!(r["event"], "login");
    assert_eq!(r["client_ip"], "203.0.113.9");
}

#[test]
fn a_10_mb_span_context_value_is_cut_and_the_record_says_so() {
    let big = "r".repeat(TEN_MB);
    let logs = Logs::new();
    logs.run(|| {
        tracing::info_span!("req", request_id = big.as_str()).in_scope(|| {
            tracing_audit::read!(model: "Doc", id: 1);
            tracing::info!("in a request");
        });
    });
    let lines: Vec<Line> = logs
        .lines(Kind::Audit)
        .into_iter()
        .chain(logs.lines(Kind::App))
        .collect();
    assert_eq!(lines.len(), 2);
    for line in &lines {
        assert_cut(&line.record["request_id"], &big, "request_id");
        assert_fits_and_truncated(line);
    }
}

#[test]
fn a_10_mb_span_context_value_of_control_characters_keeps_the_line_under_the_cap() {
    let big = "\u{1}".repeat(TEN_MB);
    let logs = Logs::new();
    logs.run(|| {
        tracing::info_span!("req", request_id = big.as_str(), tenant = big.as_str())
            .in_scope(|| tracing_audit::read!(model: "Doc", id: 1));
    });
    let audit = logs.lines(Kind::Audit);
    assert_eq!(audit.len(), 1);
    assert_fits_and_truncated(&audit[0]);
    assert_eq!(audit[0].record["model"], "Doc");
}

#[test]
fn a_huge_user_info_keeps_the_line_under_the_cap() {
    let info: Vec<String> = (0..2_000).map(|i| format!("{i:0>100}")).collect();
    let logs = Logs::new();
    logs.run(|| {
        tracing::info_span!("req", request_id = "r-1").in_scope(|| {
            tracing_audit::set_user_info(7, &info);
            tracing_audit::read!(model: "Doc", id: 1);
        });
        tracing_audit::read!(model: "Doc", id: 2, user: 8, user_info: info);
    });
    let audit = logs.lines(Kind::Audit);
    assert_eq!(audit.len(), 2);
    for line in &audit {
        assert_fits_and_truncated(line);
    }
    assert_eq!(audit[0].record["user_id"], "7");
    assert_eq!(audit[1].record["user_id"], "8");
}

#[test]
fn a_bulk_record_of_many_ids_keeps_the_line_under_the_cap() {
    let ids: Vec<String> = (0..50_000).map(|i| format!("id-{i:06}")).collect();
    let logs = Logs::new();
    logs.run(|| tracing_audit::bulk_delete!(model: "Session", ids: ids));
    let audit = logs.lines(Kind::Audit);
    assert_eq!(audit.len(), 1);
    assert_fits_and_truncated(&audit[0]);
    let r = &audit[0].record;
    assert_eq!(r["event_type"], "BULK_DELETE");
    assert_eq!(
        r["message"],
        "BULK_DELETE event for Session (50000 instances)"
    );
}

// ---------------------------------------------------------------------
// Declared context fields named like keys the records already have.

#[test]
fn declared_context_fields_named_like_record_keys_are_refused() {
    for name in [
        "level",
        "timestamp",
        "path",
        "client_ip",
        "event_id",
        "extra",
        "",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let result = tracing_audit::layer()
            .log_dir(dir.path())
            .context_field(name)
            .build::<tracing_subscriber::Registry>();
        match result {
            Err(tracing_audit::Error::ContextField(error)) => {
                let message = error.to_string();
                assert!(message.contains(name), "{message}")
            }
            Err(other) => panic!("{name:?}: unexpected error {other}"),
            Ok(_) => panic!("context field {name:?} was accepted"),
        }
    }
    // A name of its own is fine.
    let dir = tempfile::tempdir().unwrap();
    assert!(tracing_audit::layer()
        .log_dir(dir.path())
        .context_field("org_id")
        .build::<tracing_subscriber::Registry>()
        .is_ok());
}

/// The checks above are only as good as the helpers: a duplicate key, a
/// second value on the line or a float far off must be caught.
#[test]
fn the_strict_reader_refuses_what_it_must() {
    assert!(json_eq(&json!(0.1), &json!(0.1)));
    assert!(!json_eq(&json!(0.1), &json!(0.2)));
    assert!(!json_eq(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
    assert_json_eq(&json!([1, "x"]), &json!([1, "x"]), "same");
    assert!(parse_line(r#"{"a":1,"a":2}"#).is_err());
    assert!(parse_line(r#"{"a":{"b":1,"b":1}}"#).is_err());
    assert!(parse_line(r#"{"a":1} {"b":2}"#).is_err());
    assert!(parse_line(r#"[1]"#).is_err());
    assert!(parse_line(r#"{"a":[{"k":1},{"k":2}]}"#).is_ok());
}
