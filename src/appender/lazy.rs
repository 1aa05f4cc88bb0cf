//! An appender whose file and threads start with its first line, so that a
//! kind of record nobody writes costs no thread and leaves no empty file.
//! Its settings and directory are checked when it is made, so a mistake is
//! still reported at startup.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use super::{Appender, AppenderBuilder, AppenderGuard, Stats};

/// A handle to an appender that starts at the first line (cheap to clone;
/// every clone shares the one appender).
#[derive(Clone)]
pub(crate) struct LazyAppender {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    /// Set once, when the appender starts; read without a lock by every
    /// later line.
    running: OnceLock<Appender>,
    state: Mutex<State>,
}

enum State {
    /// Not started: the settings to start with.
    Waiting(AppenderBuilder),
    /// Started: the guard that closes it.
    Running(AppenderGuard),
    /// Closed (or the guard taken) before or after starting: lines are
    /// refused.
    Closed,
}

impl LazyAppender {
    /// Checks the settings and that the file could be opened (creating
    /// missing directories, not the file), without starting anything.
    pub(crate) fn new(builder: AppenderBuilder) -> io::Result<LazyAppender> {
        builder.check()?;
        Ok(LazyAppender {
            inner: Arc::new(Inner {
                path: builder.path().to_path_buf(),
                running: OnceLock::new(),
                state: Mutex::new(State::Waiting(builder)),
            }),
        })
    }

    /// The live file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Queues one line, starting the appender first if this is its first.
    ///
    /// A start that fails (the directory replaced by a file, no inode or
    /// file descriptor left) is retried with backoff while the caller
    /// waits, as a running writer retries its writes while callers wait for
    /// room ([`Backpressure::Block`](super::Backpressure::Block)), so the
    /// line is not lost; it is reported on stderr once. With
    /// [`Backpressure::Drop`](super::Backpressure::Drop) the caller never
    /// waits: the failure is the line's error and the next line tries
    /// again. A close while waiting ends the wait with its error.
    pub(crate) fn write_line(&self, line: &[u8]) -> io::Result<()> {
        let appender = match self.inner.running.get() {
            Some(appender) => appender,
            None => self.start_retrying()?,
        };
        appender.write_line(line).map_err(io::Error::from)
    }

    fn start_retrying(&self) -> io::Result<&Appender> {
        let mut backoff = Duration::from_millis(1);
        let mut reported = false;
        loop {
            let error = match self.start() {
                Ok(appender) => return Ok(appender),
                Err(e) => e,
            };
            let waits = match &*self.lock() {
                State::Waiting(builder) => {
                    builder.blocks() && !(builder.drains_on_exit() && super::exit::exiting())
                }
                State::Running(_) | State::Closed => false,
            };
            if !waits {
                return Err(error);
            }
            if !reported {
                reported = true;
                report!(
                    "tracing-audit: cannot start writing {}: {error}; retrying with \
                     backoff while the record waits",
                    self.inner.path.display()
                );
            }
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(Duration::from_secs(1));
        }
    }

    fn start(&self) -> io::Result<&Appender> {
        let mut state = self.lock();
        // Another thread may have started it while this one waited.
        if let Some(appender) = self.inner.running.get() {
            return Ok(appender);
        }
        let builder = match &*state {
            State::Waiting(builder) if !(builder.drains_on_exit() && super::exit::exiting()) => {
                builder.clone()
            }
            _ => return Err(super::closed()),
        };
        let (appender, guard) = builder.build()?;
        *state = State::Running(guard);
        Ok(self.inner.running.get_or_init(|| appender))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The running appender, if a line has started it.
    pub(crate) fn running(&self) -> Option<&Appender> {
        self.inner.running.get()
    }

    /// Its counters: all zero while it has not started.
    pub(crate) fn stats(&self) -> Stats {
        self.running().map_or_else(Stats::default, Appender::stats)
    }

    /// As [`Appender::flush`]; nothing to do before the first line.
    pub(crate) fn flush(&self) -> io::Result<()> {
        self.running().map_or(Ok(()), Appender::flush)
    }

    /// As [`Appender::sync`]; nothing to do before the first line.
    pub(crate) fn sync(&self) -> io::Result<()> {
        self.running().map_or(Ok(()), Appender::sync)
    }

    /// Refuses every later start and returns the guard that closes the
    /// appender, if it started.
    pub(crate) fn take_guard(&self) -> Option<AppenderGuard> {
        match std::mem::replace(&mut *self.lock(), State::Closed) {
            State::Running(guard) => Some(guard),
            State::Waiting(_) | State::Closed => None,
        }
    }
}
