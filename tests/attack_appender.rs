//! Attack on the appender (issue 10, items 1-4) from outside: tiny
//! rotation sizes under load with retention (exact accounting), shutdown
//! while producers log, the directory removed or renamed at rotation,
//! a full disk that recovers.

mod common;

use std::collections::HashMap;
use std::fs;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use common::{contents, files_of, line, Tally};
use tracing_audit::appender::Appender;

/// Every line in its own file (`max_file_size(1)`), four producers,
/// retention of 3: every line is written once, every rotation makes one
/// file, every removed file is counted, and what is left is the newest.
#[test]
fn one_line_per_file_under_load_is_accounted_for_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let (appender, guard) = Appender::builder(&path)
        .max_file_size(1)
        .max_files(3)
        .build()
        .unwrap();
    let per_thread = 500u64;
    let producers: Vec<_> = (0..4)
        .map(|t| {
            let appender = appender.clone();
            thread::spawn(move || {
                for n in 0..per_thread {
                    appender.send_line(line(t, n)).unwrap();
                }
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    drop(guard);
    let stats = appender.stats();
    let total = 4 * per_thread;
    assert_eq!(stats.lines_written, total, "{stats:?}");
    assert_eq!(stats.rewritten, 0, "{stats:?}");
    assert_eq!(stats.dropped, 0);
    assert_eq!(stats.abandoned, 0);
    assert_eq!(stats.rotations, total - 1, "one line per file: {stats:?}");
    let files = files_of(&path);
    assert_eq!(files.len(), 4, "three rotated and the live file: {files:?}");
    assert_eq!(stats.files_removed, stats.rotations - 3, "{stats:?}");
    // No stray files (temporaries, half-renamed names).
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 4);
    let tally = Tally::of_files(&files);
    assert!(tally.bad.is_empty() && tally.unterminated.is_empty());
    for f in &files {
        let n = contents(f).iter().filter(|&&b| b == b'\n').count();
        assert_eq!(n, 1, "{f:?} holds {n} lines");
    }
}

/// The whole stack: the guard of `tracing_audit::builder()`-like layers is
/// dropped while four threads make `create!` records. Every record is
/// either in the file or counted as refused; none is lost silently.
#[test]
fn guard_dropped_while_create_records_are_made_loses_none_silently() {
    use tracing_subscriber::layer::SubscriberExt;
    for trial in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let (layer, guard) = tracing_audit::layer()
            .log_dir(dir.path())
            .service_name("attack")
            .build()
            .unwrap();
        let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
        let made = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let producers: Vec<_> = (0..4)
            .map(|t| {
                let dispatch = dispatch.clone();
                let made = made.clone();
                let stop = stop.clone();
                thread::spawn(move || {
                    tracing::dispatcher::with_default(&dispatch, || {
                        let mut n = 0u64;
                        while !stop.load(Ordering::Relaxed) || n < 2_000 {
                            tracing_audit::create!(model: "Doc", id: format!("{t}-{n}"));
                            made.fetch_add(1, Ordering::Relaxed);
                            n += 1;
                            if n > 200_000 {
                                break;
                            }
                        }
                    })
                })
            })
            .collect();
        // Drop the guard mid-stream: after the first records (which start
        // the lazy writer and create the file), however slow the machine.
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while made.load(Ordering::Relaxed) < 100 {
            assert!(std::time::Instant::now() < deadline, "no record made");
            thread::sleep(Duration::from_millis(1));
        }
        let path = dir.path().join("audit.log");
        drop(guard);
        stop.store(true, Ordering::Relaxed);
        for p in producers {
            p.join().unwrap();
        }
        let text = fs::read_to_string(&path).unwrap();
        let mut seen: HashMap<String, u32> = HashMap::new();
        for l in text.lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            if v["event_type"] == "CREATE" {
                *seen
                    .entry(v["instance_id"].as_str().unwrap().to_owned())
                    .or_default() += 1;
            }
        }
        assert!(seen.values().all(|&c| c == 1), "trial {trial}: a duplicate");
        let made = made.load(Ordering::Relaxed);
        assert!(made > seen.len() as u64, "trial {trial}: some refused");
        // Every record made is in the file or refused; the layer's guard
        // has gone, so the count of refusals is what the file lacks, and
        // it must have been reported somewhere: the records have
        // `instance_id` t-n with n consecutive from 0 for each thread up to
        // the first refused one, then nothing (a refusal is final).
        for t in 0..4 {
            let ns: Vec<u64> = seen
                .keys()
                .filter_map(|k| k.strip_prefix(&format!("{t}-")))
                .map(|n| n.parse().unwrap())
                .collect();
            let Some(&max) = ns.iter().max() else {
                continue; // refused from its first record on
            };
            assert_eq!(
                ns.len() as u64,
                max + 1,
                "trial {trial}: thread {t} has holes before its last written record"
            );
        }
    }
}

