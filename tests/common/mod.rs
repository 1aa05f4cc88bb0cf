//! Helpers shared by the appender tests: numbered lines whose every byte
//! can be checked, and reading back a file together with its rotated
//! siblings.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Helpers for the record tests (`records_*.rs`).
pub mod records;

/// The process's umask, which applies to every file created (Linux
/// reports it in /proc; read rather than set under the other tests' feet).
pub fn umask() -> u32 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("Umask:"))?;
            u32::from_str_radix(line["Umask:".len()..].trim(), 8).ok()
        })
        .unwrap_or(0o022)
}

/// A JSON line that identifies its producer `t` and sequence number `n`
/// and whose length varies with `n`.
pub fn line(t: u32, n: u64) -> Vec<u8> {
    let pad_len = 20 + (n % 61) as usize;
    let pad: String = (0..pad_len)
        .map(|i| (b'a' + ((n as usize + i) % 26) as u8) as char)
        .collect();
    format!("{{\"t\":{t},\"n\":{n},\"pad\":\"{pad}\"}}\n").into_bytes()
}

/// Parses a line made by [`line`] (without its `\n`) and checks every
/// byte; `None` for anything else, including a torn line.
pub fn parse(text: &[u8]) -> Option<(u32, u64)> {
    let s = std::str::from_utf8(text).ok()?;
    let rest = s.strip_prefix("{\"t\":")?;
    let (t, rest) = rest.split_once(",\"n\":")?;
    let (n, _) = rest.split_once(',')?;
    let (t, n) = (t.parse().ok()?, n.parse().ok()?);
    let expected = line(t, n);
    (expected[..expected.len() - 1] == *text).then_some((t, n))
}

/// The live file and every rotated sibling (`<name>.<digit>…`), sorted by
/// name, so rotated files come in time order and the live file last.
pub fn files_of(live: &Path) -> Vec<PathBuf> {
    let name = live.file_name().unwrap().to_str().unwrap().to_owned();
    let prefix = format!("{name}.");
    let mut rotated: Vec<PathBuf> = fs::read_dir(live.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let f = p.file_name().unwrap().to_str().unwrap();
            f.strip_prefix(&prefix)
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        })
        .collect();
    rotated.sort();
    if live.exists() {
        rotated.push(live.to_path_buf());
    }
    rotated
}

/// A file's bytes, decompressed if its name ends in `.gz`.
pub fn contents(path: &Path) -> Vec<u8> {
    let raw = fs::read(path).unwrap();
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        raw
    }
}

/// What a set of files holds, checked line by line.
#[derive(Debug, Default)]
pub struct Tally {
    /// How many times each (producer, sequence) pair was seen.
    pub seen: HashMap<(u32, u64), u32>,
    /// Lines that are not intact lines from [`line`], with their file.
    pub bad: Vec<(PathBuf, String)>,
    /// Files whose last byte is not `\n`.
    pub unterminated: Vec<PathBuf>,
    /// Other lines, verbatim (summary lines, for instance).
    pub other: Vec<String>,
}

impl Tally {
    pub fn of_files(files: &[PathBuf]) -> Tally {
        let mut tally = Tally::default();
        for path in files {
            tally.add(path, &contents(path));
        }
        tally
    }

    pub fn add(&mut self, path: &Path, bytes: &[u8]) {
        if bytes.last().is_some_and(|&b| b != b'\n') {
            self.unterminated.push(path.to_path_buf());
        }
        for text in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            match parse(text) {
                Some(key) => *self.seen.entry(key).or_default() += 1,
                None if text.starts_with(b"{\"timestamp\"") => {
                    self.other.push(String::from_utf8_lossy(text).into_owned())
                }
                None => self.bad.push((
                    path.to_path_buf(),
                    String::from_utf8_lossy(text).into_owned(),
                )),
            }
        }
    }

    /// Asserts that producers `0..threads` each landed `0..per_thread`
    /// exactly once and nothing else is in the files.
    pub fn assert_exactly_once(&self, threads: u32, per_thread: u64) {
        assert!(
            self.bad.is_empty(),
            "torn or foreign lines: {:?}",
            &self.bad[..self.bad.len().min(3)]
        );
        assert!(
            self.unterminated.is_empty(),
            "unterminated files: {:?}",
            self.unterminated
        );
        let dupes = self.seen.values().filter(|&&c| c != 1).count();
        assert_eq!(dupes, 0, "{dupes} lines landed more than once");
        for t in 0..threads {
            for n in 0..per_thread {
                assert!(
                    self.seen.contains_key(&(t, n)),
                    "line t={t} n={n} is missing"
                );
            }
        }
        assert_eq!(self.seen.len() as u64, threads as u64 * per_thread);
    }
}
