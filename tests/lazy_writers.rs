//! A kind of record nobody writes costs no writer thread and leaves no
//! file; its first record starts both, and nothing is lost across that
//! start, even when threads race to make the first record. Settings and
//! the directory are still checked when the layer is built.
//!
//! Writer threads are named `audit-write:<file name>`, which Linux cuts to
//! 15 bytes in `/proc/self/task/*/comm` (`audit-write:` and three bytes of
//! the name): each test gives its files names of their own, so the tests
//! of this binary can run in parallel.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Barrier};

use tracing::Dispatch;
use tracing_audit::Kind;
use tracing_subscriber::layer::SubscriberExt;

/// Threads of this process whose name starts with `prefix`.
fn threads_named(prefix: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.trim_end().starts_with(prefix))
        .count()
}

fn lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The layer writing the four kinds to `<tag><letter>.log`.
fn layer_in(dir: &Path, tag: &str) -> (Dispatch, tracing_audit::AuditGuard) {
    let (layer, guard) = tracing_audit::layer()
        .log_dir(dir)
        .file_name(Kind::Audit, format!("{tag}c.log"))
        .file_name(Kind::Api, format!("{tag}a.log"))
        .file_name(Kind::Login, format!("{tag}l.log"))
        .file_name(Kind::App, format!("{tag}p.log"))
        .app_filter("info")
        .build()
        .unwrap();
    (
        Dispatch::new(tracing_subscriber::registry().with(layer)),
        guard,
    )
}

#[cfg(target_os = "linux")]
#[test]
fn a_kind_never_written_has_no_file_and_no_writer_until_its_first_record() {
    let dir = tempfile::tempdir().unwrap();
    let (dispatch, guard) = layer_in(dir.path(), "q1");
    let api = dir.path().join("q1a.log");
    let audit = dir.path().join("q1c.log");

    // Built: nothing started, no file made.
    assert_eq!(threads_named("audit-write:q1"), 0);
    assert_eq!(threads_named("audit-maint:q1"), 0);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    assert_eq!(guard.path(Kind::Api), Some(api.as_path()));

    // CRUD records only: the audit file and its threads, nothing for API.
    tracing::dispatcher::with_default(&dispatch, || {
        for id in 0..100 {
            tracing_audit::create!(model: "Order", id: id);
        }
    });
    guard.sync().unwrap();
    assert_eq!(lines(&audit).len(), 100);
    assert_eq!(threads_named("audit-write:q1c"), 1);
    assert_eq!(threads_named("audit-maint:q1c"), 1);
    assert_eq!(threads_named("audit-write:q1a"), 0);
    assert_eq!(threads_named("audit-maint:q1a"), 0);
    assert!(!api.exists());
    let never = guard.stats(Kind::Api).unwrap();
    assert_eq!((never.lines_written, never.queue_depth), (0, 0));

    // The first API record makes the file and the thread.
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info!(target: "audit.request", path = "/orders", status = 201, "first");
    });
    guard.flush().unwrap();
    let written = lines(&api);
    assert_eq!(written.len(), 1);
    assert_eq!(written[0]["level"], "API");
    assert_eq!(written[0]["message"], "first");
    assert_eq!(threads_named("audit-write:q1a"), 1);

    // Shutdown closes what started, and what never did (no file made).
    let report = guard.shutdown();
    assert_eq!(report.stats(Kind::Api).unwrap().lines_written, 1);
    assert_eq!(report.stats(Kind::Audit).unwrap().lines_written, 100);
    assert_eq!(report.stats(Kind::Login).unwrap().lines_written, 0);
    assert_eq!(report.lost(), 0);
    assert_eq!(threads_named("audit-write:q1"), 0);
    assert_eq!(threads_named("audit-maint:q1"), 0);
    assert!(!dir.path().join("q1l.log").exists());

    // A record of a kind that never started, made after the shutdown, is
    // refused: it starts nothing.
    tracing::dispatcher::with_default(&dispatch, || {
        tracing_audit::login!(user: 7);
    });
    assert!(!dir.path().join("q1l.log").exists());
    assert_eq!(threads_named("audit-write:q1l"), 0);
}

