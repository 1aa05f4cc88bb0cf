//! No line is longer than `max_line_bytes`, whatever the source of the
//! text: a `log` record's 10 MB target, module path or file is cut and the
//! record says so, and a record that does not fit even shrunk is written
//! as a stand-in record (`"[record too large: N bytes]"`) rather than as
//! an over-long line or not at all.

mod common;

use common::records::{check_envelope, excerpt, split_cut_marker, Line, Logs};
use serde_json::{json, Value};
use tracing_audit::Kind;
use tracing_audit::DEFAULT_MAX_LINE_BYTES;

const TEN_MB: usize = 10 * 1024 * 1024;

/// Passes a `log` crate record to the current subscriber, as the bridge
/// installed by `init()` does.
fn log_record(target: &str, module: Option<&str>, file: Option<&str>, message: &str) {
    tracing_log::format_trace(
        &log::Record::builder()
            .args(format_args!("{message}"))
            .level(log::Level::Warn)
            .target(target)
            .module_path(module)
            .file(file)
            .line(Some(42))
            .build(),
    )
    .unwrap();
}

#[track_caller]
fn assert_fits(line: &Line, cap: usize) {
    assert!(
        line.text.len() < cap,
        "line of {} bytes (cap {cap}): {}",
        line.text.len() + 1,
        excerpt(&line.text)
    );
    assert_eq!(
        line.record.get("truncated"),
        Some(&json!(true)),
        "{}",
        excerpt(&line.text)
    );
    check_envelope(&line.record, None);
}

/// `value` is a cut prefix of `original` with the marker `…[cut N bytes]`.
#[track_caller]
fn assert_cut(value: &Value, original: &str, what: &str) {
    let s = value.as_str().unwrap_or_else(|| panic!("{what}: {value}"));
    let (kept, n) = split_cut_marker(s).unwrap_or_else(|| panic!("{what}: {}", excerpt(s)));
    assert!(original.starts_with(kept), "{what}: not a prefix");
    assert_eq!(kept.len() + n, original.len(), "{what}: N");
}

#[test]
fn a_10_mb_log_target_module_path_or_file_is_cut_and_the_line_fits() {
    let big = "m".repeat(TEN_MB);
    let quotes = "\"\u{1}".repeat(TEN_MB / 2);
    let logs = Logs::new();
    logs.run(|| {
        log_record(&big, Some("short"), Some("f.rs"), "target");
        log_record("short", Some(&big), Some("f.rs"), "module");
        log_record("short", Some("short"), Some(&big), "file");
        log_record(&big, Some(&big), Some(&big), "all three");
        log_record(&quotes, Some(&quotes), Some(&quotes), "escaped");
    });
    let lines = logs.lines(Kind::App);
    assert_eq!(lines.len(), 5);
    for line in &lines {
        assert_fits(line, DEFAULT_MAX_LINE_BYTES);
        assert_eq!(line.record["level"], "WARN");
        assert_eq!(line.record["line"], 42);
    }
    let r = |i: usize| &lines[i].record;
    assert_cut(&r(0)["name"], &big, "target");
    assert_eq!(r(0)["module"], "short");
    assert_eq!(r(0)["message"], "target");
    assert_cut(&r(1)["module"], &big, "module path");
    assert_eq!(r(1)["name"], "short");
    assert_cut(&r(2)["path"], &big, "file");
    for key in ["name", "module", "path"] {
        assert_cut(&r(3)[key], &big, key);
        assert_cut(&r(4)[key], &quotes, key);
    }
    assert_eq!(r(3)["message"], "all three");
}

