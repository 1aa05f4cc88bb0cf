//! Attack: `init` called a second time with the same log directory (a
//! library and its application both initialising, a test harness). The
//! second call must fail without touching the files the first one writes:
//! every record of the first subscriber is in the files once, and with a
//! hash chain the trail still verifies.
#![cfg(feature = "chain")]

use tracing_audit::chain::{ChainOptions, VerifyOptions};

#[test]
fn a_second_init_fails_and_leaves_the_first_ones_files_whole() {
    let dir = tempfile::tempdir().unwrap();
    let guard = tracing_audit::builder()
        .service_name("first")
        .log_dir(dir.path())
        .console(false)
        .chain(ChainOptions::new())
        .init()
        .unwrap();
    for n in 0..50 {
        tracing_audit::delete!(model: "Order", id: n, user: "7");
    }
    guard.flush().unwrap();
    let second = tracing_audit::builder()
        .service_name("second")
        .log_dir(dir.path())
        .console(false)
        .chain(ChainOptions::new())
        .init();
    assert!(
        matches!(second, Err(tracing_audit::Error::Init(_))),
        "{:?}",
        second.err()
    );
    for n in 50..100 {
        tracing_audit::delete!(model: "Order", id: n, user: "7");
    }
    drop(guard);
    let text = std::fs::read_to_string(dir.path().join("audit.log")).unwrap();
    let ids: Vec<String> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["name"] == "audit.crud")
        .map(|v| v["instance_id"].as_str().unwrap().to_owned())
        .collect();
    let want: Vec<String> = (0..100).map(|n| n.to_string()).collect();
    assert_eq!(ids, want);
    let report = tracing_audit::chain::verify(dir.path(), &VerifyOptions::new()).unwrap();
    assert!(report.intact(), "{:?}", report.first_break());
}
