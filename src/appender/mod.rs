//! A lossless, channel-backed, rotating file appender for whole lines.
//!
//! Every file tracing-audit writes goes through an [`Appender`]: a cheap
//! handle (`Clone + Send + Sync`) that puts whole lines on a bounded queue,
//! and one named writer thread per file that drains the queue in batches
//! and writes each batch with as few `write` calls as it can. The appender
//! knows bytes and files only; it never looks inside a line.
//!
//! What it guarantees, and how it differs from `tracing-appender`:
//!
//! - **Nothing is lost by default.** A full queue makes the caller wait
//!   ([`Backpressure::Block`]). With [`Backpressure::Drop`] refused lines
//!   are counted and a summary line in the file says how many.
//! - **Errors are never swallowed.** A failed write, open or rotation is
//!   retried with backoff, counted in [`Stats::write_errors`] and reported
//!   on stderr once per burst. If the directory vanishes it is created
//!   again; if the file cannot grow (`EFBIG`) it is rotated.
//! - **Lines are never torn.** A line never spans two files or two
//!   batches' worth of a failed write; a torn last line left by a crash is
//!   terminated when the file is reopened.
//! - **Shutdown writes every accepted line, or counts it.** See
//!   [Shutdown](#shutdown).
//! - **A panicking [`LineTransform`] stops nothing.** The panic is caught
//!   on the writer thread, the line is written untransformed, as it came,
//!   and counted in [`Stats::transform_panics`] (the first reported on
//!   stderr); later lines go through the transform again.
//! - **Rotation by size and time**, by rename and create (never
//!   copy-truncate), with retention by count and age (every deletion
//!   counted in [`Stats::files_removed`] and named on stderr) and optional
//!   gzip. Settings that would destroy data (`max_file_size(0)`,
//!   `max_files(0)` unless asked for with
//!   [`discard_rotated_files`](AppenderBuilder::discard_rotated_files)) are
//!   refused by [`build`](AppenderBuilder::build) ([`ConfigError`]).
//!
//! - **A writer where one is expected.** [`Appender`] is an [`io::Write`]
//!   (each `write` call is one line) and a `tracing-subscriber`
//!   [`MakeWriter`](tracing_subscriber::fmt::MakeWriter) whose
//!   [`EventWriter`] queues each record whole, so any `fmt` layer can write
//!   through it: `fmt::layer().json().with_writer(appender.clone())`.
//!
//! # Shutdown
//!
//! Dropping the [`AppenderGuard`] begins closing: from then on
//! `write_line` refuses new lines with [`SendError::Closed`] (each counted
//! in [`Stats::dropped`]), while sends already under way finish. The
//! writer drains the queue until the last of those has ended, so every
//! line whose `write_line` returned `Ok` is received; it writes them,
//! fsyncs and stops, and the guard joins it.
//!
//! If writing keeps failing (a disk that stays full), the writer gives up
//! when [`shutdown_timeout`](AppenderBuilder::shutdown_timeout) (60 s)
//! runs out: the lines of the batch in its hands and every line still
//! queued are counted in [`Stats::abandoned`] and reported on stderr, so
//! that `lines_written + abandoned` is every accepted line (a line written
//! into a file that vanished and not yet written again is in both: see
//! [`Stats::abandoned`]). (A writer
//! stuck inside a system call that never returns is reported as such after
//! a further quarter of a second; its lines are then not counted.)
//!
//! Several appenders close in parallel, within one timeout rather than the
//! sum: [`shutdown_all`] for your own, and the guard of
//! `tracing_audit::builder()` for its four files.
//!
//! # What survives exit, abort and kill -9
//!
//! | how the process ends | lines written (`write`) | lines still queued | notes |
//! |---|---|---|---|
//! | guard dropped (end of `main`) | kept | written, then fsynced | within the shutdown timeout, or counted in [`Stats::abandoned`] |
//! | `std::process::exit` with [`drain_on_exit`](AppenderBuilder::drain_on_exit) (on through `tracing_audit::builder()`) | kept | written, then fsynced, by an `atexit` hook (Unix) | lines other threads send after the hook starts are refused and counted |
//! | `std::process::exit` without it | kept | **lost**: no destructor runs | call `flush()` or `sync()` first, or keep the hook on |
//! | a panic with [`flush_on_panic`](AppenderBuilder::flush_on_panic), then abort | kept | written by the panic hook (not fsynced) | lines sent after the hook ran are lost |
//! | `abort()`, `panic = "abort"` without the panic hook, a signal that kills (`kill -9`, SIGSEGV) | kept | **lost** | every line for which `flush()` or `sync()` returned is kept |
//! | the machine loses power | only what was fsynced | **lost** | [`Durability`] decides how often lines are fsynced |
//!
//! "Kept" means handed to the operating system with `write`: the data is
//! in the kernel's page cache and reaches the file even though the process
//! is gone. A line cut short by a kill in the middle of a `write` is
//! terminated with a newline when the file is next opened.
//!
//! # When the file or its directory vanishes
//!
//! The writer checks that the path still names the file it writes (device
//! and inode) at most every 100 ms while writing
//! ([`identity_check_interval`](AppenderBuilder::identity_check_interval)), and whenever 1 MiB has
//! been written since the last check; also before answering
//! [`sync`](Appender::sync) and at shutdown. It keeps the lines written
//! since the last check in memory. When the file has vanished (deleted,
//! its directory removed, renamed away by someone else), it opens a new
//! file at the path (creating the directories) and **writes those lines
//! again** before any new one: nothing written into a file nobody can
//! reach is lost. They are counted in [`Stats::rewritten`] and the event is
//! reported on stderr. When the old file survives elsewhere (renamed away),
//! these lines are in both files; records carry an `event_id` by which
//! consumers drop the duplicates. The same holds when a rotation finds the
//! file gone.
//!
//! A new file is made with `O_EXCL`, which never follows a symbolic link:
//! a link left at the path to a file that does not exist (planted by
//! whoever can write the directory, to make the process create a file
//! where it points) is refused, at build and when the file is opened
//! again, and the lines wait as for any failed open. A link to an existing
//! file (`/dev/stdout`, a file kept elsewhere on purpose) is followed.
//!
//! # When rotation fails
//!
//! When the live file cannot be renamed aside (a read-only directory, a
//! name too long), the failure is reported once and retried with backoff
//! (10 ms doubling to 5 s), not on every line. Meanwhile lines go on into
//! the live file up to twice [`max_file_size`](AppenderBuilder::max_file_size);
//! beyond that the writer waits for a rotation to succeed, and callers
//! block once the queue is full (or, with [`Backpressure::Drop`], their
//! lines are refused and counted). The live file never grows without
//! bound. Success after failures is reported too.
//!
//! ```no_run
//! use tracing_audit::appender::Appender;
//!
//! let (appender, guard) = Appender::builder("audit_logs/audit.log").build()?;
//! let writer = appender.clone();
//! std::thread::spawn(move || writer.write_line(b"{\"n\":1}\n")).join().unwrap()?;
//! appender.flush()?; // every line sent before this is now in the file
//! drop(guard);       // refuses new lines, drains, fsyncs, joins the writer
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod builder;
mod exit;
mod file;
mod lazy;
mod maintenance;
mod panic;
mod replay;
mod rotation;
mod shutdown;
mod stats;
mod transform;
mod transform_panic;
mod worker;
mod writer;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use crossbeam_channel::{
    bounded, Receiver, RecvTimeoutError, SendTimeoutError, Sender, TrySendError,
};

