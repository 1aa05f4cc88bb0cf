//! Attack on process auditing with hostile values: a registration's name
//! or description whose `Display` fails or panics must not panic the
//! caller, and each registration still writes one whole record.

mod common;

use std::fmt;

use common::records::Logs;
use tracing_audit::{Kind, Process};

/// Writes some text, then returns `Err` (as a `Display` that forwards a
/// failing writer may).
struct Fails;

impl fmt::Display for Fails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("partial")?;
        Err(fmt::Error)
    }
}

/// Panics while formatting.
struct Panics;

impl fmt::Display for Panics {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("display of a registration panicked")
    }
}

#[test]
fn a_registration_whose_display_fails_or_panics_is_recorded_without_panicking() {
    let logs = Logs::new();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        logs.run(|| {
            let mut p = Process::begin("payout", [("approve", 2), ("pay", 1)]);
            p.register("approve", true, Fails, "by the first approver")
                .unwrap();
            p.register("approve", true, "second", Fails).unwrap();
            p.register("pay", false, Panics, Panics).unwrap();
            p.finish()
        })
    }));
    let succeeded = outcome.expect("the caller panicked");
    assert!(!succeeded, "the pay step failed");
    let records = logs.records(Kind::Audit);
    let events: Vec<&str> = records
        .iter()
        .map(|r| r["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "start",
            "registration",
            "registration",
            "registration",
            "finish"
        ]
    );
    assert_eq!(records[1]["registration"], "partial");
    assert_eq!(records[1]["description"], "by the first approver");
    assert_eq!(records[2]["description"], "partial");
    let panicked = records[3]["registration"].as_str().unwrap();
    assert!(panicked.contains("panicked"), "{panicked}");
    assert_eq!(records[3]["success"], false);
    assert_eq!(records[4]["steps"][0]["succeeded"], 2);
}
