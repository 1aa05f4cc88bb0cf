//! The failed-login rules under a spray of client addresses: `N` failed
//! logins from one address, then from `N` different ones (every record a
//! new key, past the rule's 10,000 `max_keys`), through the crate's stack
//! with `Rule::failed_logins_per_ip`. Prints, per arm, how long the
//! records took to make and to be evaluated, and the rules' figures.
//! Exits with status 1 if a record was neither evaluated nor counted as
//! dropped, or if the spray made the rules drop records the single
//! address did not.
//!
//! ```text
//! cargo run --release --all-features --example alert_spray -- 100000
//! ```

use std::process::ExitCode;
use std::time::Instant;

use tracing_audit::alert::{Alerts, Rule};
use tracing_subscriber::layer::SubscriberExt;

fn main() -> ExitCode {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.replace('_', "").parse().ok())
        .unwrap_or(100_000);
    let mut ok = true;
    let mut dropped_by_arm = Vec::new();
    for spray in [false, true] {
        let dir = match tempfile::tempdir() {
            Ok(dir) => dir,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        let built = tracing_audit::layer()
            .log_dir(dir.path())
            .alerts(
                Alerts::new()
                    .rule(Rule::failed_logins_per_ip())
                    .callback(|_| {}),
            )
            .build::<tracing_subscriber::Registry>();
        let (layer, guard) = match built {
            Ok(built) => built,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
        let start = Instant::now();
        tracing::dispatcher::with_default(&dispatch, || {
            for i in 0..n {
                let ip = if spray {
                    format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255)
                } else {
                    "10.0.0.1".to_owned()
                };
                tracing_audit::login_failed!(user: "u", client_ip: ip.as_str());
            }
        });
        let made = start.elapsed();
        let report = guard.shutdown();
        let total = start.elapsed();
        let Some(stats) = report.alerts else {
            eprintln!("error: no alert figures");
            return ExitCode::FAILURE;
        };
        println!(
            "arm={} records={n} made_s={:.3} evaluated_s={:.3} seen={} dropped={} keys_capped={} alerts={}",
            if spray { "spray" } else { "one_ip" },
            made.as_secs_f64(),
            total.as_secs_f64(),
            stats.records_seen,
            stats.records_dropped,
            stats.keys_capped,
            stats.alerts,
        );
        if stats.records_seen + stats.records_dropped != n {
            eprintln!("error: records neither evaluated nor counted as dropped");
            ok = false;
        }
        dropped_by_arm.push(stats.records_dropped);
    }
    if dropped_by_arm[1] > dropped_by_arm[0] {
        eprintln!("error: the spray made the rules drop records");
        ok = false;
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
