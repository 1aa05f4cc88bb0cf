//! `compare_stacks`' rules variant (feature `alert`): the crate's stack
//! with five alert rules on, against the same stack with none, one
//! producer thread. What the caller pays is a scan of each line; a line
//! some rule may match is copied into the rules' queue (a full queue
//! drops, counted, never waits); the rules run on their own thread.
//! Prints `rules_cost_ratio=X.XX`: median records/s with the rules over
//! median records/s without.
//!
//! The arms run in a different order each round (the order rotates), and
//! the arm without rules runs twice per round (`rules-off` and
//! `rules-off-b`): two identical arms in different positions, whose ratio
//! (`rules_off_calibration=X.XX`) shows how much of a difference the
//! position in the round alone makes. The ratios are over the median of
//! every run of the two.

use std::fmt::Write as _;
use std::io;
use std::path::Path;
use std::time::Instant;

use tracing::Dispatch;
use tracing_audit::alert::{Alerts, Rule};
use tracing_audit::{AuditGuard, Changes, Kind};
use tracing_subscriber::layer::SubscriberExt;

/// One configuration of the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arm {
    /// No rules.
    Off,
    /// No rules again, in another position of the round (calibration).
    OffAgain,
    /// The five rules.
    Five,
    /// The five and a predicate that parses every record.
    ParseAll,
}

impl Arm {
    /// Every arm of a round, before rotation.
    pub const ALL: [Arm; 4] = [Arm::Off, Arm::Five, Arm::OffAgain, Arm::ParseAll];

    pub fn label(self) -> &'static str {
        match self {
            Arm::Off => "rules-off",
            Arm::OffAgain => "rules-off-b",
            Arm::Five => "rules-5",
            Arm::ParseAll => "rules-parse-all",
        }
    }

    /// `off`, `five` or `parse-all` (the labels work too).
    #[allow(dead_code)] // used by `rules_calls`, not `compare_stacks`
    pub fn parse(s: &str) -> Option<Arm> {
        match s {
            "off" | "rules-off" => Some(Arm::Off),
            "five" | "rules-5" => Some(Arm::Five),
            "parse-all" | "rules-parse-all" => Some(Arm::ParseAll),
            _ => None,
        }
    }

    fn alerts(self) -> Option<Alerts> {
        match self {
            Arm::Off | Arm::OffAgain => None,
            Arm::Five => Some(five_rules()),
            Arm::ParseAll => Some(parse_all()),
        }
    }
}

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

/// What one run gave.
pub struct Once {
    /// Records per second, first record until every line is with the OS.
    pub rate: f64,
    /// Every record written, none lost.
    pub intact: bool,
    /// What the rules saw, in words (empty without rules).
    pub seen: String,
}

/// One run: `records` CRUD updates in a request span. `flushed` is called
/// once every line is with the OS, before the stack shuts down.
pub fn once(
    arm: Arm,
    records: u64,
    dir: &Path,
    flushed: impl FnOnce(&AuditGuard),
) -> io::Result<Once> {
    let mut builder = tracing_audit::layer().log_dir(dir).max_file_size(None);
    if let Some(alerts) = arm.alerts() {
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
    flushed(&guard);
    drop(dispatch);
    let report = guard.shutdown();
    let seen = report
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
    Ok(Once {
        rate,
        intact: report.lost() == 0 && written == records,
        seen,
    })
}

/// Every thread of this process: name, CPU time (user + system) and
/// context switches (voluntary, involuntary), one line each, from
/// `/proc/self/task` (empty where there is none).
#[allow(dead_code)] // used by `rules_calls`, not `compare_stacks`
pub fn thread_report() -> String {
    let mut out = String::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    // Clock ticks per second, as `/proc` counts them.
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    for task in tasks.flatten() {
        let path = task.path();
        let (Ok(stat), Ok(status)) = (
            std::fs::read_to_string(path.join("stat")),
            std::fs::read_to_string(path.join("status")),
        ) else {
            continue;
        };
        // `pid (comm) state ...`: the name may hold spaces, so split after
        // the last parenthesis; utime and stime are fields 14 and 15.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = &stat[open + 1..close];
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
        let (Some(user), Some(system)) = (ticks(11), ticks(12)) else {
            continue;
        };
        let switches = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .map_or("?", str::trim)
        };
        let _ = writeln!(
            out,
            "thread {name:<32} cpu {:>8.3} s  switches {:>8} voluntary {:>8} involuntary",
            (user + system) / hz,
            switches("voluntary_ctxt_switches:"),
            switches("nonvoluntary_ctxt_switches:"),
        );
    }
    out
}

/// Runs `rounds` rounds of every arm, the order rotating by one arm each
/// round, prints each run and the ratios; false on a lost record.
pub fn run(records: u64, rounds: usize, dir: &Path) -> io::Result<bool> {
    let mut rates: [Vec<f64>; Arm::ALL.len()] = Default::default();
    let mut ok = true;
    println!();
    for round in 0..rounds {
        for slot in 0..Arm::ALL.len() {
            let i = (slot + round) % Arm::ALL.len();
            let arm = Arm::ALL[i];
            let run_dir = dir.join(format!(
                "rules-{}-r{round}-{}",
                std::process::id(),
                arm.label()
            ));
            let run = once(arm, records, &run_dir, |_| {})?;
            std::fs::remove_dir_all(&run_dir)?;
            println!(
                "{round:>5} {slot:>2} {:<16} {:>12.0} rec/s {}",
                arm.label(),
                run.rate,
                run.seen
            );
            ok &= run.intact;
            rates[i].push(run.rate);
        }
    }
    let runs = |arm: Arm| rates[Arm::ALL.iter().position(|a| *a == arm).unwrap_or(0)].clone();
    let median = |arm: Arm| crate::support::median(runs(arm));
    // Both arms without rules are the same stack: the ratios are over the
    // median of all their runs.
    let off = crate::support::median([runs(Arm::Off), runs(Arm::OffAgain)].concat());
    println!(
        "rules_off_calibration={:.2}",
        median(Arm::OffAgain) / median(Arm::Off)
    );
    println!("rules_parse_all_ratio={:.2}", median(Arm::ParseAll) / off);
    println!("rules_cost_ratio={:.2}", median(Arm::Five) / off);
    Ok(ok)
}