/// Every line of every file under `dir` (recursively), rotated ones
/// included.
fn tally_dir(dir: &std::path::Path, tally: &mut Tally) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries {
        let p = e.unwrap().path();
        if p.is_dir() {
            tally_dir(&p, tally);
        } else {
            tally.add(&p, &contents(&p));
        }
    }
}

/// Producers log while rotation runs every few lines; meanwhile the
/// directory is renamed away (`mv logs logs.N`) five times. Every accepted
/// line is somewhere, in the renamed directories or the new one; a line is
/// in two places only if it was written again, and `lines_written` counts
/// each accepted line once.
#[test]
fn directory_renamed_away_during_rotations_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let path = logs.join("audit.log");
    let (appender, guard) = Appender::builder(&path)
        .max_file_size(2048)
        .max_files(None)
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let producers: Vec<_> = (0..4u32)
        .map(|t| {
            let (appender, stop) = (appender.clone(), stop.clone());
            thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    appender.send_line(line(t, n)).unwrap();
                    n += 1;
                    if n.is_multiple_of(32) {
                        thread::sleep(Duration::from_micros(100));
                    }
                }
                n
            })
        })
        .collect();
    for round in 0..5 {
        thread::sleep(Duration::from_millis(25));
        while !path.exists() {
            thread::sleep(Duration::from_millis(1));
        }
        fs::rename(&logs, dir.path().join(format!("logs.{round}"))).unwrap();
    }
    thread::sleep(Duration::from_millis(20));
    stop.store(true, Ordering::SeqCst);
    let sent: Vec<u64> = producers.into_iter().map(|p| p.join().unwrap()).collect();
    drop(guard);
    let stats = appender.stats();
    let total: u64 = sent.iter().sum();
    assert_eq!(stats.lines_written, total, "{stats:?}");
    let mut tally = Tally::default();
    tally_dir(dir.path(), &mut tally);
    assert!(tally.bad.is_empty(), "{:?}", tally.bad.first());
    assert!(tally.unterminated.is_empty(), "{:?}", tally.unterminated);
    let mut extra = 0u64;
    for (t, &n) in sent.iter().enumerate() {
        for i in 0..n {
            let c = tally.seen.get(&(t as u32, i)).copied().unwrap_or(0);
            assert!(c >= 1, "line t={t} n={i} is in no file; {stats:?}");
            extra += u64::from(c - 1);
        }
    }
    assert!(
        extra <= stats.rewritten,
        "{extra} duplicates but only {} lines written again",
        stats.rewritten
    );
}

/// As above with `rm -rf` of the directory: lines accepted after it
/// returned are all in the new files; `lines_written` counts each accepted
/// line once.
#[test]
fn rm_rf_during_rotations_keeps_every_line_accepted_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let path = logs.join("audit.log");
    let (appender, guard) = Appender::builder(&path)
        .max_file_size(2048)
        .max_files(None)
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let accepted: Arc<Vec<AtomicU64>> = Arc::new((0..4).map(|_| AtomicU64::new(0)).collect());
    let producers: Vec<_> = (0..4u32)
        .map(|t| {
            let (appender, stop, accepted) = (appender.clone(), stop.clone(), accepted.clone());
            thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    appender.send_line(line(t, n)).unwrap();
                    n += 1;
                    accepted[t as usize].store(n, Ordering::SeqCst);
                    if n.is_multiple_of(32) {
                        thread::sleep(Duration::from_micros(100));
                    }
                }
            })
        })
        .collect();
    let mut after_rm = vec![0; 4];
    for _ in 0..5 {
        thread::sleep(Duration::from_millis(25));
        while !path.exists() {
            thread::sleep(Duration::from_millis(1));
        }
        // rm -rf, racing with the writer's renames and creates.
        while logs.exists() {
            let _ = fs::remove_dir_all(&logs);
        }
        after_rm = accepted.iter().map(|a| a.load(Ordering::SeqCst)).collect();
    }
    thread::sleep(Duration::from_millis(30));
    stop.store(true, Ordering::SeqCst);
    for p in producers {
        p.join().unwrap();
    }
    let end: Vec<u64> = accepted.iter().map(|a| a.load(Ordering::SeqCst)).collect();
    drop(guard);
    let stats = appender.stats();
    assert_eq!(stats.lines_written, end.iter().sum::<u64>(), "{stats:?}");
    let mut tally = Tally::default();
    tally_dir(dir.path(), &mut tally);
    assert!(tally.bad.is_empty(), "{:?}", tally.bad.first());
    for t in 0..4u32 {
        for n in after_rm[t as usize]..end[t as usize] {
            assert_eq!(
                tally.seen.get(&(t, n)),
                Some(&1),
                "t={t} n={n}, accepted after the last rm -rf; {stats:?}"
            );
        }
    }
}

