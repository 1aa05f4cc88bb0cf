//! Configuration of an appender and the builder that starts it.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Appender, AppenderGuard};

/// What a caller experiences when the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backpressure {
    /// The caller waits until the writer thread makes room. Nothing is lost.
    #[default]
    Block,
    /// The line is refused and counted. When the queue has room again the
    /// writer puts one summary line in the file saying how many lines were
    /// dropped, so the gap is visible where the lines would have been.
    Drop,
}

/// Time-based rotation, aligned to UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeRotation {
    /// At the top of every hour (UTC).
    Hourly,
    /// At midnight UTC.
    Daily,
}

impl TimeRotation {
    pub(crate) fn period(self) -> Duration {
        match self {
            TimeRotation::Hourly => Duration::from_secs(3600),
            TimeRotation::Daily => Duration::from_secs(86_400),
        }
    }
}

/// When written lines are forced to stable storage with `fsync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Durability {
    /// Each batch is handed to the operating system with `write`; the OS
    /// decides when it reaches the disk. Survives a crash of the process,
    /// not of the machine. [`Appender::sync`] and dropping the guard still
    /// fsync.
    #[default]
    Write,
    /// Every batch is written and then fsynced before the next one starts.
    SyncEachBatch,
    /// Batches are written at once and fsynced at most this often.
    SyncEvery(Duration),
}

/// Everything the writer thread needs to know, fixed at build time.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) path: PathBuf,
    pub(crate) capacity: usize,
    pub(crate) backpressure: Backpressure,
    pub(crate) max_file_size: Option<u64>,
    pub(crate) time_rotation: Option<TimeRotation>,
    pub(crate) max_files: Option<usize>,
    /// `max_files(0)` was asked for explicitly ([`AppenderBuilder::discard_rotated_files`]).
    pub(crate) discard_rotated: bool,
    pub(crate) max_age: Option<Duration>,
    pub(crate) compress: bool,
    pub(crate) compress_after: Duration,
    pub(crate) durability: Durability,
    pub(crate) file_mode: u32,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) flush_on_panic: bool,
    pub(crate) drain_on_exit: bool,
    pub(crate) batch_bytes: usize,
    /// How long written lines may stay unverified (`None`: no limit).
    pub(crate) identity_check_every: Option<Duration>,
    /// The clock that interval is measured with.
    pub(crate) identity_clock: fn() -> std::time::Instant,
    /// Run on every line on the writer thread ([`AppenderBuilder::line_transform`]).
    pub(crate) transform: Option<super::transform::TransformMaker>,
    /// The `service_name` of the line that reports dropped lines (set by
    /// the crate's builder; none for an appender of your own).
    pub(crate) service_name: Option<String>,
}

/// A setting that would destroy data, refused by
/// [`AppenderBuilder::build`] (as an [`io::Error`] of kind
/// [`InvalidInput`](io::ErrorKind::InvalidInput) whose
/// [`get_ref`](io::Error::get_ref) downcasts to this type) and by
/// `tracing_audit::builder()` (as [`Error::Config`](crate::Error::Config)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// `max_file_size(0)`: every line would get a file of its own, and
    /// retention would delete all but the newest few lines. Use `None` to
    /// turn size rotation off.
    ZeroMaxFileSize,
    /// `max_files(0)`: every rotated file would be deleted as soon as it is
    /// made. Use `None` to keep them all, or
    /// [`discard_rotated_files`](AppenderBuilder::discard_rotated_files) if
    /// that is really what you want.
    ZeroMaxFiles,
    /// `max_age` under one second: every rotated file would be deleted as
    /// soon as it is made, as with `max_files(0)`. Use
    /// [`discard_rotated_files`](AppenderBuilder::discard_rotated_files) if
    /// that is really what you want.
    MaxAgeTooShort,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConfigError::ZeroMaxFileSize => {
                "max_file_size(0) would put every line in a file of its own and let \
                 retention delete them; use max_file_size(None) to turn size rotation off"
            }
            ConfigError::ZeroMaxFiles => {
                "max_files(0) would delete every rotated file as soon as it is made; use \
                 max_files(None) to keep them all, or discard_rotated_files() to ask for it \
                 explicitly"
            }
            ConfigError::MaxAgeTooShort => {
                "a max_age under one second would delete every rotated file as soon as it is \
                 made; use a longer age, max_age(None), or discard_rotated_files() to ask for it \
                 explicitly"
            }
        })
    }
}

impl std::error::Error for ConfigError {}

impl From<ConfigError> for io::Error {
    fn from(e: ConfigError) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidInput, e)
    }
}

