//! Attack on `chain::verify` with forged chain members: a `seq` at the top
//! of the `u64` range (where `seq + 1` overflows), in the first record of
//! a file and at the end of a rotated one. Verify must name the break, not
//! panic.
#![cfg(feature = "chain")]

mod chain;

use chain::{broken, files, lines, rewrite, write};
use tracing_audit::chain::{ChainOptions, VerifyOptions};

/// `line` with its `seq` replaced by `seq`.
fn with_seq(line: &str, seq: u64) -> String {
    let at = line.rfind("\"seq\":").expect("a chained record") + "\"seq\":".len();
    let end = at + line[at..].find(',').unwrap();
    format!("{}{seq}{}", &line[..at], &line[end..])
}

fn verify_without_panicking(dir: &std::path::Path) -> tracing_audit::chain::Break {
    std::panic::catch_unwind(|| broken(dir, &VerifyOptions::new())).expect("verify panicked")
}

#[test]
fn a_first_record_claiming_the_last_seq_is_named_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), 0, 10, 1_000_000, &ChainOptions::new(), false);
    let live = dir.path().join("audit.log");
    let mut text = lines(&live);
    text[0] = with_seq(&text[0], u64::MAX);
    rewrite(&live, &text);
    let b = verify_without_panicking(dir.path());
    assert_eq!(b.line, 1, "{b:?}");
}

#[test]
fn a_rotated_file_ending_at_the_last_seq_is_named_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), 0, 60, 6_000, &ChainOptions::new(), false);
    let all = files(dir.path());
    assert!(all.len() >= 3, "{all:?}");
    // Every record of the first file claims the last seq: the file's own
    // links break, and the next file's start follows `u64::MAX`.
    let first = &all[0];
    let text: Vec<String> = lines(first).iter().map(|l| with_seq(l, u64::MAX)).collect();
    rewrite(first, &text);
    let b = verify_without_panicking(dir.path());
    assert_eq!(b.file, *first, "{b:?}");
}

/// A forged last record claiming `seq` `u64::MAX` in the live file, then a
/// restart: the chain writer must go on chaining every new line (the
/// forgery is then named by verify), not panic on each one and write them
/// unchained.
#[test]
fn a_restart_after_a_forged_last_seq_keeps_chaining() {
    use tracing_audit::appender::Appender;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), 0, 5, 1_000_000, &ChainOptions::new(), false);
    let live = dir.path().join("audit.log");
    let mut text = lines(&live);
    let last = text.len() - 1;
    text[last] = with_seq(&text[last], u64::MAX);
    rewrite(&live, &text);
    let options = ChainOptions::new();
    let (appender, guard) = Appender::builder(&live)
        .max_file_size(None)
        .line_transform(options.line_transform(&live))
        .build()
        .unwrap();
    for i in 5..10 {
        appender.write_line(chain::record(i).as_bytes()).unwrap();
    }
    drop(guard);
    assert_eq!(
        appender.stats().transform_panics,
        0,
        "{:?}",
        appender.stats()
    );
    let after = lines(&live);
    assert!(after.len() > text.len());
    for line in &after[text.len()..] {
        assert!(line.contains("\"hash\":\""), "an unchained line: {line}");
    }
    verify_without_panicking(dir.path());
}
