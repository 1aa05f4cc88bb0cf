//! Attack: a rotated file named at the end of time. The appender names
//! each rotated file a microsecond after the newest name on disk when its
//! clock is behind it (so names keep sorting in write order). A name
//! stamped `99991231T235959.999999Z` (a clock once set far ahead, or a
//! file put there) left no later name to give, and the writer thread
//! panicked formatting year 10000: every line after it was lost though
//! `write_line` had returned `Ok`. The rotated files are now named by the
//! clock (they cannot sort after that name) and every line is kept.

use std::fs;

use tracing_audit::appender::Appender;

#[test]
fn a_rotated_name_at_the_end_of_time_loses_no_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let last = dir.path().join("audit.log.99991231T235959.999999Z");
    fs::write(&last, b"{\"n\":\"old\"}\n").unwrap();
    let (appender, guard) = Appender::builder(&path)
        .max_file_size(64)
        .max_files(None)
        .build()
        .unwrap();
    for n in 0..20 {
        appender
            .write_line(format!("{{\"n\":{n:>40}}}\n").as_bytes())
            .unwrap();
    }
    drop(guard);
    let stats = appender.stats();
    assert_eq!(stats.lines_written, 20, "{stats:?}");
    let mut names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut lines = Vec::new();
    for name in &names {
        let text = fs::read_to_string(dir.path().join(name)).unwrap();
        lines.extend(text.lines().map(str::to_owned));
    }
    assert_eq!(lines.len(), 21, "{names:?}");
    let mut seen: Vec<serde_json::Value> = lines
        .iter()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap()["n"].clone())
        .collect();
    seen.retain(|n| n != "old");
    let mut seen: Vec<u64> = seen.iter().map(|n| n.as_u64().unwrap()).collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..20).collect::<Vec<u64>>(), "{names:?}");
    // The stray file is untouched, and the rotated files are real names.
    assert_eq!(fs::read(&last).unwrap(), b"{\"n\":\"old\"}\n");
    assert!(
        names
            .iter()
            .filter(|n| n.starts_with("audit.log.2"))
            .count()
            >= 18,
        "{names:?}"
    );
}