pub use builder::{AppenderBuilder, Backpressure, ConfigError, Durability, TimeRotation};
pub use shutdown::{shutdown_all, AppenderGuard};
pub use stats::Stats;
pub use transform::LineTransform;
pub use writer::EventWriter;

pub(crate) use lazy::LazyAppender;

use builder::Config;
#[cfg(feature = "cli")]
pub(crate) use file::identity;
use file::LiveFile;
#[cfg(feature = "read")]
pub(crate) use maintenance::archives_of;
#[cfg(feature = "cli")]
pub(crate) use maintenance::is_archive_name;
use maintenance::Maintenance;
use shutdown::Closing;
use stats::Counters;
use worker::{Msg, Worker};

/// A handle that sends whole lines to one file's writer thread.
///
/// Cheap to clone; every clone feeds the same queue. Made by
/// [`Appender::builder`].
#[derive(Clone)]
pub struct Appender {
    shared: Arc<Shared>,
}

pub(crate) struct Shared {
    /// The queue's only sender; `None` once closing has begun, so that new
    /// lines are refused while sends already under way finish. When the
    /// last of those ends, the channel disconnects and the writer knows it
    /// has every accepted line.
    tx: ArcSwapOption<Sender<Msg>>,
    /// Line buffers the writer is done with (up to 1,024 of at most 4 KiB),
    /// for `write_line` to reuse, so that the caller's thread rarely
    /// allocates.
    pool: Receiver<Vec<u8>>,
    counters: Arc<Counters>,
    backpressure: Backpressure,
    path: PathBuf,
    writer_thread: OnceLock<ThreadId>,
    /// The writer, to wake from its polling sleep when a flush, sync or
    /// shutdown is asked for.
    writer: OnceLock<std::thread::Thread>,
    closed_reported: AtomicBool,
    closing: Arc<Closing>,
    timeout: Duration,
    /// Disconnects when the writer and maintenance threads have ended.
    done: Receiver<()>,
}

