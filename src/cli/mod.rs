//! The internals of the `tracing-audit` command, usable as a library
//! (feature `cli`). The command's guide is the [`docs`] page.
//!
//! Every subcommand shares one [`scan`](scan::scan): the inputs' files
//! (live, rotated and `.gz`) read in parallel, a literal prefilter on the
//! raw bytes, a borrowed parse of only the keys the [`Filter`] needs, and
//! the matching records handed over in time order:
//!
//! ```no_run
//! use std::sync::Arc;
//! use tracing_audit::cli::{args::FilterArgs, scan, Filter};
//!
//! let args = FilterArgs { user: vec!["7".into()], ..FilterArgs::default() };
//! let filter = Arc::new(Filter::new(&args, time::OffsetDateTime::now_utc())?);
//! let (sources, errors) = scan::sources(&["audit_logs".into()], filter.kinds());
//! let summary = scan::scan(&sources, &filter, scan::Options::default(), &mut |record| {
//!     println!("{}:{} {}", record.file.display(), record.line, record.value()?["event_type"]);
//!     Ok(scan::Flow::Continue)
//! })?;
//! eprintln!("{} of {} lines matched; {} malformed", summary.matched, summary.lines, summary.malformed);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod args;
pub mod export;
pub mod filter;
pub mod query;
pub mod report;
pub mod scan;
pub mod stats;
pub mod table;
pub mod tail;
#[cfg(feature = "chain")]
pub mod verify;
pub mod view;
pub mod when;

mod fields;
mod markup;
mod output;
mod svg;
mod timeline;

#[doc = include_str!("../docs/cli.md")]
pub mod docs {}

#[doc = include_str!("../docs/cli_report.md")]
pub mod report_docs {}

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

pub use filter::Filter;
pub use scan::{scan, Flow, Record};

use args::{Command, FilterArgs, Inputs};
use scan::{InputError, Source, Summary};

/// The command's exit statuses.
pub mod exit {
    /// Records were found (`query`, `export`), or `tail` ended normally.
    pub const FOUND: u8 = 0;
    /// The inputs were read but no record matched.
    pub const NO_MATCH: u8 = 1;
    /// A usage error: an unknown option, or a value that does not parse.
    pub const USAGE: u8 = 2;
    /// An input could not be read (missing, unreadable, corrupt `.gz`) or
    /// the output could not be written. The other inputs are still read.
    pub const IO: u8 = 3;
}

/// Runs one command line and gives the exit status.
pub fn run(cli: args::Cli) -> u8 {
    match cli.command {
        Command::Query(a) => query::run(&a),
        Command::Export(a) => export::run(&a),
        Command::Tail(a) => tail::run(&a),
        Command::Stats(a) => stats::run(&a),
        Command::Report(a) => report::run(&a),
        #[cfg(feature = "chain")]
        Command::Verify(a) => verify::run(&a),
    }
}

/// The default input: the builder's default log directory.
pub const DEFAULT_DIR: &str = "audit_logs";

/// The paths to read: those given, else [`DEFAULT_DIR`].
pub(crate) fn paths(inputs: &Inputs) -> Vec<PathBuf> {
    if inputs.paths.is_empty() {
        vec![PathBuf::from(DEFAULT_DIR)]
    } else {
        inputs.paths.clone()
    }
}

/// What a command reads: the filter, the sources, and the inputs that
/// could not be read.
pub(crate) type Prepared = (Arc<Filter>, Vec<Source>, Vec<InputError>);

/// The filter and sources of a command line, or the exit status of a
/// usage error (already reported).
pub(crate) fn prepare(inputs: &Inputs, filter: &FilterArgs) -> Result<Prepared, u8> {
    let filter = match Filter::new(filter, time::OffsetDateTime::now_utc()) {
        Ok(f) => Arc::new(f),
        Err(e) => {
            report!("tracing-audit: {e}");
            return Err(exit::USAGE);
        }
    };
    let (sources, errors) = scan::sources(&paths(inputs), filter.kinds());
    Ok((filter, sources, errors))
}

/// Reports what went wrong and gives the exit status of a scan.
pub(crate) fn finish(errors: &[InputError], summary: &Summary, output: io::Result<()>) -> u8 {
    for e in errors.iter().chain(&summary.errors) {
        report!("tracing-audit: cannot read {e}");
    }
    if summary.malformed > 0 {
        report!(
            "tracing-audit: {} malformed line(s) skipped{}",
            summary.malformed,
            if summary.malformed > summary.malformed_at.len() as u64 {
                format!(" (the first {} shown above)", summary.malformed_at.len())
            } else {
                String::new()
            }
        );
    }
    let output_failed = match output {
        Ok(()) => false,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => false,
        Err(e) => {
            report!("tracing-audit: cannot write the output: {e}");
            true
        }
    };
    if output_failed || !errors.is_empty() || !summary.errors.is_empty() {
        exit::IO
    } else if summary.matched == 0 {
        exit::NO_MATCH
    } else {
        exit::FOUND
    }
}

/// Whether colours may be used on a terminal (`NO_COLOR` unset).
pub(crate) fn colour_allowed() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
