//! Attack: the appender's size settings at their edges. `capacity` and
//! `batch_bytes` are plain numbers a caller may take from a config file;
//! a huge one must give a clear error from `build` (or a working
//! appender), never a panic or an abort of the caller's process.
//!
//! Each case runs in a child process (`ATTACK_SIZES_CHILD`) so that an
//! abort fails the case instead of the whole test binary.

use std::path::Path;
use std::process::Command;

use tracing_audit::appender::Appender;

const CHILD: &str = "ATTACK_SIZES_CHILD";

/// Runs `test` again as a child and says whether it ended normally.
fn child_ends_normally(test: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD, dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{test}: the child process failed ({:?}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Builds with `settings`; if it builds, a line written is in the file.
fn build_and_write(
    dir: &Path,
    settings: impl FnOnce(
        tracing_audit::appender::AppenderBuilder,
    ) -> tracing_audit::appender::AppenderBuilder,
) {
    let path = dir.join("audit.log");
    match settings(Appender::builder(&path)).build() {
        Ok((appender, guard)) => {
            appender.write_line(b"{\"n\":1}\n").unwrap();
            drop(guard);
            assert_eq!(std::fs::read(&path).unwrap(), b"{\"n\":1}\n");
        }
        Err(e) => {
            assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{e}");
            assert!(!e.to_string().is_empty());
        }
    }
}

#[test]
fn a_huge_queue_capacity_is_refused_or_works() {
    if let Some(dir) = std::env::var_os(CHILD) {
        for (i, lines) in [usize::MAX, usize::MAX / 2, 1 << 40]
            .into_iter()
            .enumerate()
        {
            build_and_write(&Path::new(&dir).join(i.to_string()), |b| b.capacity(lines));
        }
        return;
    }
    child_ends_normally("a_huge_queue_capacity_is_refused_or_works");
}

#[test]
fn a_huge_batch_size_is_refused_or_works() {
    if let Some(dir) = std::env::var_os(CHILD) {
        for (i, bytes) in [usize::MAX, usize::MAX / 2, 1 << 40]
            .into_iter()
            .enumerate()
        {
            build_and_write(&Path::new(&dir).join(i.to_string()), |b| {
                b.batch_bytes(bytes)
            });
        }
        return;
    }
    child_ends_normally("a_huge_batch_size_is_refused_or_works");
}
