//! Map keys that are not strings, or that become the same string once
//! written (`1` and `"1"`, `true` and `"true"`, a unit and `""`), in every
//! value position: each line one JSON object with no key twice.

mod common;

use std::collections::BTreeMap;

use common::records::Logs;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::json;
use tracing_audit::diff;
use tracing_audit::Kind;

/// A map whose keys collide once written as JSON strings.
struct Colliding;

impl Serialize for Colliding {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry(&1, &"int")?;
        map.serialize_entry("1", &"str")?;
        map.serialize_entry(&true, &"bool")?;
        map.serialize_entry("true", &"str")?;
        map.serialize_entry(&'c', &"char")?;
        map.serialize_entry("c", &"str")?;
        map.serialize_entry(&1.5f64, &"float")?;
        map.serialize_entry("1.5", &"str")?;
        map.serialize_entry(&(), &"unit")?;
        map.serialize_entry("", &"str")?;
        map.serialize_entry(&None::<u8>, &"none")?;
        map.serialize_entry(&Some("x"), &"some")?;
        map.serialize_entry("x", &"str")?;
        map.serialize_entry(&vec![1, 2], &"seq")?;
        map.serialize_entry(&BTreeMap::from([(1, 2)]), &"map")?;
        map.end()
    }
}

#[test]
fn colliding_and_non_string_map_keys_are_written_once_everywhere() {
    let logs = Logs::new();
    logs.run(|| {
        tracing::info_span!("r", request_id = "r").in_scope(|| {
            tracing_audit::set_user_info(1, &Colliding);
            tracing_audit::create!(model: "M", id: 1, instance: Colliding, extra: Colliding, user_info: Colliding);
            tracing_audit::read!(model: "M", id: 2);
            tracing_audit::update!(model: "M", id: 3, changes: diff(&Colliding, &json!({"1": 0})));
            tracing_audit::bulk_create!(model: "M", ids: [Colliding]);
            tracing_audit::login!(user: 1, user_info: Colliding, extra: Colliding);
        });
    });
    // The strict reader refuses a key twice.
    assert_eq!(logs.records(Kind::Audit).len(), 4);
    assert_eq!(logs.records(Kind::Login).len(), 1);
}
