//! `flush_on_panic`: queued lines reach the file before the previously
//! installed panic hook runs. (Its own test binary: panic hooks are global.)

mod common;

use std::fs;
use std::panic;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use common::{line, Tally};
use tracing_audit::appender::Appender;

static BYTES_SEEN_BY_PREVIOUS_HOOK: AtomicUsize = AtomicUsize::new(usize::MAX);
const LINES: u64 = 20_000;

#[test]
fn queued_lines_are_on_disk_when_the_previous_hook_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let hook_path = path.clone();
    // The application's own hook, installed first: it records how many
    // bytes the file holds at the moment it runs.
    panic::set_hook(Box::new(move |_| {
        let len = fs::metadata(&hook_path).map_or(0, |m| m.len());
        BYTES_SEEN_BY_PREVIOUS_HOOK.store(len as usize, Ordering::SeqCst);
    }));
    let (appender, _guard) = Appender::builder(&path)
        .max_file_size(None)
        .capacity(LINES as usize)
        .flush_on_panic(true)
        .build()
        .unwrap();

    // Long lines, made beforehand: sending one only moves a pointer while
    // writing it copies 4 KiB, so the queue is far from drained at the panic.
    let padding = " ".repeat(4096);
    let lines: Vec<Vec<u8>> = (0..LINES)
        .map(|n| {
            let mut l = line(0, n);
            l.pop();
            l.extend_from_slice(padding.as_bytes());
            l.push(b'\n');
            l
        })
        .collect();
    let producer = appender.clone();
    let result = thread::spawn(move || {
        for l in lines {
            producer.send_line(l).unwrap();
        }
        // Most of these lines are still queued now.
        panic!("deliberate panic");
    })
    .join();

    assert!(result.is_err());
    let bytes = fs::read(&path).unwrap();
    assert_eq!(
        BYTES_SEEN_BY_PREVIOUS_HOOK.load(Ordering::SeqCst),
        bytes.len(),
        "the previous hook ran before the queue was flushed"
    );
    let mut tally = Tally::default();
    let trimmed: Vec<u8> = bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .flat_map(|l| l.trim_ascii_end().iter().copied().chain([b'\n']))
        .collect();
    tally.add(&path, &trimmed);
    tally.assert_exactly_once(1, LINES);
}
