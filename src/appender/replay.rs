//! The bytes written since the path was last seen to name the file being
//! written. If the file vanishes (deleted, its directory removed, renamed
//! away), these are written again into the new file, so that no line
//! written into a file nobody can reach any more is lost.

use std::time::{Duration, Instant};

/// How long written lines may stay unverified before the writer checks
/// that the path still names its file, unless
/// [`identity_check_interval`](super::AppenderBuilder::identity_check_interval)
/// says otherwise.
pub(crate) const CHECK_EVERY: Duration = Duration::from_millis(100);
/// How many unverified bytes the writer keeps before it checks, whatever
/// the time: this bounds the memory the window takes.
pub(crate) const MAX_BYTES: usize = 1024 * 1024;

/// A written batch at least this big is kept as it is (its buffer swapped
/// for a spare one) rather than copied.
const KEEP_WHOLE: usize = 64 * 1024;
/// How many emptied buffers are kept for reuse.
const SPARE_MAX: usize = 8;

/// Lines written into the live file since the last identity check, kept
/// without copying the writer's big batches.
#[derive(Debug)]
pub(crate) struct Unverified {
    /// How long lines may stay unverified (`None`: no limit in time).
    every: Option<Duration>,
    /// The clock `every` is measured with (`Instant::now`, or a test's).
    clock: fn() -> Instant,
    /// The written bytes, in order.
    chunks: Vec<Vec<u8>>,
    bytes: usize,
    lines: u64,
    /// When the oldest of them was written.
    since: Option<Instant>,
    /// Emptied buffers, for the next chunks and batches.
    spare: Vec<Vec<u8>>,
}

impl Unverified {
    /// An empty window, checked after `every` by `clock` (`None`: only by
    /// size).
    pub(crate) fn new(every: Option<Duration>, clock: fn() -> Instant) -> Unverified {
        Unverified {
            every,
            clock,
            chunks: Vec::new(),
            bytes: 0,
            lines: 0,
            since: None,
            spare: Vec::new(),
        }
    }

    /// Remembers a batch just written into the live file. A big batch is
    /// taken as it is and `batch` is given an empty buffer in exchange; a
    /// small one is copied and `batch` left as it was.
    pub(crate) fn record(&mut self, batch: &mut Vec<u8>, lines: u64) {
        if self.since.is_none() {
            self.since = Some((self.clock)());
        }
        self.bytes += batch.len();
        self.lines += lines;
        if batch.len() >= KEEP_WHOLE {
            let capacity = batch.capacity();
            let fresh = self
                .spare
                .pop()
                .unwrap_or_else(|| Vec::with_capacity(capacity));
            self.chunks.push(std::mem::replace(batch, fresh));
            return;
        }
        match self.chunks.last_mut() {
            Some(last) if last.capacity() - last.len() >= batch.len() => {
                last.extend_from_slice(batch);
            }
            _ => {
                let mut chunk = self
                    .spare
                    .pop()
                    .unwrap_or_else(|| Vec::with_capacity(KEEP_WHOLE.max(batch.len())));
                chunk.extend_from_slice(batch);
                self.chunks.push(chunk);
            }
        }
    }

    /// True when the window is old enough or big enough to be checked.
    pub(crate) fn check_due(&self) -> bool {
        self.bytes >= MAX_BYTES || self.due_in() == Some(Duration::ZERO)
    }

    /// How long until [`check_due`](Self::check_due) turns true; `None`
    /// while the window is empty.
    pub(crate) fn due_in(&self) -> Option<Duration> {
        let (every, since) = (self.every?, self.since?);
        Some(every.saturating_sub((self.clock)().saturating_duration_since(since)))
    }

    /// The file was seen at its path: its lines are safe.
    pub(crate) fn clear(&mut self) {
        for mut chunk in self.chunks.drain(..) {
            if self.spare.len() < SPARE_MAX {
                chunk.clear();
                self.spare.push(chunk);
            }
        }
        self.bytes = 0;
        self.lines = 0;
        self.since = None;
    }

    /// Takes the bytes (in one buffer) and the line count, leaving the
    /// window empty.
    pub(crate) fn take(&mut self) -> (Vec<u8>, u64) {
        let mut all = Vec::with_capacity(self.bytes);
        for chunk in &self.chunks {
            all.extend_from_slice(chunk);
        }
        let lines = self.lines;
        self.clear();
        (all, lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_and_small_batches_come_back_in_order() {
        let mut window = Unverified::new(Some(CHECK_EVERY), Instant::now);
        let big = vec![b'a'; KEEP_WHOLE];
        let mut batch = big.clone();
        window.record(&mut batch, 1);
        assert!(batch.is_empty(), "a big batch is taken, not copied");
        let mut small = b"b\n".to_vec();
        window.record(&mut small, 1);
        assert_eq!(small, b"b\n", "a small batch is copied");
        let mut batch = big.clone();
        window.record(&mut batch, 1);
        let (bytes, lines) = window.take();
        assert_eq!(lines, 3);
        assert_eq!(bytes, [&big[..], b"b\n", &big[..]].concat());
        assert_eq!(window.take(), (Vec::new(), 0));
        assert!(!window.check_due());
    }

    #[test]
    fn the_interval_decides_when_a_check_is_due() {
        let mut now = Unverified::new(Some(Duration::ZERO), Instant::now);
        let mut never = Unverified::new(None, Instant::now);
        assert!(!now.check_due() && !never.check_due(), "nothing to check");
        now.record(&mut b"a\n".to_vec(), 1);
        never.record(&mut b"a\n".to_vec(), 1);
        assert!(now.check_due());
        assert_eq!(never.due_in(), None);
        assert!(!never.check_due());
        // Whatever the interval, 1 MiB unverified is due.
        never.record(&mut vec![b'x'; MAX_BYTES], 1);
        assert!(never.check_due());
    }
}
