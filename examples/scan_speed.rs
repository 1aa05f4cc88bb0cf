//! How fast `tracing-audit query` answers compared with `jq`, on the same
//! files the crate wrote.
//!
//! ```text
//! cargo build --release --all-features --bin tracing-audit
//! cargo run --release --all-features --example scan_speed               # ~1 GB
//! cargo run --release --all-features --example scan_speed -- --mb 20 --rounds 1   # smoke
//! ```
//!
//! Options: `--mb N` (size of the records written, default 1024),
//! `--rounds R` (default 3), `--dir PATH` (default `target/scan_speed`;
//! files of the same size already there are reused).
//!
//! It writes CRUD records (about 420 bytes each: 97 users, four event
//! types, changes, extra, request id and tenant) through the crate's own
//! layer into `audit.log`, rotated every 64 MiB, uncompressed. Then it
//! asks the same question, `user_id == "7"` and `event_type == "DELETE"`
//! (about one record in 390), alternately of
//!
//! - `tracing-audit query --kind audit --user 7 --event-type DELETE -o json --no-progress DIR`
//!   (the release binary next to this example: `target/release/tracing-audit`), and
//! - `jq -c 'select(.event_type == "DELETE" and .user_id == "7")' FILE…`
//!   over the same plain files in the same (write) order. This is jq's
//!   fastest form of the question: one `select` on two top-level keys, the
//!   rarer condition first so that `and` stops early, `-c` so no time goes
//!   on pretty-printing; jq gets the decompressed bytes (nothing is
//!   gzipped here), so it does no more work than it must.
//!
//! Each round runs both; the answers must be the same records (by
//! `event_id`, in order), or the example fails. It prints MB/s (input
//! bytes / wall time) per run, the medians, and last `ratio_vs_jq=X.XX`
//! (median MB/s of `tracing-audit` over jq's).

#[path = "support/mod.rs"]
#[allow(dead_code)]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use tracing_subscriber::layer::SubscriberExt;

