//! Flush, sync and shutdown: what was sent is in the file when they return;
//! at shutdown every accepted line is written or, if the timeout runs out,
//! counted, and every refused line is counted.

mod common;

use std::fs;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::{files_of, line, Tally};
use tracing_audit::appender::{shutdown_all, Appender, SendError};

#[test]
fn dropping_the_guard_right_after_a_million_lines_loses_none() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let (appender, guard) = Appender::builder(&path)
        .max_file_size(None)
        .build()
        .unwrap();
    for n in 0..1_000_000 {
        appender.send_line(line(0, n)).unwrap();
    }
    drop(guard);
    Tally::of_files(&files_of(&path)).assert_exactly_once(1, 1_000_000);
    let stats = appender.stats();
    assert_eq!(stats.lines_written, 1_000_000);
    assert_eq!(
        (stats.dropped, stats.abandoned, stats.queue_depth),
        (0, 0, 0)
    );
}

#[test]
fn flush_returns_only_when_earlier_lines_are_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("api.log");
    let (appender, _guard) = Appender::builder(&path).build().unwrap();
    let producers: Vec<_> = (0..4u32)
        .map(|t| {
            let appender = appender.clone();
            let path = path.clone();
            thread::spawn(move || {
                for round in 0..20u64 {
                    for n in round * 500..(round + 1) * 500 {
                        appender.send_line(line(t, n)).unwrap();
                    }
                    appender.flush().unwrap();
                    // Everything this thread sent so far is readable now.
                    let mut tally = Tally::default();
                    tally.add(&path, &fs::read(&path).unwrap());
                    let mine = tally.seen.keys().filter(|(who, _)| *who == t).count() as u64;
                    assert_eq!(mine, (round + 1) * 500, "thread {t} round {round}");
                }
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
}

#[test]
fn sync_writes_and_fsyncs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let (appender, _guard) = Appender::builder(&path).build().unwrap();
    appender.write_line(b"{\"a\":1}").unwrap();
    appender.sync().unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"{\"a\":1}\n");
}

#[test]
fn lines_sent_after_the_guard_is_dropped_are_refused_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let (appender, guard) = Appender::builder(&path).build().unwrap();
    appender.write_line(b"{\"before\":true}\n").unwrap();
    drop(guard);
    assert_eq!(
        appender.write_line(b"{\"after\":true}\n"),
        Err(SendError::Closed)
    );
    assert!(appender.flush().is_err());
    assert_eq!(appender.stats().dropped, 1);
    assert_eq!(fs::read(&path).unwrap(), b"{\"before\":true}\n");
}

/// What one producer saw: lines accepted (`0..accepted`, in order) and
/// lines refused because the appender was closing.
struct Seen {
    accepted: u64,
    refused: u64,
}

