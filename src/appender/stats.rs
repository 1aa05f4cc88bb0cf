//! Counters shared by an appender's handles and its writer thread.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Live counters, updated with relaxed atomics (they are statistics, not
/// synchronisation).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) lines_written: AtomicU64,
    pub(crate) bytes_written: AtomicU64,
    pub(crate) dropped: AtomicU64,
    /// Drops not yet reported by a summary line in the file.
    pub(crate) dropped_unreported: AtomicU64,
    pub(crate) write_errors: AtomicU64,
    pub(crate) rotations: AtomicU64,
    pub(crate) maintenance_errors: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }

    pub(crate) fn snapshot(&self, queue_depth: usize) -> Stats {
        Stats {
            lines_written: self.lines_written.load(Relaxed),
            bytes_written: self.bytes_written.load(Relaxed),
            dropped: self.dropped.load(Relaxed),
            write_errors: self.write_errors.load(Relaxed),
            rotations: self.rotations.load(Relaxed),
            maintenance_errors: self.maintenance_errors.load(Relaxed),
            queue_depth,
        }
    }
}

/// A snapshot of an appender's counters, from [`Appender::stats`].
///
/// Counters only grow; `queue_depth` is the number of messages waiting for
/// the writer thread when the snapshot was taken.
///
/// [`Appender::stats`]: super::Appender::stats
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Stats {
    /// Lines handed to the operating system (summary lines included).
    pub lines_written: u64,
    /// Bytes handed to the operating system.
    pub bytes_written: u64,
    /// Lines refused because the queue was full ([`Backpressure::Drop`] only).
    ///
    /// [`Backpressure::Drop`]: super::Backpressure::Drop
    pub dropped: u64,
    /// Failed write, open, rotate or sync attempts. Each failed attempt is
    /// retried; this counts attempts, not lost lines.
    pub write_errors: u64,
    /// Files rotated (renamed aside and replaced by a fresh file).
    pub rotations: u64,
    /// Failures to compress or delete rotated files (reported on stderr;
    /// the file is left in place).
    pub maintenance_errors: u64,
    /// Messages queued for the writer thread right now.
    pub queue_depth: usize,
}
