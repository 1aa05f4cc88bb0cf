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
    pub(crate) abandoned: AtomicU64,
    pub(crate) rewritten: AtomicU64,
    pub(crate) files_removed: AtomicU64,
    pub(crate) transform_panics: AtomicU64,
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
            abandoned: self.abandoned.load(Relaxed),
            rewritten: self.rewritten.load(Relaxed),
            files_removed: self.files_removed.load(Relaxed),
            transform_panics: self.transform_panics.load(Relaxed),
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
    /// Lines refused: because the queue was full ([`Backpressure::Drop`]
    /// only), or because the appender was closing or closed
    /// ([`SendError::Closed`]). A refused line was never accepted: its
    /// `write_line` returned an error.
    ///
    /// [`Backpressure::Drop`]: super::Backpressure::Drop
    /// [`SendError::Closed`]: super::SendError::Closed
    pub dropped: u64,
    /// Failed write, open, rotate or sync attempts. Each failed attempt is
    /// retried; this counts attempts, not lost lines.
    pub write_errors: u64,
    /// Files rotated (renamed aside and replaced by a fresh file).
    pub rotations: u64,
    /// Failures to compress or delete rotated files (reported on stderr;
    /// the file is left in place).
    pub maintenance_errors: u64,
    /// Lines accepted (their `write_line` returned `Ok`) that the writer
    /// gave up on because the shutdown timeout ran out while writing kept
    /// failing: the batch in its hands and everything still queued. Each
    /// shutdown that gives up says so on stderr. Once the guard is dropped,
    /// every accepted line is in `lines_written` or here (a line written
    /// into a file that then vanished, and not yet written again when the
    /// timeout ran out, is counted in both).
    pub abandoned: u64,
    /// Lines written a second time, into a new file, because the file they
    /// had been written to vanished (deleted, its directory removed, or
    /// renamed away) before the writer could see that it was still there.
    /// Not counted again in `lines_written`. Where the old file survives
    /// (renamed away), these lines are in both files, with the same
    /// `event_id`.
    pub rewritten: u64,
    /// Rotated files deleted by retention ([`max_files`] or [`max_age`]),
    /// each also named on stderr.
    ///
    /// [`max_files`]: super::AppenderBuilder::max_files
    /// [`max_age`]: super::AppenderBuilder::max_age
    pub files_removed: u64,
    /// Panics of the [`LineTransform`](super::LineTransform) caught by the
    /// writer (the first reported on stderr). A line whose transform
    /// panicked is written untransformed, as it came, and counted in
    /// `lines_written`: the writer goes on, and no line is lost.
    pub transform_panics: u64,
    /// Messages queued for the writer thread right now (0 once closed).
    pub queue_depth: usize,
}