impl Config {
    /// Refuses settings that would destroy data.
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        if self.max_file_size == Some(0) {
            return Err(ConfigError::ZeroMaxFileSize);
        }
        if self.max_files == Some(0) && !self.discard_rotated {
            return Err(ConfigError::ZeroMaxFiles);
        }
        if self
            .max_age
            .is_some_and(|age| age < Duration::from_secs(1) && !self.discard_rotated)
        {
            return Err(ConfigError::MaxAgeTooShort);
        }
        Ok(())
    }
}

/// Builds an [`Appender`] for one file.
///
/// Created by [`Appender::builder`]. Every setting has a default chosen for
/// an audit trail: nothing is dropped, files rotate before they grow large,
/// and errors are retried and reported rather than swallowed.
///
/// | setting | default | method |
/// |---|---|---|
/// | queue capacity | 65,536 lines (1 to 1,048,576) | [`capacity`](Self::capacity) |
/// | when the queue is full | [`Backpressure::Block`] (nothing lost) | [`backpressure`](Self::backpressure) |
/// | rotation by size | 10 MiB (`0` is refused) | [`max_file_size`](Self::max_file_size) |
/// | rotation by time | none | [`rotate_every`](Self::rotate_every) |
/// | rotated files kept | 5 (`0` is refused unless [`discard_rotated_files`](Self::discard_rotated_files)) | [`max_files`](Self::max_files) |
/// | rotated files' maximum age | none | [`max_age`](Self::max_age) |
/// | gzip rotated files | no (feature `gzip`) | `compress` |
/// | gzip only rotated files older than | 5 minutes | `compress_after` |
/// | durability | write per batch, fsync on `sync()` and on shutdown | [`durability`](Self::durability) |
/// | file mode (Unix) | `0o640` | [`file_mode`](Self::file_mode) |
/// | shutdown drain timeout | 60 s | [`shutdown_timeout`](Self::shutdown_timeout) |
/// | flush from a panic hook | no | [`flush_on_panic`](Self::flush_on_panic) |
/// | drain and fsync from an exit hook (`std::process::exit`) | no (yes through `tracing_audit::builder()`) | [`drain_on_exit`](Self::drain_on_exit) |
/// | largest single write | 256 KiB (4 KiB to 64 MiB) | [`batch_bytes`](Self::batch_bytes) |
/// | identity check of the path while writing | every 100 ms (and every 1 MiB) | [`identity_check_interval`](Self::identity_check_interval) |
///
/// Rotated files are named `<file>.<UTC time>Z`, for example
/// `audit.log.20261122T100000.123456Z` (`.gz` added when compressed;
/// a microsecond after the newest rotated file's name, also one left by an
/// earlier run, if the clock is behind it): the names sort by time and the live file's glob `*.log` does not match them,
/// so a file shipper never reads a file twice.
///
/// # Example
///
/// ```no_run
/// use std::time::Duration;
/// use tracing_audit::appender::{Appender, Backpressure, TimeRotation};
///
/// let (appender, _guard) = Appender::builder("audit_logs/audit.log")
///     .max_file_size(50 * 1024 * 1024)
///     .rotate_every(TimeRotation::Daily)
///     .max_files(30)
///     .max_age(Duration::from_secs(90 * 86_400))
///     .backpressure(Backpressure::Block)
///     .build()?;
/// appender.write_line(b"{\"message\":\"hello\"}\n")?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "an AppenderBuilder does nothing until .build() is called"]
pub struct AppenderBuilder {
    config: Config,
}

impl AppenderBuilder {
    /// The largest [`capacity`](Self::capacity): 1,048,576 lines (16 times
    /// the default); a larger number is taken as this one.
    pub const MAX_CAPACITY: usize = 1 << 20;

    /// The largest [`batch_bytes`](Self::batch_bytes): 64 MiB; a larger
    /// number is taken as this one.
    pub const MAX_BATCH_BYTES: usize = 64 << 20;

    pub(crate) fn new(path: impl AsRef<Path>) -> Self {
        AppenderBuilder {
            config: Config {
                path: path.as_ref().to_path_buf(),
                capacity: 65_536,
                backpressure: Backpressure::Block,
                max_file_size: Some(10 * 1024 * 1024),
                time_rotation: None,
                max_files: Some(5),
                discard_rotated: false,
                max_age: None,
                compress: false,
                compress_after: Duration::from_secs(300),
                durability: Durability::Write,
                file_mode: 0o640,
                shutdown_timeout: Duration::from_secs(60),
                flush_on_panic: false,
                drain_on_exit: false,
                batch_bytes: 256 * 1024,
                identity_check_every: Some(super::replay::CHECK_EVERY),
                identity_clock: std::time::Instant::now,
                transform: None,
                service_name: None,
            },
        }
    }

    /// How many lines may wait for the writer thread (at least 1, at most
    /// [`MAX_CAPACITY`](Self::MAX_CAPACITY): the queue's slots are made at
    /// build time, so a larger number would only exhaust memory).
    pub fn capacity(mut self, lines: usize) -> Self {
        self.config.capacity = lines.clamp(1, Self::MAX_CAPACITY);
        self
    }

