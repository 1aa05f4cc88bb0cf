//! Criterion benchmark: the SeaORM hooks' per-column work, the crate's
//! hand-written path next to `sea_query`'s conversion it replaces.
//!
//! ```text
//! cargo bench --all-features --bench orm_values
//! ```
//!
//! - `value/*`: one column value of a snapshot into the
//!   `serde_json::Value` the record writer takes: `crate` (integers, text
//!   and booleans straight to the serializer, the rest through
//!   `sea_query::sea_value_to_json_value`), `sea_query` (every value
//!   through `sea_value_to_json_value`, then into the writer's value, as
//!   before).
//!
//! On the loaded 2-core machine (2026-11-29, medians): text 70 ns vs 89,
//! a double 42 vs 50, a bigint 35 vs 38, an int 45 vs 43 (noise). A
//! hand-written text of a one-column key (`i64::to_string`) was measured
//! here too and was not faster than `serde_json`'s `Display` (62 vs 58 ns,
//! 65 vs 47): it was dropped.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use sea_orm::sea_query::{self, Value};
use tracing_audit::__private::bench;

fn values() -> Vec<(&'static str, Value)> {
    vec![
        ("int", Value::Int(Some(1_234_567))),
        ("bigint", Value::BigInt(Some(-9_876_543_210))),
        (
            "text",
            Value::String(Some("Ada Lovelace <ada@example.com>".to_owned())),
        ),
        ("double", Value::Double(Some(12.99))),
    ]
}

fn value(c: &mut Criterion) {
    let mut group = c.benchmark_group("value");
    for (name, v) in values() {
        group.bench_with_input(BenchmarkId::new("crate", name), &v, |b, v| {
            b.iter(|| bench::orm_value(black_box(v)))
        });
        group.bench_with_input(BenchmarkId::new("sea_query", name), &v, |b, v| {
            b.iter(|| {
                let json = sea_query::sea_value_to_json_value(black_box(v));
                serde_json::to_value(&json).unwrap_or_default()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, value);
criterion_main!(benches);
