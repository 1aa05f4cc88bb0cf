//! Bulk records (`bulk_create!`, `bulk_update!`, `bulk_delete!`) carry
//! `count`, a JSON number: how many ids were given. Single-instance records
//! have no `count`; a context field cannot be named `count`.

mod common;

use common::records::{check_envelope, Logs};
use serde_json::json;
use tracing_audit::Kind;

#[test]
fn bulk_records_have_a_numeric_count_of_their_ids() {
    let logs = Logs::new();
    logs.run(|| {
        tracing_audit::bulk_create!(model: "Product", ids: [1, 2, 3]);
        tracing_audit::bulk_update!(model: "Post", ids: vec!["p1"]);
        tracing_audit::bulk_delete!(model: "Session", ids: Vec::<u64>::new());
        tracing_audit::bulk_delete!(model: "Cart", ids: 7);
        tracing_audit::create!(model: "Order", id: 1);
    });
    let audit = logs.records(Kind::Audit);
    assert_eq!(audit.len(), 5);
    for r in &audit {
        check_envelope(r, Some("AUDIT"));
    }
    assert_eq!(audit[0]["count"], json!(3));
    assert_eq!(audit[0]["instance_ids"], json!(["1", "2", "3"]));
    assert_eq!(audit[1]["count"], json!(1));
    assert_eq!(audit[2]["count"], json!(0));
    assert_eq!(audit[3]["count"], json!(1), "one id given as a scalar");
    assert!(!audit[4].contains_key("count"), "{:?}", audit[4]);
}

#[test]
fn a_shrunk_bulk_record_keeps_its_count() {
    let logs = Logs::with(|b| b.max_line_bytes(2048));
    let ids: Vec<String> = (0..500).map(|i| format!("id-{i:04}")).collect();
    logs.run(|| tracing_audit::bulk_delete!(model: "Session", ids: ids));
    let audit = logs.records(Kind::Audit);
    assert_eq!(audit[0]["truncated"], true);
    assert!(!audit[0].contains_key("instance_ids"));
    assert_eq!(audit[0]["count"], json!(500));
}

#[test]
fn a_context_field_cannot_be_named_count() {
    let dir = tempfile::tempdir().unwrap();
    let result = tracing_audit::layer()
        .log_dir(dir.path())
        .context_field("count")
        .build::<tracing_subscriber::Registry>();
    assert!(
        matches!(result, Err(tracing_audit::Error::ContextField(_))),
        "{:?}",
        result.err()
    );
}