impl fmt::Debug for Appender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Appender")
            .field("path", &self.shared.path)
            .field("backpressure", &self.shared.backpressure)
            .field("stats", &self.stats())
            .finish()
    }
}

/// Why a line was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// The queue was full and the appender is in [`Backpressure::Drop`]
    /// mode. The line is counted in [`Stats::dropped`] and reported in the
    /// file.
    QueueFull,
    /// The appender is closing or closed (its guard was dropped, or the
    /// exit hook ran). The line is counted in [`Stats::dropped`].
    Closed,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SendError::QueueFull => "appender queue full: line dropped",
            SendError::Closed => "appender closed: line not written",
        })
    }
}

impl std::error::Error for SendError {}

impl From<SendError> for io::Error {
    fn from(e: SendError) -> io::Error {
        let kind = match e {
            SendError::QueueFull => io::ErrorKind::WouldBlock,
            SendError::Closed => io::ErrorKind::BrokenPipe,
        };
        io::Error::new(kind, e)
    }
}

impl Appender {
    /// Starts configuring an appender for the file at `path`. See
    /// [`AppenderBuilder`] for the defaults.
    pub fn builder(path: impl AsRef<Path>) -> AppenderBuilder {
        AppenderBuilder::new(path)
    }

    /// Queues a copy of one line. A missing trailing `\n` is added; an
    /// empty slice writes nothing. The bytes are written as one unit, never
    /// split across files.
    ///
    /// # Errors
    ///
    /// [`SendError::QueueFull`] in drop mode when the queue is full;
    /// [`SendError::Closed`] once the guard has begun closing. A line for
    /// which this returns `Ok` is written, or, if a shutdown times out,
    /// counted in [`Stats::abandoned`].
    pub fn write_line(&self, line: &[u8]) -> Result<(), SendError> {
        if line.is_empty() {
            return Ok(());
        }
        let mut owned = self.shared.pool.try_recv().unwrap_or_default();
        owned.clear();
        owned.reserve(line.len() + 1);
        owned.extend_from_slice(line);
        self.send_line(owned)
    }

    /// Queues one line without copying it. A missing trailing `\n` is
    /// added; an empty vector writes nothing.
    ///
    /// # Errors
    ///
    /// As [`write_line`](Self::write_line).
    pub fn send_line(&self, mut line: Vec<u8>) -> Result<(), SendError> {
        if line.is_empty() {
            return Ok(());
        }
        if line.last() != Some(&b'\n') {
            line.push(b'\n');
        }
        let shared = &*self.shared;
        let tx = shared.tx.load();
        let result = match (&*tx, shared.backpressure) {
            (None, _) => Err(SendError::Closed),
            (Some(tx), Backpressure::Block) => {
                tx.send(Msg::Line(line)).map_err(|_| SendError::Closed)
            }
            (Some(tx), Backpressure::Drop) => tx.try_send(Msg::Line(line)).map_err(|e| match e {
                TrySendError::Full(_) => SendError::QueueFull,
                TrySendError::Disconnected(_) => SendError::Closed,
            }),
        };
        drop(tx);
        if let Err(e) = result {
            Counters::add(&shared.counters.dropped, 1);
            match e {
                SendError::QueueFull => Counters::add(&shared.counters.dropped_unreported, 1),
                SendError::Closed => shared.report_closed(),
            }
        }
        result
    }

    /// Returns once every line sent before this call (from any handle that
    /// sent it before) has been handed to the operating system.
    ///
    /// While writes keep failing this waits, as the writer retries; use
    /// [`flush_timeout`](Self::flush_timeout) to bound the wait.
    ///
    /// # Errors
    ///
    /// Fails if the writer thread has stopped.
    pub fn flush(&self) -> io::Result<()> {
        self.shared.flush_within(Duration::MAX)
    }

    /// As [`flush`](Self::flush), giving up with
    /// [`io::ErrorKind::TimedOut`] after `timeout`.
    ///
    /// # Errors
    ///
    /// Fails on timeout or if the writer thread has stopped.
    pub fn flush_timeout(&self, timeout: Duration) -> io::Result<()> {
        self.shared.flush_within(timeout)
    }

    /// As [`flush`](Self::flush), and then fsyncs the file.
    ///
    /// # Errors
    ///
    /// Fails if the writer thread has stopped or fsync failed.
    pub fn sync(&self) -> io::Result<()> {
        let (ack, done) = bounded(1);
        self.shared.send(Msg::Sync(ack), None)?;
        self.shared.wake();
        done.recv().map_err(|_| closed())?
    }

