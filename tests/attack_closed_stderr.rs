//! Attack: stderr is a pipe whose reader is gone (`app 2>&1 | logger`
//! after the logger died, a closed journal socket). The crate reports
//! trouble on stderr with `eprintln!`, which panics when the write fails:
//! a line refused after the guard was dropped panicked in the caller's
//! code, and a report on the writer thread would stop it. Reports that
//! cannot be written are now dropped; nothing else changes.
//!
//! The test runs itself again as a child (`ATTACK_STDERR_CHILD`) whose
//! stderr is such a pipe.
#![cfg(unix)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use tracing_audit::appender::Appender;

const CHILD: &str = "ATTACK_STDERR_CHILD";

/// In the child: writes to stderr until they fail (the parent has closed
/// the pipe's reading end).
fn wait_for_a_broken_stderr() {
    let mut err = std::io::stderr();
    while err.write_all(b".").is_ok() {
        std::thread::yield_now();
    }
}

#[test]
fn reports_on_a_broken_stderr_neither_panic_nor_lose_lines() {
    if let Some(dir) = std::env::var_os(CHILD) {
        let dir = Path::new(&dir);
        wait_for_a_broken_stderr();
        let path = dir.join("audit.log");
        // Rotation with one file kept: each deletion is reported.
        let (appender, guard) = Appender::builder(&path)
            .max_file_size(64)
            .max_files(1)
            .build()
            .unwrap();
        for n in 0..5 {
            appender
                .write_line(format!("{{\"n\":{n:>50}}}\n").as_bytes())
                .unwrap();
        }
        drop(guard);
        // Refused, and reported on stderr: in the caller's code.
        assert!(appender.write_line(b"{\"n\":\"late\"}\n").is_err());
        std::fs::write(dir.join("done"), b"ok").unwrap();
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "reports_on_a_broken_stderr_neither_panic_nor_lose_lines",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert!(status.success(), "the child failed: {status:?}");
    assert!(dir.path().join("done").is_file());
    let live = std::fs::read_to_string(dir.path().join("audit.log")).unwrap();
    assert!(live.contains("\"n\":"), "{live}");
}
