//! The files of one kind, in the order they were written, and opening
//! them with `.gz` ones gunzipped.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use crate::appender::archives_of;

/// Read buffer for one file: large reads keep the per-line cost low.
const BUFFER: usize = 256 * 1024;

/// The files of one kind (`file_name` like `"audit.log"`) in `dir`, in
/// write order: the rotated files by the time in their names (compressed
/// `.gz` ones included), then the live file when it exists.
///
/// Only names the appender's rotation makes count: a `.gz.tmp` (a
/// compression not finished; its plain original is still there) and
/// names like `audit.log.1` or `audit.log.bak` are left out, and so is
/// anything that is not a regular file (a FIFO, a device, a directory).
///
/// # Errors
///
/// When `dir` cannot be read (it does not exist, is not a directory, or
/// may not be listed).
pub fn kind_files(dir: &Path, file_name: &str) -> io::Result<Vec<PathBuf>> {
    let live = dir.join(file_name);
    // archives_of lists the live file's directory; make a missing or
    // unreadable `dir` an error rather than an empty answer.
    std::fs::read_dir(dir)?;
    let mut files: Vec<PathBuf> = archives_of(&live)?
        .into_iter()
        .filter(|p| p.extension() != Some(OsStr::new("tmp")))
        .collect();
    // A rotated file present both plain and gzipped (for a moment while it
    // is compressed, or for good after a crash between the rename of the
    // `.gz` and the removal of the plain file) is listed once, plain: the
    // plain file is whole either way, and reading both would count every
    // record twice.
    // Only regular files (a link to one included): opening a FIFO planted
    // under a rotated name would wait for ever for a writer. A name gone
    // since the listing stays, for `open_file` to find its `.gz`.
    files.retain(|p| std::fs::metadata(p).map_or(true, |m| m.is_file()));
    let plain: HashSet<PathBuf> = files.iter().filter(|p| !is_gz(p)).cloned().collect();
    files.retain(|p| !is_gz(p) || !plain.contains(&p.with_extension("")));
    if live.is_file() {
        files.push(live);
    }
    Ok(files)
}

/// Opens a file listed by [`kind_files`]: when a plain rotated file has
/// gone since it was listed (compressed in the meantime), its `.gz` is
/// opened instead. Gives the file and whether it is gzip.
///
/// # Errors
///
/// When neither can be opened (the error of the name asked for).
pub fn open_file(path: &Path) -> io::Result<(File, bool)> {
    match File::open(path) {
        Ok(file) => Ok((file, is_gz(path))),
        Err(e) if e.kind() == io::ErrorKind::NotFound && !is_gz(path) => {
            let mut gz = path.as_os_str().to_owned();
            gz.push(".gz");
            File::open(PathBuf::from(gz))
                .map(|f| (f, true))
                .map_err(|_| e)
        }
        Err(e) => Err(e),
    }
}

/// Opens a file of records for reading: a name ending in `.gz` is
/// gunzipped on the fly (every gzip member, as concatenated `.gz` files
/// have several), anything else is read as it is.
///
/// # Errors
///
/// When the file cannot be opened. A corrupt `.gz` shows as an error from
/// the reader's first read.
pub fn open(path: &Path) -> io::Result<Box<dyn BufRead + Send>> {
    let (file, gz) = open_file(path)?;
    Ok(open_reader(file, gz))
}

/// True when `path` names a gzip file (its name ends in `.gz`), which
/// [`open`] gunzips.
pub fn is_gz(path: &Path) -> bool {
    path.extension() == Some(OsStr::new("gz"))
}

/// What [`open`] does, on a reader already open: gunzipped when `gz`
/// (every member), buffered either way. For callers that wrap the file
/// first, e.g. to count the bytes read from disk.
pub fn open_reader<R: Read + Send + 'static>(reader: R, gz: bool) -> Box<dyn BufRead + Send> {
    if gz {
        let decoder = MultiGzDecoder::new(BufReader::with_capacity(BUFFER, reader));
        Box::new(BufReader::with_capacity(BUFFER, decoder))
    } else {
        Box::new(BufReader::with_capacity(BUFFER, reader))
    }
}

/// A file read as it was when opened: a plain regular file ends at the
/// length it had then, plus the rest of a line cut there (at most
/// [`MAX_LINE`](super::MAX_LINE) bytes more, up to its newline), so a live
/// file written faster than it is read (a busy service) does not keep
/// the reader going for ever. `.gz` files, pipes and devices are read to
/// their end.
#[cfg(any(feature = "cli", feature = "chain"))]
pub(crate) struct AsOpened {
    file: File,
    /// The bytes left to the length at open; `None`: no bound.
    left: Option<u64>,
    /// Past that length, how much more may be read to end the cut line.
    finishing: usize,
    /// The last byte read: a line was cut at the length unless `\n`.
    last: u8,
}

