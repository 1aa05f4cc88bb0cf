//! `compare_stacks`' rules variant (feature `alert`): the crate's stack
//! with five alert rules on, against the same stack with none, rounds
//! alternating, one producer thread. What the caller pays is a copy of the
//! line into the rules' queue (a full queue drops, counted, never waits);
//! the rules run on their own thread. Prints `rules_cost_ratio=X.XX`:
//! median records/s with the rules over median records/s without.

use std::io;
use std::path::Path;
use std::time::Instant;

use tracing::Dispatch;
use tracing_audit::alert::{Alerts, Rule};
use tracing_audit::{Changes, Kind};
use tracing_subscriber::layer::SubscriberExt;

use crate::support::median;

/// The five rules: the four built-in ones and a predicate on login
/// records. The benchmark's CRUD updates are passed over on the caller's
/// thread by the deletion rule's scan (no `DELETE`): neither copied nor
/// parsed.
fn five_rules() -> Alerts {
    Alerts::new()
        .rule(Rule::failed_logins_per_ip())
        .rule(Rule::failed_logins_per_user())
        .rule(Rule::deleted("Invoice"))
        .rule(Rule::server_errors(0.05))
        .rule(
            Rule::matching("root login", |r| r.str("user_id") == Some("root"))
                .target("audit.login"),
        )
}

/// The worst case: a predicate over every CRUD record, so that every line
/// is parsed on the rules thread.
fn parse_all() -> Alerts {
    five_rules().rule(Rule::matching("large refund", |r| {
        r.str("model") == Some("Refund") && r.f64("extra").is_some_and(|a| a > 1000.0)
    }))
}

/// One run: `records` CRUD updates in a request span; records/s to the OS,
/// and false if a record was lost.
fn once(rules: Option<Alerts>, records: u64, dir: &Path) -> io::Result<(f64, bool, String)> {
    let mut builder = tracing_audit::layer().log_dir(dir).max_file_size(None);
    if let Some(alerts) = rules {
        builder = builder.alerts(alerts);
    }
    let (layer, guard) = builder.build().map_err(io::Error::other)?;
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    let changes = Changes::new().with("price", 10.99, 12.99);
    let start = Instant::now();
    tracing::dispatcher::with_default(&dispatch, || {
        let span =
            tracing::info_span!("request", user_id = "7", request_id = "r1", tenant = "acme");
        let _entered = span.enter();
        for seq in 0..records {
            tracing_audit::update!(model: "Product", id: 42, changes: &changes, extra: seq);
        }
    });
    guard.flush()?;
    let rate = records as f64 / start.elapsed().as_secs_f64();
    drop(dispatch);
    let report = guard.shutdown();
    let rules_seen = report
        .alerts
        .as_ref()
        .map(|s| {
            format!(
                "(rules parsed {}, dropped {} on a full queue)",
                s.records_seen, s.records_dropped
            )
        })
        .unwrap_or_default();
    let written = report.stats(Kind::Audit).map_or(0, |s| s.lines_written);
    Ok((rate, report.lost() == 0 && written == records, rules_seen))
}

/// Runs `rounds` × (off, five rules, five plus a parse-everything
/// predicate) and prints the ratios; false on a lost record.
pub fn run(records: u64, rounds: usize, dir: &Path) -> io::Result<bool> {
    let mut rates: [Vec<f64>; 3] = Default::default();
    let labels = ["rules-off", "rules-5", "rules-parse-all"];
    let mut ok = true;
    println!();
    for round in 0..rounds {
        for (i, label) in labels.iter().enumerate() {
            let rules = [None, Some(five_rules()), Some(parse_all())][i].take();
            let run_dir = dir.join(format!("rules-{}-r{round}-{label}", std::process::id()));
            let (rate, intact, seen) = once(rules, records, &run_dir)?;
            std::fs::remove_dir_all(&run_dir)?;
            println!("{round:>5} {label:<16} {rate:>12.0} rec/s {seen}");
            ok &= intact;
            rates[i].push(rate);
        }
    }
    let [off, five, all] = rates.map(median);
    println!("rules_parse_all_ratio={:.2}", all / off);
    println!("rules_cost_ratio={:.2}", five / off);
    Ok(ok)
}
