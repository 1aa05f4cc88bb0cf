//! The file itself: directories, permissions, appending, healing a torn
//! last line, and recovering when the directory disappears.

mod common;

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use tracing_audit::appender::Appender;

#[test]
fn missing_directories_are_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/c/audit.log");
    let (appender, guard) = Appender::builder(&path).build().unwrap();
    appender.write_line(b"{\"x\":1}").unwrap();
    drop(guard);
    assert_eq!(fs::read(&path).unwrap(), b"{\"x\":1}\n");
}

#[cfg(unix)]
#[test]
fn files_are_created_0640_by_default_and_as_configured() {
    use std::os::unix::fs::PermissionsExt;
    // The process's umask applies, as to any file.
    let umask = common::umask();
    let dir = tempfile::tempdir().unwrap();
    let default = dir.path().join("audit.log");
    let custom = dir.path().join("login.log");
    let (_a, _ga) = Appender::builder(&default).build().unwrap();
    let (_b, _gb) = Appender::builder(&custom).file_mode(0o600).build().unwrap();
    let mode = |p| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&default), 0o640 & !umask);
    assert_eq!(mode(&custom), 0o600 & !umask);
}

#[test]
fn an_existing_file_is_appended_to_and_a_torn_last_line_is_healed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    // What a crash in the middle of a write leaves behind.
    fs::write(&path, b"{\"whole\":1}\n{\"torn\":").unwrap();
    let (appender, guard) = Appender::builder(&path).build().unwrap();
    appender.write_line(b"{\"next\":2}\n").unwrap();
    drop(guard);
    assert_eq!(
        fs::read(&path).unwrap(),
        b"{\"whole\":1}\n{\"torn\":\n{\"next\":2}\n",
        "the new line must start on a line of its own"
    );
}

/// A clock for the identity check that stands still until a test moves it:
/// the check falls due when the test says, not after a sleep. One per test
/// (the tests of this binary run in parallel).
macro_rules! test_clock {
    ($clock:ident, $advance:ident) => {
        static OFFSET: AtomicU64 = AtomicU64::new(0);
        fn $clock() -> Instant {
            static BASE: OnceLock<Instant> = OnceLock::new();
            *BASE.get_or_init(Instant::now) + Duration::from_millis(OFFSET.load(SeqCst))
        }
        /// Moves the clock past the default 100 ms interval.
        fn $advance() {
            OFFSET.fetch_add(100, SeqCst);
        }
    };
}

#[test]
fn a_deleted_directory_is_recreated_and_later_lines_land() {
    test_clock!(clock, advance);
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let path = logs.join("audit.log");
    let (appender, guard) = Appender::builder(&path)
        .identity_check_clock(clock)
        .build()
        .unwrap();
    appender.write_line(b"{\"n\":1}").unwrap();
    appender.flush().unwrap();

    fs::remove_dir_all(&logs).unwrap();
    // The interval passes: the writer checks before the next write, finds
    // the directory gone and starts a new file.
    advance();
    for n in 2..=100 {
        appender
            .write_line(format!("{{\"n\":{n}}}").as_bytes())
            .unwrap();
        appender.flush().unwrap();
    }
    appender.write_line(b"{\"n\":\"last\"}").unwrap();
    drop(guard);

    let text = fs::read_to_string(&path).expect("the file was not recreated");
    // The first line, written into the removed file and not yet checked,
    // is written again first; then every later line, once, in order.
    let mut expected: String = (1..=100).map(|n| format!("{{\"n\":{n}}}\n")).collect();
    expected.push_str("{\"n\":\"last\"}\n");
    assert_eq!(text, expected);
    let stats = appender.stats();
    assert_eq!(stats.rewritten, 1);
    assert_eq!(
        stats.lines_written, 101,
        "rewritten lines are not counted twice"
    );
}

#[test]
fn a_file_renamed_away_by_someone_else_is_replaced_by_a_fresh_one() {
    test_clock!(clock, advance);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let moved = dir.path().join("app.log.1");
    let (appender, guard) = Appender::builder(&path)
        .identity_check_clock(clock)
        .build()
        .unwrap();
    appender.write_line(b"{\"n\":1}").unwrap();
    appender.flush().unwrap();
    fs::rename(&path, &moved).unwrap(); // an external logrotate
    advance();
    appender.write_line(b"{\"n\":2}").unwrap();
    drop(guard);
    // The check before the second line finds the file gone: that line goes
    // to a fresh file. The first line went into the moved file unchecked,
    // so the writer cannot tell whether it is still reachable and writes it
    // again (a duplicate that the record's event_id identifies).
    assert_eq!(fs::read(&moved).unwrap(), b"{\"n\":1}\n");
    assert_eq!(fs::read(&path).unwrap(), b"{\"n\":1}\n{\"n\":2}\n");
    let stats = appender.stats();
    assert_eq!(stats.lines_written, 2);
    assert_eq!(stats.rewritten, 1);
}

