//! Gzip of rotated files waits until they are `compress_after` old, so a
//! shipper lagging behind the writer can still read the plain file.
#![cfg(feature = "gzip")]

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use common::{contents, files_of, line, Tally};
use tracing_audit::appender::{Appender, AppenderBuilder};

/// Writes `lines` lines of about 100 bytes through an appender rotating
/// every 4 KiB, and returns the guard still alive.
fn write_rotating(builder: AppenderBuilder, lines: u64) -> tracing_audit::appender::AppenderGuard {
    let (appender, guard) = builder.max_file_size(4096).max_files(None).build().unwrap();
    for n in 0..lines {
        appender.send_line(line(0, n)).unwrap();
    }
    appender.flush().unwrap();
    guard
}

fn names(paths: &[PathBuf]) -> Vec<String> {
    paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn rotated_files_stay_plain_by_default_until_they_are_old_enough() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    // compress(true) and the default delay (minutes): every file rotated
    // during this test is younger than that.
    let guard = write_rotating(Appender::builder(&path).compress(true), 2_000);
    drop(guard);
    let files = files_of(&path);
    assert!(files.len() >= 5, "{:?}", names(&files));
    let gz: Vec<_> = names(&files)
        .into_iter()
        .filter(|n| n.ends_with(".gz"))
        .collect();
    assert!(
        gz.is_empty(),
        "compressed before a shipper could read them: {gz:?}"
    );
    Tally::of_files(&files).assert_exactly_once(1, 2_000);
}

#[test]
fn a_short_delay_compresses_while_the_appender_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let guard = write_rotating(
        Appender::builder(&path)
            .compress(true)
            .compress_after(Duration::from_millis(50)),
        2_000,
    );
    // Not a speed check: the deadline only stops a broken build from
    // hanging the test run.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let files = files_of(&path);
        let rotated = &files[..files.len() - 1];
        if !rotated.is_empty() && rotated.iter().all(|f| f.to_string_lossy().ends_with(".gz")) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never compressed: {:?}",
            names(&files)
        );
        thread::sleep(Duration::from_millis(20));
    }
    drop(guard);
    Tally::of_files(&files_of(&path)).assert_exactly_once(1, 2_000);
}

fn set_age(path: &Path, age: Duration) {
    let file = fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() - age).unwrap();
}

#[test]
fn files_left_by_an_earlier_run_are_compressed_only_once_old_enough() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("login.log");
    let old = dir.path().join("login.log.20261122T100000.000000Z");
    let young = dir.path().join("login.log.20261122T110000.000000Z");
    fs::write(&old, line(0, 1)).unwrap();
    fs::write(&young, line(0, 2)).unwrap();
    set_age(&old, Duration::from_secs(2 * 3600));
    set_age(&young, Duration::from_secs(60));
    let (_appender, guard) = Appender::builder(&path)
        .compress(true)
        .compress_after(Duration::from_secs(3600))
        .build()
        .unwrap();
    drop(guard);
    assert!(!old.exists(), "the old file was not compressed");
    let gz = dir.path().join("login.log.20261122T100000.000000Z.gz");
    assert_eq!(contents(&gz), line(0, 1));
    assert_eq!(
        fs::read(&young).unwrap(),
        line(0, 2),
        "the young file was compressed"
    );
}

#[test]
fn zero_delay_compresses_every_rotated_file_before_shutdown_returns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("api.log");
    let guard = write_rotating(
        Appender::builder(&path)
            .compress(true)
            .compress_after(Duration::ZERO),
        2_000,
    );
    drop(guard);
    let files = files_of(&path);
    for name in &names(&files)[..files.len() - 1] {
        assert!(name.ends_with(".gz"), "{name} was not compressed");
    }
    Tally::of_files(&files).assert_exactly_once(1, 2_000);
}

#[test]
fn a_delay_beyond_any_clock_never_compresses_and_retention_still_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let (appender, guard) = Appender::builder(&path)
        .compress(true)
        .compress_after(Duration::MAX)
        .max_file_size(4096)
        .max_files(3)
        .build()
        .unwrap();
    for n in 0..2_000 {
        appender.send_line(line(0, n)).unwrap();
    }
    drop(guard);
    // The maintenance thread survived the delay: it kept applying
    // max_files after each rotation.
    let files = files_of(&path);
    assert_eq!(files.len(), 4, "{:?}", names(&files));
    assert!(names(&files).iter().all(|n| !n.ends_with(".gz")));
}

/// Compressed archives are created with the appender's `file_mode`, as the
/// live file is, and the rotated plain files keep it: an archive is never
/// more readable than the file its lines were written to.
#[cfg(unix)]
#[test]
fn rotated_and_compressed_files_keep_the_configured_file_mode() {
    use std::os::unix::fs::PermissionsExt;
    let expected = 0o600 & !common::umask();
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    for compress in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let guard = write_rotating(
            Appender::builder(&path)
                .file_mode(0o600)
                .compress(compress)
                .compress_after(Duration::ZERO),
            200,
        );
        drop(guard);
        let files = files_of(&path);
        assert!(files.len() > 2, "no rotation: {:?}", names(&files));
        let gz = names(&files).iter().filter(|n| n.ends_with(".gz")).count();
        assert_eq!(gz > 0, compress, "{:?}", names(&files));
        for file in &files {
            assert_eq!(mode(file), expected, "{}", file.display());
        }
        Tally::of_files(&files).assert_exactly_once(1, 200);
    }
}
