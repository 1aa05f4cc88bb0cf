//! The `tracing-audit` command.

fn main() {
    std::process::exit(tracing_audit::cli::main());
}
