//! One arm of `compare_stacks`' rules comparison in a process of its own,
//! for instruction counts and per-thread CPU figures: `N` CRUD updates
//! through the crate's stack (real files in a temporary directory), with
//! no rules (`off`), the five rules (`five`) or the five plus a predicate
//! over every record (`parse-all`), exactly as `support/rules_cost.rs`
//! builds them. `compare` runs the rounds `compare_stacks` ends with,
//! alone.
//!
//! ```text
//! cargo build --release --all-features --example rules_calls
//! # instructions per record on the caller's thread (thread 1): the
//! # difference of two runs over the difference of their record counts
//! for arm in off five; do for n in 20000 60000; do
//!   valgrind --tool=callgrind --separate-threads=yes \
//!     --callgrind-out-file=cg.$arm.$n target/release/examples/rules_calls $arm $n
//!   grep summary cg.$arm.$n-01
//! done; done
//! target/release/examples/rules_calls compare 1000000 3
//! ```
//!
//! Before it shuts the stack down it prints, for every thread of the
//! process, its CPU time and context switches (from `/proc/self/task`,
//! Linux only), so that threads that poll show up. Exits with status 1 if
//! a record was lost.

#[path = "support/rules_cost.rs"]
mod rules_cost;
#[path = "support/mod.rs"]
#[allow(dead_code)] // the option parsing and latency helpers are the comparisons'
mod support;

use std::process::ExitCode;

use rules_cost::Arm;

const USAGE: &str = "usage: rules_calls off|five|parse-all [RECORDS]\n       rules_calls compare [RECORDS] [ROUNDS]";

/// A positive count, or `default` if absent.
fn count(arg: Option<String>, default: u64) -> Option<u64> {
    arg.map_or(Some(default), |s| s.replace('_', "").parse().ok())
        .filter(|n| *n > 0)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let arm = args.next().unwrap_or_else(|| "five".to_owned());
    let records = count(args.next(), 100_000);
    if arm == "compare" {
        let (Some(records), Some(rounds)) = (records, count(args.next(), 3)) else {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        };
        let compared = tempfile::tempdir()
            .and_then(|dir| rules_cost::run(records, rounds as usize, dir.path()));
        return match compared {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let (Some(arm), Some(records)) = (Arm::parse(&arm), records) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let run = tempfile::tempdir().and_then(|dir| {
        rules_cost::once(arm, records, dir.path(), |_| {
            print!("{}", rules_cost::thread_report());
        })
    });
    match run {
        Ok(run) => {
            println!(
                "{} records={records} rate={:.0} rec/s {}",
                arm.label(),
                run.rate,
                run.seen
            );
            if run.intact {
                ExitCode::SUCCESS
            } else {
                eprintln!("a record was lost");
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
