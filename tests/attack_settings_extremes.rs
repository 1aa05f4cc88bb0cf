//! Attack on the appender's settings at their extremes (0, 1, MAX): no
//! setting may panic in the caller's code, lose an accepted line, or keep
//! the writer busy for ever. Each case writes lines, drops the guard and
//! finds every line in the files exactly once.

mod common;

use std::time::Duration;

use common::{files_of, line, Tally};
use tracing_audit::appender::{Appender, AppenderBuilder, Durability};

fn all_written(name: &str, set: impl Fn(AppenderBuilder) -> AppenderBuilder) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let (appender, guard) = set(Appender::builder(&path).max_files(None))
        .build()
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    for n in 0..200 {
        appender.send_line(line(0, n)).unwrap();
    }
    drop(guard);
    let stats = appender.stats();
    assert_eq!(stats.lines_written, 200, "{name}: {stats:?}");
    assert_eq!(stats.abandoned, 0, "{name}: {stats:?}");
    let tally = Tally::of_files(&files_of(&path));
    tally.assert_exactly_once(1, 200);
}

#[test]
fn shutdown_timeout_extremes_lose_no_line() {
    all_written("shutdown_timeout(MAX)", |b| {
        b.shutdown_timeout(Duration::MAX)
    });
    all_written("shutdown_timeout(ZERO)", |b| {
        b.shutdown_timeout(Duration::ZERO)
    });
}

#[test]
fn sync_every_extremes_lose_no_line() {
    all_written("SyncEvery(MAX)", |b| {
        b.durability(Durability::SyncEvery(Duration::MAX))
    });
    all_written("SyncEvery(ZERO)", |b| {
        b.durability(Durability::SyncEvery(Duration::ZERO))
    });
}

#[test]
fn identity_check_extremes_lose_no_line() {
    all_written("identity MAX", |b| b.identity_check_interval(Duration::MAX));
    all_written("identity ZERO", |b| {
        b.identity_check_interval(Duration::ZERO)
    });
}

#[test]
fn retention_and_compression_extremes_lose_no_line() {
    all_written("max_age MAX", |b| {
        b.max_file_size(64).max_age(Duration::MAX)
    });
    all_written("max_files MAX", |b| {
        b.max_file_size(64).max_files(usize::MAX)
    });
    all_written("size MAX", |b| b.max_file_size(u64::MAX));
    all_written("capacity 0", |b| b.capacity(0));
    all_written("capacity MAX", |b| b.capacity(usize::MAX));
    all_written("batch 0", |b| b.batch_bytes(0));
    all_written("batch MAX", |b| b.batch_bytes(usize::MAX));
}

#[cfg(feature = "gzip")]
#[test]
fn compress_after_extremes_lose_no_line() {
    all_written("compress_after MAX", |b| {
        b.max_file_size(64)
            .compress(true)
            .compress_after(Duration::MAX)
    });
    all_written("compress_after ZERO", |b| {
        b.max_file_size(64)
            .compress(true)
            .compress_after(Duration::ZERO)
    });
}
