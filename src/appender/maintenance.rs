//! Work on rotated files that must stay off the writer's path: gzip and
//! retention. One thread per appender, fed by the writer after each
//! rotation.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use super::builder::Config;
use super::file::archive_prefix;
use super::stats::Counters;

/// Work for the maintenance thread.
#[derive(Debug)]
pub(crate) enum Job {
    /// The live file was renamed to this path.
    Rotated(PathBuf),
}

pub(crate) struct Maintenance {
    config: Config,
    counters: Arc<Counters>,
    jobs: Receiver<Job>,
    _done: Sender<()>,
}

impl Maintenance {
    pub(crate) fn new(
        config: Config,
        counters: Arc<Counters>,
        jobs: Receiver<Job>,
        done: Sender<()>,
    ) -> Maintenance {
        Maintenance {
            config,
            counters,
            jobs,
            _done: done,
        }
    }

    pub(crate) fn run(self) {
        // Rotated files waiting to be compressed, with the time each is due
        // (`None`: later than an `Instant` can say, so never).
        let mut waiting: Vec<(Option<Instant>, PathBuf)> = Vec::new();
        // Files left by an earlier run: half-written .gz files, rotated
        // files not yet compressed, and whatever retention now removes.
        for archive in self.archives() {
            if archive.extension() == Some(OsStr::new("tmp")) {
                let _ = fs::remove_file(&archive);
            } else if self.config.compress && archive.extension() != Some(OsStr::new("gz")) {
                waiting.push((self.due(&archive), archive));
            }
        }
        self.compress_due(&mut waiting);
        self.retain();
        loop {
            let job = match waiting.iter().filter_map(|(due, _)| *due).min() {
                Some(due) => self.jobs.recv_deadline(due),
                None => self.jobs.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match job {
                Ok(Job::Rotated(archive)) => {
                    if self.config.compress {
                        waiting.push((self.due(&archive), archive));
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                // Shutdown: files not yet due stay plain; the next run
                // compresses them once they are old enough.
                Err(RecvTimeoutError::Disconnected) => break,
            }
            self.compress_due(&mut waiting);
            self.retain();
        }
    }

    /// When a rotated file may be compressed: once its last modification
    /// is [`compress_after`](super::AppenderBuilder::compress_after) old,
    /// so that a shipper lagging behind the writer can still read the
    /// plain file under its rotated name.
    fn due(&self, archive: &Path) -> Option<Instant> {
        let age = fs::metadata(archive)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| SystemTime::now().duration_since(modified).ok())
            .unwrap_or(Duration::ZERO);
        Instant::now().checked_add(self.config.compress_after.saturating_sub(age))
    }

    /// Compresses the waiting files that are due and still there
    /// (retention may have removed one first).
    fn compress_due(&self, waiting: &mut Vec<(Option<Instant>, PathBuf)>) {
        let now = Instant::now();
        waiting.retain(|(due, archive)| {
            if due.is_none_or(|due| due > now) {
                return true;
            }
            if archive.exists() {
                self.compress(archive);
            }
            false
        });
    }

    /// Every rotated file of this appender (see [`archives_of`]).
    fn archives(&self) -> Vec<PathBuf> {
        archives_of(&self.config.path).unwrap_or_default()
    }

    /// Applies the count and age limits, newest files kept.
    fn retain(&self) {
        let mut archives: Vec<PathBuf> = self
            .archives()
            .into_iter()
            .filter(|p| p.extension() != Some(OsStr::new("tmp")))
            .collect();
        archives.reverse(); // newest first: names sort by time
        let now = SystemTime::now();
        for (i, archive) in archives.iter().enumerate() {
            let over_count = self.config.max_files.is_some_and(|max| i >= max);
            let too_old = self.config.max_age.is_some_and(|max_age| {
                fs::metadata(archive)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|modified| now.duration_since(modified).ok())
                    .is_some_and(|age| age > max_age)
            });
            if over_count || too_old {
                match fs::remove_file(archive) {
                    Ok(()) => {
                        Counters::add(&self.counters.files_removed, 1);
                        let why = match (over_count, self.config.max_files) {
                            (true, Some(max)) => format!("more than max_files({max})"),
                            _ => "older than max_age".to_string(),
                        };
                        report!(
                            "tracing-audit: retention removed rotated file {} ({why})",
                            archive.display()
                        );
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => self.report(archive, "remove", &e),
                }
            }
        }
    }

    #[cfg(feature = "gzip")]
    fn compress(&self, archive: &Path) {
        let gz = super::file::gz_of(archive);
        let mut tmp = gz.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let result = (|| -> io::Result<()> {
            let mut input = open_no_follow(archive)?;
            // Created with the appender's mode, which the rename keeps: a
            // compressed archive is no more readable than the live file.
            let output = create_with_mode(&tmp, self.config.file_mode)?;
            let mut encoder = flate2::write::GzEncoder::new(output, flate2::Compression::default());
            io::copy(&mut input, &mut encoder)?;
            encoder.finish()?.sync_all()?;
            fs::rename(&tmp, &gz)?;
            fs::remove_file(archive)
        })();
        if let Err(e) = result {
            let _ = fs::remove_file(&tmp);
            self.report(archive, "compress", &e);
        }
    }

    #[cfg(not(feature = "gzip"))]
    fn compress(&self, _archive: &Path) {}

    fn report(&self, path: &Path, action: &str, error: &io::Error) {
        Counters::add(&self.counters.maintenance_errors, 1);
        report!(
            "tracing-audit: could not {action} rotated file {}: {error}",
            path.display()
        );
    }
}

/// Opens a rotated file to compress it, never through a symbolic link:
/// the appender makes none, and one named like a rotated file (planted by
/// whoever can write the directory, `-> /etc/shadow`) would copy the file
/// it names into a `.gz` among the logs. Such a link fails (`ELOOP`),
/// is reported and stays as it is. So is anything but a regular file: a
/// FIFO under a rotated name would make the read wait for a writer for
/// ever, stopping compression, retention and the guard's drop with it
/// (opened non-blocking, which changes nothing for a regular file).
#[cfg(feature = "gzip")]
fn open_no_follow(path: &Path) -> io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    Ok(file)
}

/// Creates `path` afresh for writing with permission bits `mode` (Unix;
/// the umask applies), as the live file is opened. A file left at `path`
/// is removed first: its own, perhaps wider, mode would otherwise stay.
#[cfg(feature = "gzip")]
fn create_with_mode(path: &Path, mode: u32) -> io::Result<fs::File> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    options.open(path)
}

