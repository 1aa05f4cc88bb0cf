//! The bytes written since the path was last seen to name the file being
//! written. If the file vanishes (deleted, its directory removed, renamed
//! away), these are written again into the new file, so that no line
//! written into a file nobody can reach any more is lost.

use std::time::{Duration, Instant};

/// How long written lines may stay unverified before the writer checks
/// that the path still names its file.
pub(crate) const CHECK_EVERY: Duration = Duration::from_millis(100);
/// How many unverified bytes the writer keeps before it checks, whatever
/// the time: this bounds the memory the window takes.
pub(crate) const MAX_BYTES: usize = 1024 * 1024;

/// Lines written into the live file since the last identity check.
#[derive(Debug, Default)]
pub(crate) struct Unverified {
    bytes: Vec<u8>,
    lines: u64,
    /// When the oldest of them was written.
    since: Option<Instant>,
}

impl Unverified {
    /// Remembers a batch just written into the live file.
    pub(crate) fn record(&mut self, batch: &[u8], lines: u64) {
        if self.since.is_none() {
            self.since = Some(Instant::now());
        }
        self.bytes.extend_from_slice(batch);
        self.lines += lines;
    }

    /// True when the window is old enough or big enough to be checked.
    pub(crate) fn check_due(&self) -> bool {
        self.bytes.len() >= MAX_BYTES || self.since.is_some_and(|s| s.elapsed() >= CHECK_EVERY)
    }

    /// How long until [`check_due`](Self::check_due) turns true; `None`
    /// while the window is empty.
    pub(crate) fn due_in(&self) -> Option<Duration> {
        self.since
            .map(|since| CHECK_EVERY.saturating_sub(since.elapsed()))
    }

    /// The file was seen at its path: its lines are safe.
    pub(crate) fn clear(&mut self) {
        self.bytes.clear();
        self.lines = 0;
        self.since = None;
        if self.bytes.capacity() > 2 * MAX_BYTES {
            self.bytes = Vec::new();
        }
    }

    /// Takes the bytes and line count, leaving the window empty.
    pub(crate) fn take(&mut self) -> (Vec<u8>, u64) {
        let lines = std::mem::take(&mut self.lines);
        self.since = None;
        (std::mem::take(&mut self.bytes), lines)
    }
}
