//! Attack: a FIFO planted in the log directory under a rotated file's name
//! (`audit.log.<time>Z`) or as the live file. Opening a FIFO waits for a
//! writer that never comes, so `query`, `stats` (every command that lists
//! a directory) and `tail -f` hung for ever, even once their reader was
//! gone. Only regular files are read from a directory listing, and `tail`
//! does not open what is not one.
#![cfg(all(feature = "cli", unix))]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_tracing-audit");

const RECORD: &str = "{\"timestamp\":\"2026-11-29T10:00:00.000000Z\",\"level\":\"AUDIT\",\"name\":\"audit.crud\",\"model\":\"M\",\"event_type\":\"DELETE\",\"instance_id\":\"1\"}\n";

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success());
}

/// Waits for the child to end; `None` when it is still running after the
/// (generous) bound on a hang, then killed.
fn ended(child: &mut Child) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_fifo_with_a_rotated_name_does_not_hang_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("audit.log"), RECORD).unwrap();
    mkfifo(&dir.path().join("audit.log.20261129T090000.000000Z"));
    for command in ["query", "stats", "export"] {
        let mut args = vec![command, "--no-progress"];
        if command == "export" {
            args.extend(["-f", "jsonl"]);
        }
        let mut child = Command::new(BIN)
            .args(&args)
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap());
        let status = ended(&mut child).unwrap_or_else(|| panic!("{command} hung on the FIFO"));
        assert_eq!(status.code(), Some(0), "{command}");
        let out = reader.join().unwrap();
        if command != "stats" {
            assert_eq!(out, RECORD, "{command}");
        }
    }
}

#[test]
fn tail_follow_does_not_open_a_fifo_at_the_live_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("api.log"), RECORD.replace("AUDIT", "API")).unwrap();
    mkfifo(&dir.path().join("audit.log"));
    let mut child = Command::new(BIN)
        .args(["tail", "-f", "-n", "1", "--poll-ms", "20"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The first line, read on a thread: a command stuck opening the FIFO
    // prints nothing, and the reader is dropped (closed) either way.
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut stdout = BufReader::new(stdout);
        let mut first = String::new();
        let _ = stdout.read_line(&mut first);
        let _ = tx.send(first);
    });
    let first = rx.recv_timeout(Duration::from_secs(30));
    if first.is_err() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let first = first.expect("tail -f printed nothing: stuck opening the FIFO");
    assert!(first.contains("\"instance_id\":\"1\""), "{first:?}");
    let status = ended(&mut child).expect("tail -f hung on the FIFO");
    assert_eq!(status.code(), Some(0));
}
