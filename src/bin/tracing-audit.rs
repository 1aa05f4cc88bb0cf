//! The `tracing-audit` command: query, export, tail, stats, report and
//! (feature `chain`) verify the files the crate writes. Its logic is the library's `cli` module; the guide is
//! `tracing_audit::cli::docs`.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match tracing_audit::cli::args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors.
            let code = if e.use_stderr() {
                tracing_audit::cli::exit::USAGE
            } else {
                tracing_audit::cli::exit::FOUND
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    ExitCode::from(tracing_audit::cli::run(cli))
}
