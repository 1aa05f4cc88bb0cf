//! Attack on `tail -f`'s promise (no record skipped or shown twice however
//! often the files rotate) with the rotated files gzipped at once: the
//! plain rotated file it still has to read may be gone (compressed) by the
//! time it looks, several times between two polls.
#![cfg(all(feature = "cli", feature = "gzip"))]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tracing_subscriber::layer::SubscriberExt;

const BIN: &str = env!("CARGO_BIN_EXE_tracing-audit");

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn tail_follows_rotations_into_gzipped_files_without_loss() {
    let dir = tempfile::tempdir().unwrap();
    let (layer, guard) = tracing_audit::layer()
        .log_dir(dir.path())
        .service_name("billing")
        .max_file_size(1024)
        .max_files(None)
        .configure_appender(|_, appender| appender.compress(true).compress_after(Duration::ZERO))
        .build()
        .unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let write = |from: usize, to: usize| {
        tracing::dispatcher::with_default(&dispatch, || {
            for n in from..to {
                tracing_audit::delete!(model: "Order", id: n, user: "7");
            }
        });
        guard.flush().unwrap();
    };
    write(0, 1);
    let mut child = Child(
        Command::new(BIN)
            .args([
                "tail",
                "-f",
                "-n",
                "10",
                "--poll-ms",
                "200",
                "--kind",
                "audit",
            ])
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut got: Vec<String> = Vec::new();
    let wait_for = |got: &mut Vec<String>, n: usize| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while got.len() < n {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => {
                    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
                    got.push(v["instance_id"].as_str().unwrap().to_owned());
                }
                Err(_) => break,
            }
        }
    };
    wait_for(&mut got, 1);
    // Bursts of many rotations each, shorter than a poll.
    let total = 1 + 8 * 60;
    for burst in 0..8 {
        write(1 + burst * 60, 1 + (burst + 1) * 60);
        std::thread::sleep(Duration::from_millis(37));
    }
    wait_for(&mut got, total);
    let gz = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".gz")
        })
        .count();
    assert!(gz >= 20, "rotated and gzipped many times: {gz}");
    let want: Vec<String> = (0..total).map(|n| n.to_string()).collect();
    assert_eq!(got, want, "every record once, in order");
}