#[test]
fn a_record_too_large_even_shrunk_is_written_as_a_stand_in_within_the_cap() {
    let cap = 1024;
    let long = "v".repeat(250);
    let logs = Logs::with(|b| {
        b.max_line_bytes(cap)
            .context_field("c1")
            .context_field("c2")
            .context_field("c3")
            .context_field("c4")
    });
    logs.run(|| {
        // Fields of 250 bytes each: shrinking to 256-byte strings keeps
        // them all, and the identifying keys alone are still too long.
        let l = long.as_str();
        tracing::info!(a = l, b = l, c = l, d = l, e = l, f = l, "app {}", 1);
        tracing::info_span!(
            "req",
            user_id = "u-1",
            request_id = "r-1",
            c1 = l,
            c2 = l,
            c3 = l,
            c4 = l
        )
        .in_scope(|| {
            tracing_audit::create!(model: "Doc", id: 1);
            tracing_audit::login!(client_ip: l, user_agent: l, error: l);
        });
        // The envelope alone is too long: a 10 MB target.
        log_record(&"t".repeat(TEN_MB), Some(&long), Some(&long), &long);
    });
    let app = logs.lines(Kind::App);
    let audit = logs.lines(Kind::Audit);
    let login = logs.lines(Kind::Login);
    assert_eq!((app.len(), audit.len(), login.len()), (2, 1, 1));
    for line in app.iter().chain(&audit).chain(&login) {
        assert_fits(line, cap);
        let message = line.record["message"].as_str().unwrap();
        assert!(
            message.starts_with("[record too large: ") && message.ends_with(" bytes]"),
            "{}",
            line.text
        );
        assert_eq!(line.record["service_name"], common::records::SERVICE);
    }
    // The stand-in keeps the keys its kind always has, and the span's user
    // and request.
    for line in &app {
        for key in ["module", "path", "line", "fields"] {
            assert!(line.record.contains_key(key), "{key}: {}", line.text);
        }
    }
    assert_eq!(app[0].record["name"], "records_hostile_sizes");
    assert!(split_cut_marker(app[1].record["name"].as_str().unwrap()).is_some());
    for line in audit.iter().chain(&login) {
        assert_eq!(line.record["user_id"], "u-1", "{}", line.text);
        assert_eq!(line.record["request_id"], "r-1", "{}", line.text);
        assert_eq!(line.record["user_info"], json!({}), "{}", line.text);
    }
    assert_eq!(audit[0].record["level"], "AUDIT");
    assert_eq!(login[0].record["level"], "LOGIN");
}

#[test]
fn a_10_mb_service_name_still_gives_lines_within_the_cap() {
    let logs = Logs::with(|b| b.service_name("s".repeat(TEN_MB)));
    logs.run(|| {
        tracing::info!("app");
        tracing_audit::create!(model: "Doc", id: 1);
    });
    for kind in [Kind::App, Kind::Audit] {
        let lines = logs.lines(kind);
        assert_eq!(lines.len(), 1);
        assert!(lines[0].text.len() < DEFAULT_MAX_LINE_BYTES);
        assert!(split_cut_marker(lines[0].record["service_name"].as_str().unwrap()).is_some());
        assert_eq!(lines[0].record["truncated"], true);
    }
}

#[test]
fn a_10_mb_key_in_a_value_or_a_changed_field_is_cut_and_the_line_fits() {
    let big = "k".repeat(TEN_MB);
    let (a, b) = (format!("{big}a"), format!("{big}b"));
    let mut extra = serde_json::Map::new();
    extra.insert(a.clone(), json!(1));
    extra.insert(b.clone(), json!(2));
    extra.insert("short".to_owned(), json!(3));
    let changes = tracing_audit::Changes::new()
        .with(a.as_str(), 1, 2)
        .with(b.as_str(), 1, 2);
    let logs = Logs::new();
    logs.run(|| {
        tracing_audit::update!(model: "Doc", id: 1, extra: extra, changes: changes);
    });
    let lines = logs.lines(Kind::Audit);
    assert_eq!(lines.len(), 1);
    assert_fits(&lines[0], DEFAULT_MAX_LINE_BYTES);
    // Cut like string values, and told apart (the strict reader refuses a
    // key twice).
    for container in ["extra", "changes"] {
        let object = lines[0].record[container].as_object().unwrap();
        assert_eq!(object.len(), if container == "extra" { 3 } else { 2 });
        for key in object.keys().filter(|k| *k != "short") {
            let cut = key.strip_suffix(" #2]").map(|k| format!("{k}]"));
            let key = cut.as_deref().unwrap_or(key);
            assert_cut(&json!(key), &a, container);
        }
    }
    assert_eq!(lines[0].record["extra"]["short"], 3);
}

#[test]
fn thousands_of_long_keys_with_one_prefix_are_all_kept_apart() {
    // Every key cuts to the same text: each is numbered with one lookup
    // (a search of the keys cut so far for every number tried took
    // minutes here), none is lost and none appears twice.
    let prefix = "p".repeat(300);
    let mut extra = serde_json::Map::new();
    for n in 0..3000 {
        extra.insert(format!("{prefix}{n:04}"), json!(n));
    }
    let logs = Logs::with(|b| b.max_string_bytes(256).max_line_bytes(8 * 1024 * 1024));
    logs.run(|| {
        tracing_audit::update!(model: "Doc", id: 1, extra: extra);
    });
    let lines = logs.lines(Kind::Audit);
    assert_eq!(lines.len(), 1);
    let object = lines[0].record["extra"].as_object().unwrap();
    assert_eq!(object.len(), 3000, "one key each");
    assert_eq!(lines[0].record["truncated"], true);
    assert!(object.keys().any(|k| k.ends_with(" #3000]")));
}