#[cfg(any(feature = "cli", feature = "chain"))]
impl AsOpened {
    pub(crate) fn new(file: File, gz: bool) -> AsOpened {
        let left = match file.metadata() {
            Ok(meta) if meta.is_file() && !gz => Some(meta.len()),
            _ => None,
        };
        AsOpened {
            file,
            left,
            finishing: super::MAX_LINE,
            last: b'\n',
        }
    }
}

#[cfg(any(feature = "cli", feature = "chain"))]
impl Read for AsOpened {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match self.left {
            None => self.file.read(buf)?,
            Some(0) => {
                if self.last == b'\n' || self.finishing == 0 {
                    return Ok(0);
                }
                let room = buf.len().min(self.finishing);
                let n = self.file.read(&mut buf[..room])?;
                let n = memchr::memchr(b'\n', &buf[..n]).map_or(n, |at| at + 1);
                self.finishing = if n == 0 { 0 } else { self.finishing - n };
                n
            }
            Some(left) => {
                let room = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                let n = self.file.read(&mut buf[..room])?;
                if n == 0 {
                    // Shorter than when opened (truncated): its end is the end.
                    self.left = Some(0);
                    self.finishing = 0;
                } else {
                    self.left = Some(left - n as u64);
                }
                n
            }
        };
        if n > 0 {
            self.last = buf[n - 1];
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::io::{Read, Write};

    fn names(files: &[PathBuf]) -> Vec<String> {
        files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn rotated_files_by_time_then_live_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "audit.log",
            "audit.log.20261129T100002.000000Z",
            "audit.log.20261129T100001.000000Z.gz",
            "audit.log.20261129T100003.000000Z.gz.tmp",
            "audit.log.20261129T100000.500000Z",
            "audit.log.1",
            "audit.log.bak",
            "api.log.20261129T100000.000000Z",
            "api.log",
        ] {
            fs::write(dir.path().join(name), b"").unwrap();
        }
        let files = kind_files(dir.path(), "audit.log").unwrap();
        assert_eq!(
            names(&files),
            [
                "audit.log.20261129T100000.500000Z",
                "audit.log.20261129T100001.000000Z.gz",
                "audit.log.20261129T100002.000000Z",
                "audit.log",
            ]
        );
    }

    #[test]
    fn a_file_both_plain_and_gzipped_is_listed_once_plain() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "audit.log.20261129T100000.000000Z",
            "audit.log.20261129T100000.000000Z.gz",
            "audit.log.20261129T100001.000000Z.gz",
        ] {
            fs::write(dir.path().join(name), b"").unwrap();
        }
        let files = kind_files(dir.path(), "audit.log").unwrap();
        assert_eq!(
            names(&files),
            [
                "audit.log.20261129T100000.000000Z",
                "audit.log.20261129T100001.000000Z.gz",
            ]
        );
    }

    #[test]
    fn a_plain_file_compressed_since_it_was_listed_is_read_from_its_gz() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("audit.log.20261129T100000.000000Z");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"{\"a\":1}\n").unwrap();
        fs::write(
            dir.path().join("audit.log.20261129T100000.000000Z.gz"),
            enc.finish().unwrap(),
        )
        .unwrap();
        let mut text = String::new();
        open(&plain).unwrap().read_to_string(&mut text).unwrap();
        assert_eq!(text, "{\"a\":1}\n");
        let err = open(&dir.path().join("audit.log.20261129T100001.000000Z"))
            .err()
            .unwrap();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn no_live_file_and_missing_dir() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("login.log.20261129T100000.000000Z"), b"").unwrap();
        let files = kind_files(dir.path(), "login.log").unwrap();
        assert_eq!(names(&files), ["login.log.20261129T100000.000000Z"]);
        assert!(kind_files(dir.path(), "audit.log").unwrap().is_empty());
        let err = kind_files(&dir.path().join("nope"), "audit.log").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn gz_is_gunzipped_including_several_members() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log.20261129T100000.000000Z.gz");
        let mut bytes = Vec::new();
        for part in [&b"{\"a\":1}\n"[..], b"{\"a\":2}\n"] {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(part).unwrap();
            bytes.extend(enc.finish().unwrap());
        }
        fs::write(&path, bytes).unwrap();
        let mut text = String::new();
        open(&path).unwrap().read_to_string(&mut text).unwrap();
        assert_eq!(text, "{\"a\":1}\n{\"a\":2}\n");

        let plain = dir.path().join("audit.log");
        fs::write(&plain, b"x\n").unwrap();
        let mut text = String::new();
        open(&plain).unwrap().read_to_string(&mut text).unwrap();
        assert_eq!(text, "x\n");
        assert!(open(&dir.path().join("missing")).is_err());
    }
}
