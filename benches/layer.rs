//! Criterion benchmark: the cost of one CRUD record through the whole
//! stack, tracing-audit's layer and appender next to the usual `tracing`
//! JSON stack, both writing to a real file. The same two variants as
//! `examples/compare_stacks.rs`:
//!
//! - `tracing-json`: `tracing_subscriber::fmt::layer().json()` (default
//!   configuration: current span and span list) on
//!   `tracing_subscriber::registry()`, over
//!   `NonBlockingBuilder::default().lossy(false)` and
//!   `tracing_appender::rolling::never`; each record is `tracing::info!`
//!   with the record's fields, the changes pre-serialized once and given
//!   as `changes = %changes_json`, and a `seq` field.
//! - `tracing-audit`: `tracing_audit::layer().log_dir(dir)
//!   .max_file_size(None).build()` on `tracing_subscriber::registry()`;
//!   each record is `tracing_audit::update!(model: "Product", id: 42,
//!   changes: changes, extra: seq)`, `changes` built once.
//!
//! Both make their records inside
//! `info_span!("request", user_id = "7", request_id = "…", tenant = "acme")`.
//!
//! ```text
//! cargo bench --bench layer
//! ```
//!
//! Each iteration makes a batch of records and then waits until all of
//! them are in the file (`AuditGuard::flush` for ours; for
//! `tracing-json`, whose `non_blocking` has no flush, a count of the
//! newline bytes written into the file reaching the number of records,
//! kept by a thin `io::Write` adapter in front of the file), so the time
//! covers the writer thread's work and not just the enqueue. Throughput is
//! reported per record.

use std::fs;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tracing::Dispatch;
use tracing_appender::non_blocking::NonBlockingBuilder;
use tracing_appender::rolling::RollingFileAppender;
use tracing_audit::Changes;
use tracing_subscriber::layer::SubscriberExt;

const BATCH: u64 = 10_000;

fn request_span() -> tracing::Span {
    tracing::info_span!(
        "request",
        user_id = "7",
        request_id = "0193a2b4-7c1e-7000-8000-000000000001",
        tenant = "acme"
    )
}

/// Counts the newline bytes of every successful write into the file.
struct CountLines {
    file: RollingFileAppender,
    newlines: Arc<AtomicU64>,
}

impl Write for CountLines {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        let lines = buf[..n].iter().filter(|&&b| b == b'\n').count();
        self.newlines.fetch_add(lines as u64, Ordering::Release);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

fn wait_for_count(counter: &AtomicU64, target: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while counter.load(Ordering::Acquire) < target {
        assert!(Instant::now() < deadline, "lines did not land");
        std::thread::yield_now();
    }
}

fn stacks(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let changes = Changes::new().with("price", 10.99, 12.99);
    let changes_json = serde_json::to_string(&changes).expect("changes serialize");

    let mut group = c.benchmark_group("layer");
    group.throughput(Throughput::Elements(BATCH));
    group.sample_size(20);

    group.bench_function(BenchmarkId::new("tracing-audit", BATCH), |b| {
        let log_dir = dir.path().join("ours");
        let (layer, guard) = tracing_audit::layer()
            .log_dir(&log_dir)
            .max_file_size(None)
            .build()
            .expect("audit layer");
        let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
        tracing::dispatcher::with_default(&dispatch, || {
            let span = request_span();
            let _entered = span.enter();
            let changes = &changes;
            let mut seq = 0u64;
            b.iter(|| {
                for _ in 0..BATCH {
                    tracing_audit::update!(model: "Product", id: 42, changes: changes, extra: seq);
                    seq += 1;
                }
                guard.flush().expect("flush");
            });
        });
        drop(dispatch);
        drop(guard);
        let _ = fs::remove_dir_all(&log_dir);
    });

    group.bench_function(BenchmarkId::new("tracing-json", BATCH), |b| {
        let log_dir = dir.path().join("theirs");
        let newlines = Arc::new(AtomicU64::new(0));
        let file = CountLines {
            file: tracing_appender::rolling::never(&log_dir, "tracing.log"),
            newlines: Arc::clone(&newlines),
        };
        let (writer, guard) = NonBlockingBuilder::default().lossy(false).finish(file);
        let dispatch = Dispatch::new(
            tracing_subscriber::registry()
                .with(tracing_subscriber::fmt::layer().json().with_writer(writer)),
        );
        tracing::dispatcher::with_default(&dispatch, || {
            let span = request_span();
            let _entered = span.enter();
            let changes_json = changes_json.as_str();
            let mut seq = 0u64;
            b.iter(|| {
                for _ in 0..BATCH {
                    tracing::info!(
                        target: "audit.crud",
                        model = "Product",
                        event_type = "UPDATE",
                        instance_id = "42",
                        changes = %changes_json,
                        seq,
                        "UPDATE event for Product (id: 42)"
                    );
                    seq += 1;
                }
                wait_for_count(&newlines, seq);
            });
        });
        drop(dispatch);
        drop(guard);
        let _ = fs::remove_dir_all(&log_dir);
    });

    group.finish();
}

criterion_group!(benches, stacks);
criterion_main!(benches);
