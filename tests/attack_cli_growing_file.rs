//! Attack: `query` on a file that keeps growing while it is read (a busy
//! live log; here a sparse file extended faster than it can be read). It
//! read to whatever end it found, so it never ended while the writer
//! kept ahead. A file is read as it was when the scan opened it (plus the
//! rest of a line cut at that point), so the command ends and shows the
//! records that were there.
#![cfg(all(feature = "cli", unix))]

use std::fs::OpenOptions;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_tracing-audit");

fn record(n: u32) -> String {
    format!(
        "{{\"timestamp\":\"2026-11-29T10:00:00.{n:06}Z\",\"level\":\"AUDIT\",\"name\":\"audit.crud\",\"model\":\"M\",\"event_type\":\"DELETE\",\"instance_id\":\"{n}\"}}\n"
    )
}

#[test]
fn query_ends_on_a_file_that_grows_faster_than_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap();
    for n in 0..100 {
        file.write_all(record(n).as_bytes()).unwrap();
    }
    file.sync_all().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let grower = {
        let (stop, file) = (stop.clone(), file.try_clone().unwrap());
        std::thread::spawn(move || {
            // Sparse growth: no disk is used, the reader sees zeros.
            let mut len = file.metadata().unwrap().len();
            while !stop.load(Ordering::Relaxed) {
                len += 64 << 20;
                if file.set_len(len).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    // Give the grower a head start, as a busy writer has.
    std::thread::sleep(Duration::from_millis(50));
    let mut child = Command::new(BIN)
        .args(["query", "--no-progress"])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap());
    // Only bounds a hang.
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    stop.store(true, Ordering::Relaxed);
    grower.join().unwrap();
    let _ = std::fs::remove_file(&path);
    let out = reader.join().unwrap();
    let status = status.expect("query still reading a growing file after 60 s");
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert_eq!(out.lines().count(), 100);
}