    /// What happens to a caller when the queue is full.
    pub fn backpressure(mut self, backpressure: Backpressure) -> Self {
        self.config.backpressure = backpressure;
        self
    }

    /// Rotate the file before a line would take it past `bytes`; `None`
    /// turns size rotation off. A line is never split: a file holds at most
    /// `bytes`, or one line if that line alone is longer. While renaming
    /// the file aside fails, the live file may grow to twice `bytes`;
    /// then the writer waits for a rotation to succeed (see the
    /// [module docs](super#when-rotation-fails)).
    ///
    /// `0` makes [`build`](Self::build) fail with
    /// [`ConfigError::ZeroMaxFileSize`]. Any other size is taken as it is,
    /// in bytes: one smaller than your lines (`1`, or `10` meant as MiB)
    /// gives every line a file of its own, and with
    /// [`max_files(n)`](Self::max_files) only the newest `n` of them are
    /// kept; write sizes as `50 * 1024 * 1024`.
    pub fn max_file_size(mut self, bytes: impl Into<Option<u64>>) -> Self {
        self.config.max_file_size = bytes.into();
        self
    }

    /// Also rotate at every UTC hour or day boundary.
    pub fn rotate_every(mut self, rotation: impl Into<Option<TimeRotation>>) -> Self {
        self.config.time_rotation = rotation.into();
        self
    }

    /// Keep at most this many rotated files (the live file is not counted);
    /// `None` keeps them all. Every deletion is counted in
    /// [`Stats::files_removed`](super::Stats::files_removed) and named on
    /// stderr.
    ///
    /// `0` makes [`build`](Self::build) fail with
    /// [`ConfigError::ZeroMaxFiles`], unless
    /// [`discard_rotated_files`](Self::discard_rotated_files) asks for it.
    pub fn max_files(mut self, files: impl Into<Option<usize>>) -> Self {
        self.config.max_files = files.into();
        self
    }

    /// Keep no rotated file at all: each is deleted as soon as it is
    /// rotated out (`max_files(0)`, asked for explicitly). Only the live
    /// file survives; what rotation moves out is lost on purpose.
    pub fn discard_rotated_files(mut self) -> Self {
        self.config.max_files = Some(0);
        self.config.discard_rotated = true;
        self
    }

    /// Delete rotated files whose last modification is older than this.
    ///
    /// Under one second makes [`build`](Self::build) fail with
    /// [`ConfigError::MaxAgeTooShort`] (every rotated file would be deleted
    /// as soon as it is made), unless
    /// [`discard_rotated_files`](Self::discard_rotated_files) asks for it.
    pub fn max_age(mut self, age: impl Into<Option<Duration>>) -> Self {
        self.config.max_age = age.into();
        self
    }

    /// Gzip rotated files in a background thread, off the writer's path.
    /// The compressed file is written under a temporary name and renamed to
    /// `<rotated name>.gz` when complete. A rotated name that is a symbolic
    /// link is never compressed (reported, left as it is).
    #[cfg(feature = "gzip")]
    #[cfg_attr(docsrs, doc(cfg(feature = "gzip")))]
    pub fn compress(mut self, compress: bool) -> Self {
        self.config.compress = compress;
        self
    }

    /// How old (since its last write) a rotated file must be before it is
    /// compressed: 5 minutes by default. Until then it stays plain under
    /// its rotated name, so a file shipper that lags behind the writer
    /// (Vector reading the rotated names too, see the
    /// [shipping guide](crate::shipping)) can finish it; a `.gz` file is
    /// never shipped. Files still waiting at shutdown are compressed by
    /// the next run once old enough. `Duration::ZERO` compresses at once.
    #[cfg(feature = "gzip")]
    #[cfg_attr(docsrs, doc(cfg(feature = "gzip")))]
    pub fn compress_after(mut self, age: Duration) -> Self {
        self.config.compress_after = age;
        self
    }

    /// When lines are forced to stable storage.
    pub fn durability(mut self, durability: Durability) -> Self {
        self.config.durability = durability;
        self
    }

    /// Permission bits for files the appender creates: the live file and
    /// the compressed rotated files (a rotated plain file is the live file
    /// renamed, and keeps them). Unix; the process umask still applies.
    /// Ignored elsewhere.
    pub fn file_mode(mut self, mode: u32) -> Self {
        self.config.file_mode = mode;
        self
    }

