//! The `stats` and `report` subcommands of the real binary on files the
//! crate wrote (rotated and gzipped ones included): the figures they print
//! are those of `Stats` over the records read back independently, the
//! filters apply, and a missing input gives exit status 3.
#![cfg(all(feature = "cli", feature = "http"))]

mod cli_support;

use cli_support::{all_records, run, write_fixture};
use serde_json::Value;
use tracing_audit::cli::stats::Stats;

fn stats_of<'a>(records: impl IntoIterator<Item = &'a Value>) -> Stats {
    let mut stats = Stats::default();
    for r in records {
        stats.add(r);
    }
    stats
}

fn printed_json(args: &[&str]) -> Value {
    let out = run(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn stats_json_equals_the_figures_of_every_record_read_back() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let records = all_records(dir.path());
    let d = dir.path().to_str().unwrap();
    let printed = printed_json(&["stats", "-o", "json", "--no-progress", d]);
    assert_eq!(printed, stats_of(&records).to_json());
    assert_eq!(printed["records"], records.len() as u64);
    // The rotated, gzipped audit files were read: every CRUD record counts.
    let crud = records.iter().filter(|r| r["level"] == "AUDIT").count() as u64;
    assert_eq!(printed["kinds"]["AUDIT"], crud);
    assert!(crud >= 400, "{crud}");
}

#[test]
fn stats_take_the_query_filters() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let records = all_records(dir.path());
    let d = dir.path().to_str().unwrap();
    let printed = printed_json(&["stats", "-o", "json", "--no-progress", "--user", "alice", d]);
    let alice = records.iter().filter(|r| r["user_id"] == "alice");
    assert_eq!(printed, stats_of(alice).to_json());
    assert_eq!(printed["users"].as_array().unwrap().len(), 1);
}

#[test]
fn the_stats_table_shows_the_counts() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let stats = stats_of(&all_records(dir.path()));
    let out = run(&[
        "stats",
        "--no-progress",
        "--top",
        "3",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), stats.table(3));
}

#[test]
fn report_writes_the_page_of_the_figures() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let stats = stats_of(&all_records(dir.path()));
    let page = dir.path().join("out").join("report.html");
    std::fs::create_dir_all(page.parent().unwrap()).unwrap();
    let out = run(&[
        "report",
        "--no-progress",
        "--title",
        "Fixture <b>",
        "--html",
        page.to_str().unwrap(),
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(&page).unwrap();
    assert_eq!(
        written,
        tracing_audit::cli::report::html(&stats, "Fixture <b>")
    );
    assert!(written.contains("<title>Fixture &lt;b&gt;</title>"));
}

#[test]
fn a_missing_input_or_unwritable_page_is_exit_status_3() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let out = run(&["stats", "--no-progress", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));

    write_fixture(dir.path());
    let page = dir.path().join("no-such-dir").join("r.html");
    let out = run(&[
        "report",
        "--no-progress",
        "--html",
        page.to_str().unwrap(),
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("r.html"));
}
