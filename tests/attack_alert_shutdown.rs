//! Attack on alert delivery at shutdown: a webhook that accepts the
//! connection and never answers, with alerts queued behind the attempt in
//! flight. When the guard's shutdown returns, every alert delivery is
//! accounted for (delivered, failed, dropped or abandoned), so that
//! `deliveries_lost() == 0` means what it says.
#![cfg(feature = "alert")]

mod alert_support;
mod common;

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use alert_support::wait_for;
use common::records::Logs;
use tracing_audit::alert::{Alerts, Rule, Webhook};

/// A receiver that accepts every connection and never answers: the URL
/// and how many connections it took.
fn silent_receiver() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/alerts", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            count.fetch_add(1, Ordering::SeqCst);
            held.push(stream);
        }
    });
    (url, accepted)
}

#[test]
fn deliveries_stuck_behind_a_silent_webhook_are_counted_when_shutdown_returns() {
    let (url, accepted) = silent_receiver();
    let logs = Logs::with(|b| {
        b.alerts(
            Alerts::new()
                .rule(Rule::deleted("Invoice"))
                .webhook(
                    Webhook::new(url)
                        .retries(0)
                        // Far longer than the shutdown may take.
                        .timeout(Duration::from_secs(600)),
                )
                .shutdown_timeout(Duration::from_millis(200)),
        )
    });
    logs.run(|| {
        for id in 0..4 {
            tracing_audit::delete!(model: "Invoice", id: id);
        }
    });
    wait_for("the four alerts", || {
        (logs.guard.alert_stats().unwrap().alerts == 4).then_some(())
    });
    wait_for("the first delivery in flight", || {
        (accepted.load(Ordering::SeqCst) >= 1).then_some(())
    });
    let Logs {
        guard, dir: _dir, ..
    } = logs;
    let report = guard.shutdown();
    let stats = report.alerts.expect("alert stats in the shutdown report");
    assert_eq!(stats.alerts, 4);
    assert_eq!(
        stats.delivered + stats.deliveries_lost(),
        4,
        "every delivery accounted for at shutdown: {stats:?}"
    );
    assert_eq!(stats.delivered, 0, "{stats:?}");
}

/// The rules still busy when the shutdown timeout runs out (a predicate
/// that takes its time, a backlog): the records still queued were neither
/// evaluated nor counted anywhere (`records_seen + records_dropped` fell
/// short of the records made), though the guide says dropping the guard
/// "evaluates what is queued". They are counted in `records_dropped` when
/// the shutdown gives up on them.
#[test]
fn records_queued_for_the_rules_when_shutdown_gives_up_are_counted() {
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let release_rx = std::sync::Mutex::new(release_rx);
    let entered = Arc::new(AtomicUsize::new(0));
    let in_rule = Arc::clone(&entered);
    let logs = Logs::with(|b| {
        b.alerts(
            Alerts::new()
                .rule(Rule::matching("slow", move |r| {
                    if r.name() == "audit.crud" && in_rule.fetch_add(1, Ordering::SeqCst) == 0 {
                        // The first record holds the rules thread until
                        // the test lets it go, after the shutdown.
                        let _ = release_rx.lock().unwrap().recv();
                    }
                    false
                }))
                .shutdown_timeout(Duration::from_millis(100)),
        )
    });
    const RECORDS: u64 = 10;
    logs.run(|| {
        for id in 0..RECORDS {
            tracing_audit::delete!(model: "Invoice", id: id);
        }
    });
    wait_for("the rules thread in the first record", || {
        (entered.load(Ordering::SeqCst) > 0).then_some(())
    });
    let Logs { guard, .. } = logs;
    let report = guard.shutdown();
    let stats = report.alerts.unwrap();
    release_tx.send(()).unwrap();
    assert_eq!(
        stats.records_seen + stats.records_dropped + stats.records_unparsed,
        RECORDS,
        "every record evaluated or counted: {stats:?}"
    );
    assert_eq!(stats.records_seen, 1, "{stats:?}");
}
