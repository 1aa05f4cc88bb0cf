//! The files of one chain, in the order they were written (through
//! [`read`](crate::read)).

use std::path::{Path, PathBuf};

/// The files of the chain whose live file is `live`, in write order (see
/// [`read::kind_files`](crate::read::kind_files)). Nothing when the
/// directory cannot be read.
pub(crate) fn chain_files(live: &Path) -> Vec<PathBuf> {
    let dir = match live.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => dir,
        None => Path::new("."),
    };
    let name = live.file_name().unwrap_or_default().to_string_lossy();
    crate::read::kind_files(dir, &name).unwrap_or_default()
}

/// The name a file had when it was rotated: its file name without `.gz`.
pub(crate) fn rotated_name(path: &Path) -> String {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    name.strip_suffix(".gz").unwrap_or(&name).to_string()
}
