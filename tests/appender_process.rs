//! Tests that need a process of their own: `kill -9` in the middle of
//! writing, a file-size limit (RLIMIT_FSIZE) that makes writes fail with
//! EFBIG, `std::process::exit` without dropping the guard, a rotation that
//! cannot succeed, and a directory replaced by a file mid-run (the last two
//! read the child's stderr). This binary is both the test and its child:
//! run without arguments it runs the tests, which start it again with a
//! child role.

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
        Some("child-exit-stack") => child_exit_stack(Path::new(&args[2])),
        Some("child-exit-appender") => child_exit_appender(Path::new(&args[2])),
        Some("child-rotation-impossible") => child_rotation_impossible(Path::new(&args[2])),
        Some("child-dir-replaced") => child_dir_replaced(Path::new(&args[2])),
        Some("child-dir-immutable") => child_dir_immutable(Path::new(&args[2])),
        _ => run_tests(),
    }
}

type Test = (&'static str, fn());

fn run_tests() {
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let tests: [Test; 7] = [
        (
            "kill_9_loses_no_acknowledged_line_and_reopening_heals",
            kill_9,
        ),
        ("efbig_is_counted_and_writing_resumes_after_rotation", efbig),
        (
            "process_exit_without_dropping_the_guard_loses_no_record_with_the_exit_hook",
            exit_stack,
        ),
        (
            "process_exit_drains_a_standalone_appender_with_drain_on_exit",
            exit_appender,
        ),
        (
            "impossible_rotation_bounds_the_live_file_and_stderr_and_counts_every_line",
            rotation_impossible,
        ),
        (
            "directory_replaced_by_a_file_mid_run_bounds_stderr_and_loses_no_line",
            dir_replaced,
        ),
        (
            "read_only_directory_mid_run_bounds_the_live_file_and_stderr",
            dir_immutable,
        ),
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

/// The child's stdout `key=value` words, as numbers.
fn stat_of(stdout: &str, key: &str) -> u64 {
    stdout
        .split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key} in {stdout:?}"))
        .parse()
        .unwrap()
}

/// The lines of the child's stderr that come from the appender.
fn appender_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("tracing-audit:"))
        .collect()
}

// --- std::process::exit ----------------------------------------------------

const EXIT_RECORDS: u64 = 100_000;

/// Installs the whole stack with `init()`, makes audit records as fast as
/// it can and calls `std::process::exit` with the guard still alive.
/// (`AUDIT_DRAIN_ON_EXIT=0` turns the hook off, to see what is lost
/// without it.)
fn child_exit_stack(dir: &Path) {
    let hook = std::env::var("AUDIT_DRAIN_ON_EXIT").map_or(true, |v| v != "0");
    let _guard = tracing_audit::builder()
        .log_dir(dir)
        .console(false)
        .drain_on_exit(hook)
        .init()
        .unwrap();
    for n in 0..EXIT_RECORDS {
        tracing::info!(target: "audit.crud", "record {n}");
    }
    std::process::exit(0);
}

fn exit_stack() {
    let dir = tempfile::tempdir().unwrap();
    let out = child("child-exit-stack", dir.path()).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut text = String::new();
    for file in files_of(&dir.path().join("audit.log")) {
        text.push_str(&std::fs::read_to_string(file).unwrap());
    }
    let mut seen = vec![0u32; EXIT_RECORDS as usize];
    for l in text.lines() {
        let record: serde_json::Value = serde_json::from_str(l).expect("a whole JSON line");
        let message = record["message"].as_str().unwrap();
        let n: usize = message.strip_prefix("record ").unwrap().parse().unwrap();
        seen[n] += 1;
    }
    let missing = seen.iter().filter(|&&c| c == 0).count();
    assert_eq!(
        missing, 0,
        "{missing} of {EXIT_RECORDS} records lost at exit"
    );
    assert!(seen.iter().all(|&c| c == 1), "a record written twice");
}

/// A standalone appender with `drain_on_exit(true)`: lines sent, then
/// `std::process::exit` with the guard alive.
fn child_exit_appender(path: &Path) {
    let (appender, _guard) = Appender::builder(path)
        .max_file_size(None)
        .drain_on_exit(true)
        .build()
        .unwrap();
    for n in 0..EXIT_RECORDS {
        appender.send_line(line(0, n)).unwrap();
    }
    std::process::exit(0);
}

fn exit_appender() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let out = child("child-exit-appender", &path).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Tally::of_files(&files_of(&path)).assert_exactly_once(1, EXIT_RECORDS);
}

// --- rotation that cannot succeed --------------------------------------------

const SMALL: u64 = 16 * 1024;
const ROTATION_LINES: u64 = 5_000;

