//! Reading the crate's files back (feature `read`): which files hold one
//! kind of record and in what order, opening them (`.gz` included), and
//! walking their lines without an allocation per line.
//!
//! ```no_run
//! use std::path::Path;
//! use tracing_audit::read::{kind_files, open, Lines};
//!
//! for path in kind_files(Path::new("audit_logs"), "audit.log")? {
//!     let mut lines = Lines::new(open(&path)?);
//!     while let Some(line) = lines.next_line()? {
//!         if !line.complete {
//!             // the writer is still writing this one: no `\n` yet
//!             continue;
//!         }
//!         let record: serde_json::Value = match serde_json::from_slice(line.bytes) {
//!             Ok(record) => record,
//!             Err(e) => {
//!                 eprintln!("{}:{}: {e}", path.display(), line.number);
//!                 continue;
//!             }
//!         };
//!         println!("{}", record["event_type"]);
//!     }
//! }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! The files of one kind are the rotated ones, named
//! `<name>.YYYYMMDDTHHMMSS.ffffffZ` (plus `.gz` once compressed), oldest
//! first, then the live file. A rotated name's time is when that file
//! stopped being written, so this order is the order of writing.

mod files;
mod lines;

#[cfg(any(feature = "cli", feature = "chain"))]
pub(crate) use files::AsOpened;
pub use files::{is_gz, kind_files, open, open_file, open_reader};
pub use lines::{Line, Lines, MAX_LINE};
