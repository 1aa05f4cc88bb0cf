//! Attack on `tracing-audit tail` with damaged lines: each malformed line
//! is named on stderr as FILE:LINE, and the closing count agrees with what
//! was shown (as `query` and `stats` report them).
#![cfg(feature = "cli")]

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_tracing-audit");

fn record(n: u32) -> String {
    format!(
        "{{\"timestamp\":\"2026-11-29T10:00:0{n}.000000Z\",\"level\":\"AUDIT\",\"name\":\"audit.crud\",\"model\":\"M\",\"event_type\":\"DELETE\",\"instance_id\":\"{n}\"}}\n"
    )
}

#[test]
fn tail_names_each_malformed_line_and_its_count_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = record(1).into_bytes();
    text.extend_from_slice(b"{\"message\":\"\xff\xfe not UTF-8\"}\n");
    text.extend_from_slice(record(2).as_bytes());
    text.extend_from_slice(b"not json at all\n");
    text.extend_from_slice(record(3).as_bytes());
    std::fs::write(dir.path().join("audit.log"), text).unwrap();
    let out = Command::new(BIN)
        .args(["tail", "-n", "10"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);
    assert!(stderr.contains("audit.log:2:"), "{stderr}");
    assert!(stderr.contains("audit.log:4:"), "{stderr}");
    // Both were shown: the summary must not say that fewer were.
    let summary = stderr
        .lines()
        .find(|l| l.contains("malformed line(s) skipped"))
        .unwrap_or_else(|| panic!("no summary: {stderr}"));
    assert!(
        summary.ends_with("2 malformed line(s) skipped"),
        "{summary}"
    );
}

/// `tail -f | head -1` on a quiet log: once the reader of its output is
/// gone, `tail -f` must end even though no new record comes to be
/// written (it used to notice only at the next record, i.e. never).
#[test]
fn follow_ends_when_its_reader_is_gone_on_a_quiet_log() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("audit.log"), record(1)).unwrap();
    let mut child = Command::new(BIN)
        .args(["tail", "-f", "-n", "1", "--poll-ms", "20"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.contains("\"instance_id\":\"1\""), "{first}");
    drop(stdout); // the reader goes, as `head -1` does after one line
                  // Only bounds a hang: the log stays quiet, so nothing else can make
                  // it end.
    let deadline = Instant::now() + Duration::from_secs(30);
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
    let status = status.expect("tail -f kept running after its reader was gone");
    assert_eq!(status.code(), Some(0), "{status:?}");
}
