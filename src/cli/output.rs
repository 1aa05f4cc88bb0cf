//! The files `export -O FILE` and `report --html FILE` write: never one of
//! the command's inputs, and replaced whole or not at all.
//!
//! An output that is an input file (by path, symbolic or hard link), or
//! that an audit file's name (`audit.log`, `api.log.<UTC time>Z.gz`, …)
//! puts inside an input directory, is refused before anything is read or
//! written: the command would empty the records it reads, or plant
//! records among them. Any other name in an input directory is fine.
//!
//! The output is written to a temporary file beside it and renamed over it
//! once complete, so that a failed command leaves the old file as it was
//! and never a half-written one. A new file gets the mode any new file
//! gets (`0o666` less the umask); a replaced one keeps its mode.

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tempfile::TempPath;

use crate::appender::{identity, is_archive_name};
use crate::read::kind_files;
use crate::record::Kind;

/// Why `out` may not be written, when it is one of `inputs` or an audit
/// file's name inside an input's directory.
pub(crate) fn refusal(out: &Path, inputs: &[PathBuf]) -> Option<String> {
    let out_id = fs::metadata(out).ok().as_ref().and_then(identity);
    let (out_dir, out_name) = real_place(out)?;
    for input in inputs {
        let Ok(real) = fs::canonicalize(input) else {
            continue; // reported as unreadable by the scan
        };
        let Ok(meta) = fs::metadata(&real) else {
            continue;
        };
        let dir = if meta.is_dir() {
            // A hard link to one of the directory's audit files.
            let linked = out_id.is_some()
                && Kind::ALL.iter().any(|kind| {
                    kind_files(&real, kind.file_name())
                        .unwrap_or_default()
                        .iter()
                        .any(|f| fs::metadata(f).ok().as_ref().and_then(identity) == out_id)
                });
            if linked {
                return Some(format!(
                    "{} is a link to an audit file in the input {}",
                    out.display(),
                    input.display()
                ));
            }
            real
        } else {
            if out_dir.join(&out_name) == real || (out_id.is_some() && identity(&meta) == out_id) {
                return Some(format!(
                    "{} is the input {}",
                    out.display(),
                    input.display()
                ));
            }
            match real.parent() {
                Some(parent) => parent.to_path_buf(),
                None => continue,
            }
        };
        if dir == out_dir && is_audit_name(&out_name) {
            return Some(format!(
                "{} would be an audit file in the input directory {}",
                out.display(),
                dir.display()
            ));
        }
    }
    None
}

/// The canonical directory and the name of `out`, which may not exist yet
/// (its directory must, or it cannot be written anyway: `None`). An
/// existing `out` is followed through symbolic links.
fn real_place(out: &Path) -> Option<(PathBuf, std::ffi::OsString)> {
    if let Ok(real) = fs::canonicalize(out) {
        return Some((real.parent()?.to_path_buf(), real.file_name()?.to_owned()));
    }
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    Some((fs::canonicalize(dir).ok()?, out.file_name()?.to_owned()))
}

/// A kind's live file name, or one of its rotated files' names.
fn is_audit_name(name: &OsStr) -> bool {
    Kind::ALL
        .iter()
        .any(|kind| name == kind.file_name() || is_archive_name(kind.file_name(), name))
}

/// An output being written, not yet in place.
pub(crate) enum Pending {
    /// A temporary file, to be renamed over `target`.
    Temp {
        /// Removed on drop, unless renamed into place.
        temp: TempPath,
        file: File,
        target: PathBuf,
    },
    /// Not a regular file (`/dev/stdout`, a named pipe): written as it is.
    Direct,
}

/// Starts writing `out`: a temporary file beside it (beside the file a
/// symbolic link at `out` points to), and the handle to write into it.
/// An existing `out` that is not a regular file (`/dev/stdout`, a named
/// pipe) is written directly.
pub(crate) fn create(out: &Path) -> io::Result<(File, Pending)> {
    let existing = fs::metadata(out).ok();
    if existing.as_ref().is_some_and(|m| !m.is_file()) {
        return Ok((File::create(out)?, Pending::Direct));
    }
    let target = match &existing {
        Some(_) => fs::canonicalize(out)?,
        None => out.to_path_buf(),
    };
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".tracing-audit-").suffix(".tmp");
    #[cfg(unix)]
    let mode = {
        use std::os::unix::fs::PermissionsExt;
        let mode = existing
            .as_ref()
            .map_or(0o666, |m| m.permissions().mode() & 0o7777);
        builder.permissions(fs::Permissions::from_mode(mode));
        mode
    };
    let (file, temp) = builder.tempfile_in(dir)?.into_parts();
    #[cfg(unix)]
    if existing.is_some() {
        // The umask applied at creation: the replaced file's mode exactly.
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&temp, fs::Permissions::from_mode(mode))?;
    }
    let pending = Pending::Temp {
        file: file.try_clone()?,
        temp,
        target,
    };
    Ok((file, pending))
}

impl Pending {
    /// Puts the complete output in place: fsynced, then renamed over the
    /// old file.
    pub(crate) fn commit(self) -> io::Result<()> {
        match self {
            Pending::Temp { temp, file, target } => {
                file.sync_all()?;
                temp.persist(target).map_err(|e| e.error)
            }
            Pending::Direct => Ok(()),
        }
    }
}

/// Writes `bytes` as the whole of `out`.
pub(crate) fn write_whole(out: &Path, bytes: &[u8]) -> io::Result<()> {
    let (mut file, pending) = create(out)?;
    file.write_all(bytes)?;
    drop(file);
    pending.commit()
}

/// Reports a refused output (a usage error) and gives the exit status, or
/// `None` when `out` may be written.
pub(crate) fn refused(out: &Path, inputs: &[PathBuf]) -> Option<u8> {
    let why = refusal(out, inputs)?;
    report!(
        "tracing-audit: refusing to write the output over the records it reads: {why}; \
         choose a file outside the inputs"
    );
    Some(super::exit::USAGE)
}
