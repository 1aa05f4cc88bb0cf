//! `tracing-audit verify DIR [--checkpoint FILE] [--key FILE]`: checks the
//! hash chains of a directory's audit files.
//!
//! Exit codes: 0 every chain intact and fully checked; 1 a chain is
//! broken (the first broken record is named); 2 the check could not run
//! (bad arguments, an unreadable file or key, no audit file); 3 the links
//! are intact but a keyed chain's hashes were not checked (no `--key`).

use std::path::PathBuf;

use clap::Args;

use crate::chain::{small_file, verify, Report, VerifyOptions};

/// The arguments of `verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The directory of the files (`audit.log`, its rotated and gzipped
    /// files, `login.log`, …).
    pub dir: PathBuf,
    /// A checkpoint file kept elsewhere, to detect a cut tail (default:
    /// `<file>.checkpoint` in DIR, if there).
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
    /// A file holding the HMAC key the chain was written with (its bytes
    /// as they are).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// A file holding the ed25519 public key (64 hex digits) checkpoints
    /// must be signed with.
    #[arg(long, value_name = "FILE")]
    pub public_key: Option<PathBuf>,
    /// Only this chain's live file name (repeatable; default: audit.log,
    /// login.log, api.log).
    #[arg(long = "file", value_name = "NAME")]
    pub files: Vec<String>,
    /// Threads scanning files (default: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

/// Runs `verify`, prints its summary, and returns the exit code.
pub fn run(args: &VerifyArgs) -> u8 {
    match options(args).and_then(|o| verify(&args.dir, &o).map_err(|e| e.to_string())) {
        Ok(report) => {
            // A closed stdout (`| head`) is not worth a panic: the exit
            // status still says what was found.
            use std::io::Write as _;
            let _ = std::io::stdout().write_all(summary(&report).as_bytes());
            exit_code(&report)
        }
        Err(e) => {
            report!("tracing-audit verify: {e}");
            2
        }
    }
}

fn options(args: &VerifyArgs) -> Result<VerifyOptions, String> {
    let mut options = VerifyOptions::new();
    if let Some(path) = &args.key {
        options.key =
            Some(small_file::read(path).map_err(|e| format!("key {}: {e}", path.display()))?);
    }
    if let Some(path) = &args.public_key {
        let text = small_file::read_to_string(path)
            .map_err(|e| format!("public key {}: {e}", path.display()))?;
        let key = hex::decode(text.trim())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| format!("public key {}: not 64 hex digits", path.display()))?;
        options.public_key = Some(key);
    }
    options.checkpoint = args.checkpoint.clone();
    options.files = args.files.clone();
    options.threads = args.threads;
    Ok(options)
}

/// The exit code for `report` (see the module's documentation).
pub fn exit_code(report: &Report) -> u8 {
    if !report.links_intact() {
        1
    } else if !report.intact() {
        3
    } else {
        0
    }
}

/// The printed summary: one block per chain, then the throughput.
pub fn summary(report: &Report) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for c in &report.chains {
        let seqs = match (c.first_seq, c.last_seq) {
            (Some(a), Some(b)) => format!("seq {a}..{b}"),
            _ => "no records".into(),
        };
        let _ = writeln!(
            out,
            "{}: {} file(s), {} record(s), {seqs}, last hash {}",
            c.name,
            c.files.len(),
            c.records,
            c.last_hash.as_deref().unwrap_or("-"),
        );
        if c.healed_lines > 0 {
            let _ = writeln!(
                out,
                "  {} torn line(s) healed on restart, each accounted for in the chain",
                c.healed_lines
            );
        }
        if let Some(cp) = &c.checkpoint {
            let _ = writeln!(out, "  checkpoint: {}", cp.display());
        }
        for note in &c.notes {
            let _ = writeln!(out, "  note: {note}");
        }
        match &c.first_break {
            None if c.hashes_checked => {
                let _ = writeln!(out, "  intact");
            }
            None => {
                let _ = writeln!(out, "  links intact; hashes not checked (no key)");
            }
            Some(b) => {
                let _ = writeln!(out, "  BROKEN: first broken record at {b}");
            }
        }
    }
    for name in &report.unchained {
        let _ = writeln!(out, "{name}: not chained (skipped)");
    }
    let _ = writeln!(
        out,
        "read {:.1} MB in {:.3} s: {:.1} MB/s",
        report.bytes() as f64 / 1e6,
        report.elapsed.as_secs_f64(),
        report.mb_per_s()
    );
    out
}
