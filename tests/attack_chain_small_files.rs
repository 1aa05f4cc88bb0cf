//! Attack: a FIFO (or a device) where the chain reads a small file: the
//! checkpoint beside the log (plantable by whoever can write the log
//! directory), or the `--key` / `--public-key` / `--checkpoint` of
//! `tracing-audit verify`. Opening a FIFO for reading waits for a writer
//! and `/dev/zero` never ends: the chained writer's start, or the command,
//! hung for ever. Each is now refused as "not a regular file".
#![cfg(all(target_os = "linux", feature = "chain"))]

mod chain;

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chain::write;
use tracing_audit::chain::ChainOptions;

/// How long a step that must not hang may take on a loaded machine: a
/// liveness bound, not a speed claim.
const HANG: Duration = Duration::from_secs(60);

fn mkfifo(path: &Path) {
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
}

#[test]
fn a_fifo_planted_at_the_checkpoint_does_not_hang_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    mkfifo(&dir.path().join("audit.log.checkpoint"));
    let path = dir.path().to_path_buf();
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        write(&path, 0, 5, 1 << 30, &ChainOptions::new(), false);
        let _ = done.send(());
    });
    assert!(
        finished.recv_timeout(HANG).is_ok(),
        "the chained writer hung on a FIFO at its checkpoint's path"
    );
    let lines = std::fs::read_to_string(dir.path().join("audit.log")).unwrap();
    assert_eq!(lines.lines().count(), 6, "start record and 5 records");
}

/// Runs `tracing-audit verify DIR ARGS`, killed if it outlives [`HANG`]:
/// its exit code (`None` if it hung) and stderr.
fn verify(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tracing-audit"))
        .arg("verify")
        .arg(dir)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while started.elapsed() < HANG {
        if child.try_wait().unwrap().is_some() {
            let out = child.wait_with_output().unwrap();
            return (
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    (None, String::new())
}

#[test]
fn verify_refuses_a_fifo_or_a_device_as_key_public_key_or_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    write(&logs, 0, 5, 1 << 30, &ChainOptions::new(), false);
    let fifo = dir.path().join("key.fifo");
    mkfifo(&fifo);
    let fifo = fifo.to_str().unwrap();
    for (option, path) in [
        ("--key", fifo),
        ("--public-key", fifo),
        ("--checkpoint", fifo),
        ("--key", "/dev/zero"),
        ("--public-key", "/dev/zero"),
        ("--checkpoint", "/dev/zero"),
    ] {
        let (code, err) = verify(&logs, &[option, path]);
        assert_eq!(code, Some(2), "{option} {path}: {err}");
        assert!(err.contains("not a regular file"), "{option} {path}: {err}");
    }
}

#[test]
fn verify_refuses_a_key_file_over_64_kib() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    write(&logs, 0, 5, 1 << 30, &ChainOptions::new(), false);
    let big = dir.path().join("big.key");
    std::fs::write(&big, vec![b'k'; 64 * 1024 + 1]).unwrap();
    let (code, err) = verify(&logs, &["--key", big.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("longer than 65536 bytes"), "{err}");
}
