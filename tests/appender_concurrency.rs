//! Many producers, one file: every line lands intact and exactly once.

mod common;

use std::thread;

use common::{files_of, line, Tally};
use tracing_audit::appender::Appender;

#[test]
fn eight_threads_times_250_000_lines_land_exactly_once() {
    const THREADS: u32 = 8;
    const PER_THREAD: u64 = 250_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let (appender, guard) = Appender::builder(&path)
        .max_file_size(None)
        .capacity(4096)
        .build()
        .unwrap();

    let producers: Vec<_> = (0..THREADS)
        .map(|t| {
            let appender = appender.clone();
            thread::spawn(move || {
                for n in 0..PER_THREAD {
                    appender.send_line(line(t, n)).unwrap();
                }
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    drop(guard);

    let files = files_of(&path);
    assert_eq!(files, vec![path.clone()], "nothing should have rotated");
    Tally::of_files(&files).assert_exactly_once(THREADS, PER_THREAD);
    let stats = appender.stats();
    assert_eq!(stats.lines_written, THREADS as u64 * PER_THREAD);
    assert_eq!(stats.dropped, 0);
    assert_eq!(stats.write_errors, 0);
    assert_eq!(stats.queue_depth, 0);
    assert_eq!(stats.bytes_written, std::fs::metadata(&path).unwrap().len());
}

#[test]
fn lines_from_one_producer_keep_their_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let (appender, guard) = Appender::builder(&path).capacity(64).build().unwrap();
    for n in 0..50_000 {
        appender.write_line(&line(0, n)).unwrap();
    }
    drop(guard);
    let bytes = std::fs::read(&path).unwrap();
    let order: Vec<u64> = bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| common::parse(l).unwrap().1)
        .collect();
    assert_eq!(order, (0..50_000).collect::<Vec<_>>());
}
