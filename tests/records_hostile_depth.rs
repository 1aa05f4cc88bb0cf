//! Values nested 100,000 deep, through every entry point that takes nested
//! data (`instance:`, `extra:`, `changes:`, `user_info` on a span, on an
//! event and in a record, a login's `extra`, `diff`), on a thread with the
//! default 2 MiB stack: the record is written, nested no deeper than the
//! limit, with `"[depth limit]"` where the rest is left out.
//!
//! A stack overflow aborts the whole process, so each test runs its body
//! in a child process (this test binary again, running only that test) and
//! fails if the child does not exit cleanly.

mod common;

use std::process::Command;

use common::records::{check_envelope, excerpt, Line, Logs};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{json, Value};
use tracing_audit::Kind;
use tracing_audit::{diff, Changes};
use tracing_audit::{DEFAULT_MAX_DEPTH, DEPTH_MARKER};

const DEEP: usize = 100_000;

/// Set in the child: run the body.
const CHILD: &str = "TRACING_AUDIT_DEPTH_CHILD";

/// Runs `body` on a thread with a 2 MiB stack in a child process running
/// only the test `name` of this binary; fails unless the child passes.
fn in_child(name: &str, body: fn()) {
    if std::env::var_os(CHILD).is_some() {
        let thread = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(body)
            .unwrap();
        if thread.join().is_err() {
            panic!("the body failed");
        }
        return;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--test-threads=1", "--nocapture"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "the child running {name} failed: {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        excerpt(&stdout),
        excerpt(&stderr)
    );
}

/// Maps `{"d":{"d":…}}` `depth` levels deep around `leaf`, made as they
/// are serialized (nothing deep is ever built or dropped).
struct Deep {
    depth: usize,
    leaf: u64,
}

fn deep(leaf: u64) -> Deep {
    Deep { depth: DEEP, leaf }
}

impl Serialize for Deep {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.depth == 0 {
            return s.serialize_u64(self.leaf);
        }
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry(
            "d",
            &Deep {
                depth: self.depth - 1,
                leaf: self.leaf,
            },
        )?;
        map.end()
    }
}

/// A `serde_json::Value` `depth` levels deep, built without recursion.
fn deep_value(depth: usize, leaf: u64) -> Value {
    let mut v = json!(leaf);
    for i in 0..depth {
        v = if i % 2 == 0 {
            // Not `json!`, which would serialize `v` again.
            let mut map = serde_json::Map::new();
            map.insert("d".to_owned(), v);
            Value::Object(map)
        } else {
            Value::Array(vec![v])
        };
    }
    v
}

/// Drops a deep value without recursion (its own `Drop` recurses).
fn drop_deep(mut v: Value) {
    loop {
        v = match v {
            Value::Object(mut map) => match map.keys().next().cloned() {
                Some(k) => map.remove(&k).unwrap_or(Value::Null),
                None => break,
            },
            Value::Array(mut items) => match items.pop() {
                Some(item) => item,
                None => break,
            },
            _ => break,
        };
    }
}

/// JSON text `depth` arrays deep.
fn deep_text(depth: usize) -> String {
    let mut s = "[".repeat(depth);
    s.push_str(&"]".repeat(depth));
    s
}

/// How deep a line nests (arrays and objects, the record being 1).
fn line_depth(text: &str) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0, false, false);
    for b in text.bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' => depth -= 1,
            _ => {}
        }
    }
    max
}

/// Follows a value down its only child to the first thing that is not an
/// object or array of one item.
fn bottom(v: &Value) -> &Value {
    let mut v = v;
    loop {
        v = match v {
            Value::Object(map) if map.len() == 1 => map.values().next().unwrap_or(v),
            Value::Array(items) if items.len() == 1 => &items[0],
            _ => return v,
        };
    }
}

