//! The live file: opening (with mode and directories), healing a torn last
//! line, noticing that the path no longer names our file, and renaming it
//! aside on rotation.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// An open append-only file and the size the writer believes it has.
#[derive(Debug)]
pub(crate) struct LiveFile {
    pub(crate) file: File,
    pub(crate) len: u64,
    /// The last line was torn (no `\n`) and has just been terminated.
    pub(crate) healed: bool,
    identity: Option<(u64, u64)>,
}

impl LiveFile {
    /// Opens (creating directories and the file as needed) for appending.
    /// A regular file whose last byte is not `\n` gets one first, so the
    /// next line starts fresh.
    pub(crate) fn open(path: &Path, mode: u32) -> io::Result<LiveFile> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)?;
        }
        let mut options = OpenOptions::new();
        options.create(true).append(true).read(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(mode);
        }
        #[cfg(not(unix))]
        let _ = mode;
        let mut file = options.open(path)?;
        let meta = file.metadata()?;
        let mut len = meta.len();
        let mut healed = false;
        if meta.is_file() && len > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(len - 1))?;
            file.read_exact(&mut last)?;
            if last[0] != b'\n' {
                file.write_all(b"\n")?;
                len += 1;
                healed = true;
            }
        }
        Ok(LiveFile {
            identity: identity(&meta),
            file,
            len,
            healed,
        })
    }

    /// True while `path` still names the file we hold open. False when it
    /// was deleted, its directory was removed, or something else renamed it
    /// away.
    pub(crate) fn still_at(&self, path: &Path) -> bool {
        match fs::metadata(path) {
            Ok(meta) => self.identity.is_none() || identity(&meta) == self.identity,
            Err(_) => false,
        }
    }
}

/// The last complete line and the healed torn line (see [`last_lines`]).
pub(crate) type LastLines = (Option<Vec<u8>>, Option<Vec<u8>>);

/// The last complete line of a file `len` bytes long that ends in `\n`,
/// and, when `healed`, the torn line before that final `\n` instead (the
/// last complete line is then the one before it); both without `\n`.
/// Reads backwards from the end, only as far as the lines go.
pub(crate) fn last_lines(mut file: &File, len: u64, healed: bool) -> io::Result<LastLines> {
    const CHUNK: u64 = 64 * 1024;
    let wanted = if healed { 2 } else { 1 };
    // `tail` holds the file's last bytes, from `start` to `len`.
    let mut tail: Vec<u8> = Vec::new();
    let mut start = len;
    loop {
        // The wanted lines are whole once a `\n` precedes the first of
        // them (or the file's start does).
        let newlines = tail.iter().filter(|&&b| b == b'\n').count();
        if start == 0 || newlines > wanted {
            let body = tail.strip_suffix(b"\n").unwrap_or(&tail);
            let mut lines = body
                .rsplit(|&b| b == b'\n')
                .map(|l| (!l.is_empty()).then(|| l.to_vec()));
            let newest = lines.next().flatten();
            return Ok(if healed {
                (lines.next().flatten(), newest)
            } else {
                (newest, None)
            });
        }
        let step = CHUNK.min(start);
        start -= step;
        let mut chunk = vec![0; step as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut chunk)?;
        chunk.extend_from_slice(&tail);
        tail = chunk;
    }
}

/// Fails as [`LiveFile::open`] would, without creating the file: creates
/// the missing directories, then opens an existing file for appending, or
/// checks that the directory lets this process create one.
pub(crate) fn check_can_open(path: &Path) -> io::Result<()> {
    let dir = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => {
            fs::create_dir_all(dir)?;
            dir
        }
        None => Path::new("."),
    };
    if fs::symlink_metadata(path).is_ok() {
        return OpenOptions::new().append(true).open(path).map(drop);
    }
    if !fs::metadata(dir)?.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::NotADirectory,
            format!("{} is not a directory", dir.display()),
        ));
    }
    can_create_in(dir)
}

/// `faccessat(W_OK | X_OK, AT_EACCESS)`: whether this process, with its
/// effective ids, may create a file in `dir`.
#[cfg(unix)]
fn can_create_in(dir: &Path) -> io::Result<()> {
    use rustix::fs::{accessat, Access, AtFlags, CWD};
    accessat(
        CWD,
        dir,
        Access::WRITE_OK | Access::EXEC_OK,
        AtFlags::EACCESS,
    )
    .map_err(io::Error::from)
}

/// Elsewhere only a read-only directory is noticed.
#[cfg(not(unix))]
fn can_create_in(dir: &Path) -> io::Result<()> {
    if fs::metadata(dir)?.permissions().readonly() {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{} is read-only", dir.display()),
        ));
    }
    Ok(())
}

#[cfg(unix)]
pub(crate) fn identity(meta: &fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
pub(crate) fn identity(_meta: &fs::Metadata) -> Option<(u64, u64)> {
    None
}

/// `<dir>/<name>.` : every rotated file of `path` starts with this.
pub(crate) fn archive_prefix(path: &Path) -> OsString {
    let mut prefix = path.file_name().map(OsString::from).unwrap_or_default();
    prefix.push(".");
    prefix
}

/// Renames the live file to `<name>.<UTC time>Z`, picking the first free
/// microsecond at or after `now`, and returns the new path and the time
/// it is named after.
///
/// On Linux the rename never replaces a file that appeared under the name
/// after it was found free (another appender or process rotating the same
/// path in the same microsecond): that would delete a rotated file.
pub(crate) fn rename_aside(path: &Path, now: SystemTime) -> io::Result<(PathBuf, SystemTime)> {
    let mut when = now;
    loop {
        let mut name = archive_prefix(path);
        name.push(crate::clock::compact(when));
        let target = path.with_file_name(name);
        if !target.exists() && !gz_of(&target).exists() {
            match rename_no_replace(path, &target) {
                Ok(()) => return Ok((target, when)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
        when += std::time::Duration::from_micros(1);
    }
}

/// `rename`, failing with `AlreadyExists` instead of replacing `to`
/// (`renameat2` with `RENAME_NOREPLACE`); a plain rename where the system
/// or the file system does not offer it.
#[cfg(target_os = "linux")]
fn rename_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    use rustix::io::Errno;
    match renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
        Ok(()) => Ok(()),
        Err(Errno::NOSYS | Errno::INVAL) => fs::rename(from, to),
        Err(e) => Err(e.into()),
    }
}

#[cfg(not(target_os = "linux"))]
fn rename_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    fs::rename(from, to)
}

pub(crate) fn gz_of(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".gz");
    PathBuf::from(name)
}
