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
        let mut file = open_or_create(path, mode)?;
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

/// The most [`last_lines`] keeps of one line: 8 MiB, far above the longest
/// line the crate writes (96 KiB by default). Of a longer line (a damaged
/// tail, say) only its last `LONGEST_KEPT` bytes are kept.
pub(crate) const LONGEST_KEPT: usize = 8 * 1024 * 1024;

/// The last complete line of a file `len` bytes long that ends in `\n`,
/// and, when `healed`, the torn line before that final `\n` instead (the
/// last complete line is then the one before it); both without `\n`, and
/// `None` when empty or absent.
///
/// Reads backwards from the end in blocks, only as far as the lines go,
/// and looks at each byte once. It keeps at most [`LONGEST_KEPT`] bytes of
/// each line (its end), so a huge newline-free tail costs one pass over
/// it, not its size in memory.
pub(crate) fn last_lines(mut file: &File, len: u64, healed: bool) -> io::Result<LastLines> {
    const CHUNK: usize = 64 * 1024;
    let wanted = if healed { 2 } else { 1 };
    // Newest first.
    let mut found: Vec<Option<Vec<u8>>> = Vec::with_capacity(2);
    let mut line = KeptLine::default();
    let mut block = vec![0u8; CHUNK];
    let mut pos = len;
    let mut at_end = true;
    while pos > 0 && found.len() < wanted {
        let step = (CHUNK as u64).min(pos) as usize;
        pos -= step as u64;
        file.seek(SeekFrom::Start(pos))?;
        file.read_exact(&mut block[..step])?;
        let mut end = step;
        if std::mem::take(&mut at_end) && block[end - 1] == b'\n' {
            end -= 1;
        }
        while let Some(i) = block[..end].iter().rposition(|&b| b == b'\n') {
            line.prepend(&block[i + 1..end]);
            found.push(line.take());
            end = i;
            if found.len() == wanted {
                break;
            }
        }
        if found.len() < wanted {
            line.prepend(&block[..end]);
        }
    }
    // The file's start ends the oldest line.
    while found.len() < wanted {
        found.push(line.take());
    }
    let newest = found[0].take();
    Ok(if healed {
        (found[1].take(), newest)
    } else {
        (newest, None)
    })
}

/// One line read backwards: its pieces, newest first, at most
/// [`LONGEST_KEPT`] bytes in all (the line's end).
#[derive(Default)]
struct KeptLine {
    pieces: Vec<Vec<u8>>,
    kept: usize,
}

impl KeptLine {
    /// Puts `piece`, the bytes just before those kept, in front.
    fn prepend(&mut self, piece: &[u8]) {
        let room = LONGEST_KEPT - self.kept;
        let piece = &piece[piece.len().saturating_sub(room)..];
        if !piece.is_empty() {
            self.kept += piece.len();
            self.pieces.push(piece.to_vec());
        }
    }

    /// The line, in order; `None` when empty. Starts the next one.
    fn take(&mut self) -> Option<Vec<u8>> {
        let mut line = Vec::with_capacity(self.kept);
        for piece in self.pieces.drain(..).rev() {
            line.extend_from_slice(&piece);
        }
        self.kept = 0;
        (!line.is_empty()).then_some(line)
    }
}

/// Opens `path` for appending and reading: the file there (a symbolic
/// link to an existing file is followed: `/dev/stdout`, a file kept
/// elsewhere on purpose), or a new one made with `O_EXCL`, which never
/// follows a symbolic link. A dangling link is refused rather than
/// followed: whoever can write the directory could otherwise make the
/// appender create a file wherever the link points (`/etc/cron.d/x`),
/// with the process's rights, when it opens or opens again after the file
/// vanished.
fn open_or_create(path: &Path, mode: u32) -> io::Result<File> {
    let existing = || OpenOptions::new().append(true).read(true).open(path);
    match existing() {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        opened => return opened,
    }
    let mut options = OpenOptions::new();
    options.create_new(true).append(true).read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    match options.open(path) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let dangling = fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
                && fs::metadata(path).is_err();
            if dangling {
                return Err(io::Error::other(format!(
                    "{} is a symbolic link to a file that does not exist: refusing to \
                     create a file through it (remove the link, or point the log \
                     directory at the real one)",
                    path.display()
                )));
            }
            // Made by someone else meanwhile.
            existing()
        }
        opened => opened,
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
        if when > crate::clock::latest_named() {
            // Every name up to the end of time is taken: no name is left.
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "every rotated name up to year 9999 is taken",
            ));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `text` in a temporary file, and what `last_lines` finds in it.
    fn last_of(text: &[u8], healed: bool) -> LastLines {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs::write(&path, text).unwrap();
        let file = File::open(&path).unwrap();
        last_lines(&file, text.len() as u64, healed).unwrap()
    }

    #[test]
    fn the_last_lines_are_found_across_blocks() {
        let long = vec![b'a'; 150 * 1024];
        let mut text = b"first\n".to_vec();
        text.extend_from_slice(&long);
        text.extend_from_slice(b"\nlast\n");
        assert_eq!(last_of(&text, false), (Some(b"last".to_vec()), None));
        assert_eq!(
            last_of(&text, true),
            (Some(long.clone()), Some(b"last".to_vec()))
        );
        assert_eq!(last_of(b"only\n", true), (None, Some(b"only".to_vec())));
        assert_eq!(last_of(b"", false), (None, None));
        assert_eq!(last_of(b"\n", false), (None, None));
        assert_eq!(last_of(b"a\n\n", false), (None, None));
        assert_eq!(
            last_of(b"a\nb\n", true),
            (Some(b"a".to_vec()), Some(b"b".to_vec()))
        );
    }

    /// A newline-free tail far longer than any line: only its end is kept
    /// (memory stays bounded by `LONGEST_KEPT`), and the line before it is
    /// still found whole.
    #[test]
    fn a_huge_torn_tail_keeps_only_its_end_and_the_line_before_is_found() {
        let mut text = b"{\"record\":1}\n".to_vec();
        let tail_len = LONGEST_KEPT + 3 * 64 * 1024 + 17;
        text.extend((0..tail_len).map(|i| b'a' + (i % 26) as u8));
        text.push(b'\n');
        let (last, torn) = last_of(&text, true);
        assert_eq!(last.as_deref(), Some(&b"{\"record\":1}"[..]));
        let torn = torn.unwrap();
        assert_eq!(torn.len(), LONGEST_KEPT);
        assert_eq!(
            &torn[..],
            &text[text.len() - 1 - LONGEST_KEPT..text.len() - 1]
        );
    }
}
