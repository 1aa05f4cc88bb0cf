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
