//! A panicking `LineTransform` (the user's code, on the writer thread):
//! the writer goes on, the line whose transform panicked is written as it
//! came, and `lines_written + abandoned` is still every accepted line.

mod common;

use std::path::Path;

use common::{contents, files_of, line, parse};
use tracing_audit::appender::{Appender, LineTransform};

/// What the transforms below put before each line they transform.
const MARK: &[u8] = b"T:";

/// Marks every line; panics (after appending a stray half line) on the
/// line numbered `panic_on`, and in `on_rotate` / `on_written` when asked.
struct Marking {
    panic_on: Option<u64>,
    panic_in_events: bool,
}

impl LineTransform for Marking {
    fn on_open(&mut self, _last_line: Option<&[u8]>, _healed: Option<&[u8]>) {}

    fn on_rotate(&mut self, rotated: &str) {
        assert!(!self.panic_in_events, "on_rotate refuses {rotated}");
    }

    fn transform(&mut self, line: &[u8], out: &mut Vec<u8>) -> u64 {
        let n = parse(&line[..line.len() - 1]).map(|(_, n)| n);
        if n.is_some() && n == self.panic_on {
            out.extend_from_slice(b"T:half a li");
            panic!("transform refuses line {n:?}");
        }
        out.extend_from_slice(MARK);
        out.extend_from_slice(line);
        1
    }

    fn on_written(&mut self) {
        assert!(!self.panic_in_events, "on_written refuses");
    }
}

/// Every line of the live file and its rotated files: for each line number,
/// whether it was marked, in file order.
fn written(path: &Path) -> Vec<(u64, bool)> {
    let mut found = Vec::new();
    for file in files_of(path) {
        for text in contents(&file)
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
        {
            let (marked, rest) = match text.strip_prefix(MARK) {
                Some(rest) => (true, rest),
                None => (false, text),
            };
            let (_, n) = parse(rest)
                .unwrap_or_else(|| panic!("a foreign line: {}", String::from_utf8_lossy(text)));
            found.push((n, marked));
        }
    }
    found
}

#[test]
fn a_transform_panicking_on_one_line_loses_nothing_and_the_writer_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let (appender, guard) = Appender::builder(&path)
        .max_file_size(4096)
        .max_files(None)
        .line_transform(|| {
            Box::new(Marking {
                panic_on: Some(500),
                panic_in_events: false,
            })
        })
        .build()
        .unwrap();
    for n in 0..1_000 {
        appender.send_line(line(0, n)).unwrap();
    }
    drop(guard);

    let found = written(&path);
    let expected: Vec<(u64, bool)> = (0..1_000).map(|n| (n, n != 500)).collect();
    assert_eq!(found.len(), 1_000, "lines lost or doubled");
    assert_eq!(
        found, expected,
        "every line once, in order, the one whose transform panicked untransformed"
    );
    let stats = appender.stats();
    assert_eq!(stats.transform_panics, 1, "{stats:?}");
    assert_eq!(stats.lines_written + stats.abandoned, 1_000, "{stats:?}");
    assert_eq!(stats.abandoned, 0, "{stats:?}");
    assert!(stats.rotations > 5, "later lines rotated on: {stats:?}");
}

#[test]
fn a_transform_panicking_on_every_rotation_and_write_keeps_every_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let (appender, guard) = Appender::builder(&path)
        .max_file_size(4096)
        .max_files(None)
        .line_transform(|| {
            Box::new(Marking {
                panic_on: None,
                panic_in_events: true,
            })
        })
        .build()
        .unwrap();
    for n in 0..1_000 {
        appender.send_line(line(0, n)).unwrap();
    }
    appender.flush().unwrap();
    drop(guard);

    let expected: Vec<(u64, bool)> = (0..1_000).map(|n| (n, true)).collect();
    assert_eq!(written(&path), expected);
    let stats = appender.stats();
    assert!(stats.rotations > 5, "{stats:?}");
    assert!(stats.transform_panics > stats.rotations, "{stats:?}");
    assert_eq!(stats.lines_written, 1_000, "{stats:?}");
}

#[test]
fn a_transform_panicking_as_it_starts_fails_build_and_does_not_unwind_the_caller() {
    struct Refusing;
    impl LineTransform for Refusing {
        fn on_open(&mut self, _last_line: Option<&[u8]>, _healed: Option<&[u8]>) {
            panic!("no state to start from");
        }
        fn on_rotate(&mut self, _rotated: &str) {}
        fn transform(&mut self, line: &[u8], out: &mut Vec<u8>) -> u64 {
            out.extend_from_slice(line);
            1
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let err = Appender::builder(&path)
        .line_transform(|| Box::new(Refusing))
        .build()
        .expect_err("a transform that cannot start");
    assert!(err.to_string().contains("no state to start from"), "{err}");
}
