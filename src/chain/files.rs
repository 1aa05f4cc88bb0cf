//! The files of one chain, in the order they were written, and reading
//! them line by line whether gzipped or not.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

/// The rotated files of the live file at `live` (oldest first; a file
/// present both plain and gzipped, as while it is being compressed, once,
/// plain), then the live file if it exists.
pub(crate) fn chain_files(live: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = crate::appender::rotated_files(live)
        .into_iter()
        .filter(|p| p.extension() != Some(OsStr::new("tmp")))
        .collect();
    let plain: std::collections::HashSet<PathBuf> = files
        .iter()
        .filter(|p| p.extension() != Some(OsStr::new("gz")))
        .cloned()
        .collect();
    files.retain(|p| {
        p.extension() != Some(OsStr::new("gz")) || !plain.contains(&p.with_extension(""))
    });
    if live.is_file() {
        files.push(live.to_path_buf());
    }
    files
}

/// Opens `path` for reading lines, through gzip when its name ends in
/// `.gz`.
pub(crate) fn open(path: &Path) -> io::Result<Box<dyn BufRead + Send>> {
    let file = File::open(path)?;
    Ok(if path.extension() == Some(OsStr::new("gz")) {
        Box::new(BufReader::with_capacity(
            256 * 1024,
            flate2::read::MultiGzDecoder::new(BufReader::with_capacity(256 * 1024, file)),
        ))
    } else {
        Box::new(BufReader::with_capacity(256 * 1024, file))
    })
}

/// The name a file had when it was rotated: its file name without `.gz`.
pub(crate) fn rotated_name(path: &Path) -> String {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    name.strip_suffix(".gz").unwrap_or(&name).to_string()
}

/// Reads the next line into `line` (cleared first, `\n` removed); `None`
/// at the end of the file, else whether the line ended in `\n` (false for
/// a torn last line).
pub(crate) fn next_line(reader: &mut dyn BufRead, line: &mut Vec<u8>) -> io::Result<Option<bool>> {
    line.clear();
    if reader.read_until(b'\n', line)? == 0 {
        return Ok(None);
    }
    let whole = line.last() == Some(&b'\n');
    if whole {
        line.pop();
    }
    Ok(Some(whole))
}
