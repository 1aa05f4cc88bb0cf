//! Attack: `std::process::exit` from one thread while the main thread
//! drops the guard and four threads log; the exit hook, the guard's drop
//! and the producers race. Every line whose `write_line` returned `Ok` is
//! in the file, once; through `create!`, each producer's records in the
//! file have no hole (a refusal is final).
//!
//! Each test runs itself again as a child process (`ATTACK_EXIT_CHILD`).

mod common;

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::Duration;

use common::{files_of, line, Tally};
use tracing_audit::appender::Appender;

const CHILD: &str = "ATTACK_EXIT_CHILD";

fn run_child(test: &str, dir: &Path) -> std::process::Output {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD, dir)
        .output()
        .unwrap()
}

#[test]
fn exit_races_guard_drop_and_producers_on_an_appender() {
    if let Some(dir) = std::env::var_os(CHILD) {
        let path = Path::new(&dir).join("audit.log");
        let (appender, guard) = Appender::builder(&path)
            .max_file_size(64 * 1024)
            .max_files(None)
            .drain_on_exit(true)
            .build()
            .unwrap();
        for t in 0..4u32 {
            let appender = appender.clone();
            thread::spawn(move || {
                for n in 0.. {
                    if appender.send_line(line(t, n)).is_ok() {
                        eprintln!("ack {t} {n}");
                    } else {
                        eprintln!("refused {t} {n}");
                    }
                }
            });
        }
        thread::sleep(Duration::from_millis(50));
        thread::spawn(|| std::process::exit(0));
        drop(guard);
        thread::sleep(Duration::from_secs(30));
        unreachable!("exit did not end the process");
    }
    for trial in 0..4 {
        let dir = tempfile::tempdir().unwrap();
        let out = run_child(
            "exit_races_guard_drop_and_producers_on_an_appender",
            dir.path(),
        );
        assert!(out.status.success(), "trial {trial}: {:?}", out.status);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let acked: Vec<(u32, u64)> = stderr
            .lines()
            .filter_map(|l| l.strip_prefix("ack "))
            .filter_map(|l| {
                let (t, n) = l.split_once(' ')?;
                Some((t.parse().ok()?, n.parse().ok()?))
            })
            .collect();
        assert!(!acked.is_empty(), "trial {trial}");
        let tally = Tally::of_files(&files_of(&dir.path().join("audit.log")));
        assert!(
            tally.bad.is_empty(),
            "trial {trial}: {:?}",
            tally.bad.first()
        );
        assert!(
            tally.seen.values().all(|&c| c == 1),
            "trial {trial}: duplicates"
        );
        for key in &acked {
            assert!(
                tally.seen.contains_key(key),
                "trial {trial}: {key:?} was acknowledged but is not in the file"
            );
        }
        // No hole: a producer's lines in the file are 0..k.
        let mut by_thread: HashMap<u32, Vec<u64>> = HashMap::new();
        for &(t, n) in tally.seen.keys() {
            by_thread.entry(t).or_default().push(n);
        }
        for (t, ns) in by_thread {
            let max = *ns.iter().max().unwrap();
            assert_eq!(
                ns.len() as u64,
                max + 1,
                "trial {trial}: thread {t} has a hole"
            );
        }
    }
}

#[test]
fn exit_races_guard_drop_and_create_records_on_the_whole_stack() {
    if let Some(dir) = std::env::var_os(CHILD) {
        let guard = tracing_audit::builder()
            .log_dir(Path::new(&dir))
            .console(false)
            .init()
            .unwrap();
        for t in 0..4u32 {
            thread::spawn(move || {
                for n in 0u64.. {
                    tracing_audit::create!(model: "Doc", id: format!("{t}-{n}"));
                }
            });
        }
        thread::sleep(Duration::from_millis(50));
        thread::spawn(|| std::process::exit(0));
        drop(guard);
        thread::sleep(Duration::from_secs(30));
        unreachable!("exit did not end the process");
    }
    for trial in 0..4 {
        let dir = tempfile::tempdir().unwrap();
        let out = run_child(
            "exit_races_guard_drop_and_create_records_on_the_whole_stack",
            dir.path(),
        );
        assert!(out.status.success(), "trial {trial}: {:?}", out.status);
        let text = fs::read_to_string(dir.path().join("audit.log")).unwrap();
        let mut seen: HashSet<(u32, u64)> = HashSet::new();
        for l in text.lines() {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("trial {trial}: {e}: {l}"));
            let id = v["instance_id"].as_str().unwrap();
            let (t, n) = id.split_once('-').unwrap();
            assert!(
                seen.insert((t.parse().unwrap(), n.parse().unwrap())),
                "trial {trial}: {id} twice"
            );
        }
        assert!(!seen.is_empty());
        for t in 0..4u32 {
            let ns: Vec<u64> = seen.iter().filter(|k| k.0 == t).map(|k| k.1).collect();
            if let Some(&max) = ns.iter().max() {
                assert_eq!(
                    ns.len() as u64,
                    max + 1,
                    "trial {trial}: thread {t} has a hole"
                );
            }
        }
    }
}