#[test]
fn without_a_time_interval_sync_and_shutdown_still_check() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let moved = dir.path().join("audit.log.1");
    let (appender, guard) = Appender::builder(&path)
        .identity_check_interval(None)
        .build()
        .unwrap();
    appender.write_line(b"{\"n\":1}").unwrap();
    // Written, then checked by the sync (which checks before it writes
    // what came with it): line 1 is safe where it is.
    appender.flush().unwrap();
    appender.sync().unwrap();
    fs::rename(&path, &moved).unwrap();
    appender.write_line(b"{\"n\":2}").unwrap();
    appender.flush().unwrap(); // written into the moved file, unchecked
    assert_eq!(fs::read(&moved).unwrap(), b"{\"n\":1}\n{\"n\":2}\n");
    assert!(!path.exists(), "no check by time");
    appender.sync().unwrap(); // checks: line 2 written again at the path
    assert_eq!(fs::read(&path).unwrap(), b"{\"n\":2}\n");
    appender.write_line(b"{\"n\":3}").unwrap();
    drop(guard);
    assert_eq!(fs::read(&path).unwrap(), b"{\"n\":2}\n{\"n\":3}\n");
    let stats = appender.stats();
    assert_eq!((stats.lines_written, stats.rewritten), (3, 1));
}

#[test]
fn a_line_without_newline_gets_one_and_empty_lines_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let (appender, guard) = Appender::builder(&path).build().unwrap();
    appender.write_line(b"").unwrap();
    appender.send_line(Vec::new()).unwrap();
    appender.send_line(b"{\"a\":1}".to_vec()).unwrap();
    appender.write_line(b"{\"b\":2}\n").unwrap();
    drop(guard);
    assert_eq!(fs::read(&path).unwrap(), b"{\"a\":1}\n{\"b\":2}\n");
    assert_eq!(appender.stats().lines_written, 2);
}

#[test]
fn build_fails_clearly_when_the_directory_cannot_be_made() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-dir");
    fs::write(&blocker, b"").unwrap();
    let err = Appender::builder(blocker.join("audit.log"))
        .build()
        .unwrap_err();
    assert!(
        matches!(
            err.kind(),
            std::io::ErrorKind::AlreadyExists
                | std::io::ErrorKind::NotADirectory
                | std::io::ErrorKind::Other
        ),
        "{err:?}"
    );
}

/// Producers log from 4 threads while the log directory is removed again
/// and again (`rm -rf`): every line accepted after a removal returned is in
/// the files (the writer writes again what went into the deleted file
/// before it noticed), and no line is torn.
#[test]
fn rm_rf_of_the_directory_under_load_loses_no_line_accepted_after_it() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
    use std::sync::Arc;

    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let path = logs.join("audit.log");
    let (appender, guard) = Appender::builder(&path)
        .max_file_size(None)
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    // Lines 0..accepted[t] of producer t have been accepted.
    let accepted: Arc<Vec<AtomicU64>> = Arc::new((0..4).map(|_| AtomicU64::new(0)).collect());
    let producers: Vec<_> = (0..4u32)
        .map(|t| {
            let (appender, stop, accepted) = (appender.clone(), stop.clone(), accepted.clone());
            thread::spawn(move || {
                let mut n = 0;
                while !stop.load(SeqCst) {
                    appender.send_line(common::line(t, n)).unwrap();
                    n += 1;
                    accepted[t as usize].store(n, SeqCst);
                    if n % 64 == 0 {
                        thread::sleep(Duration::from_micros(200));
                    }
                }
            })
        })
        .collect();
    let snapshot = || -> Vec<u64> { accepted.iter().map(|a| a.load(SeqCst)).collect() };
    for round in 0..5 {
        thread::sleep(Duration::from_millis(30));
        // Wait for the directory to exist again before removing it.
        while !path.exists() {
            thread::sleep(Duration::from_millis(1));
        }
        rm_rf(&logs);
        // Everything accepted from here on must be found.
        let after_rm = snapshot();
        thread::sleep(Duration::from_millis(20 + 10 * round));
        let before_sync = snapshot();
        // `sync` checks that the file is still at its path before it
        // answers: the lines are now in the file at `path`.
        appender.sync().unwrap();
        let mut tally = common::Tally::default();
        let bytes = fs::read(&path).unwrap();
        // The producers go on: the last line may be half written as the
        // file is read. Every line before it must be whole.
        let whole = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        tally.add(&path, &bytes[..whole]);
        assert!(
            tally.bad.is_empty(),
            "round {round}: {:?}",
            tally.bad.first()
        );
        for t in 0..4u32 {
            for n in after_rm[t as usize]..before_sync[t as usize] {
                assert_eq!(
                    tally.seen.get(&(t, n)),
                    Some(&1),
                    "round {round}: line t={t} n={n}, accepted after rm -rf, is not in the file once"
                );
            }
        }
    }
    rm_rf(&logs);
    let after_rm = snapshot();
    thread::sleep(Duration::from_millis(30));
    stop.store(true, SeqCst);
    for p in producers {
        p.join().unwrap();
    }
    let end = snapshot();
    drop(guard);
    let mut tally = common::Tally::default();
    tally.add(&path, &fs::read(&path).unwrap());
    assert!(tally.bad.is_empty() && tally.unterminated.is_empty());
    for t in 0..4u32 {
        for n in after_rm[t as usize]..end[t as usize] {
            assert_eq!(tally.seen.get(&(t, n)), Some(&1), "last: t={t} n={n}");
        }
    }
    let stats = appender.stats();
    assert!(stats.rewritten > 0, "{stats:?}");
    assert_eq!(stats.lines_written, end.iter().sum::<u64>());
}

/// `rm -rf dir`, again if the writer put a new file in it meanwhile.
fn rm_rf(dir: &Path) {
    loop {
        match fs::remove_dir_all(dir) {
            Ok(()) => return,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
            Err(_) => continue,
        }
    }
}
