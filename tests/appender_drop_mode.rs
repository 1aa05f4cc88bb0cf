//! `Backpressure::Drop` under a writer that cannot make progress: the drop
//! count is exact and a summary line in the file says how many were lost.
#![cfg(unix)]

mod common;

use std::ffi::CString;
use std::fs::File;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::io::FromRawFd;
use std::thread;

use common::{line, Tally};
use tracing_audit::appender::{Appender, Backpressure, SendError};

/// The "file" is a FIFO whose reader does not read until we say so, so the
/// writer thread really stalls in `write` once the pipe buffer is full.
#[test]
fn drop_count_is_exact_and_the_summary_line_appears() {
    const SENT: u64 = 20_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let c_path = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: plain libc calls on a path we own; the fd is owned by `reader`.
    let reader = unsafe {
        assert_eq!(libc::mkfifo(c_path.as_ptr(), 0o600), 0);
        let fd = libc::open(c_path.as_ptr(), libc::O_RDONLY | libc::O_NONBLOCK);
        assert!(fd >= 0);
        // Back to blocking reads, for when we start draining.
        let flags = libc::fcntl(fd, libc::F_GETFL);
        assert_eq!(libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK), 0);
        File::from_raw_fd(fd)
    };

    let (appender, guard) = Appender::builder(&path)
        .backpressure(Backpressure::Drop)
        .capacity(64)
        .max_file_size(None)
        .build()
        .unwrap();

    let mut refused = 0u64;
    for n in 0..SENT {
        match appender.send_line(line(0, n)) {
            Ok(()) => {}
            Err(SendError::QueueFull) => refused += 1,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    // ~2 MB against a 64 KiB pipe and a 64-line queue: most are refused.
    assert!(refused > SENT / 2, "only {refused} refused");
    assert_eq!(appender.stats().dropped, refused);

    // Un-stall the writer and read everything it writes until it closes.
    let drain = thread::spawn(move || {
        let mut reader = reader;
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).unwrap();
        bytes
    });
    drop(guard);
    let bytes = drain.join().unwrap();

    let mut tally = Tally::default();
    tally.add(&path, &bytes);
    assert!(tally.bad.is_empty(), "{:?}", tally.bad.first());
    let landed = tally.seen.len() as u64;
    assert!(tally.seen.values().all(|&c| c == 1));
    let reported: u64 = tally
        .other
        .iter()
        .map(|summary| {
            let v: serde_json::Value = serde_json::from_str(summary).unwrap();
            assert_eq!(v["level"], "WARN");
            assert_eq!(v["name"], "tracing_audit::appender");
            assert!(v["timestamp"].as_str().unwrap().ends_with('Z'));
            v["dropped"].as_u64().unwrap()
        })
        .sum();
    assert!(!tally.other.is_empty(), "no summary line");
    assert_eq!(
        reported, refused,
        "summary lines must add up to the refusals"
    );
    assert_eq!(
        landed + refused,
        SENT,
        "every line either landed or was counted"
    );
    assert_eq!(appender.stats().dropped, refused);
}
