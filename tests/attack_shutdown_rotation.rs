//! Attack: the guard dropped while eight threads write into an appender
//! that rotates every few KiB and gzips rotated files at once. Every line
//! a producer was told was accepted must be in the files (plain or
//! `.gz`) exactly once, with no temporary or torn file left, however the
//! shutdown falls against rotation and compression. Also with the guard
//! dropped inside a tokio runtime's worker thread.
#![cfg(feature = "gzip")]

mod common;

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use common::{files_of, line, Tally};
use tracing_audit::appender::{Appender, AppenderGuard, SendError};

const THREADS: u32 = 8;

fn produce(appender: Appender, t: u32, started: &AtomicU32) -> u64 {
    let mut accepted = 0;
    let mut refused = 0;
    while refused < 20 {
        match appender.send_line(line(t, accepted)) {
            Ok(()) => {
                assert_eq!(refused, 0, "a line accepted after a refusal");
                accepted += 1;
                if accepted == 1 {
                    started.fetch_add(1, SeqCst);
                }
            }
            Err(SendError::Closed) => refused += 1,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    accepted
}

fn race(trial: u64, drop_guard: impl FnOnce(AppenderGuard)) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let (appender, guard) = Appender::builder(&path)
        .max_file_size(4096)
        .max_files(None)
        .compress(true)
        .compress_after(Duration::ZERO)
        .build()
        .unwrap();
    let started = Arc::new(AtomicU32::new(0));
    let producers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (appender, started) = (appender.clone(), started.clone());
            thread::spawn(move || produce(appender, t, &started))
        })
        .collect();
    while started.load(SeqCst) < THREADS {
        thread::sleep(Duration::from_millis(1));
    }
    thread::sleep(Duration::from_millis(1 + 5 * trial));
    drop_guard(guard);
    let accepted: Vec<u64> = producers.into_iter().map(|p| p.join().unwrap()).collect();

    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| n == "audit.log" || n.ends_with(".gz")),
        "trial {trial}: a plain rotated or temporary file was left: {names:?}"
    );
    let tally = Tally::of_files(&files_of(&path));
    assert!(tally.bad.is_empty(), "trial {trial}: {:?}", tally.bad);
    assert!(tally.unterminated.is_empty(), "trial {trial}");
    for (t, n) in accepted.iter().enumerate() {
        for k in 0..*n {
            assert_eq!(
                tally.seen.get(&(t as u32, k)),
                Some(&1),
                "trial {trial}: accepted line t={t} n={k} is not in the files once"
            );
        }
    }
    assert_eq!(tally.seen.len() as u64, accepted.iter().sum::<u64>());
    let stats = appender.stats();
    assert_eq!(stats.abandoned, 0, "trial {trial}: {stats:?}");
}

#[test]
fn shutdown_racing_rotation_and_gzip_under_eight_writers_keeps_every_accepted_line() {
    for trial in 0..6 {
        race(trial, drop);
    }
}

#[test]
fn the_guard_dropped_on_a_tokio_worker_keeps_every_accepted_line() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for trial in 0..3 {
        race(trial, |guard| {
            rt.block_on(async move {
                tokio::spawn(async move { drop(guard) }).await.unwrap();
            });
        });
    }
}
