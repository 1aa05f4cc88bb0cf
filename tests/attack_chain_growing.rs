//! Attack: `chain::verify` (the `verify` command) on a live file that grows
//! faster than it is read (a busy service; here a sparse file extended
//! without end). It read to whatever end it found, so it never answered.
//! Each file is read as it was when opened, and verify ends.
#![cfg(all(feature = "chain", unix))]

mod chain;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use tracing_audit::chain::{ChainOptions, VerifyOptions};

#[test]
fn verify_ends_on_a_live_file_that_keeps_growing() {
    let dir = tempfile::tempdir().unwrap();
    chain::write(dir.path(), 0, 40, 1 << 20, &ChainOptions::new(), false);
    let live = dir.path().join("audit.log");
    let file = std::fs::OpenOptions::new()
        .append(true)
        .open(&live)
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let grower = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut len = file.metadata().unwrap().len();
            while !stop.load(Ordering::Relaxed) {
                len += 64 << 20;
                if file.set_len(len).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    std::thread::sleep(Duration::from_millis(50));
    let (tx, rx) = mpsc::channel();
    let path = dir.path().to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(tracing_audit::chain::verify(&path, &VerifyOptions::new()).is_ok());
    });
    // Only bounds a hang.
    let answered = rx.recv_timeout(Duration::from_secs(60));
    stop.store(true, Ordering::Relaxed);
    grower.join().unwrap();
    assert!(
        answered.is_ok(),
        "verify still reading a growing file after 60 s"
    );
    let _ = std::fs::remove_file(&live);
}