/// A live file name so long that every rotated name (24 bytes longer) is
/// over the 255-byte limit of a name: renaming fails with ENAMETOOLONG,
/// even for root, while writing into the live file goes on working.
fn long_name(dir: &Path) -> PathBuf {
    dir.join(format!("{}.log", "a".repeat(240)))
}

fn child_rotation_impossible(path: &Path) {
    let (appender, guard) = Appender::builder(path)
        .max_file_size(SMALL)
        .max_files(None)
        .capacity(2 * ROTATION_LINES as usize)
        .shutdown_timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    for n in 0..ROTATION_LINES {
        appender.send_line(line(0, n)).unwrap();
    }
    drop(guard);
    let s = appender.stats();
    println!(
        "lines_written={} abandoned={} write_errors={} rotations={} dropped={}",
        s.lines_written, s.abandoned, s.write_errors, s.rotations, s.dropped
    );
}

fn rotation_impossible() {
    let dir = tempfile::tempdir().unwrap();
    let path = long_name(dir.path());
    let out = child("child-rotation-impossible", &path).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let reported = appender_lines(&stderr);
    // One line for the burst of failed rotations, one for the lines given
    // up at shutdown; not one per record.
    assert!(
        reported.len() <= 4,
        "{} stderr lines: {stderr}",
        reported.len()
    );
    assert!(
        reported.iter().any(|l| l.contains("rotating")),
        "the failure must be reported: {stderr}"
    );
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size <= 2 * SMALL, "the live file grew to {size} bytes");
    assert_eq!(stat_of(&stdout, "rotations"), 0);
    assert_eq!(stat_of(&stdout, "dropped"), 0);
    let written = stat_of(&stdout, "lines_written");
    let abandoned = stat_of(&stdout, "abandoned");
    assert!(written > 0 && abandoned > 0, "{stdout}");
    assert_eq!(written + abandoned, ROTATION_LINES, "{stdout}");
    // What was written is the start of the sequence, once each.
    Tally::of_files(&[path]).assert_exactly_once(1, written);
}

// --- a directory replaced by a file ------------------------------------------

