//! Attack on `stats` and `report` with absurd `execution_time`s: a
//! duration of 1e308 seconds printed `inf` milliseconds (and its
//! negative `-inf`), a negative duration a negative time. Neither is a
//! duration: such values are not timings, so the figures stay valid
//! numbers (or `-` / `null` when nothing was timed).
#![cfg(feature = "cli")]

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_tracing-audit");

fn request(path: &str, time: &str) -> String {
    format!(
        "{{\"timestamp\":\"2026-11-29T10:00:00.000000Z\",\"level\":\"API\",\"name\":\"audit.request\",\"request_repr\":{{\"path\":\"{path}\"}},\"response_repr\":{{\"status_code\":200}},\"execution_time\":{time}}}\n"
    )
}

fn write_log(dir: &std::path::Path) {
    let mut text = String::new();
    text += &request("/huge", "1e308");
    text += &request("/huge", "1.7e308");
    text += &request("/negative", "-1e308");
    text += &request("/negative", "-5");
    text += &request("/word", "\"slow\"");
    text += &request("/fine", "0.25");
    std::fs::write(dir.join("api.log"), text).unwrap();
}

fn run(args: &[&str]) -> (String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    (String::from_utf8(out.stdout).unwrap(), stderr)
}

fn assert_no_infinity(text: &str) {
    let lower = text.to_ascii_lowercase();
    for word in ["inf", "nan"] {
        assert!(!lower.contains(word), "{word} in:\n{text}");
    }
}

#[test]
fn stats_table_prints_no_infinite_or_negative_times() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path());
    let (table, _) = run(&["stats", "--no-progress", dir.path().to_str().unwrap()]);
    assert_no_infinity(&table);
    for path in ["/huge", "/negative", "/word"] {
        let row = table
            .lines()
            .find(|l| l.trim_start().starts_with(path))
            .unwrap_or_else(|| panic!("no row for {path}:\n{table}"));
        assert!(!row.contains("-5"), "{row}");
        assert!(row.trim_end().ends_with('-'), "not untimed: {row}");
    }
    let fine = table
        .lines()
        .find(|l| l.trim_start().starts_with("/fine"))
        .unwrap();
    assert!(fine.contains("250.000"), "{fine}");
}

#[test]
fn stats_json_times_are_null_when_absurd() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path());
    let (text, _) = run(&[
        "stats",
        "-o",
        "json",
        "--no-progress",
        dir.path().to_str().unwrap(),
    ]);
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let paths = json["paths"].as_array().unwrap();
    for p in paths {
        let fine = p["path"] == "/fine";
        assert_eq!(p["timed"], u64::from(fine), "{p}");
        for q in ["p50", "p95", "p99"] {
            assert_eq!(p[q].is_null(), !fine, "{p}");
        }
    }
}

#[test]
fn report_shows_no_infinite_times() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path());
    let html = dir.path().join("report.html");
    run(&[
        "report",
        "--no-progress",
        "--html",
        html.to_str().unwrap(),
        dir.path().join("api.log").to_str().unwrap(),
    ]);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(!page.contains("inf ms") && !page.contains("NaN"), "{page}");
    assert!(!page.contains("-5000.0 ms"), "negative time shown");
}
