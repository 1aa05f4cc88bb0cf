//! A line transform: something the writer thread runs on every line just
//! before it joins the batch, in file order. The appender stays a writer
//! of bytes; what a transform adds to a line is its own business (the
//! hash chain of the `chain` feature is one).

use std::fmt;
use std::sync::Arc;

/// Rewrites each line on the writer thread, in the order lines reach the
/// file, and hears about the file's life: its opening, its rotations, the
/// moment batches are written, the writer's end.
///
/// Every method runs on the writer thread and should be cheap: the callers
/// of `write_line` wait for it once the queue is full.
///
/// Lines written again into a new file after the old one vanished (see
/// [When the file or its directory vanishes](super#when-the-file-or-its-directory-vanishes))
/// are written as they were transformed the first time, not transformed
/// again.
pub trait LineTransform: Send + 'static {
    /// The writer opened the live file at start. `last_line` is its last
    /// complete line (without `\n`; `None` for an empty or new file).
    /// `healed` is the torn last line a crash left, which the writer has
    /// just terminated with `\n` (without it); `last_line` is then the
    /// line before it.
    fn on_open(&mut self, last_line: Option<&[u8]>, healed: Option<&[u8]>);

    /// The live file was renamed to `rotated` (a file name, without the
    /// directory); the next line goes into a fresh file.
    fn on_rotate(&mut self, rotated: &str);

    /// Appends `line` (which ends in `\n`), transformed, to `out` as whole
    /// lines each ending in `\n`, and returns how many lines it appended
    /// (at least one: a line is never dropped).
    fn transform(&mut self, line: &[u8], out: &mut Vec<u8>) -> u64;

    /// Every line transformed so far has been handed to the operating
    /// system (written into the file) and, when the appender is configured
    /// to sync ([`Durability`](super::Durability) other than `Write`),
    /// fsynced: with a sync configured this comes after the fsync, not
    /// after each write.
    fn on_written(&mut self) {}

    /// The writer is stopping, after its last write and fsync.
    fn on_close(&mut self) {}
}

/// Makes the transform of one appender each time it starts.
pub(crate) type MakeTransform = Arc<dyn Fn() -> Box<dyn LineTransform> + Send + Sync>;

/// [`MakeTransform`] in a [`Config`](super::builder::Config), which is
/// `Debug`.
#[derive(Clone)]
pub(crate) struct TransformMaker(pub(crate) MakeTransform);

impl fmt::Debug for TransformMaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LineTransform")
    }
}