/// Every line: parsed by `serde_json` (default recursion limit), nested no
/// deeper than the default limit, `"truncated":true`, the envelope whole.
fn check_cut(lines: &[Line]) {
    for line in lines {
        assert!(
            line_depth(&line.text) <= DEFAULT_MAX_DEPTH,
            "line nested {} deep: {}",
            line_depth(&line.text),
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
}

#[track_caller]
fn assert_marker_at_bottom(v: &Value, what: &str) {
    assert_eq!(
        bottom(v),
        &json!(DEPTH_MARKER),
        "{what}: {}",
        excerpt(&v.to_string())
    );
}

#[test]
fn instance_and_extra_100k_deep_are_cut_at_the_limit() {
    in_child("instance_and_extra_100k_deep_are_cut_at_the_limit", || {
        let logs = Logs::new();
        let value = deep_value(DEEP, 7);
        logs.run(|| {
            tracing_audit::create!(model: "Doc", id: 1, instance: deep(1), extra: deep(2));
            tracing_audit::update!(model: "Doc", id: 2, instance: value, extra: value);
        });
        drop_deep(value);
        let lines = logs.lines(Kind::Audit);
        assert_eq!(lines.len(), 2);
        check_cut(&lines);
        for line in &lines {
            assert_marker_at_bottom(&line.record["instance_repr"], "instance_repr");
            assert_marker_at_bottom(&line.record["extra"], "extra");
            assert_eq!(line_depth(&line.text), DEFAULT_MAX_DEPTH);
        }
        assert_eq!(lines[0].record["message"], "CREATE event for Doc (id: 1)");
    });
}

#[test]
fn changes_and_diff_of_100k_deep_values_are_cut_at_the_limit() {
    in_child(
        "changes_and_diff_of_100k_deep_values_are_cut_at_the_limit",
        || {
            let logs = Logs::new();
            let (a, b) = (deep_value(DEEP, 1), deep_value(DEEP, 2));
            // Different only below the limit: the difference is not seen.
            assert!(diff(&a, &b).is_empty());
            assert!(diff(&deep(1), &deep(2)).is_empty());
            #[derive(serde::Serialize)]
            struct Doc {
                x: u64,
                deep: Deep,
            }
            let changed = diff(
                &Doc {
                    x: 1,
                    deep: deep(1),
                },
                &Doc {
                    x: 2,
                    deep: deep(2),
                },
            );
            assert_eq!(changed.len(), 1);
            assert_eq!(changed.get("x").unwrap().new, json!(2));
            let by_hand = Changes::new()
                .with("doc", &a, &b)
                .with("lazy", deep(1), deep(2));
            logs.run(|| {
                tracing_audit::update!(model: "Doc", id: 1, changes: by_hand);
                tracing_audit::update!(model: "Doc", id: 2, changes: diff(&deep(1), &json!({"d": 1})));
            });
            drop(by_hand);
            drop_deep(a);
            drop_deep(b);
            let lines = logs.lines(Kind::Audit);
            assert_eq!(lines.len(), 2);
            check_cut(&lines);
            let changes = &lines[0].record["changes"];
            for field in ["doc", "lazy"] {
                for side in ["old", "new"] {
                    assert_marker_at_bottom(&changes[field][side], field);
                }
            }
            assert_marker_at_bottom(&lines[1].record["changes"]["d"]["old"], "diff");
            assert_eq!(lines[1].record["changes"]["d"]["new"], json!(1));
        },
    );
}

#[test]
fn user_info_100k_deep_on_a_span_an_event_and_a_record_is_cut_at_the_limit() {
    in_child(
        "user_info_100k_deep_on_a_span_an_event_and_a_record_is_cut_at_the_limit",
        || {
            let logs = Logs::new();
            let text = deep_text(DEEP);
            logs.run(|| {
                tracing::info_span!("req", user_info = text.as_str()).in_scope(|| {
                    tracing_audit::read!(model: "Doc", id: 1);
                });
                tracing::info_span!("req", request_id = "r-1").in_scope(|| {
                    tracing_audit::set_user_info(7, &deep(3));
                    tracing_audit::read!(model: "Doc", id: 2);
                });
                tracing::info!(target: "audit.crud", user_info = text.as_str(), "plain");
                tracing_audit::read!(model: "Doc", id: 3, user: 7, user_info: deep(4));
                tracing_audit::login!(user: 7, user_info: deep(5));
            });
            let audit = logs.lines(Kind::Audit);
            assert_eq!(audit.len(), 4);
            for line in &audit {
                assert!(line_depth(&line.text) <= DEFAULT_MAX_DEPTH);
                check_envelope(&line.record, Some("AUDIT"));
            }
            // JSON text too deep to parse is kept as a (cut) string.
            assert!(audit[0].record["user_info"].is_string());
            assert!(audit[2].record["user_info"].is_string());
            check_cut(&audit[1..2]);
            assert_marker_at_bottom(&audit[1].record["user_info"], "set_user");
            assert_eq!(audit[1].record["user_id"], "7");
            check_cut(&audit[3..]);
            assert_marker_at_bottom(&audit[3].record["user_info"], "read!");
            let login = logs.lines(Kind::Login);
            assert_eq!(login.len(), 1);
            check_cut(&login);
            assert_marker_at_bottom(&login[0].record["user_info"], "login!");
        },
    );
}

#[test]
fn a_login_extra_100k_deep_is_cut_at_the_limit() {
    in_child("a_login_extra_100k_deep_is_cut_at_the_limit", || {
        let logs = Logs::new();
        let value = deep_value(DEEP, 9);
        logs.run(|| {
            tracing_audit::login!(user: 7, extra: deep(1));
            tracing_audit::login_failed!(user: "x", error: "no", extra: value);
        });
        drop_deep(value);
        let lines = logs.lines(Kind::Login);
        assert_eq!(lines.len(), 2);
        check_cut(&lines);
        for line in &lines {
            assert_marker_at_bottom(&line.record["extra"], "extra");
        }
        assert_eq!(lines[1].record["error"], "no");
    });
}

#[test]
fn the_highest_limit_is_safe_on_a_2_mib_stack_and_a_low_one_applies() {
    in_child(
        "the_highest_limit_is_safe_on_a_2_mib_stack_and_a_low_one_applies",
        || {
            for (asked, kept) in [(usize::MAX, 1024), (10, 10), (0, 4)] {
                let logs = Logs::with(|b| b.max_depth(asked));
                let value = deep_value(DEEP, 1);
                logs.run(|| {
                    tracing_audit::create!(model: "Doc", id: 1, instance: deep(1), extra: value);
                    tracing_audit::update!(model: "Doc", id: 2, changes: Changes::new().with("f", deep(1), &value));
                });
                drop_deep(value);
                // Read without a parser: serde_json's stops at 128 levels.
                logs.guard.flush().unwrap();
                let text = std::fs::read_to_string(logs.path(Kind::Audit)).unwrap();
                let lines: Vec<&str> = text.lines().collect();
                assert_eq!(lines.len(), 2);
                assert_eq!(line_depth(lines[0]), kept, "max_depth({asked})");
                // `Changes` keep 127 levels (see `diff`), then the limit.
                let changes = kept.min(3 + DEFAULT_MAX_DEPTH);
                assert_eq!(line_depth(lines[1]), changes, "max_depth({asked})");
                for line in lines {
                    assert!(line.contains(DEPTH_MARKER) && line.ends_with(",\"truncated\":true}"));
                }
            }
        },
    );
}

/// `external_call`'s descriptions (the request and the response) are
/// values like `instance:`: 100,000 levels deep, the record is written,
/// cut at the limit, and the process lives.
#[test]
fn an_external_call_description_100k_deep_is_cut_at_the_limit() {
    in_child(
        "an_external_call_description_100k_deep_is_cut_at_the_limit",
        || {
            let logs = Logs::new();
            logs.run(|| {
                tracing_audit::external_call("partner-sftp", "sftp")
                    .operation("put")
                    .request(deep(1))
                    .finish_ok(deep(2));
            });
            let lines = logs.lines(Kind::Api);
            assert_eq!(lines.len(), 1);
            check_cut(&lines);
            let record = &lines[0].record;
            assert_marker_at_bottom(&record["request_repr"]["body"], "request body");
            assert_marker_at_bottom(&record["response_repr"]["body"], "response body");
            assert_eq!(record["request_repr"]["method"], "put");
        },
    );
}
