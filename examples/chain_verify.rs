//! Makes a chained audit trail of many records over many rotated files
//! (all but the live one gzipped), then verifies it and prints the
//! verifier's throughput, with one scanning thread and with one per core.
//!
//! ```text
//! cargo run --release --features chain,gzip --example chain_verify -- --records 1000000 --files 20
//! ```
//!
//! Options: `--records N` (default 1,000,000, the issue's figure),
//! `--files F` (about how many files, default 20), `--dir PATH` (default a
//! temporary directory, removed at the end; an existing `audit.log*` there
//! is removed first). Exits 1 if the chain does not verify or a record is
//! missing. The last lines are `verify_mb_per_s=X` (one thread per core)
//! and `verify_mb_per_s_1_thread=X`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use tracing_audit::appender::Appender;
use tracing_audit::chain::{self, ChainOptions, VerifyOptions};

struct Args {
    records: u64,
    files: u64,
    dir: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        records: 1_000_000,
        files: 20,
        dir: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--records" => {
                args.records = value()?
                    .replace('_', "")
                    .parse()
                    .map_err(|e| format!("--records: {e}"))?
            }
            "--files" => args.files = value()?.parse().map_err(|e| format!("--files: {e}"))?,
            "--dir" => args.dir = Some(PathBuf::from(value()?)),
            _ => return Err("usage: chain_verify [--records N] [--files F] [--dir PATH]".into()),
        }
    }
    if args.records == 0 || args.files == 0 {
        return Err("--records and --files must be at least 1".into());
    }
    Ok(args)
}

/// A CRUD record as the layer writes it (without its chain members).
fn record(i: u64) -> String {
    format!(
        r#"{{"timestamp":"2026-11-29T10:00:00.000000Z","level":"AUDIT","name":"audit.crud","event_id":"0193a2b4-7c1e-7000-8000-{i:012}","message":"UPDATE event for Product (id: 42)","service_name":"shop","user_id":"7","user_info":{{}},"request_id":"r-{i}","model":"Product","event_type":"UPDATE","instance_id":"42","changes":{{"price":{{"old":10.99,"new":12.99}}}}}}"#
    )
}

fn run(args: &Args, dir: &Path) -> std::io::Result<bool> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("audit.log"))
        {
            std::fs::remove_file(path)?;
        }
    }
    let live = dir.join("audit.log");
    // Each line: the record, and about 160 bytes of chain members.
    let line = record(0).len() as u64 + 160;
    let max_file = (args.records * line).div_ceil(args.files).max(4096);
    let (appender, guard) = Appender::builder(&live)
        .max_file_size(max_file)
        .max_files(None)
        .compress(true)
        .compress_after(Duration::ZERO)
        .line_transform(ChainOptions::new().line_transform(&live))
        .build()?;
    let started = Instant::now();
    for i in 0..args.records {
        appender
            .write_line(record(i).as_bytes())
            .map_err(std::io::Error::other)?;
    }
    appender.flush()?;
    let written = started.elapsed();
    drop(guard);
    println!(
        "wrote {} chained records in {:.2} s ({:.0} records/s)",
        args.records,
        written.as_secs_f64(),
        args.records as f64 / written.as_secs_f64()
    );

    let mut ok = true;
    let mut rates = Vec::new();
    for threads in [0, 1] {
        let mut options = VerifyOptions::new();
        options.threads = threads;
        let report = chain::verify(dir, &options).map_err(std::io::Error::other)?;
        let c = &report.chains[0];
        let gz = c
            .files
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "gz"))
            .count();
        println!(
            "verify (threads {}): {} files ({gz} gzipped), {} records, seq {:?}..{:?}, {:.1} MB in {:.3} s, {:.1} MB/s, {}",
            if threads == 0 { "per core".to_string() } else { threads.to_string() },
            c.files.len(),
            c.records,
            c.first_seq,
            c.last_seq,
            report.bytes() as f64 / 1e6,
            report.elapsed.as_secs_f64(),
            report.mb_per_s(),
            if report.intact() { "intact" } else { "BROKEN" },
        );
        if let Some(b) = report.first_break() {
            eprintln!("FAIL: {b}");
        }
        ok &= report.intact() && c.records == args.records + c.files.len() as u64;
        rates.push(report.mb_per_s());
    }
    println!("verify_mb_per_s={:.1}", rates[0]);
    println!("verify_mb_per_s_1_thread={:.1}", rates[1]);
    Ok(ok)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let tempdir;
    let dir = match &args.dir {
        Some(dir) => dir.clone(),
        None => match tempfile::tempdir() {
            Ok(t) => {
                tempdir = t;
                tempdir.path().to_path_buf()
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    match run(&args, &dir) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
