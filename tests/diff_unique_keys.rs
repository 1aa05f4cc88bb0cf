//! `diff` never names two changes alike, so `changes` never has a key
//! twice: not in `serde_json::to_string(&changes)`, not in an `update!`
//! record. Keys with dots (`"a.b"` beside `"a": {"b": …}`) and backslashes
//! are generated on purpose. Lines are parsed with a visitor that refuses a
//! repeated key (`serde_json::Value` would keep the last one silently).

mod common;

use common::records::{parse_line, Logs};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Map, Value};
use tracing_audit::diff;
use tracing_audit::Kind;

fn key() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "a", "b", "a.b", "b.a", "a.b.c", "a\\", "\\", ".", "a.", "",
    ])
    .prop_map(str::to_owned)
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![Just(Value::Null), (0..3i64).prop_map(Value::from)];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop::collection::vec((key(), inner), 0..5)
            .prop_map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>()))
    })
}

fn object() -> impl Strategy<Value = Value> {
    prop::collection::vec((key(), value()), 0..6)
        .prop_map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>()))
}

#[test]
fn the_changes_of_two_values_never_have_a_key_twice() {
    let logs = std::cell::RefCell::new(Logs::new());
    let mut runner = TestRunner::new(Config {
        cases: 512,
        ..Config::default()
    });
    runner
        .run(&(object(), object()), |(before, after)| {
            let changes = diff(&before, &after);
            let text = serde_json::to_string(&changes).unwrap();
            if let Err(e) = parse_line(&text) {
                return Err(TestCaseError::fail(format!("{e}: {text}")));
            }
            let mut names: Vec<_> = changes.iter().map(|c| c.field.clone()).collect();
            names.sort();
            names.dedup();
            prop_assert_eq!(names.len(), changes.len(), "{}", text);
            // Through a record: `take` parses each line strictly.
            let mut logs = logs.borrow_mut();
            logs.run(|| tracing_audit::update!(model: "Doc", id: 1, changes: changes));
            let lines = logs.take(Kind::Audit);
            prop_assert_eq!(lines.len(), 1);
            prop_assert_eq!(
                lines[0].record["changes"].as_object().unwrap().len(),
                changes.len()
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_dotted_key_beside_the_nested_field_it_looks_like_is_written_once_each() {
    let before = json!({"a.b": 1, "a": {"b": 2}});
    let after = json!({"a.b": 3, "a": {"b": 4}});
    let logs = Logs::new();
    logs.run(|| tracing_audit::update!(model: "Doc", id: 1, changes: diff(&before, &after)));
    let audit = logs.records(Kind::Audit);
    assert_eq!(
        audit[0]["changes"],
        json!({"a.b": {"old": 2, "new": 4}, "a\\.b": {"old": 1, "new": 3}})
    );
}
