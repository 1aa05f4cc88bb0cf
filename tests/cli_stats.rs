//! `cli::stats` on records the crate wrote itself (logins failing from
//! given addresses, CRUD by users, requests through the HTTP layer): every
//! figure equals a direct count over the records read back, and what the
//! test planned to write.
#![cfg(all(feature = "cli", feature = "http"))]

mod common;
mod report_support;

use std::collections::BTreeMap;

use report_support::plan;
use serde_json::Value;
use tracing_audit::cli::stats::{run_stats, Stats};

fn stats_of(records: &[Value]) -> Stats {
    let mut stats = Stats::default();
    for r in records {
        stats.add(r);
    }
    stats
}

/// Occurrences of each string value that `key` picks, counted directly.
fn direct(records: &[Value], key: impl Fn(&Value) -> Option<&str>) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for r in records {
        if let Some(k) = key(r) {
            *counts.entry(k.to_owned()).or_default() += 1;
        }
    }
    counts
}

fn as_map(items: Vec<(&str, u64)>) -> BTreeMap<String, u64> {
    items.into_iter().map(|(k, n)| (k.to_owned(), n)).collect()
}

fn planned(items: &[(&str, u64)]) -> BTreeMap<String, u64> {
    items.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect()
}

/// The smallest value that at least `p` % of `values` do not exceed.
fn nearest_rank(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    *sorted
        .iter()
        .find(|v| {
            let at_most = values.iter().filter(|x| x <= v).count() as f64;
            at_most * 100.0 >= p * values.len() as f64
        })
        .unwrap()
}

#[test]
fn counts_equal_direct_counts_and_the_plan() {
    let records = report_support::write(false);
    let stats = stats_of(&records);
    assert_eq!(stats.records(), records.len() as u64);
    assert_eq!((stats.not_objects(), stats.untimed()), (0, 0));

    let by_level = direct(&records, |r| r["level"].as_str());
    let kinds = as_map(stats.kinds());
    for kind in ["AUDIT", "API", "LOGIN"] {
        assert_eq!(kinds[kind], by_level[kind], "{kind}");
    }
    assert_eq!(kinds["APP"], by_level["INFO"]);
    assert_eq!(kinds["APP"], plan::APP);
    assert_eq!(kinds["API"], plan::PATHS.iter().map(|p| p.1).sum::<u64>());

    let users = direct(&records, |r| {
        r["user_id"].as_str().filter(|u| !u.is_empty())
    });
    assert_eq!(as_map(stats.users()), users);
    assert_eq!(users["dave"], 5);
    assert_eq!(users["erin"], 2);
    assert_eq!(users["carol"], plan::APP);
    assert_eq!(users["alice"], plan::LOGINS + plan::LOGOUTS);

    let models = direct(&records, |r| r["model"].as_str());
    assert_eq!(as_map(stats.models()), models);
    assert_eq!(models, planned(&plan::MODELS));

    let event_types = direct(&records, |r| r["event_type"].as_str());
    assert_eq!(as_map(stats.event_types()), event_types);
    assert_eq!(event_types, planned(&plan::EVENT_TYPES));

    let logins = direct(&records, |r| r["event"].as_str());
    assert_eq!(as_map(stats.logins()), logins);
    assert_eq!(logins["login"], plan::LOGINS);
    assert_eq!(logins["logout"], plan::LOGOUTS);

    let failed = direct(&records, |r| {
        (r["success"] == false).then(|| r["client_ip"].as_str().unwrap_or(""))
    });
    assert_eq!(as_map(stats.failed_logins_by_ip()), failed);
    assert_eq!(failed, planned(&plan::FAILED));
    assert_eq!(
        stats.failed_logins_by_ip()[0],
        ("10.0.0.1", 3),
        "most failures first"
    );
}