/// Every rotated file of the live file `path`: `<name>.<UTC time>Z`, as
/// `rename_aside` names them, optionally `.gz` or `.gz.tmp`, sorted by
/// name, which is by time. Nothing else, though it starts with `<name>.`
/// and a digit (a user's `audit.log.1`, a `….bak`): retention never
/// deletes those, and readers never mistake them for the appender's.
pub(crate) fn archives_of(path: &Path) -> io::Result<Vec<PathBuf>> {
    let prefix = archive_prefix(path);
    let prefix = prefix.as_encoded_bytes();
    let dir = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => dir.to_path_buf(),
        None => PathBuf::from("."),
    };
    let mut found = Vec::new();
    for entry in fs::read_dir(&dir)?.filter_map(Result::ok) {
        let name = entry.file_name();
        if name
            .as_encoded_bytes()
            .strip_prefix(prefix)
            .is_some_and(is_archive_suffix)
        {
            found.push(entry.path());
        }
    }
    found.sort();
    Ok(found)
}

/// The time the newest rotated file of `path` is named after, if any: a
/// writer starting up names its rotated files after it, so that names keep
/// the rotation order even when the clock is now behind them (stepped back
/// across a restart), and retention, which keeps the newest names, keeps
/// the newest files.
pub(crate) fn newest_archive_time(path: &Path) -> Option<SystemTime> {
    let prefix_len = archive_prefix(path).as_encoded_bytes().len();
    archives_of(path).ok()?.iter().rev().find_map(|archive| {
        let name = archive.file_name()?.as_encoded_bytes();
        crate::clock::parse_compact(name.get(prefix_len..prefix_len + 23)?)
    })
}

/// Whether `name` is the name of a rotated file of the live file named
/// `live` (`<live>.<UTC time>Z`, `.gz`, `.gz.tmp`), as [`archives_of`]
/// lists them.
#[cfg(feature = "cli")]
pub(crate) fn is_archive_name(live: &str, name: &std::ffi::OsStr) -> bool {
    name.as_encoded_bytes()
        .strip_prefix(live.as_bytes())
        .and_then(|rest| rest.strip_prefix(b"."))
        .is_some_and(is_archive_suffix)
}

/// True for what follows `<name>.` in the name of a file this appender
/// made: `YYYYMMDDTHHMMSS.ffffffZ`, then nothing, `.gz` or `.gz.tmp`.
fn is_archive_suffix(rest: &[u8]) -> bool {
    if rest.len() < 23 {
        return false;
    }
    let (stamp, tail) = rest.split_at(23);
    let digits = |r: std::ops::Range<usize>| stamp[r].iter().all(u8::is_ascii_digit);
    digits(0..8)
        && stamp[8] == b'T'
        && digits(9..15)
        && stamp[15] == b'.'
        && digits(16..22)
        && stamp[22] == b'Z'
        && matches!(tail, b"" | b".gz" | b".gz.tmp")
}
