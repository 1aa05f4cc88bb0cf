//! Attack: a FIFO planted in the log directory under a rotated file's name
//! (by whoever can write there) before the appender starts with gzip on.
//! The compressor opened it to read and waited for a writer for ever:
//! no rotated file was compressed or removed by retention again, and the
//! guard's drop waited on the stuck thread. A rotated name that is not a
//! regular file is reported and left alone.
#![cfg(all(feature = "gzip", unix))]

mod common;

use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use common::{files_of, line, Tally};
use tracing_audit::appender::Appender;

#[test]
fn a_fifo_named_like_a_rotated_file_does_not_stop_compression_or_retention() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let fifo = dir.path().join("audit.log.20200101T000000.000000Z");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let (tx, rx) = mpsc::channel();
    let path2 = path.clone();
    std::thread::spawn(move || {
        let (appender, guard) = Appender::builder(&path2)
            .max_file_size(256)
            .max_files(2)
            .compress(true)
            .compress_after(Duration::ZERO)
            .build()
            .unwrap();
        for n in 0..40 {
            appender.send_line(line(0, n)).unwrap();
        }
        appender.flush().unwrap();
        drop(guard);
        let _ = tx.send(appender.stats());
    });
    // Only bounds a hang.
    let stats = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the guard's drop hung on the FIFO");
    assert_eq!(stats.lines_written, 40, "{stats:?}");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    // Retention kept two rotated files besides the live one (and the
    // FIFO, left alone or removed), all of them compressed.
    let rotated: Vec<&String> = names
        .iter()
        .filter(|n| n.starts_with("audit.log.") && !n.starts_with("audit.log.2020"))
        .collect();
    assert!(rotated.len() <= 2, "retention stopped: {names:?}");
    assert!(
        rotated.iter().all(|n| n.ends_with(".gz")),
        "compression stopped: {names:?}"
    );
    let live = Tally::of_files(&files_of(&path)[files_of(&path).len() - 1..]);
    assert!(live.bad.is_empty());
}
