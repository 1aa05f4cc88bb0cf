//! Flush, sync and shutdown: what was sent is in the file when they return.

mod common;

use std::fs;
use std::thread;

use common::{files_of, line, Tally};
use tracing_audit::appender::{Appender, SendError};

#[test]
fn dropping_the_guard_right_after_a_million_lines_loses_none() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let (appender, guard) = Appender::builder(&path)
        .max_file_size(None)
        .build()
        .unwrap();
    for n in 0..1_000_000 {
        appender.send_line(line(0, n)).unwrap();
    }
    // The queue still holds lines when the guard goes.
    assert!(appender.stats().queue_depth > 0 || appender.stats().lines_written == 1_000_000);
    drop(guard);
    Tally::of_files(&files_of(&path)).assert_exactly_once(1, 1_000_000);
}

#[test]
fn flush_returns_only_when_earlier_lines_are_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("api.log");
    let (appender, _guard) = Appender::builder(&path).build().unwrap();
    let producers: Vec<_> = (0..4u32)
        .map(|t| {
            let appender = appender.clone();
            let path = path.clone();
            thread::spawn(move || {
                for round in 0..20u64 {
                    for n in round * 500..(round + 1) * 500 {
                        appender.send_line(line(t, n)).unwrap();
                    }
                    appender.flush().unwrap();
                    // Everything this thread sent so far is readable now.
                    let mut tally = Tally::default();
                    tally.add(&path, &fs::read(&path).unwrap());
                    let mine = tally.seen.keys().filter(|(who, _)| *who == t).count() as u64;
                    assert_eq!(mine, (round + 1) * 500, "thread {t} round {round}");
                }
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
}

#[test]
fn sync_writes_and_fsyncs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let (appender, _guard) = Appender::builder(&path).build().unwrap();
    appender.write_line(b"{\"a\":1}").unwrap();
    appender.sync().unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"{\"a\":1}\n");
}

#[test]
fn lines_sent_after_the_guard_is_dropped_are_refused_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let (appender, guard) = Appender::builder(&path).build().unwrap();
    appender.write_line(b"{\"before\":true}\n").unwrap();
    drop(guard);
    assert_eq!(
        appender.write_line(b"{\"after\":true}\n"),
        Err(SendError::Closed)
    );
    assert!(appender.flush().is_err());
    assert_eq!(appender.stats().dropped, 1);
    assert_eq!(fs::read(&path).unwrap(), b"{\"before\":true}\n");
}
