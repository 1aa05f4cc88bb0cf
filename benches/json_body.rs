//! Criterion benchmark: a captured JSON body written into a request record
//! by the crate's own one-pass reader (`json::quick`, with `serde_json`
//! behind it for what it gives up on) next to `serde_json`'s visitor path
//! alone (`json::transcode`), on the bodies a request record typically
//! carries. Both write the same bytes (the `json::quick` tests check it).
//!
//! ```text
//! cargo bench --all-features --bench json_body
//! ```
//!
//! - `small_sorted`: a 50-byte body whose keys come in order;
//! - `unsorted`: keys out of order and a repeated key (the object is
//!   rewritten), a secret key;
//! - `nested_2k`: about 2 KiB of nested objects and arrays with numbers;
//! - `escaped`: strings with escapes (the reader gives up at once, so this
//!   shows what a body the reader does not take costs more).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tracing_audit::__private::bench::json_body;

fn bodies() -> Vec<(&'static str, String)> {
    let item = r#"{"id":12345,"name":"widget","price":12.5,"tags":["a","b","c"],"stock":{"warehouse":"north","count":7,"reserved":false}}"#;
    let nested = format!(
        "{{\"items\":[{}],\"total\":16,\"page\":1}}",
        vec![item; 16].join(",")
    );
    vec![
        (
            "small_sorted",
            r#"{"name":"widget","price":12.5,"tags":["a","b"]}"#.to_owned(),
        ),
        (
            "unsorted",
            r#"{"username":"alice","password":"hunter2","remember":true,"username":"bob","meta":{"z":1,"a":2}}"#
                .to_owned(),
        ),
        ("nested_2k", nested),
        (
            "escaped",
            r#"{"note":"line one\nline two \"quoted\"","path":"C:\\temp"}"#.to_owned(),
        ),
    ]
}

fn json_bodies(c: &mut Criterion) {
    let mut group = c.benchmark_group("json_body");
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    let mut out = String::with_capacity(8192);
    for (name, body) in bodies() {
        group.throughput(Throughput::Bytes(body.len() as u64));
        for (way, serde_only) in [("quick", false), ("serde_json", true)] {
            group.bench_with_input(BenchmarkId::new(way, name), body.as_bytes(), |b, body| {
                b.iter(|| {
                    out.clear();
                    black_box(json_body(&mut out, black_box(body), serde_only))
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, json_bodies);
criterion_main!(benches);
