//! kill -9 during writing, then a restart: the chain still verifies and
//! the torn line the kill left is accounted for by the chain. This binary
//! is both the test and its child (run with `child DIR`, it writes chained
//! records until killed).

mod chain;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use tracing_audit::appender::Appender;
use tracing_audit::chain::{ChainOptions, VerifyOptions};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("child") => child(Path::new(&args[2])),
        _ => {
            kill_9_then_restart_verifies_and_accounts_for_the_torn_line();
            println!("test kill_9_then_restart_verifies_and_accounts_for_the_torn_line ... ok");
        }
    }
}

/// Writes records through a chained, rotating appender until killed;
/// says `ready` once some are in the file.
fn child(dir: &Path) {
    let live = dir.join("audit.log");
    let (appender, _guard) = Appender::builder(&live)
        .max_file_size(20_000)
        .max_files(None)
        .line_transform(ChainOptions::new().line_transform(&live))
        .build()
        .expect("appender");
    let mut said = false;
    for i in 0.. {
        appender
            .write_line(chain::record(i).as_bytes())
            .expect("line");
        if i % 100 == 99 {
            appender.flush().expect("flush");
            if !said {
                println!("ready");
                std::io::stdout().flush().unwrap();
                said = true;
            }
        }
    }
}

fn kill_9_then_restart_verifies_and_accounts_for_the_torn_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .arg("child")
        .arg(dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready.trim(), "ready");
    // Let it write on for a while (several rotations), then SIGKILL.
    let live = dir.path().join("audit.log");
    while chain::files(dir.path()).len() < 4 {
        std::thread::yield_now();
    }
    child.kill().unwrap();
    child.wait().unwrap();

    // Whatever the kill left is whole lines or one torn last line.
    let report = chain::verify(dir.path(), &VerifyOptions::new());
    if let Some(b) = report.first_break() {
        assert!(b.problem.contains("torn last line"), "{b}");
    }
    // A kill in the middle of a `write`: half a record at the end.
    let fragment = &chain::record(123_456)[..40];
    // An empty or missing live file (the kill came during a rotation)
    // ends whole too.
    let ends_whole = matches!(
        std::fs::read(&live).unwrap_or_default().last(),
        None | Some(b'\n')
    );
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&live)
        .unwrap();
    if ends_whole {
        file.write_all(fragment.as_bytes()).unwrap();
    }
    drop(file);
    let b = chain::broken(dir.path(), &VerifyOptions::new());
    assert!(b.problem.contains("torn last line"), "{b}");

    // The restart heals the line and records it in the chain.
    chain::write(
        dir.path(),
        1_000_000,
        10,
        20_000,
        &ChainOptions::new(),
        false,
    );
    let report = chain::assert_intact(dir.path(), &VerifyOptions::new());
    assert_eq!(report.chains[0].healed_lines, 1);
    let healed = chain::files(dir.path())
        .iter()
        .flat_map(|f| chain::lines(f))
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(&l).ok())
        .find(|v| v["chain_event"] == "healed")
        .expect("a healed start record");
    if ends_whole {
        assert_eq!(healed["torn_bytes"], fragment.len());
    }
}
