//! Attack: a symbolic link planted where the live file goes, by someone
//! who can write the log directory but not the place the link points to.
//! A dangling link made the appender create its target (with the
//! process's rights: as root, `/etc/cron.d/x`), at build or when it
//! opened the file again after it vanished. The appender now refuses to
//! create a file through a link; the lines wait (and are counted if the
//! link stays).
#![cfg(unix)]

use std::fs;
use std::os::unix::fs::symlink;
use std::time::Duration;

use tracing_audit::appender::Appender;

#[test]
fn a_dangling_link_as_the_live_file_is_refused_at_build() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = dir.path().join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    let target = elsewhere.join("planted");
    let path = dir.path().join("audit.log");
    symlink(&target, &path).unwrap();
    let built = Appender::builder(&path).build();
    assert!(built.is_err(), "built through a dangling link");
    assert!(!target.exists(), "the link's target was created");
    let message = built.err().unwrap().to_string();
    assert!(message.contains("symbolic link"), "{message}");
}

#[test]
fn a_dangling_link_planted_while_writing_gets_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = dir.path().join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    let target = elsewhere.join("planted");
    let path = dir.path().join("audit.log");
    let (appender, guard) = Appender::builder(&path)
        .shutdown_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    appender.write_line(b"{\"n\":1}\n").unwrap();
    appender.sync().unwrap();
    // The file is removed and a link put in its place.
    fs::remove_file(&path).unwrap();
    symlink(&target, &path).unwrap();
    appender.write_line(b"{\"n\":2}\n").unwrap();
    drop(guard);
    assert!(!target.exists(), "the link's target was created");
    let stats = appender.stats();
    // Line 2, and line 1 written again after its file vanished, could not
    // be written: counted, not lost silently.
    assert!(stats.abandoned >= 1, "{stats:?}");
    assert!(fs::symlink_metadata(&path)
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn a_link_to_an_existing_file_is_still_followed() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.log");
    fs::write(&real, b"").unwrap();
    let path = dir.path().join("audit.log");
    symlink(&real, &path).unwrap();
    let (appender, guard) = Appender::builder(&path).build().unwrap();
    appender.write_line(b"{\"n\":1}\n").unwrap();
    drop(guard);
    assert_eq!(fs::read(&real).unwrap(), b"{\"n\":1}\n");
}

/// A link named like a rotated file (`audit.log.<time>Z -> /etc/shadow`),
/// planted by whoever can write the directory: the compressor read the
/// file it names into a `.gz` beside the logs (made with the log files'
/// mode, readable by whoever reads the logs). A link is never compressed.
#[cfg(feature = "gzip")]
#[test]
fn a_link_named_like_a_rotated_file_is_not_compressed() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("shadow");
    fs::write(&secret, b"root:$6$secret-hash:19000:0:99999:7:::\n").unwrap();
    let planted = dir.path().join("audit.log.20200101T000000.000000Z");
    symlink(&secret, &planted).unwrap();
    let path = dir.path().join("audit.log");
    let (appender, guard) = Appender::builder(&path)
        .compress(true)
        .compress_after(Duration::ZERO)
        .max_files(None)
        .build()
        .unwrap();
    appender.write_line(b"{\"n\":1}\n").unwrap();
    drop(guard);
    let gz = dir.path().join("audit.log.20200101T000000.000000Z.gz");
    assert!(
        !gz.exists(),
        "the linked file was copied into {}",
        gz.display()
    );
    assert_eq!(
        fs::read(&secret).unwrap(),
        b"root:$6$secret-hash:19000:0:99999:7:::\n"
    );
}
