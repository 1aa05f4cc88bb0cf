//! The `tracing-audit` command's subcommands (feature `cli`).

use clap::{Parser, Subcommand};

#[cfg(feature = "chain")]
pub mod verify;

/// Reads the audit trail tracing-audit writes.
#[derive(Debug, Parser)]
#[command(name = "tracing-audit", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Checks the hash chain of the audit files in a directory.
    #[cfg(feature = "chain")]
    Verify(verify::VerifyArgs),
}

/// Parses the command line, runs the subcommand and returns the process's
/// exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match cli.command {
        #[cfg(feature = "chain")]
        Command::Verify(args) => verify::run(&args),
    }
}