/// Mounts a tmpfs of `size` at `dir`; false where that is not possible
/// (not root, no mount namespace): the test is then skipped.
#[cfg(target_os = "linux")]
fn mount_tmpfs(dir: &std::path::Path, size: &str) -> bool {
    std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A disk that fills up while lines are written, with size rotation, then
/// gets room again: every line lands exactly once, none torn, the failures
/// counted.
#[cfg(target_os = "linux")]
#[test]
fn a_disk_that_fills_up_then_recovers_loses_and_tears_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("mnt");
    fs::create_dir(&mnt).unwrap();
    if !mount_tmpfs(&mnt, "256k") {
        eprintln!("skipped: cannot mount a tmpfs here");
        return;
    }
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(mnt.clone());
    // Leave about 12 KiB free.
    let filler = mnt.join("filler");
    let mut size = 0usize;
    {
        use std::io::Write;
        let mut f = fs::File::create(&filler).unwrap();
        while f.write_all(&[b'x'; 4096]).is_ok() {
            size += 4096;
        }
        f.set_len((size - 12 * 1024) as u64).unwrap();
        f.sync_all().unwrap();
    }
    let path = mnt.join("audit.log");
    let (appender, guard) = Appender::builder(&path)
        .max_file_size(16 * 1024)
        .max_files(None)
        .build()
        .unwrap();
    let total = 1_500u64;
    for n in 0..total {
        appender.send_line(line(0, n)).unwrap();
    }
    // Wait for the disk to be found full.
    let mut waited = 0;
    while appender.stats().write_errors == 0 && waited < 5_000 {
        thread::sleep(Duration::from_millis(1));
        waited += 1;
    }
    assert!(appender.stats().write_errors > 0, "{:?}", appender.stats());
    fs::remove_file(&filler).unwrap();
    appender.flush_timeout(Duration::from_secs(60)).unwrap();
    drop(guard);
    let stats = appender.stats();
    assert_eq!(stats.lines_written, total, "{stats:?}");
    assert_eq!(stats.abandoned, 0);
    let files = files_of(&path);
    let tally = Tally::of_files(&files);
    tally.assert_exactly_once(1, total);
}

/// No inode left when rotation must open a fresh file; then some are
/// freed: every line lands exactly once.
#[cfg(target_os = "linux")]
#[test]
fn no_inode_for_the_new_file_at_rotation_then_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("mnt");
    fs::create_dir(&mnt).unwrap();
    if !mount_tmpfs(&mnt, "4m,nr_inodes=64") {
        eprintln!("skipped: cannot mount a tmpfs here");
        return;
    }
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(mnt.clone());
    let path = mnt.join("audit.log");
    let (appender, guard) = Appender::builder(&path)
        .max_file_size(8 * 1024)
        .max_files(None)
        .build()
        .unwrap();
    let mut fillers = Vec::new();
    while fs::File::create(mnt.join(format!("f{}", fillers.len()))).is_ok() {
        fillers.push(mnt.join(format!("f{}", fillers.len())));
    }
    let total = 2_000u64;
    for n in 0..total {
        appender.send_line(line(0, n)).unwrap();
    }
    let mut waited = 0;
    while appender.stats().write_errors == 0 && waited < 5_000 {
        thread::sleep(Duration::from_millis(1));
        waited += 1;
    }
    assert!(appender.stats().write_errors > 0, "{:?}", appender.stats());
    for f in &fillers {
        fs::remove_file(f).unwrap();
    }
    appender.flush_timeout(Duration::from_secs(60)).unwrap();
    drop(guard);
    let stats = appender.stats();
    assert_eq!(stats.lines_written, total, "{stats:?}");
    let tally = Tally::of_files(&files_of(&path));
    tally.assert_exactly_once(1, total);
}

