//! `tracing-audit query`: the matching records, oldest first, as a table
//! on a terminal and JSON lines otherwise.

use std::io::{self, BufWriter, IsTerminal, Write};

use super::args::{QueryArgs, QueryOutput};
use super::scan::{self, Flow, Options};
use super::table::Table;

/// Runs `query` and gives the exit status.
pub fn run(args: &QueryArgs) -> u8 {
    let (filter, sources, errors) = match super::prepare(&args.inputs, &args.filter) {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    let stdout = io::stdout();
    let terminal = stdout.is_terminal();
    let output = args.output.unwrap_or(if terminal {
        QueryOutput::Table
    } else {
        QueryOutput::Json
    });
    let mut table = Table::new(terminal && super::colour_allowed());
    let mut out = BufWriter::with_capacity(256 * 1024, stdout.lock());
    let mut failed: io::Result<()> = Ok(());
    let limit = args.limit.unwrap_or(u64::MAX);
    let mut written = 0u64;
    // A bar redrawn between the table's lines on the same terminal
    // would garble them: it is drawn when the records go elsewhere.
    let options = Options {
        progress: !args.progress.no_progress && !terminal,
        ..Options::default()
    };
    let summary = scan::scan(&sources, &filter, options, &mut |record| {
        if written >= limit {
            return Ok(Flow::Stop);
        }
        let result = match output {
            QueryOutput::Json => out
                .write_all(record.bytes)
                .and_then(|()| out.write_all(b"\n")),
            QueryOutput::Table => table.write(&mut out, record.bytes, record.kind),
        };
        written += 1;
        match result {
            Ok(()) if written < limit => Ok(Flow::Continue),
            Ok(()) => Ok(Flow::Stop),
            Err(e) => {
                failed = Err(e);
                Ok(Flow::Stop)
            }
        }
    });
    let summary = match summary {
        Ok(summary) => summary,
        Err(e) => {
            report!("tracing-audit: {e}");
            return super::exit::IO;
        }
    };
    let flushed = out.flush();
    super::finish(&errors, &summary, failed.and(flushed))
}
