//! Rotation by size under load, retention by count and age, and gzip.

mod common;

use std::fs;
use std::path::Path;
use std::thread;
use std::time::{Duration, SystemTime};

use common::{contents, files_of, line, parse, Tally};
use tracing_audit::appender::{Appender, AppenderBuilder};

const MIB: u64 = 1024 * 1024;

/// Sends `per_thread` lines from each of `threads` producers, then drops
/// the guard so everything is drained and maintenance has finished.
fn load(builder: AppenderBuilder, threads: u32, per_thread: u64) -> Appender {
    let (appender, guard) = builder.build().unwrap();
    let producers: Vec<_> = (0..threads)
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
    appender
}

fn is_rotated_name(path: &Path, live: &str) -> bool {
    // <live>.YYYYMMDDTHHMMSS.ffffffZ, optionally .gz
    let name = path.file_name().unwrap().to_str().unwrap();
    let Some(rest) = name.strip_prefix(&format!("{live}.")) else {
        return false;
    };
    let stamp = rest.strip_suffix(".gz").unwrap_or(rest);
    let b = stamp.as_bytes();
    b.len() == 23
        && b[..8].iter().all(u8::is_ascii_digit)
        && b[8] == b'T'
        && b[9..15].iter().all(u8::is_ascii_digit)
        && b[15] == b'.'
        && b[16..22].iter().all(u8::is_ascii_digit)
        && b[22] == b'Z'
}

#[test]
fn size_rotation_under_load_keeps_every_line_once_and_unsplit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let longest_line = (0..61).map(|n| line(3, 200_000 + n).len()).max().unwrap() as u64;
    let appender = load(
        Appender::builder(&path).max_file_size(MIB).max_files(None),
        4,
        60_000,
    );

    let files = files_of(&path);
    // ~4 * 60_000 * 95 bytes = ~22 MiB: many rotations.
    assert!(files.len() >= 15, "only {} files", files.len());
    assert_eq!(appender.stats().rotations as usize, files.len() - 1);
    for file in &files {
        let size = fs::metadata(file).unwrap().len();
        assert!(size <= MIB, "{} has {size} bytes", file.display());
        assert!(
            size > MIB - longest_line || file == &path,
            "{} rotated early at {size}",
            file.display()
        );
        if file != &path {
            assert!(
                is_rotated_name(file, "audit.log"),
                "bad name {}",
                file.display()
            );
            assert!(
                !file.to_str().unwrap().ends_with(".log"),
                "rotated file matches *.log"
            );
        }
    }
    Tally::of_files(&files).assert_exactly_once(4, 60_000);
}

#[test]
fn rotated_names_sort_in_the_order_lines_were_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("api.log");
    load(
        Appender::builder(&path)
            .max_file_size(64 * 1024)
            .max_files(None),
        1,
        20_000,
    );
    let mut previous = None;
    for file in files_of(&path) {
        for text in contents(&file)
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
        {
            let (_, n) = parse(text).unwrap();
            assert!(
                previous.is_none_or(|p| n == p + 1),
                "{} out of order",
                file.display()
            );
            previous = Some(n);
        }
    }
    assert_eq!(previous, Some(19_999));
}

#[test]
fn retention_keeps_the_newest_files_up_to_the_count() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let appender = load(
        Appender::builder(&path)
            .max_file_size(64 * 1024)
            .max_files(3),
        1,
        20_000,
    );
    assert!(appender.stats().rotations > 10);
    let files = files_of(&path);
    assert_eq!(
        files.len(),
        4,
        "3 rotated files and the live one: {files:?}"
    );
    // The kept files are the newest: together they end at the last line and
    // hold a contiguous run of lines.
    let mut numbers = Vec::new();
    for file in &files {
        for text in contents(file)
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
        {
            numbers.push(parse(text).unwrap().1);
        }
    }
    assert_eq!(*numbers.last().unwrap(), 19_999);
    assert!(numbers.windows(2).all(|w| w[1] == w[0] + 1));
}

#[test]
fn retention_by_age_removes_old_rotated_files_at_startup() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let old = dir.path().join("audit.log.20200101T000000.000000Z");
    let recent = dir.path().join("audit.log.20261122T100000.000000Z");
    let unrelated = dir.path().join("audit.logfile.20200101");
    for p in [&old, &recent, &unrelated] {
        fs::write(p, b"{}\n").unwrap();
    }
    let long_ago = SystemTime::now() - Duration::from_secs(40 * 86_400);
    for p in [&old, &unrelated] {
        fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(long_ago)
            .unwrap();
    }
    let (appender, guard) = Appender::builder(&path)
        .max_age(Duration::from_secs(30 * 86_400))
        .build()
        .unwrap();
    appender.write_line(b"{}").unwrap();
    drop(guard); // joins the maintenance thread, which ran its startup pass
    assert!(!old.exists(), "old rotated file kept");
    assert!(recent.exists(), "recent rotated file removed");
    assert!(unrelated.exists(), "a file of another name was removed");
}

#[cfg(feature = "gzip")]
#[test]
fn gzip_compresses_rotated_files_into_valid_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("login.log");
    load(
        Appender::builder(&path)
            .max_file_size(MIB)
            .max_files(None)
            .compress(true)
            .compress_after(Duration::ZERO),
        2,
        30_000,
    );
    let files = files_of(&path);
    assert!(files.len() >= 4);
    for file in &files[..files.len() - 1] {
        let name = file.to_str().unwrap();
        assert!(name.ends_with(".gz"), "{name} was not compressed");
        assert!(is_rotated_name(file, "login.log"));
    }
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    Tally::of_files(&files).assert_exactly_once(2, 30_000);
}

#[cfg(feature = "gzip")]
#[test]
fn gzip_picks_up_rotated_files_left_uncompressed_by_an_earlier_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let leftover = dir.path().join("audit.log.20261122T100000.000000Z");
    fs::write(&leftover, line(0, 7)).unwrap();
    let (_appender, guard) = Appender::builder(&path)
        .compress(true)
        .compress_after(Duration::ZERO)
        .build()
        .unwrap();
    drop(guard);
    assert!(!leftover.exists());
    let gz = dir.path().join("audit.log.20261122T100000.000000Z.gz");
    assert_eq!(contents(&gz), line(0, 7));
}