#[test]
fn per_path_figures_equal_direct_counts() {
    let records = report_support::write(false);
    let stats = stats_of(&records);
    let paths = stats.paths();
    assert_eq!(paths.len(), plan::PATHS.len());
    for (path, requests, errors) in plan::PATHS {
        let mine: Vec<&Value> = records
            .iter()
            .filter(|r| r["request_repr"]["path"] == path)
            .collect();
        let failed = mine
            .iter()
            .filter(|r| {
                let status = &r["response_repr"]["status_code"];
                status.is_null() || status.as_u64().unwrap() >= 500
            })
            .count() as u64;
        let times: Vec<f64> = mine
            .iter()
            .map(|r| r["execution_time"].as_f64().unwrap())
            .collect();
        let figures = paths.iter().find(|p| p.path == path).unwrap();
        assert_eq!(figures.requests, mine.len() as u64, "{path}");
        assert_eq!(figures.requests, requests, "{path}");
        assert_eq!(figures.errors, failed, "{path}");
        assert_eq!(figures.errors, errors, "{path}");
        assert_eq!(figures.error_rate, errors as f64 / requests as f64);
        assert_eq!(figures.timed, requests);
        assert_eq!(figures.p50, Some(nearest_rank(&times, 50.0)), "{path}");
        assert_eq!(figures.p95, Some(nearest_rank(&times, 95.0)), "{path}");
        assert_eq!(figures.p99, Some(nearest_rank(&times, 99.0)), "{path}");
        // The handlers slept 0 to 600 µs: the times differ, so the
        // quantiles are not all the same value by accident.
        assert!(figures.p99 > figures.p50, "{path}: {times:?}");
    }
    assert_eq!(paths[0].path, "/orders", "most requests first");
}

#[test]
fn records_over_time_add_up_to_the_kinds() {
    let records = report_support::write(false);
    let stats = stats_of(&records);
    let json = stats.to_json();
    let buckets = json["over_time"]["buckets"].as_array().unwrap();
    assert!(!buckets.is_empty() && buckets.len() <= 60);
    for (kind, n) in stats.kinds() {
        let summed: u64 = buckets.iter().map(|b| b[kind].as_u64().unwrap()).sum();
        assert_eq!(summed, n, "{kind}");
    }
    let parse = |t: &str| {
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).unwrap()
    };
    let first = parse(buckets[0]["start"].as_str().unwrap());
    let earliest = records
        .iter()
        .map(|r| parse(r["timestamp"].as_str().unwrap()))
        .min()
        .unwrap();
    let width = json["over_time"]["bucket_seconds"].as_i64().unwrap();
    assert!(first <= earliest, "{first} > {earliest}");
    assert!(earliest - first < time::Duration::seconds(width));
}

#[test]
fn scans_of_parts_merge_into_the_scan_of_all() {
    let records = report_support::write(false);
    let whole = stats_of(&records);
    let mut parts: Vec<Stats> = (0..3)
        .map(|k| {
            let part: Vec<Value> = records.iter().skip(k).step_by(3).cloned().collect();
            stats_of(&part)
        })
        .collect();
    let mut merged = parts.remove(0);
    for part in parts {
        merged.merge(part);
    }
    assert_eq!(merged.to_json(), whole.to_json());
    assert_eq!(merged.table(100), whole.table(100));
}

#[test]
fn the_json_output_is_the_figures_and_the_table_lists_them() {
    let records = report_support::write(false);
    let mut out = Vec::new();
    let stats = run_stats(records.clone(), true, 10, &mut out).unwrap();
    let printed: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(printed, stats.to_json());
    assert_eq!(printed["records"], records.len() as u64);
    assert_eq!(
        printed["failed_logins_by_ip"][0],
        serde_json::json!({"key": "10.0.0.1", "count": 3})
    );

    let mut out = Vec::new();
    run_stats(records, false, 10, &mut out).unwrap();
    let table = String::from_utf8(out).unwrap();
    let row = |first: &str| {
        table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(first))
            .unwrap_or_else(|| panic!("no row {first} in\n{table}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert_eq!(row("10.0.0.1"), ["10.0.0.1", "3"]);
    assert_eq!(row("Order"), ["Order", "5"]);
    let pay = row("/pay");
    assert_eq!(&pay[..4], ["/pay", "10", "4", "40.0%"]);
}
