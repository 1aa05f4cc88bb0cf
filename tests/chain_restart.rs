//! The chain writer's side of durability: a huge newline-free tail left
//! in the live file is healed without reading it into memory and the chain
//! goes on; a checkpoint never names a record that is not yet in the file
//! (and on disk, when the appender syncs).

mod chain;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chain::{json, lines, record, write};
use tracing_audit::appender::{Appender, Durability};
use tracing_audit::chain::{ChainOptions, VerifyOptions};

/// 50 MB without a newline at the end of the live file (a damaged disk, a
/// stray copy): the restart terminates it, continues the chain from the
/// record before it, and describes only the tail's last 8 MiB (what it
/// keeps of any line). No line the crate writes is that long, so verify
/// names the tail as the first break, and everything after it verifies.
#[test]
fn a_huge_newline_free_tail_is_healed_and_the_chain_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let options = ChainOptions::new().no_checkpoint_file();
    write(dir.path(), 0, 20, 1 << 30, &options, false);
    let live = dir.path().join("audit.log");
    let before = lines(&live);
    let last_before = json(before.last().unwrap());
    let tail = vec![b'x'; 50_000_000];
    let mut text = std::fs::read(&live).unwrap();
    text.extend_from_slice(&tail);
    std::fs::write(&live, text).unwrap();

    write(dir.path(), 20, 5, 1 << 30, &options, false);

    let after = lines(&live);
    assert_eq!(
        after.len(),
        before.len() + 1 + 1 + 5,
        "tail, healed, 5 records"
    );
    assert_eq!(
        after[before.len()].as_bytes(),
        &tail[..],
        "the tail, terminated"
    );
    let healed = json(&after[before.len() + 1]);
    assert_eq!(healed["chain_event"], "healed");
    assert_eq!(healed["prev_hash"], last_before["hash"]);
    assert_eq!(healed["seq"], last_before["seq"].as_u64().unwrap() + 1);
    assert_eq!(
        healed["torn_bytes"],
        8 * 1024 * 1024,
        "only the end is kept"
    );
    assert_eq!(json(after.last().unwrap())["n"], 24);

    let report = chain::verify(dir.path(), &VerifyOptions::new());
    let b = report.first_break().expect("the tail is named");
    assert_eq!(
        (b.file.as_path(), b.line),
        (live.as_path(), before.len() as u64 + 1)
    );
    assert!(b.problem.contains("not a chained record"), "{b}");
    assert_eq!(
        report.chains[0].last_seq,
        json(after.last().unwrap())["seq"].as_u64()
    );
}

/// The `seq` of the file's last line, 0 when it has none.
fn last_seq_in(path: &std::path::Path) -> u64 {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .last()
        .and_then(|line| json(line)["seq"].as_u64())
        .unwrap_or(0)
}

/// Checkpoints seen: (the checkpoint's `seq`, the file's last `seq`).
type Seen = Vec<(u64, u64)>;

/// Every checkpoint handed to the callback, with the last `seq` in the
/// file at that moment, for an appender with `durability`; 10 records,
/// `flush`, then what the callback saw so far; 10 more and the guard
/// dropped.
fn checkpoints_with(durability: Durability) -> (Seen, Seen) {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("audit.log");
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let (sink, file) = (Arc::clone(&seen), live.clone());
    let options = ChainOptions::new()
        .checkpoint_every(1)
        .checkpoint_interval(None)
        .on_checkpoint(move |cp| sink.lock().unwrap().push((cp.seq, last_seq_in(&file))));
    let (appender, guard) = Appender::builder(&live)
        .durability(durability)
        .line_transform(options.line_transform(&live))
        .build()
        .unwrap();
    for i in 0..10 {
        appender.write_line(record(i).as_bytes()).unwrap();
    }
    appender.flush().unwrap();
    let after_flush = seen.lock().unwrap().clone();
    for i in 10..20 {
        appender.write_line(record(i).as_bytes()).unwrap();
    }
    appender.sync().unwrap();
    drop(guard);
    let all = seen.lock().unwrap().clone();
    (after_flush, all)
}

/// A checkpoint is taken only after its records are written, and, when
/// the appender syncs, fsynced: with a sync due only every hour, a flush
/// (written, not synced) takes none; the explicit `sync` does.
#[test]
fn a_checkpoint_never_names_a_record_not_yet_durable() {
    let (after_flush, all) = checkpoints_with(Durability::SyncEvery(Duration::from_secs(3600)));
    assert!(
        after_flush.is_empty(),
        "checkpoints before any fsync: {after_flush:?}"
    );
    assert_eq!(all.last().map(|cp| cp.0), Some(21), "{all:?}");
    for (checkpoint, in_file) in &all {
        assert!(
            checkpoint <= in_file,
            "checkpoint {checkpoint}, file ends at {in_file}"
        );
    }

    for durability in [Durability::Write, Durability::SyncEachBatch] {
        let (after_flush, all) = checkpoints_with(durability);
        assert_eq!(after_flush.last(), Some(&(11, 11)), "{durability:?}");
        assert_eq!(all.last().map(|cp| cp.0), Some(21), "{durability:?}");
        for (checkpoint, in_file) in &all {
            assert!(checkpoint <= in_file, "{durability:?}: {all:?}");
        }
    }
}