/// Two appenders on one path (two layers with the same `log_dir`, two
/// processes writing one file): each rotates the file under the other's
/// feet, often in the same microsecond. A rotated file must never be
/// replaced by another rename; every line of both is in some file.
#[test]
fn two_appenders_on_one_path_never_overwrite_a_rotated_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let build = || {
        Appender::builder(&path)
            .max_file_size(300)
            .max_files(None)
            .build()
            .unwrap()
    };
    let (a, guard_a) = build();
    let (b, guard_b) = build();
    let per_thread = 2_000u64;
    let producers: Vec<_> = [
        (0u32, a.clone()),
        (1, b.clone()),
        (2, a.clone()),
        (3, b.clone()),
    ]
    .into_iter()
    .map(|(t, appender)| {
        thread::spawn(move || {
            for n in 0..per_thread {
                appender.send_line(line(t, n)).unwrap();
            }
        })
    })
    .collect();
    for p in producers {
        p.join().unwrap();
    }
    drop(guard_a);
    drop(guard_b);
    let mut tally = Tally::default();
    tally_dir(dir.path(), &mut tally);
    assert!(tally.bad.is_empty(), "{:?}", tally.bad.first());
    let mut missing = Vec::new();
    for t in 0..4u32 {
        for n in 0..per_thread {
            if !tally.seen.contains_key(&(t, n)) {
                missing.push((t, n));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{} lines lost, first {:?}; a: {:?}; b: {:?}",
        missing.len(),
        missing.first(),
        a.stats(),
        b.stats()
    );
}

/// After the guard is gone: `flush`, `flush_timeout` and `sync` fail at
/// once (no hang), `write_line` is refused and counted, `stats` still
/// answers.
#[test]
fn flush_and_sync_after_shutdown_fail_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let (appender, guard) = Appender::builder(&path).build().unwrap();
    appender.write_line(b"{\"n\":1}").unwrap();
    drop(guard);
    let clone = appender.clone();
    let t = thread::spawn(move || {
        (
            clone.flush().is_err(),
            clone.flush_timeout(Duration::from_secs(3600)).is_err(),
            clone.sync().is_err(),
        )
    });
    assert_eq!(t.join().unwrap(), (true, true, true));
    assert!(appender.write_line(b"late").is_err());
    let stats = appender.stats();
    assert_eq!((stats.lines_written, stats.dropped), (1, 1));
    assert_eq!(fs::read(&path).unwrap(), b"{\"n\":1}\n");
}

/// `sync` promises the lines are in the file at the path: after the
/// directory is removed, a sync re-creates it and the lines written since
/// the last check are there.
#[test]
fn sync_after_rm_rf_puts_the_recent_lines_in_the_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let path = logs.join("audit.log");
    let (appender, guard) = Appender::builder(&path).build().unwrap();
    for n in 0..100 {
        appender.send_line(line(0, n)).unwrap();
    }
    appender.flush().unwrap();
    fs::remove_dir_all(&logs).unwrap();
    appender.sync().unwrap();
    assert!(path.exists(), "sync re-creates the file");
    // Unless the writer checked the file (every 100 ms) between the flush
    // and the removal, which made those lines the removed file's.
    if appender.stats().rewritten > 0 {
        assert_eq!(appender.stats().rewritten, 100);
        Tally::of_files(std::slice::from_ref(&path)).assert_exactly_once(1, 100);
    }
    drop(guard);
}

/// The directory is removed and a file put in its place, so the lines
/// written since the last check cannot be written again anywhere; the
/// shutdown timeout runs out. Every accepted line is in `lines_written` or
/// `abandoned`; a line written into the vanished file and then given up on
/// is counted in both (documented on `Stats::abandoned`), so the sum can
/// exceed the accepted lines by at most `rewritten`.
#[test]
fn giving_up_on_replayed_lines_counts_them_as_documented() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let path = logs.join("audit.log");
    let (appender, guard) = Appender::builder(&path)
        .shutdown_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    for n in 0..100 {
        appender.send_line(line(0, n)).unwrap();
    }
    appender.flush().unwrap();
    fs::remove_dir_all(&logs).unwrap();
    fs::write(&logs, b"not a directory").unwrap();
    for n in 100..150 {
        appender.send_line(line(0, n)).unwrap();
    }
    drop(guard);
    let stats = appender.stats();
    assert_eq!(stats.lines_written, 150, "{stats:?}");
    assert!(stats.abandoned > 0, "{stats:?}");
    assert!(
        stats.lines_written + stats.abandoned <= 150 + stats.rewritten,
        "{stats:?}"
    );
}
