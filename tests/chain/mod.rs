//! Helpers shared by the chain tests: writing a chained directory,
//! reading and rewriting its lines, the files in write order.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use tracing_audit::appender::Appender;
use tracing_audit::chain::{self, Break, ChainOptions, Report, VerifyOptions};

/// One record's JSON, as the layer would write it (without chain members).
pub fn record(i: usize) -> String {
    format!(
        r#"{{"timestamp":"2026-11-29T10:00:00.000000Z","level":"AUDIT","name":"audit.crud","message":"record {i}","service_name":"test","n":{i}}}"#
    )
}

/// Writes `count` records through a chained appender of `dir/audit.log`,
/// rotating after `max_file` bytes, numbering them from `from`.
pub fn write(
    dir: &Path,
    from: usize,
    count: usize,
    max_file: u64,
    options: &ChainOptions,
    gzip: bool,
) {
    let live = dir.join("audit.log");
    let mut builder = Appender::builder(&live)
        .max_file_size(max_file)
        .max_files(None)
        .line_transform(options.line_transform(&live));
    if gzip {
        builder = builder.compress(true).compress_after(Duration::ZERO);
    }
    let (appender, guard) = builder.build().expect("appender");
    for i in from..from + count {
        appender
            .write_line(record(i).as_bytes())
            .expect("line accepted");
    }
    drop(guard);
}

/// The files of `dir/audit.log` in write order: rotated (by name), live.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut rotated: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("audit.log.2") && !name.ends_with(".tmp")
        })
        .collect();
    rotated.sort();
    rotated.push(dir.join("audit.log"));
    rotated
}

pub fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

pub fn rewrite(path: &Path, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(path, text).unwrap();
}

pub fn verify(dir: &Path, options: &VerifyOptions) -> Report {
    chain::verify(dir, options).expect("verify runs")
}

/// The first broken record, asserting there is one.
pub fn broken(dir: &Path, options: &VerifyOptions) -> Break {
    let report = verify(dir, options);
    assert!(!report.intact(), "expected a break, report: {report:?}");
    report.first_break().cloned().expect("a break is named")
}

pub fn assert_intact(dir: &Path, options: &VerifyOptions) -> Report {
    let report = verify(dir, options);
    assert!(
        report.intact(),
        "expected intact: {:?}",
        report.first_break()
    );
    report
}

pub fn json(line: &str) -> serde_json::Value {
    serde_json::from_str(line).expect("a JSON line")
}