#[test]
fn threads_racing_the_first_record_lose_nothing() {
    const THREADS: usize = 8;
    const EACH: usize = 2_000;
    let dir = tempfile::tempdir().unwrap();
    let (dispatch, guard) = layer_in(dir.path(), "q2");
    let start = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (dispatch, start) = (dispatch.clone(), start.clone());
            std::thread::spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    start.wait();
                    for i in 0..EACH {
                        tracing::info!(target: "audit.request", t, i, "call");
                    }
                })
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    #[cfg(target_os = "linux")]
    assert_eq!(threads_named("audit-write:q2a"), 1, "one writer started");
    let report = guard.shutdown();
    assert_eq!(report.lost(), 0, "{report:?}");
    assert_eq!(
        report.stats(Kind::Api).unwrap().lines_written,
        (THREADS * EACH) as u64
    );
    let seen: HashSet<(u64, u64)> = lines(&dir.path().join("q2a.log"))
        .iter()
        .map(|l| {
            (
                l["extra"]["t"].as_u64().unwrap(),
                l["extra"]["i"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(seen.len(), THREADS * EACH);
}

#[test]
fn a_directory_that_cannot_hold_the_files_fails_the_build_and_makes_no_file() {
    let dir = tempfile::tempdir().unwrap();
    // The log directory is a regular file.
    let not_a_dir = dir.path().join("plain");
    std::fs::write(&not_a_dir, b"").unwrap();
    let Err(err) = tracing_audit::layer()
        .log_dir(&not_a_dir)
        .build::<tracing_subscriber::Registry>()
    else {
        panic!("a file is no directory")
    };
    assert!(matches!(err, tracing_audit::Error::Io { .. }), "{err:?}");

    // A kind's file name names a directory.
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(logs.join("api.log")).unwrap();
    let Err(err) = tracing_audit::layer()
        .log_dir(&logs)
        .build::<tracing_subscriber::Registry>()
    else {
        panic!("a directory is no file")
    };
    match &err {
        tracing_audit::Error::Io { path, .. } => assert_eq!(path, &logs.join("api.log")),
        other => panic!("{other:?}"),
    }
    // Checking made no file (the directory was made, as before).
    let made: Vec<_> = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(made, vec![std::ffi::OsString::from("api.log")]);
}

/// The first record of a kind starts its file; if that start fails for a
/// while (here the log directory was replaced by a plain file after the
/// build), the record waits and is written once the directory is back, as
/// any later record would be by the running writer (which retries). It was
/// dropped: the failed start was the record's error, counted and lost.
#[test]
fn a_first_record_whose_start_fails_for_a_while_is_written_once_it_can_be() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let (dispatch, guard) = layer_in(&logs, "q4");
    // The directory is gone and a file has its name: no file can be made.
    std::fs::remove_dir_all(&logs).unwrap();
    std::fs::write(&logs, b"").unwrap();
    let restore = {
        let logs = logs.clone();
        std::thread::spawn(move || {
            // Whenever this runs, the record must end up in the file; the
            // pause only makes it likely that the first start fails.
            std::thread::sleep(std::time::Duration::from_millis(300));
            std::fs::remove_file(&logs).unwrap();
            std::fs::create_dir(&logs).unwrap();
        })
    };
    tracing::dispatcher::with_default(&dispatch, || {
        tracing_audit::create!(model: "Doc", id: 1);
    });
    restore.join().unwrap();
    tracing::dispatcher::with_default(&dispatch, || {
        tracing_audit::create!(model: "Doc", id: 2);
    });
    let report = guard.shutdown();
    let ids: Vec<String> = lines(&logs.join("q4c.log"))
        .iter()
        .map(|r| r["instance_id"].to_string())
        .collect();
    assert_eq!(ids, ["\"1\"", "\"2\""], "{report:?}");
}