/// Sends numbered lines until `refusals` of them have been refused; counts
/// itself in `started` once its first line is accepted.
fn produce_until_refused(appender: Appender, t: u32, refusals: u64, started: &AtomicU32) -> Seen {
    let mut seen = Seen {
        accepted: 0,
        refused: 0,
    };
    while seen.refused < refusals {
        match appender.send_line(line(t, seen.accepted)) {
            Ok(()) => {
                assert_eq!(seen.refused, 0, "a line was accepted after a refusal");
                seen.accepted += 1;
                if seen.accepted == 1 {
                    started.fetch_add(1, SeqCst);
                }
            }
            Err(SendError::Closed) => seen.refused += 1,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    seen
}

#[test]
fn dropping_the_guard_while_four_threads_log_writes_every_accepted_line_and_counts_refusals() {
    for trial in 0..8u64 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let (appender, guard) = Appender::builder(&path)
            .max_file_size(1024 * 1024)
            .max_files(None)
            .build()
            .unwrap();
        let started = Arc::new(AtomicU32::new(0));
        let producers: Vec<_> = (0..4u32)
            .map(|t| {
                let (appender, started) = (appender.clone(), started.clone());
                thread::spawn(move || produce_until_refused(appender, t, 50, &started))
            })
            .collect();
        // Let the producers get going, a different while each trial.
        while started.load(SeqCst) < 4 {
            thread::sleep(Duration::from_millis(1));
        }
        thread::sleep(Duration::from_millis(1 + 7 * trial));
        drop(guard);
        let seen: Vec<Seen> = producers.into_iter().map(|p| p.join().unwrap()).collect();

        let tally = Tally::of_files(&files_of(&path));
        assert!(tally.bad.is_empty() && tally.unterminated.is_empty());
        let mut accepted = 0;
        for (t, s) in seen.iter().enumerate() {
            assert!(
                s.accepted > 0,
                "trial {trial}: producer {t} never got going"
            );
            for n in 0..s.accepted {
                assert_eq!(
                    tally.seen.get(&(t as u32, n)),
                    Some(&1),
                    "trial {trial}: accepted line t={t} n={n} is not in the files once"
                );
            }
            accepted += s.accepted;
        }
        assert_eq!(tally.seen.len() as u64, accepted, "trial {trial}");
        let stats = appender.stats();
        assert_eq!(stats.lines_written, accepted, "trial {trial}");
        assert_eq!(
            stats.dropped,
            4 * 50,
            "trial {trial}: every refusal counted"
        );
        assert_eq!(stats.abandoned, 0, "trial {trial}");
    }
}

/// `/dev/full` accepts an open and fails every write with `ENOSPC`: a disk
/// that stays full. (Size rotation is turned off: never rename it.)
const FULL: &str = "/dev/full";

#[cfg(target_os = "linux")]
#[test]
fn a_writer_stuck_on_a_full_disk_gives_up_at_the_timeout_and_counts_every_line() {
    let (appender, guard) = Appender::builder(FULL)
        .max_file_size(None)
        .capacity(10_000)
        .shutdown_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    for n in 0..5_000 {
        appender.send_line(line(0, n)).unwrap();
    }
    drop(guard);
    let stats = appender.stats();
    // The batch in the writer's hands and the rest of the queue.
    assert_eq!(stats.abandoned, 5_000, "{stats:?}");
    assert_eq!(stats.lines_written, 0);
    assert_eq!(stats.dropped, 0);
    assert!(stats.write_errors > 0);
    assert_eq!(appender.write_line(b"late"), Err(SendError::Closed));
    assert_eq!(appender.stats().dropped, 1);
}

#[cfg(target_os = "linux")]
#[test]
fn producers_blocked_on_a_stuck_writer_are_answered_and_every_line_is_counted() {
    let (appender, guard) = Appender::builder(FULL)
        .max_file_size(None)
        .capacity(100)
        .shutdown_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let started = Arc::new(AtomicU32::new(0));
    let producers: Vec<_> = (0..4u32)
        .map(|t| {
            let (appender, started) = (appender.clone(), started.clone());
            thread::spawn(move || produce_until_refused(appender, t, 10, &started))
        })
        .collect();
    // The queue fills and the producers block on it.
    while appender.stats().queue_depth < 100 {
        thread::sleep(Duration::from_millis(1));
    }
    drop(guard);
    let seen: Vec<Seen> = producers.into_iter().map(|p| p.join().unwrap()).collect();
    let accepted: u64 = seen.iter().map(|s| s.accepted).sum();
    let stats = appender.stats();
    assert!(accepted >= 100);
    assert_eq!(stats.lines_written, 0);
    assert_eq!(stats.abandoned, accepted, "{stats:?}");
    assert_eq!(stats.dropped, 4 * 10);
}

#[cfg(target_os = "linux")]
#[test]
fn shutdown_all_closes_stuck_appenders_in_parallel_within_one_timeout() {
    let timeout = Duration::from_secs(1);
    let (appenders, guards): (Vec<_>, Vec<_>) = (0..4)
        .map(|_| {
            Appender::builder(FULL)
                .max_file_size(None)
                .shutdown_timeout(timeout)
                .build()
                .unwrap()
        })
        .unzip();
    for (t, appender) in appenders.iter().enumerate() {
        for n in 0..100 {
            appender.send_line(line(t as u32, n)).unwrap();
        }
    }
    let started = Instant::now();
    shutdown_all(guards);
    let took = started.elapsed();
    // One after the other they would take four timeouts at least.
    assert!(took < timeout * 5 / 2, "took {took:?}");
    for appender in &appenders {
        assert_eq!(appender.stats().abandoned, 100);
    }
}

#[cfg(target_os = "linux")]
#[test]
fn the_audit_guard_closes_its_four_files_in_parallel_within_one_timeout() {
    use tracing_audit::Kind;
    let timeout = Duration::from_secs(1);
    let mut builder = tracing_audit::layer().log_dir("/dev").app_filter("info");
    for kind in Kind::ALL {
        builder = builder.file_name(kind, "full");
    }
    let (layer, guard) = builder
        .max_file_size(None)
        .configure_appender(move |_, a| a.shutdown_timeout(timeout))
        .build()
        .unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::layer::SubscriberExt::with(
        tracing_subscriber::registry(),
        layer,
    ));
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info!(target: "audit.crud", "a");
        tracing::info!(target: "audit.request", "b");
        tracing::info!(target: "audit.login", "c");
        tracing::info!("d");
    });
    // Every writer is stuck on its record.
    for kind in Kind::ALL {
        while guard.stats(kind).unwrap().write_errors == 0 {
            thread::sleep(Duration::from_millis(1));
        }
    }
    let started = Instant::now();
    drop(guard);
    let took = started.elapsed();
    // One file after the other would take four timeouts at least.
    assert!(took < timeout * 5 / 2, "took {took:?}");
}