struct Args {
    mb: u64,
    rounds: usize,
    dir: PathBuf,
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        mb: 1024,
        rounds: 3,
        dir: PathBuf::from("target/scan_speed"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--mb" => args.mb = value()?.parse().map_err(|e| format!("--mb: {e}"))?,
            "--rounds" => args.rounds = value()?.parse().map_err(|e| format!("--rounds: {e}"))?,
            "--dir" => args.dir = PathBuf::from(value()?),
            "-h" | "--help" => {
                return Err("usage: scan_speed [--mb N] [--rounds R] [--dir PATH]".into())
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    if args.mb == 0 || args.rounds == 0 {
        return Err("--mb and --rounds must be at least 1".into());
    }
    Ok(args)
}

fn main() -> ExitCode {
    support::exit_status(parse(), run)
}

fn run(args: &Args) -> std::io::Result<bool> {
    let Some(bin) = binary() else {
        eprintln!(
            "target/release/tracing-audit is missing: build it first with\n  \
             cargo build --release --all-features --bin tracing-audit"
        );
        return Ok(false);
    };
    if Command::new("jq").arg("--version").output().is_err() {
        eprintln!("jq is not installed (Debian: apt-get install -y jq)");
        return Ok(false);
    }
    let files = prepare(&args.dir, args.mb)?;
    let bytes: u64 = files
        .iter()
        .map(|f| f.metadata().map_or(0, |m| m.len()))
        .sum();
    let mb = bytes as f64 / 1e6;
    println!("input: {} file(s), {mb:.1} MB", files.len());

    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for round in 1..=args.rounds {
        let start = Instant::now();
        let out = Command::new(&bin)
            .args([
                "query",
                "--kind",
                "audit",
                "--user",
                "7",
                "--event-type",
                "DELETE",
            ])
            .args(["-o", "json", "--no-progress"])
            .arg(&args.dir)
            .output()?;
        let ours_s = start.elapsed().as_secs_f64();
        if !out.status.success() {
            eprintln!(
                "tracing-audit failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return Ok(false);
        }
        let ours_ids = event_ids(&out.stdout);

        let start = Instant::now();
        let jq = Command::new("jq")
            .args([
                "-c",
                r#"select(.event_type == "DELETE" and .user_id == "7")"#,
            ])
            .args(&files)
            .output()?;
        let jq_s = start.elapsed().as_secs_f64();
        if !jq.status.success() {
            eprintln!("jq failed: {}", String::from_utf8_lossy(&jq.stderr));
            return Ok(false);
        }
        let jq_ids = event_ids(&jq.stdout);
        if ours_ids != jq_ids || ours_ids.is_empty() {
            eprintln!(
                "the answers differ: tracing-audit {} records, jq {}",
                ours_ids.len(),
                jq_ids.len()
            );
            return Ok(false);
        }
        println!(
            "round {round}: tracing-audit {:.0} MB/s ({ours_s:.2} s), jq {:.0} MB/s ({jq_s:.2} s), {} records",
            mb / ours_s,
            mb / jq_s,
            ours_ids.len()
        );
        ours.push(mb / ours_s);
        theirs.push(mb / jq_s);
    }
    let (ours, theirs) = (support::median(ours), support::median(theirs));
    println!("median: tracing-audit {ours:.0} MB/s, jq {theirs:.0} MB/s");
    println!("ratio_vs_jq={:.2}", ours / theirs);
    Ok(true)
}

/// `target/release/tracing-audit`, next to `target/release/examples/`.
fn binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let release = exe.parent()?.parent()?;
    let bin = release.join(format!("tracing-audit{}", std::env::consts::EXE_SUFFIX));
    bin.is_file().then_some(bin)
}

/// The `event_id`s of JSON lines, in order.
fn event_ids(out: &[u8]) -> Vec<String> {
    out.split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| serde_json::from_slice::<serde_json::Value>(l).ok())
        .map(|r| r["event_id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The audit files of `mb` megabytes in `dir`, written unless a previous
/// run left files of that size.
fn prepare(dir: &Path, mb: u64) -> std::io::Result<Vec<PathBuf>> {
    let marker = dir.join("scan_speed.size");
    let files = || tracing_audit::read::kind_files(dir, "audit.log");
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(&mb.to_string()) {
        return files();
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    let target = mb * 1_000_000;
    let start = Instant::now();
    let (layer, guard) = tracing_audit::layer()
        .log_dir(dir)
        .service_name("billing")
        .max_file_size(64 * 1024 * 1024)
        .max_files(None)
        .build()
        .map_err(std::io::Error::other)?;
    const MODELS: [&str; 5] = ["Order", "Product", "Invoice", "Customer", "Shipment"];
    let users: Vec<String> = (0..97).map(|u| u.to_string()).collect();
    let mut written = 0u64;
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let mut n = 0u64;
        while written < target {
            // Check the size once per 10,000 records.
            for _ in 0..10_000 {
                let user = users[(n % 97) as usize].as_str();
                let model = MODELS[(n % 5) as usize];
                let request = n / 8;
                let span = tracing::info_span!("req", request_id = request, tenant = "acme");
                let _in = span.enter();
                let changes = tracing_audit::Changes::new()
                    .with("price", n % 1000, n % 1000 + 1)
                    .with("status", "draft", "published");
                let extra = serde_json::json!({"source": "import", "batch": n / 1000});
                match n % 4 {
                    0 => tracing_audit::create!(model: model, id: n, user: user, extra: extra),
                    1 => {
                        tracing_audit::update!(model: model, id: n, user: user, changes: changes, extra: extra)
                    }
                    2 => tracing_audit::read!(model: model, id: n, user: user, extra: extra),
                    _ => {
                        tracing_audit::delete!(model: model, id: n, user: user, changes: changes, extra: extra)
                    }
                }
                n += 1;
            }
            let _ = guard.flush();
            written = tracing_audit::read::kind_files(dir, "audit.log")
                .unwrap_or_default()
                .iter()
                .map(|f| f.metadata().map_or(0, |m| m.len()))
                .sum();
        }
    });
    let report = guard.shutdown();
    if report.lost() > 0 {
        return Err(std::io::Error::other(format!(
            "{} records lost",
            report.lost()
        )));
    }
    println!(
        "wrote {:.1} MB of records in {:.1} s",
        written as f64 / 1e6,
        start.elapsed().as_secs_f64()
    );
    std::fs::write(&marker, mb.to_string())?;
    files()
}
