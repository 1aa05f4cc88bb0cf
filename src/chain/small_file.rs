//! The small files the chain is given by path (an HMAC key, a public key,
//! a checkpoint), read safely: only a regular file, only up to a size.
//! Opening a FIFO for reading waits for a writer, and `/dev/zero` never
//! ends: either, planted at a checkpoint's path or named by mistake,
//! would hang the writer's start or `verify`.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// The most bytes read of a key or checkpoint file (64 KiB; a checkpoint
/// is under 1 KiB, a key a few dozen bytes).
pub(crate) const LIMIT: u64 = 64 * 1024;

/// The bytes of `path` if it is a regular file (a link to one is
/// followed) of at most [`LIMIT`] bytes; otherwise an error saying why.
pub(crate) fn read(path: &Path) -> io::Result<Vec<u8>> {
    let file = open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let mut bytes = Vec::new();
    file.take(LIMIT + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > LIMIT {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("longer than {LIMIT} bytes"),
        ));
    }
    Ok(bytes)
}

/// [`read`], as UTF-8 text.
pub(crate) fn read_to_string(path: &Path) -> io::Result<String> {
    String::from_utf8(read(path)?).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Opens without waiting: a FIFO opened for reading without `O_NONBLOCK`
/// blocks until a writer opens it, before its type can be checked.
#[cfg(unix)]
fn open(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open(path: &Path) -> io::Result<File> {
    File::open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_regular_file_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, b"secret key bytes").unwrap();
        assert_eq!(read(&path).unwrap(), b"secret key bytes");
    }

    #[test]
    fn a_file_over_the_limit_and_a_directory_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        std::fs::write(&path, vec![b'a'; LIMIT as usize + 1]).unwrap();
        assert_eq!(read(&path).unwrap_err().kind(), io::ErrorKind::InvalidData);
        std::fs::write(&path, vec![b'a'; LIMIT as usize]).unwrap();
        assert_eq!(read(&path).unwrap().len(), LIMIT as usize);
        assert!(read(dir.path()).is_err());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn dev_zero_is_refused() {
        let err = read(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