    /// A snapshot of this appender's counters.
    pub fn stats(&self) -> Stats {
        let depth = self.shared.tx.load().as_deref().map_or(0, Sender::len);
        self.shared.counters.snapshot(depth)
    }

    /// The live file's path.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }
}

impl Shared {
    fn flush_within(&self, timeout: Duration) -> io::Result<()> {
        let deadline = Instant::now().checked_add(timeout);
        let (ack, done) = bounded(1);
        let msg = Msg::Flush(ack);
        self.send(msg, deadline)?;
        self.wake();
        match deadline {
            None => done.recv().map_err(|_| closed()),
            Some(deadline) => done.recv_deadline(deadline).map_err(|e| match e {
                RecvTimeoutError::Timeout => timed_out(),
                RecvTimeoutError::Disconnected => closed(),
            }),
        }
    }

    /// Sends a control message, waiting for room up to `deadline`. The
    /// sender is held only while sending, not while the caller then waits
    /// for the answer.
    fn send(&self, msg: Msg, deadline: Option<Instant>) -> io::Result<()> {
        let tx = self.tx.load();
        let tx = tx.as_deref().ok_or_else(closed)?;
        match deadline {
            None => tx.send(msg).map_err(|_| closed()),
            Some(deadline) => tx.send_deadline(msg, deadline).map_err(|e| match e {
                SendTimeoutError::Timeout(_) => timed_out(),
                SendTimeoutError::Disconnected(_) => closed(),
            }),
        }
    }

    /// Wakes the writer if it is sleeping between two polls.
    fn wake(&self) {
        if let Some(writer) = self.writer.get() {
            writer.unpark();
        }
    }

    fn report_closed(&self) {
        if !self.closed_reported.swap(true, Relaxed) {
            report!(
                "tracing-audit: a line was sent to {} after it began closing; \
                 it was not written (counted in Stats::dropped)",
                self.path.display()
            );
        }
    }
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "appender closed")
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "appender flush timed out")
}

fn start(config: Config) -> io::Result<(Appender, AppenderGuard)> {
    let file = LiveFile::open(&config.path, config.file_mode)?;
    let (tx, rx) = bounded(config.capacity);
    let (jobs_tx, jobs_rx) = crossbeam_channel::unbounded();
    let (done_tx, done_rx) = bounded(0);
    let (pool_tx, pool_rx) = bounded(worker::POOL_SIZE);
    let counters = Arc::new(Counters::default());
    let closing = Arc::new(Closing::default());
    let name = config
        .path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());

    let maintenance = Maintenance::new(config.clone(), counters.clone(), jobs_rx, done_tx.clone());
    let maintenance = thread::Builder::new()
        .name(format!("audit-maint:{name}"))
        .spawn(move || maintenance.run())?;

    let shared = Arc::new(Shared {
        pool: pool_rx,
        tx: ArcSwapOption::from_pointee(tx),
        counters: counters.clone(),
        backpressure: config.backpressure,
        path: config.path.clone(),
        writer_thread: OnceLock::new(),
        writer: OnceLock::new(),
        closed_reported: AtomicBool::new(false),
        closing: closing.clone(),
        timeout: config.shutdown_timeout,
        done: done_rx,
    });
    let flush_on_panic = config.flush_on_panic;
    let drain_on_exit = config.drain_on_exit;
    let transform = match &config.transform {
        Some(make) => {
            let (last, healed) = file::last_lines(&file.file, file.len, file.healed)?;
            // The caller's code, on the caller's thread: a panic in it is
            // an error of `build`, not a panic of the caller.
            let started = crate::unwind::catch(|| {
                let mut transform = (make.0)();
                transform.on_open(last.as_deref(), healed.as_deref());
                transform
            });
            Some(started.map_err(|message| {
                io::Error::other(format!(
                    "the line transform panicked as it started: {message}"
                ))
            })?)
        }
        None => None,
    };
    let mut worker = Worker::new(config, rx, counters, file, jobs_tx, done_tx, closing);
    worker.recycle = Some(pool_tx);
    worker.transform = transform;
    let writer = thread::Builder::new()
        .name(format!("audit-write:{name}"))
        .spawn(move || worker.run())?;
    let _ = shared.writer_thread.set(writer.thread().id());
    let _ = shared.writer.set(writer.thread().clone());
    if flush_on_panic {
        panic::register(&shared);
    }
    if drain_on_exit {
        exit::register(&shared);
    }
    let guard = AppenderGuard {
        shared: shared.clone(),
        threads: vec![writer, maintenance],
        finished: false,
    };
    Ok((Appender { shared }, guard))
}
