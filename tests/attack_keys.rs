//! Login keys, bulk counts, keys and changed-field paths under attack:
//! user ids that only differ past the cap, the same user written as a
//! number and as a string, field names given twice on an event or a span,
//! bulk ids nested past the limit, diff keys with `.`, `\`, empty,
//! unicode and very long keys.

mod common;

use std::collections::HashSet;

use common::records::Logs;
use serde::ser::SerializeSeq;
use serde::{Serialize, Serializer};
use serde_json::{json, Value};
use tracing_audit::Kind;
use tracing_audit::{diff, Changes};

#[test]
fn two_users_whose_ids_differ_only_past_the_cap_are_not_the_same_user() {
    let logs = Logs::with(|b| b.max_string_bytes(64));
    let span_user = format!("{}-Y", "u".repeat(100));
    let record_user = format!("{}-X", "u".repeat(100));
    logs.run(|| {
        tracing::info_span!("request", request_id = "r").in_scope(|| {
            tracing_audit::set_user_info(&span_user, &json!({"name": "Y's details"}));
            tracing_audit::login!(user: record_user);
            tracing_audit::read!(model: "Doc", id: 1, user: record_user);
            tracing::info!(target: "audit.crud", user_id = %record_user, "plain");
        });
    });
    for kind in [Kind::Login, Kind::Audit] {
        for r in logs.records(kind) {
            assert_ne!(
                r.get("user_info"),
                Some(&json!({"name": "Y's details"})),
                "{kind:?}: another user's details: {r:?}"
            );
        }
    }
}

#[test]
fn the_same_user_as_a_number_or_a_string_keeps_the_details() {
    let logs = Logs::new();
    logs.run(|| {
        tracing::info_span!("request", request_id = "r").in_scope(|| {
            tracing_audit::set_user_info(7, &json!({"name": "seven"}));
            tracing_audit::login!(user: 7);
            tracing_audit::login!(user: "7");
            tracing_audit::login!(user: "07");
        });
    });
    let login = logs.records(Kind::Login);
    assert_eq!(login[0]["user_info"], json!({"name": "seven"}));
    assert_eq!(login[1]["user_info"], json!({"name": "seven"}));
    assert_ne!(login[2].get("user_info"), Some(&json!({"name": "seven"})));
}

#[test]
fn a_field_name_given_twice_on_an_event_or_a_span_is_written_once() {
    let logs = Logs::with(|b| b.context_field("org"));
    logs.run(|| {
        let span = tracing::info_span!(
            "request",
            request_id = "r-1",
            request_id = "r-2",
            org = 1,
            org = 2
        );
        let _span = span.enter();
        tracing::info!(a = 1, a = 2, "twice");
        tracing::info!(message = "one", message = "two");
        tracing::info!(user_id = 1, user_id = 2, request_id = 3, request_id = 4, "ctx");
        tracing::info!(target: "audit.login", event = "LOGIN", event = "LOGOUT", success = true, success = false);
        tracing::info!(target: "audit.crud", model = "A", model = "B", extra = 1, extra = 2);
        tracing::info!(target: "audit.request", path = "/a", path = "/b", status = 1, status = 2);
        tracing::info!(truncated = true, truncated = false, level = "x", level = "y", "envelope");
    });
    // The strict reader refuses a key twice.
    assert_eq!(logs.records(Kind::App).len(), 4);
    assert_eq!(logs.records(Kind::Login).len(), 1);
    assert_eq!(logs.records(Kind::Audit).len(), 1);
    assert_eq!(logs.records(Kind::Api).len(), 1);
}

/// A list nested `self.0` deep.
#[derive(Clone, Copy)]
struct Nest(usize);

impl Serialize for Nest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(1))?;
        if self.0 > 0 {
            seq.serialize_element(&Nest(self.0 - 1))?;
        } else {
            seq.serialize_element(&1)?;
        }
        seq.end()
    }
}

#[test]
fn bulk_ids_nested_past_the_limit_mark_the_record_truncated() {
    let logs = Logs::new();
    logs.run(|| {
        tracing_audit::bulk_delete!(model: "Doc", ids: [Nest(1000), Nest(1)]);
    });
    let r = &logs.records(Kind::Audit)[0];
    assert_eq!(r["count"], 2);
    let ids = r["instance_ids"].as_array().unwrap();
    assert!(
        ids[0]
            .as_str()
            .unwrap()
            .contains(tracing_audit::DEPTH_MARKER),
        "{r:?}"
    );
    assert_eq!(r.get("truncated"), Some(&json!(true)), "{r:?}");
}

