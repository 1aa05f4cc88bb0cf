//! `tracing-audit tail -f` follows a live file across many rotations:
//! every record written while it runs is printed once, in order. The
//! deadline only bounds a hang; nothing here measures time.
#![cfg(feature = "cli")]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tracing_subscriber::layer::SubscriberExt;

const BIN: &str = env!("CARGO_BIN_EXE_tracing-audit");

/// Kills the child however the test ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Lines received until `n` are there or the (generous) deadline passes.
fn wait_for(rx: &mpsc::Receiver<String>, got: &mut Vec<Value>, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while got.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => got.push(serde_json::from_str(&line).unwrap()),
            Err(_) => break,
        }
    }
}

#[test]
fn tail_follows_the_live_file_across_rotations() {
    let dir = tempfile::tempdir().unwrap();
    let (layer, guard) = tracing_audit::layer()
        .log_dir(dir.path())
        .service_name("billing")
        .max_file_size(2048)
        .max_files(None)
        .build()
        .unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let write = |from: usize, to: usize| {
        tracing::dispatcher::with_default(&dispatch, || {
            for n in from..to {
                tracing_audit::update!(model: "Order", id: n, user: if n % 2 == 0 { "7" } else { "8" });
            }
        });
        guard.flush().unwrap();
    };
    write(0, 3);

    let mut child = Child(
        Command::new(BIN)
            .args([
                "tail",
                "-f",
                "-n",
                "100",
                "--poll-ms",
                "10",
                "--kind",
                "audit",
                "--user",
                "7",
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
    let mut got = Vec::new();
    // The records already there (ids 0 and 2: user 7).
    wait_for(&rx, &mut got, 2);
    assert_eq!(got.len(), 2, "{got:?}");

    // Many rotations while it follows, in several bursts.
    for burst in 0..6 {
        write(3 + burst * 40, 3 + (burst + 1) * 40);
        std::thread::sleep(Duration::from_millis(30));
    }
    let total = 3 + 6 * 40;
    let want: Vec<String> = (0..total)
        .filter(|n| n % 2 == 0)
        .map(|n| n.to_string())
        .collect();
    wait_for(&rx, &mut got, want.len());
    let rotated = std::fs::read_dir(dir.path()).unwrap().count() - 1;
    assert!(
        rotated >= 10,
        "the files must have rotated many times: {rotated}"
    );
    let seen: Vec<String> = got
        .iter()
        .map(|r| r["instance_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(seen, want, "every record of user 7 once, in order");
    assert!(got.iter().all(|r| r["user_id"] == "7"));

    // Nothing more arrives: no line was printed twice.
    write(total, total + 1); // user 8: filtered out
    write(total + 1, total + 2); // user 7
    wait_for(&rx, &mut got, want.len() + 1);
    assert_eq!(got.len(), want.len() + 1);
    assert_eq!(got.last().unwrap()["instance_id"], (total + 1).to_string());
}

#[test]
fn tail_without_follow_prints_the_last_records_and_ends() {
    let dir = tempfile::tempdir().unwrap();
    let (layer, guard) = tracing_audit::layer()
        .log_dir(dir.path())
        .max_file_size(4096)
        .build()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for n in 0..50 {
            tracing_audit::delete!(model: "Order", id: n);
        }
    });
    drop(guard);
    let out = Command::new(BIN)
        .args(["tail", "-n", "5"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let ids = instance_ids(&out.stdout);
    assert_eq!(ids, ["45", "46", "47", "48", "49"]);
}

/// `tail -n` with a filter whose records are several rotated files back
/// (not only in the last rotated file and the live one), and a `.gz` file
/// given by name is gunzipped and read, not followed as text.
#[test]
fn tail_finds_the_last_matching_records_files_back_and_reads_a_named_gz() {
    let dir = tempfile::tempdir().unwrap();
    let (layer, guard) = tracing_audit::layer()
        .log_dir(dir.path())
        .max_file_size(4096)
        .max_files(None)
        .build()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for n in 0..5 {
            tracing_audit::delete!(model: "Invoice", id: n);
        }
        for n in 0..200 {
            tracing_audit::delete!(model: "Order", id: n);
        }
    });
    drop(guard);
    let rotated = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name() != "audit.log")
        .count();
    assert!(rotated >= 4, "{rotated} rotated files");
    let out = Command::new(BIN)
        .args(["tail", "-n", "3", "--model", "Invoice"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let ids = instance_ids(&out.stdout);
    assert_eq!(ids, ["2", "3", "4"]);

    // A rotated file's lines gzipped, the file given by name.
    let first_rotated = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap() != "audit.log")
        .min()
        .unwrap();
    let text = std::fs::read(first_rotated).unwrap();
    assert!(text.iter().filter(|&&b| b == b'\n').count() >= 2);
    let gz = dir.path().join("copy.log.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, &text).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let out = Command::new(BIN)
        .args(["tail", "-n", "2"])
        .arg(&gz)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 2);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("malformed"));
}

/// The `instance_id` of each JSON line the command printed.
fn instance_ids(stdout: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["instance_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}
