//! Attack: retention must only ever delete files the appender itself made
//! (`<name>.<YYYYMMDDTHHMMSS.ffffffZ>`, optionally `.gz`), never a user's
//! or another program's file that merely starts with `<name>.` and a digit.

use std::fs;
use std::time::Duration;

use tracing_audit::appender::Appender;

/// Files a user or another tool might keep beside `audit.log`.
const FOREIGN: &[&str] = &[
    "audit.log.1",
    "audit.log.2",
    "audit.log.1.gz",
    "audit.log.1.tmp",
    "audit.log.2024-01-01",
    "audit.log.20261122.bak",
    "audit.log.0-keep-me",
    "audit.log.20261122T100000.000000Z.bak",
    "audit.log.20261122T100000.000000Z.gz.old",
    "audit.log.bak",
];

#[test]
fn retention_never_deletes_files_it_did_not_make() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    for name in FOREIGN {
        fs::write(dir.path().join(name), b"precious\n").unwrap();
    }
    // Make the foreign files "old" too, so age retention would also hit them.
    let old = std::time::SystemTime::now() - Duration::from_secs(400 * 86_400);
    for name in FOREIGN {
        let f = fs::File::options()
            .write(true)
            .open(dir.path().join(name))
            .unwrap();
        f.set_modified(old).unwrap();
    }
    let (appender, guard) = Appender::builder(&path)
        .max_file_size(64)
        .max_files(1)
        .max_age(Duration::from_secs(1))
        .build()
        .unwrap();
    for n in 0..200u32 {
        appender
            .write_line(format!("{{\"n\":{n:040}}}").as_bytes())
            .unwrap();
    }
    drop(guard);
    let stats = appender.stats();
    assert!(stats.rotations > 10, "{stats:?}");
    for name in FOREIGN {
        let p = dir.path().join(name);
        assert!(
            p.exists(),
            "retention deleted {name}, a file it did not create"
        );
        assert_eq!(fs::read(&p).unwrap(), b"precious\n");
    }
    // Only our rotated files were removed, and each one was counted.
    let ours: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !FOREIGN.contains(&n.as_str()) && n != "audit.log")
        .collect();
    assert!(ours.len() <= 1, "{ours:?}");
    assert_eq!(stats.files_removed, stats.rotations - ours.len() as u64);
}

/// `max_age(0)` (or a few milliseconds) deletes every rotated file as soon
/// as it is made, as `max_files(0)` would: refused the same way.
#[test]
fn a_max_age_that_deletes_every_rotated_file_at_once_is_refused() {
    use tracing_audit::appender::ConfigError;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    for age in [
        Duration::ZERO,
        Duration::from_nanos(1),
        Duration::from_millis(500),
    ] {
        let err = Appender::builder(&path)
            .max_age(age)
            .build()
            .expect_err("a max_age under a second deletes rotated files at once");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        let e = err
            .get_ref()
            .unwrap()
            .downcast_ref::<ConfigError>()
            .copied();
        assert_eq!(e, Some(ConfigError::MaxAgeTooShort), "{age:?}");
    }
    assert!(!path.exists());
    let (_appender, guard) = Appender::builder(&path)
        .max_age(Duration::from_secs(1))
        .build()
        .unwrap();
    drop(guard);
}

/// The clock was stepped back across a restart (a VM restored from a
/// snapshot, a wrong clock fixed by NTP): the rotated files on disk are
/// named after a time the clock has not reached yet. The file rotated now
/// is still named after them, so retention, which keeps the newest names,
/// keeps it and deletes the oldest file instead of the newest lines.
#[test]
fn a_file_rotated_after_the_clock_stepped_back_across_a_restart_survives_retention() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    // Left by the earlier run, whose clock said 2099.
    let earlier = [
        "audit.log.20990101T000000.000000Z",
        "audit.log.20990101T010000.000000Z",
    ];
    for name in earlier {
        fs::write(dir.path().join(name), format!("{{\"from\":\"{name}\"}}\n")).unwrap();
    }
    let (appender, guard) = Appender::builder(&path)
        .max_file_size(64)
        .max_files(2)
        .build()
        .unwrap();
    let lines: Vec<String> = (0..2).map(|n| format!("{{\"n\":{n:040}}}")).collect();
    for line in &lines {
        appender.write_line(line.as_bytes()).unwrap();
    }
    drop(guard);
    let stats = appender.stats();
    assert_eq!(stats.rotations, 1, "{stats:?}");
    assert_eq!(stats.files_removed, 1, "{stats:?}");
    let mut names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    // The oldest file went; the one rotated now is named after the newest.
    assert!(!names.contains(&earlier[0].to_owned()), "{names:?}");
    assert!(names.contains(&earlier[1].to_owned()), "{names:?}");
    let rotated = names
        .iter()
        .find(|n| !earlier.contains(&n.as_str()) && *n != "audit.log")
        .unwrap_or_else(|| panic!("the file rotated now was deleted: {names:?}"));
    assert!(
        rotated.as_str() > earlier[1],
        "{rotated} sorts before {}",
        earlier[1]
    );
    assert_eq!(
        fs::read_to_string(dir.path().join(rotated)).unwrap(),
        format!("{}\n", lines[0])
    );
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        format!("{}\n", lines[1])
    );
}