#[test]
fn bulk_counts_of_odd_id_lists() {
    let logs = Logs::with(|b| b.max_line_bytes(1024));
    logs.run(|| {
        tracing_audit::bulk_create!(model: "Doc", ids: Vec::<u32>::new());
        tracing_audit::bulk_create!(model: "Doc", ids: (0..100_000).collect::<Vec<u32>>());
        tracing_audit::bulk_create!(model: "Doc", ids: vec!["a,b", "c"]);
    });
    let audit = logs.records(Kind::Audit);
    assert_eq!(audit[0]["count"], 0);
    assert_eq!(audit[1]["count"], 100_000);
    assert_eq!(audit[2]["count"], 2);
    assert_eq!(audit[2]["instance_ids"], json!(["a,b", "c"]));
}

fn paths(changes: &Changes) -> Vec<String> {
    changes.iter().map(|c| c.field.clone()).collect()
}

#[test]
fn diff_paths_of_hostile_keys_are_unique_and_written_once() {
    let long_a = format!("{}a", "k".repeat(40_000));
    let long_b = format!("{}b", "k".repeat(40_000));
    let before = json!({
        "a.b": 1, "a": {"b": 2, "": {"": 3}, ".": 4, "\\": 5},
        "": {"a": 6, "": 7}, "\\.": 8, "\\": {".": 9},
        "é.ü": {"日本": 10}, "é": {"ü": {"日本": 11}},
        long_a.clone(): {"x": 12}, long_b.clone(): {"x": 13},
    });
    let after = json!({
        "a.b": -1, "a": {"b": -2, "": {"": -3}, ".": -4, "\\": -5},
        "": {"a": -6, "": -7}, "\\.": -8, "\\": {".": -9},
        "é.ü": {"日本": -10}, "é": {"ü": {"日本": -11}},
        long_a: {"x": -12}, long_b: {"x": -13},
    });
    let changes = diff(&before, &after);
    let p = paths(&changes);
    let unique: HashSet<&String> = p.iter().collect();
    assert_eq!(unique.len(), p.len(), "a path twice: {p:?}");
    assert_eq!(p.len(), 13, "{p:?}");
    // Each change keeps its own values.
    let mut olds: Vec<i64> = changes.iter().map(|c| c.old.as_i64().unwrap()).collect();
    olds.sort();
    assert_eq!(olds, (1..=13).collect::<Vec<i64>>());
    // A change added by hand with a path diff made is replaced, not doubled.
    let mut by_hand = changes.clone();
    by_hand.push(p[0].clone(), 0, 0);
    assert_eq!(by_hand.len(), 13);

    let logs = Logs::with(|b| b.max_string_bytes(100));
    logs.run(|| {
        tracing_audit::update!(model: "Doc", id: 1, changes: changes);
        tracing_audit::bulk_update!(model: "Doc", ids: [1], changes: changes);
    });
    // The strict reader refuses a key twice; every change is there.
    for r in logs.records(Kind::Audit) {
        let written = r["changes"].as_object().unwrap();
        assert_eq!(written.len(), 13, "{r:?}");
        let mut olds: Vec<i64> = written
            .values()
            .map(|c| c["old"].as_i64().unwrap())
            .collect();
        olds.sort();
        assert_eq!(olds, (1..=13).collect::<Vec<i64>>());
        assert_eq!(r["truncated"], Value::Bool(true));
    }
}

#[test]
fn a_span_naming_another_user_does_not_take_the_outer_users_details() {
    let logs = Logs::new();
    logs.run(|| {
        tracing::info_span!("request", request_id = "r").in_scope(|| {
            tracing_audit::set_user_info("Y", &json!({"name": "Y's details"}));
            // An inner span acting as another user, with no details.
            tracing::info_span!("impersonate", user_id = "X").in_scope(|| {
                tracing_audit::read!(model: "Doc", id: 1);
                tracing_audit::login!(user: "X");
                tracing::info!("app");
            });
        });
    });
    for kind in [Kind::Audit, Kind::Login, Kind::App] {
        for r in logs.records(kind) {
            assert_eq!(r["user_id"], "X", "{kind:?}: {r:?}");
            assert_ne!(
                r.get("user_info"),
                Some(&json!({"name": "Y's details"})),
                "{kind:?}: user X written with Y's details: {r:?}"
            );
        }
    }
}