/// Logs into `<dir>/logs/audit.log` from a producer thread; mid-run the
/// directory is moved to `logs.gone` and a plain file put in its place
/// (nothing can be created under `logs` then, even by root), and later the
/// file is removed again. Prints the producer's count and the stats.
fn child_dir_replaced(dir: &Path) {
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use std::sync::Arc;

    let logs = dir.join("logs");
    let (appender, guard) = Appender::builder(logs.join("audit.log"))
        .max_file_size(None)
        .capacity(4096)
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let producer = {
        let (appender, stop) = (appender.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(SeqCst) {
                appender.send_line(line(0, n)).unwrap();
                n += 1;
                if n % 64 == 0 {
                    std::thread::sleep(Duration::from_micros(300));
                }
            }
            n
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    std::fs::rename(&logs, dir.join("logs.gone")).unwrap();
    std::fs::write(&logs, b"not a directory").unwrap();
    // Wait for the writer to see the file gone (its identity check) and
    // fail to open a new one, rather than for a time longer than the
    // check's interval: from then on it writes nothing into the old file.
    let noticed = Instant::now() + Duration::from_secs(30);
    while appender.stats().write_errors == 0 {
        assert!(
            Instant::now() < noticed,
            "the vanished file was never noticed"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    let gone_size = std::fs::metadata(dir.join("logs.gone/audit.log"))
        .unwrap()
        .len();
    std::fs::remove_file(&logs).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, SeqCst);
    let sent = producer.join().unwrap();
    drop(guard);
    let s = appender.stats();
    let gone_size_after = std::fs::metadata(dir.join("logs.gone/audit.log"))
        .unwrap()
        .len();
    println!(
        "sent={sent} lines_written={} abandoned={} rewritten={} write_errors={} \
         gone_size={gone_size} gone_size_after={gone_size_after}",
        s.lines_written, s.abandoned, s.rewritten, s.write_errors
    );
}

fn dir_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let out = child("child-dir-replaced", dir.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let reported = appender_lines(&stderr);
    // The vanished file, the burst of failed opens, the recovery.
    assert!(
        reported.len() <= 4,
        "{} stderr lines: {stderr}",
        reported.len()
    );
    assert!(stat_of(&stdout, "write_errors") > 0, "{stdout}");
    // Once the writer saw the file was gone it wrote no more into it.
    assert_eq!(
        stat_of(&stdout, "gone_size"),
        stat_of(&stdout, "gone_size_after"),
        "{stdout}"
    );
    let sent = stat_of(&stdout, "sent");
    assert_eq!(stat_of(&stdout, "lines_written"), sent, "{stdout}");
    assert_eq!(stat_of(&stdout, "abandoned"), 0);
    let files = [
        dir.path().join("logs.gone/audit.log"),
        dir.path().join("logs/audit.log"),
    ];
    let tally = Tally::of_files(&files);
    assert!(tally.bad.is_empty() && tally.unterminated.is_empty());
    for n in 0..sent {
        assert!(tally.seen.contains_key(&(0, n)), "line {n} lost");
    }
    // Lines appear twice only if they were written again.
    let twice: u64 = tally.seen.values().map(|&c| u64::from(c - 1)).sum();
    assert!(twice <= stat_of(&stdout, "rewritten"), "{stdout}");
}

// --- a read-only directory -----------------------------------------------------

/// Sets or clears the immutable attribute (`chattr +i`) of a directory:
/// nothing can be created, renamed or removed in it, even by root, while
/// files already open in it can still be written. Fails where the file
/// system has no such attribute (tmpfs, for one).
#[cfg(target_os = "linux")]
fn set_immutable(dir: &Path, on: bool) -> std::io::Result<()> {
    use std::os::unix::io::AsRawFd;
    const FS_IOC_GETFLAGS: libc::c_ulong = 0x8008_6601;
    const FS_IOC_SETFLAGS: libc::c_ulong = 0x4008_6602;
    const FS_IMMUTABLE_FL: libc::c_int = 0x10;
    let file = std::fs::File::open(dir)?;
    let mut flags: libc::c_int = 0;
    // SAFETY: both ioctls read or write one int through a valid pointer.
    unsafe {
        if libc::ioctl(file.as_raw_fd(), FS_IOC_GETFLAGS as _, &mut flags) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        if on {
            flags |= FS_IMMUTABLE_FL;
        } else {
            flags &= !FS_IMMUTABLE_FL;
        }
        if libc::ioctl(file.as_raw_fd(), FS_IOC_SETFLAGS as _, &flags) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn set_immutable(_dir: &Path, _on: bool) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// Logs with a 16 KiB size limit; mid-run the directory becomes read-only
/// (immutable) for half a second, so every rotation fails, then writable
/// again. Prints the producer's count, the live file's largest size while
/// read-only, and the stats; or `unsupported` where the attribute is not
/// available.
fn child_dir_immutable(dir: &Path) {
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use std::sync::Arc;

    let logs = dir.join("logs");
    let path = logs.join("audit.log");
    let (appender, guard) = Appender::builder(&path)
        .max_file_size(SMALL)
        .max_files(None)
        .capacity(1 << 20)
        .build()
        .unwrap();
    if set_immutable(&logs, false).is_err() {
        println!("unsupported");
        return;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let producer = {
        let (appender, stop) = (appender.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(SeqCst) {
                appender.send_line(line(0, n)).unwrap();
                n += 1;
                if n % 16 == 0 {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
            n
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    set_immutable(&logs, true).unwrap();
    let mut largest = 0;
    let until = Instant::now() + Duration::from_millis(500);
    while Instant::now() < until {
        largest = largest.max(std::fs::metadata(&path).unwrap().len());
        std::thread::sleep(Duration::from_millis(2));
    }
    set_immutable(&logs, false).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, SeqCst);
    let sent = producer.join().unwrap();
    drop(guard);
    let s = appender.stats();
    println!(
        "sent={sent} largest={largest} lines_written={} abandoned={} rotations={} write_errors={}",
        s.lines_written, s.abandoned, s.rotations, s.write_errors
    );
}

fn dir_immutable() {
    let dir = tempfile::tempdir().unwrap();
    let out = child("child-dir-immutable", dir.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Never leave an immutable directory behind.
    let _ = set_immutable(&dir.path().join("logs"), false);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    if stdout.trim() == "unsupported" {
        // Covered by the impossible rotation (ENAMETOOLONG) test instead.
        println!("(no immutable attribute on this file system)");
        return;
    }
    let reported = appender_lines(&stderr);
    // The burst of failed rotations, and their end.
    assert!(
        reported.len() <= 3,
        "{} stderr lines: {stderr}",
        reported.len()
    );
    assert!(
        reported.iter().any(|l| l.contains("succeeded after")),
        "the recovery must be reported: {stderr}"
    );
    assert!(stat_of(&stdout, "write_errors") > 0, "{stdout}");
    let largest = stat_of(&stdout, "largest");
    assert!(
        largest <= 2 * SMALL,
        "the live file grew to {largest} bytes"
    );
    let sent = stat_of(&stdout, "sent");
    assert_eq!(stat_of(&stdout, "lines_written"), sent, "{stdout}");
    assert_eq!(stat_of(&stdout, "abandoned"), 0);
    let files = files_of(&dir.path().join("logs/audit.log"));
    for file in &files {
        assert!(std::fs::metadata(file).unwrap().len() <= 2 * SMALL);
    }
    Tally::of_files(&files).assert_exactly_once(1, sent);
}