    /// How long dropping the guard (or the exit hook) may wait for the
    /// queue to drain. When it runs out the writer gives up: the lines it
    /// could not write are counted in
    /// [`Stats::abandoned`](super::Stats::abandoned) and reported on
    /// stderr. Several appenders closed together (the guard of
    /// `tracing_audit::builder()`, [`shutdown_all`](super::shutdown_all))
    /// drain in parallel, each within its own timeout.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.config.shutdown_timeout = timeout;
        self
    }

    /// Flush this appender from a panic hook, before the previously
    /// installed hook runs, so the lines that explain a panic reach the
    /// file even if the process then aborts.
    pub fn flush_on_panic(mut self, enabled: bool) -> Self {
        self.config.flush_on_panic = enabled;
        self
    }

    /// Drain the queue and fsync the file from an exit hook (`atexit`,
    /// Unix only) when the process ends with `std::process::exit` (or by
    /// returning from `main`) while the guard is still alive. Lines sent
    /// from other threads after the hook starts are refused
    /// ([`SendError::Closed`](super::SendError::Closed), counted). The hook
    /// does nothing in a child made by `fork` (it has no writer thread). See the
    /// [module docs](super#what-survives-exit-abort-and-kill--9).
    pub fn drain_on_exit(mut self, enabled: bool) -> Self {
        self.config.drain_on_exit = enabled;
        self
    }

    /// The most bytes the writer gathers into one `write` call (at least
    /// 4 KiB, at most [`MAX_BATCH_BYTES`](Self::MAX_BATCH_BYTES): the batch
    /// buffer is made at build time).
    pub fn batch_bytes(mut self, bytes: usize) -> Self {
        self.config.batch_bytes = bytes.clamp(4096, Self::MAX_BATCH_BYTES);
        self
    }

    /// How often, at most, the writer checks that the path still names the
    /// file it writes (device and inode) while lines are being written
    /// (default 100 ms; `None`: not by time). Whatever this says, the
    /// check is also made once 1 MiB was written since the last one,
    /// before [`Appender::sync`] answers, and at shutdown; the lines
    /// written since the last check are kept in memory and written again
    /// into a new file if the old one vanished (see the
    /// [module docs](super#when-the-file-or-its-directory-vanishes)).
    /// A shorter interval finds a vanished file sooner and keeps fewer
    /// lines in memory, at the cost of a `stat` per interval.
    pub fn identity_check_interval(mut self, every: impl Into<Option<Duration>>) -> Self {
        self.config.identity_check_every = every.into();
        self
    }

    /// Tests only: the clock the
    /// [`identity_check_interval`](Self::identity_check_interval) is
    /// measured with, instead of `Instant::now`, so that a test decides
    /// when a check is due instead of sleeping past it. The writer still
    /// waits in real time; a clock that stands still makes no check due.
    #[doc(hidden)]
    pub fn identity_check_clock(mut self, clock: fn() -> std::time::Instant) -> Self {
        self.config.identity_clock = clock;
        self
    }

    /// Runs a [`LineTransform`](super::LineTransform) on every line, on the
    /// writer thread, in file order. `make` is called each time the writer
    /// starts (once for a built appender) to make the transform's state.
    pub fn line_transform(
        mut self,
        make: impl Fn() -> Box<dyn super::LineTransform> + Send + Sync + 'static,
    ) -> Self {
        self.config.transform = Some(super::transform::TransformMaker(std::sync::Arc::new(make)));
        self
    }

    /// Creates missing directories, opens the file (healing a torn last
    /// line) and starts the writer thread.
    ///
    /// # Errors
    ///
    /// Fails with [`io::ErrorKind::InvalidInput`] (wrapping a
    /// [`ConfigError`]) for a setting that would destroy data, and if the
    /// directory cannot be created, the file cannot be opened, or the
    /// thread cannot be spawned. Errors after this point are retried and
    /// reported through [`Stats`](super::Stats) and stderr instead.
    pub fn build(self) -> io::Result<(Appender, AppenderGuard)> {
        self.config.check()?;
        super::start(self.config)
    }

    /// What [`build`](Self::build) would refuse before starting, checked
    /// without starting anything or creating the file: the settings, the
    /// directories (created if missing), and that the file can be opened
    /// for appending (an existing one opened, else the directory checked
    /// for writing).
    pub(crate) fn check(&self) -> io::Result<()> {
        self.config.check()?;
        super::file::check_can_open(&self.config.path)
    }

    /// The file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.config.path
    }

    /// The `service_name` written in the line that reports dropped lines.
    pub(crate) fn service_name(mut self, service: &str) -> Self {
        self.config.service_name = Some(service.to_owned());
        self
    }

    /// Whether callers wait rather than lose a line ([`Backpressure::Block`]).
    pub(crate) fn blocks(&self) -> bool {
        self.config.backpressure == Backpressure::Block
    }

    /// Whether [`drain_on_exit`](Self::drain_on_exit) is on.
    pub(crate) fn drains_on_exit(&self) -> bool {
        self.config.drain_on_exit
    }

    #[cfg(test)]
    pub(crate) fn into_config(self) -> Config {
        self.config
    }
}
