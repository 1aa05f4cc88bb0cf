//! Closing an appender: new lines are refused, every line already accepted
//! is written (or, once the timeout runs out, counted), the file is
//! fsynced; several appenders close in parallel.

use std::fmt;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::TryRecvError;

use super::Shared;

/// How long, past its deadline, a writer that gave up may take to count
/// what it held and stop.
const GRACE: Duration = Duration::from_millis(250);
/// How often a closing appender's threads are checked for having ended.
const POLL: Duration = Duration::from_millis(1);

/// Whether closing has begun, and until when the writer may keep trying.
/// Shared by the handles, the guard, the exit hook and the writer thread.
#[derive(Debug, Default)]
pub(crate) struct Closing {
    /// Set once, when closing begins: the deadline, or `None` for a
    /// timeout too large to add to the clock (wait for ever).
    deadline: OnceLock<Option<Instant>>,
}

impl Closing {
    /// Begins closing (once; later calls return the first deadline).
    pub(crate) fn begin(&self, timeout: Duration) -> Option<Instant> {
        *self
            .deadline
            .get_or_init(|| Instant::now().checked_add(timeout))
    }

    /// True once closing has begun and its deadline has passed.
    pub(crate) fn expired(&self) -> bool {
        matches!(self.deadline.get(), Some(Some(at)) if Instant::now() >= *at)
    }

    /// How long `wanted` may last without overrunning the deadline.
    pub(crate) fn cap(&self, wanted: Duration) -> Duration {
        match self.deadline.get() {
            Some(Some(at)) => wanted.min(at.saturating_duration_since(Instant::now())),
            _ => wanted,
        }
    }
}

impl Shared {
    /// Refuses new lines from now on (sends already under way finish),
    /// starts the deadline and wakes the writer, which drains the queue
    /// until the last sender is gone, writes, fsyncs and stops.
    pub(crate) fn begin_close(&self) -> Option<Instant> {
        let deadline = self.closing.begin(self.timeout);
        self.tx.store(None);
        self.wake();
        deadline
    }

    /// Waits for the writer and maintenance threads to end, up to a short
    /// grace past `deadline`; true if they did. Polls rather than blocks,
    /// so that it also works from an exit hook, after the calling thread's
    /// thread-local storage is gone.
    pub(crate) fn wait_closed(&self, deadline: Option<Instant>) -> bool {
        let limit = deadline.and_then(|d| d.checked_add(GRACE));
        loop {
            if let Err(TryRecvError::Disconnected) = self.done.try_recv() {
                return true;
            }
            if limit.is_some_and(|limit| Instant::now() >= limit) {
                return false;
            }
            std::thread::sleep(POLL);
        }
    }

    /// Says on stderr what a close could not write, if anything.
    pub(crate) fn report_close(&self, finished: bool) {
        let abandoned = self.counters.abandoned.load(Relaxed);
        if !finished {
            report!(
                "tracing-audit: the writer of {} did not stop within its shutdown timeout of \
                 {:?}; lines it still held or had queued are not written and not counted",
                self.path.display(),
                self.timeout
            );
        } else if abandoned > 0 {
            report!(
                "tracing-audit: gave up writing {} when its shutdown timeout of {:?} ran out: \
                 {abandoned} accepted line(s) not written (counted in Stats::abandoned)",
                self.path.display(),
                self.timeout
            );
        }
    }
}

/// Closes the appender when dropped: refuses new lines, writes every line
/// accepted before, fsyncs and joins the writer thread, waiting up to
/// [`shutdown_timeout`](super::AppenderBuilder::shutdown_timeout).
///
/// Keep it alive for as long as lines are written (typically bound in
/// `main` as `let _guard = ...`; not `let _ = ...`, which drops it at once).
/// To close several appenders in parallel, use [`shutdown_all`].
#[must_use = "dropping the guard stops the writer thread at once"]
pub struct AppenderGuard {
    pub(crate) shared: Arc<Shared>,
    pub(crate) threads: Vec<JoinHandle<()>>,
    pub(crate) finished: bool,
}

impl fmt::Debug for AppenderGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppenderGuard")
            .field("path", &self.shared.path)
            .field("timeout", &self.shared.timeout)
            .finish()
    }
}

impl AppenderGuard {
    fn finish(&mut self, deadline: Option<Instant>) {
        if std::mem::replace(&mut self.finished, true) {
            return;
        }
        let finished = self.shared.wait_closed(deadline);
        if finished {
            for thread in self.threads.drain(..) {
                let _ = thread.join();
            }
        }
        self.shared.report_close(finished);
    }
}

impl Drop for AppenderGuard {
    fn drop(&mut self) {
        let deadline = self.shared.begin_close();
        self.finish(deadline);
    }
}

/// Closes several appenders at once: all of them start draining together,
/// so the whole takes as long as the slowest, at most the longest
/// [`shutdown_timeout`](super::AppenderBuilder::shutdown_timeout) (plus a
/// quarter of a second to count what a writer that gave up still held),
/// not the sum. Dropping the guards one after the other would wait for
/// each in turn.
pub fn shutdown_all(guards: impl IntoIterator<Item = AppenderGuard>) {
    let mut guards: Vec<AppenderGuard> = guards.into_iter().collect();
    let deadlines: Vec<Option<Instant>> = guards.iter().map(|g| g.shared.begin_close()).collect();
    for (guard, deadline) in guards.iter_mut().zip(deadlines) {
        guard.finish(deadline);
    }
}
