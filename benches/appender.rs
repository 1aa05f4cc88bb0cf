//! Criterion benchmark: the cost of handing one ~380-byte JSON line to
//! tracing-audit's appender, next to tracing-appender's `non_blocking` in
//! blocking (lossless) mode, both writing to a real file.
//!
//! ```text
//! cargo bench --bench appender
//! ```
//!
//! Each iteration writes a batch of lines and then waits until all of them
//! are in the file (`Appender::flush` for ours; for tracing-appender the
//! file reaching its expected length, since it has no flush), so the time
//! covers the writer thread's work and not just the enqueue.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tracing_appender::non_blocking::NonBlockingBuilder;
use tracing_audit::appender::Appender;

const LINE: &[u8] = concat!(
    r#"{"timestamp":"2026-11-22T10:15:42.123456Z","level":"AUDIT","kind":"AUDIT","#,
    r#""event_id":"7c0e5a9d-3f1b-4e2a-9d6c-000000000000","#,
    r#""action":"UPDATE","resource":"customer","resource_id":"cus_8f2k1","#,
    r#""actor":{"id":"usr_19384","role":"admin","ip":"10.24.8.131"},"#,
    r#""request_id":"req_3b9f0d27c1e4","outcome":"success","#,
    r#""changes":{"email":{"old":"j.doe@example.com","new":"jane.doe@example.com"}}}"#,
    "\n"
)
.as_bytes();

const BATCH: u64 = 10_000;

fn wait_for_length(path: &Path, bytes: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while fs::metadata(path).map_or(0, |m| m.len()) < bytes {
        assert!(Instant::now() < deadline, "lines did not land");
        std::thread::yield_now();
    }
}

fn appenders(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut group = c.benchmark_group("appender");
    group.throughput(Throughput::Elements(BATCH));
    group.sample_size(20);

    group.bench_function(BenchmarkId::new("tracing-audit", BATCH), |b| {
        let path = dir.path().join("ours.log");
        let (appender, guard) = Appender::builder(&path)
            .max_file_size(None)
            .build()
            .expect("appender");
        b.iter(|| {
            for _ in 0..BATCH {
                appender.write_line(LINE).expect("write");
            }
            appender.flush().expect("flush");
        });
        drop(guard);
    });

    group.bench_function(BenchmarkId::new("tracing-appender-blocking", BATCH), |b| {
        let path = dir.path().join("theirs.log");
        let (mut writer, guard) = NonBlockingBuilder::default()
            .lossy(false)
            .finish(tracing_appender::rolling::never(dir.path(), "theirs.log"));
        let mut expected = 0;
        b.iter(|| {
            for _ in 0..BATCH {
                writer.write_all(LINE).expect("write");
            }
            expected += BATCH * LINE.len() as u64;
            wait_for_length(&path, expected);
        });
        drop(guard);
    });

    group.finish();
}

criterion_group!(benches, appenders);
criterion_main!(benches);
