//! Criterion benchmark: what the audit layer costs spans the application
//! filter leaves out. 1,000,000 `trace_span!`s, each entered and left, with
//! the application filter `off` (what `RUST_LOG=off` gives the builder),
//! in four setups:
//!
//! - `no-subscriber`: no subscriber at all (the floor);
//! - `bare-registry`: `tracing_subscriber::registry()` and no layer (every
//!   span is created in the registry);
//! - `audit-layer`: `registry().with(layer().app_filter("off").build())`,
//!   spans at the top level (no span around them);
//! - `audit-layer-in-request`: the same, every span opened inside a
//!   `request` span with a `request_id` (which the audit layer keeps).
//!
//! ```text
//! cargo bench --bench span_filter
//! ```
//!
//! One iteration is the whole million; each sample runs a few iterations
//! (10 samples), so the times criterion prints are per million spans.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use tracing_subscriber::layer::SubscriberExt;

const SPANS: u64 = 1_000_000;

fn spans() {
    for i in 0..SPANS {
        let span = tracing::trace_span!("hot", i);
        let _entered = span.enter();
        criterion::black_box(&span);
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("trace_spans_1M_rust_log_off");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));

    // First, before any subscriber exists in the process: the callsite's
    // cached interest then reflects no subscriber at all.
    group.bench_function("no-subscriber", |b| b.iter(spans));

    group.bench_function("bare-registry", |b| {
        let _default = tracing::subscriber::set_default(tracing_subscriber::registry());
        b.iter(spans);
    });

    let dir = tempfile::tempdir().unwrap();
    let (layer, guard) = tracing_audit::layer()
        .log_dir(dir.path())
        .app_filter("off")
        .build()
        .unwrap();
    let audit = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));

    group.bench_function("audit-layer", |b| {
        let _default = tracing::dispatcher::set_default(&audit);
        b.iter(spans);
    });

    group.bench_function("audit-layer-in-request", |b| {
        let _default = tracing::dispatcher::set_default(&audit);
        let request = tracing::info_span!("request", request_id = "r-1");
        let _request = request.enter();
        b.iter(spans);
    });
    group.finish();
    drop(guard);
}

criterion_group!(benches, bench);
criterion_main!(benches);
