//! Tests that need a process of their own: `kill -9` in the middle of
//! writing, and a file-size limit (RLIMIT_FSIZE) that makes writes fail with
//! EFBIG. This binary is both the test and its child: run without
//! arguments it runs the tests, which start it again with a child role.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{files_of, line, parse, Tally};
use rand::Rng;
use tracing_audit::appender::Appender;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("child-ack") => child_ack(Path::new(&args[2])),
        Some("child-efbig") => child_efbig(Path::new(&args[2])),
        _ => run_tests(),
    }
}

type Test = (&'static str, fn());

fn run_tests() {
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let tests: [Test; 2] = [
        (
            "kill_9_loses_no_acknowledged_line_and_reopening_heals",
            kill_9,
        ),
        ("efbig_is_counted_and_writing_resumes_after_rotation", efbig),
    ];
    let (mut passed, mut failed) = (0, 0);
    for (name, test) in tests {
        if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        match std::panic::catch_unwind(test) {
            Ok(()) => {
                println!("test {name} ... ok");
                passed += 1;
            }
            Err(_) => {
                println!("test {name} ... FAILED");
                failed += 1;
            }
        }
    }
    println!("\nappender_process: {passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}

fn child(role: &str, path: &Path) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.arg(role).arg(path);
    cmd
}

// --- kill -9 ---------------------------------------------------------------

/// Sends numbered lines, flushes every 100, and after each flush prints how
/// many lines are acknowledged. Runs until killed.
fn child_ack(path: &Path) {
    let (appender, _guard) = Appender::builder(path).max_file_size(None).build().unwrap();
    let mut n = 0u64;
    loop {
        for _ in 0..100 {
            appender.send_line(line(0, n)).unwrap();
            n += 1;
        }
        appender.flush().unwrap();
        println!("{n}");
    }
}

fn kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let mut child = child("child-ack", &path)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut acks = BufReader::new(child.stdout.take().unwrap()).lines();
    let run_for = Duration::from_millis(rand::thread_rng().gen_range(100..600));
    let started = Instant::now();
    let mut acknowledged = 0u64;
    while started.elapsed() < run_for {
        acknowledged = acks.next().unwrap().unwrap().parse().unwrap();
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // Acknowledgements printed before the kill but not yet read count too.
    for ack in acks.map_while(Result::ok) {
        acknowledged = ack.parse().unwrap();
    }
    assert!(acknowledged > 0);

    let bytes = std::fs::read(&path).unwrap();
    let mut whole = &bytes[..];
    if bytes.last() != Some(&b'\n') {
        // A write cut by the kill: the torn tail is the one allowed flaw.
        let end = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        whole = &bytes[..end];
    }
    let mut tally = Tally::default();
    tally.add(&path, whole);
    assert!(tally.bad.is_empty(), "{:?}", tally.bad.first());
    for n in 0..acknowledged {
        assert_eq!(tally.seen.get(&(0, n)), Some(&1), "acknowledged line {n}");
    }

    // Whatever the kill left, a torn tail is what a reopen must heal: make
    // sure there is one, then reopen and write.
    if bytes.last() == Some(&b'\n') {
        let mut torn = line(0, u64::MAX / 2);
        torn.truncate(torn.len() / 2);
        std::fs::write(&path, [&bytes[..], &torn[..]].concat()).unwrap();
    }
    let (appender, guard) = Appender::builder(&path)
        .max_file_size(None)
        .build()
        .unwrap();
    appender.send_line(line(1, 0)).unwrap();
    drop(guard);
    let healed = std::fs::read(&path).unwrap();
    let last = healed[..healed.len() - 1]
        .split(|&b| b == b'\n')
        .next_back()
        .unwrap();
    assert_eq!(
        parse(last),
        Some((1, 0)),
        "the new line must stand on its own"
    );
    assert_eq!(healed.last(), Some(&b'\n'));
}

// --- EFBIG -----------------------------------------------------------------

const LIMIT: u64 = 64 * 1024;
const EFBIG_LINES: u64 = 6_000;

/// Under RLIMIT_FSIZE with SIGXFSZ ignored, writes past the limit fail with
/// EFBIG. Prints the final stats as `key=value` words.
fn child_efbig(path: &Path) {
    // SAFETY: process-wide settings of this child process only.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let limit = libc::rlimit {
            rlim_cur: LIMIT as libc::rlim_t,
            rlim_max: LIMIT as libc::rlim_t,
        };
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit), 0);
    }
    let (appender, guard) = Appender::builder(path)
        .max_file_size(None)
        .max_files(None)
        .build()
        .unwrap();
    for n in 0..EFBIG_LINES {
        appender.send_line(line(0, n)).unwrap();
    }
    drop(guard);
    let s = appender.stats();
    println!(
        "lines_written={} write_errors={} rotations={} dropped={}",
        s.lines_written, s.write_errors, s.rotations, s.dropped
    );
}

fn efbig() {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("audit.log");
    let out = child("child-efbig", &path)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed: {stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stat = |key: &str| -> u64 {
        stdout
            .split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no {key} in {stdout:?}"))
            .parse()
            .unwrap()
    };
    // ~6,000 lines of ~95 bytes against a 64 KiB limit: ~9 files.
    assert!(stat("write_errors") >= 5, "{stdout}");
    assert!(stat("rotations") >= 5, "{stdout}");
    assert_eq!(stat("lines_written"), EFBIG_LINES);
    assert_eq!(stat("dropped"), 0);
    assert!(
        stderr.contains("failed"),
        "errors must be reported: {stderr}"
    );
    assert!(
        stderr.contains("resumed"),
        "recovery must be reported: {stderr}"
    );

    let files = files_of(&path);
    for file in &files {
        assert!(std::fs::metadata(file).unwrap().len() <= LIMIT);
    }
    Tally::of_files(&files).assert_exactly_once(1, EFBIG_LINES);
}
