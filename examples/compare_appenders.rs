//! Compares tracing-audit's [`Appender`] with `tracing-appender`'s
//! non-blocking writer on the same workload: pre-serialized ~380-byte JSON
//! audit lines written as fast as one or two producer threads can.
//!
//! ```text
//! cargo run --release --example compare_appenders -- --records 1000000
//! cargo run --release --example compare_appenders -- --records 1000000 --rounds 5 --dir /dev/shm/x
//! ```
//!
//! Options: `--records N` (lines per run, default 1,000,000), `--rounds R`
//! (default 3), `--dir PATH` (where the files go; default a fresh temporary
//! directory, removed at the end).
//!
//! # Variants
//!
//! - `ta-lossy`: `tracing_appender::non_blocking` in its default lossy mode
//!   (a full queue drops the line), over `tracing_appender::rolling::never`.
//! - `ta-blocking`: `NonBlockingBuilder::default().lossy(false)` over the
//!   same kind of file (a full queue makes the caller wait).
//! - `ta-bufwriter`: the same lossless `non_blocking`, over a 64 KiB
//!   `BufWriter` around the file: the worker then makes one `write` system
//!   call per 64 KiB instead of one per line (it flushes the buffer at the
//!   end of every batch it takes off its queue, so nothing waits in it).
//!   This is the configuration a careful user would pick.
//! - `tracing-audit`: `Appender::builder(path).max_file_size(None).build()`
//!   with the default `Backpressure::Block`, written with `write_line`.
//!
//! Each line is written with one call (`io::Write::write_all` on the
//! `NonBlocking` writer, `Appender::write_line` for ours), and every line
//! carries a unique sequence number in the last 12 digits of its
//! `event_id`, so the file can be checked line by line afterwards.
//!
//! # What is measured
//!
//! For each run (one variant, one producer-thread count, a fresh file):
//!
//! - **records/s**: lines sent divided by the time from the first send
//!   until every line has been handed to the operating system:
//!   `Appender::flush` returning for ours, the file reaching its expected
//!   length for `tracing-appender` (which has no flush). This is the
//!   like-for-like figure and the one the ratio uses.
//! - **incl. close**: the same, but the clock stops only once the guard
//!   has been dropped *and* every accepted line is in the file.
//!   `tracing-appender`'s `WorkerGuard` neither joins its worker nor waits
//!   more than about a second for it, so for its variants the clock also
//!   waits for the file. Dropping our guard fsyncs the file (a durability
//!   promise `tracing-appender` does not make), so this figure includes
//!   one fsync of the whole file for `tracing-audit` and none for the
//!   others.
//! - **MB/s**: records/s times the line length, in 10^6 bytes per second.
//! - **caller latency**: every write call is timed with two `Instant`
//!   reads and stored as nanoseconds in a preallocated `Vec<u32>` per
//!   thread (no sampling); percentiles are pooled over the producer threads
//!   of the round with the median records/s.
//! - **landed/sent**: lines found in the file over lines sent, the minimum
//!   over rounds. For `ta-blocking` and `tracing-audit` every sequence
//!   number must appear exactly once and every line must be intact;
//!   otherwise the program exits with status 1.
//!
//! Rounds interleave the variants (`for round { for threads in [1, 2] {
//! for variant { .. } } }`) so that machine noise hits all of them alike.
//! The last lines printed are `ratio_incl_close=X.XX`,
//! `ratio_vs_tracing_appender=X.XX` and `ratio_vs_ta_bufwriter=X.XX`:
//! median records/s of `tracing-audit` over median records/s of
//! `ta-blocking` (the first with the close and our fsync included, the
//! second without), then over `ta-bufwriter`, all with one producer
//! thread.

#[path = "support/mod.rs"]
mod support;

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use support::{fmt_ns, median, Args, Latency};
use tracing_appender::non_blocking::{NonBlocking, NonBlockingBuilder, WorkerGuard};
use tracing_audit::appender::{Appender, AppenderGuard};

/// A CRUD audit record as a JSON line. The 12 zeros at the end of
/// `event_id` are replaced by each line's sequence number.
const TEMPLATE: &str = concat!(
    r#"{"timestamp":"2026-11-22T10:15:42.123456Z","level":"INFO","kind":"AUDIT","#,
    r#""event_id":"7c0e5a9d-3f1b-4e2a-9d6c-000000000000","#,
    r#""action":"UPDATE","resource":"customer","resource_id":"cus_8f2k1","#,
    r#""actor":{"id":"usr_19384","role":"admin","ip":"10.24.8.131"},"#,
    r#""request_id":"req_3b9f0d27c1e4","outcome":"success","#,
    r#""changes":{"email":{"old":"j.doe@example.com","new":"jane.doe@example.com"}}}"#,
    "\n"
);
/// Where the sequence digits start: right after this.
const SEQ_MARKER: &str = r#""event_id":"7c0e5a9d-3f1b-4e2a-9d6c-"#;
const SEQ_DIGITS: usize = 12;

const THREAD_COUNTS: [usize; 2] = [1, 2];
/// How long to wait for `tracing-appender`'s detached worker to finish.
const LANDING_TIMEOUT: Duration = Duration::from_secs(300);
/// The buffer of `ta-bufwriter`.
const BUF_WRITER_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    TaLossy,
    TaBlocking,
    TaBufWriter,
    Ours,
}

impl Variant {
    const ALL: [Variant; 4] = [
        Variant::TaLossy,
        Variant::TaBlocking,
        Variant::TaBufWriter,
        Variant::Ours,
    ];

    fn label(self) -> &'static str {
        match self {
            Variant::TaLossy => "ta-lossy",
            Variant::TaBlocking => "ta-blocking",
            Variant::TaBufWriter => "ta-bufwriter",
            Variant::Ours => "tracing-audit",
        }
    }

    /// Whether losing a line is a failure.
    fn lossless(self) -> bool {
        self != Variant::TaLossy
    }
}

/// The template line with a settable sequence number.
#[derive(Clone)]
struct Line {
    bytes: Vec<u8>,
    seq_at: usize,
}

impl Line {
    fn new() -> Line {
        let seq_at = TEMPLATE.find(SEQ_MARKER).expect("marker in template") + SEQ_MARKER.len();
        Line {
            bytes: TEMPLATE.as_bytes().to_vec(),
            seq_at,
        }
    }

    fn set_seq(&mut self, mut seq: u64) {
        for b in self.bytes[self.seq_at..self.seq_at + SEQ_DIGITS]
            .iter_mut()
            .rev()
        {
            *b = b'0' + (seq % 10) as u8;
            seq /= 10;
        }
    }

    /// The sequence number of `line` if it is an intact copy of the template.
    fn parse(&self, line: &[u8]) -> Option<u64> {
        let end = self.seq_at + SEQ_DIGITS;
        if line.len() != self.bytes.len()
            || line[..self.seq_at] != self.bytes[..self.seq_at]
            || line[end..] != self.bytes[end..]
        {
            return None;
        }
        line[self.seq_at..end].iter().try_fold(0u64, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u64::from(d - b'0'))
        })
    }
}

/// A producer's handle on the appender under test.
#[derive(Clone)]
enum Sink {
    Ta(NonBlocking),
    Ours(Appender),
}

impl Sink {
    #[inline]
    fn write(&mut self, line: &[u8]) -> io::Result<()> {
        match self {
            Sink::Ta(w) => w.write_all(line),
            Sink::Ours(a) => a.write_line(line).map_err(io::Error::from),
        }
    }
}

enum Guard {
    Ta(WorkerGuard),
    Ours(AppenderGuard),
}

fn open(variant: Variant, path: &Path) -> io::Result<(Sink, Guard)> {
    let dir = path.parent().expect("file in a directory");
    let name = path.file_name().expect("file name");
    Ok(match variant {
        Variant::TaLossy => {
            let (w, g) =
                tracing_appender::non_blocking(tracing_appender::rolling::never(dir, name));
            (Sink::Ta(w), Guard::Ta(g))
        }
        Variant::TaBlocking => {
            let (w, g) = NonBlockingBuilder::default()
                .lossy(false)
                .finish(tracing_appender::rolling::never(dir, name));
            (Sink::Ta(w), Guard::Ta(g))
        }
        Variant::TaBufWriter => {
            let file = tracing_appender::rolling::never(dir, name);
            let (w, g) = NonBlockingBuilder::default()
                .lossy(false)
                .finish(io::BufWriter::with_capacity(BUF_WRITER_BYTES, file));
            (Sink::Ta(w), Guard::Ta(g))
        }
        Variant::Ours => {
            let (a, g) = Appender::builder(path).max_file_size(None).build()?;
            (Sink::Ours(a), Guard::Ours(g))
        }
    })
}

/// What one producer thread did.
struct Produced {
    latencies_ns: Vec<u32>,
    refused: u64,
}

fn produce(mut sink: Sink, seqs: std::ops::Range<u64>, barrier: &Barrier) -> Produced {
    let mut line = Line::new();
    let mut latencies_ns = Vec::with_capacity((seqs.end - seqs.start) as usize);
    let mut refused = 0;
    barrier.wait();
    for seq in seqs {
        line.set_seq(seq);
        let t0 = Instant::now();
        let result = sink.write(&line.bytes);
        let ns = t0.elapsed().as_nanos();
        latencies_ns.push(u32::try_from(ns).unwrap_or(u32::MAX));
        if result.is_err() {
            refused += 1;
        }
    }
    Produced {
        latencies_ns,
        refused,
    }
}

/// What the file held after a run.
#[derive(Debug, Default)]
struct Landing {
    lines: u64,
    distinct: u64,
    duplicates: u64,
    malformed: u64,
}

fn check_file(path: &Path, records: u64) -> io::Result<Landing> {
    let template = Line::new();
    let mut seen = vec![false; records as usize];
    let mut landing = Landing::default();
    let mut reader = BufReader::with_capacity(1 << 20, File::open(path)?);
    let mut buf = Vec::with_capacity(template.bytes.len() * 2);
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        if buf.last() == Some(&b'\n') {
            landing.lines += 1;
        }
        match template.parse(&buf) {
            Some(seq) if seq < records => {
                let slot = &mut seen[seq as usize];
                if *slot {
                    landing.duplicates += 1;
                } else {
                    *slot = true;
                    landing.distinct += 1;
                }
            }
            _ => landing.malformed += 1,
        }
    }
    Ok(landing)
}

/// Waits until the file at `path` is `bytes` long; false on timeout.
fn wait_for_length(path: &Path, bytes: u64) -> bool {
    let deadline = Instant::now() + LANDING_TIMEOUT;
    loop {
        let len = fs::metadata(path).map_or(0, |m| m.len());
        if len >= bytes {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_micros(200));
    }
}

struct Run {
    variant: Variant,
    threads: usize,
    /// First send until the guard is dropped and every line has landed.
    done: Duration,
    /// First send until every line was handed to the OS (before the guard
    /// is dropped).
    to_os: Duration,
    sent: u64,
    refused: u64,
    landing: Landing,
    latency: Latency,
}

impl Run {
    fn records_per_sec(&self) -> f64 {
        self.sent as f64 / self.to_os.as_secs_f64()
    }

    fn closed_per_sec(&self) -> f64 {
        self.sent as f64 / self.done.as_secs_f64()
    }

    fn lost(&self) -> u64 {
        self.sent - self.landing.distinct
    }

    fn intact(&self) -> bool {
        self.lost() == 0 && self.landing.duplicates == 0 && self.landing.malformed == 0
    }
}

fn run_once(variant: Variant, threads: usize, records: u64, path: &Path) -> io::Result<Run> {
    let line_len = TEMPLATE.len() as u64;
    let (sink, guard) = open(variant, path)?;
    let barrier = Arc::new(Barrier::new(threads + 1));
    let per_thread = records / threads as u64;
    let producers: Vec<_> = (0..threads as u64)
        .map(|i| {
            let start = i * per_thread;
            let end = if i + 1 == threads as u64 {
                records
            } else {
                start + per_thread
            };
            let sink = sink.clone();
            let barrier = barrier.clone();
            thread::Builder::new()
                .name(format!("producer-{i}"))
                .spawn(move || produce(sink, start..end, &barrier))
        })
        .collect::<io::Result<_>>()?;

    // The producers are already waiting: this releases them.
    let start = Instant::now();
    barrier.wait();
    let mut latencies = Vec::with_capacity(records as usize);
    let mut refused = 0;
    for producer in producers {
        let produced = producer.join().expect("producer thread panicked");
        latencies.extend_from_slice(&produced.latencies_ns);
        refused += produced.refused;
    }

    // Every accepted line handed to the OS.
    let (to_os, expected_lines) = match &sink {
        Sink::Ours(appender) => {
            appender.flush()?;
            (start.elapsed(), records - refused)
        }
        Sink::Ta(writer) => {
            let expected = records - refused - writer.error_counter().dropped_lines() as u64;
            if !wait_for_length(path, expected * line_len) {
                eprintln!(
                    "warning: {} did not land every line within {LANDING_TIMEOUT:?}",
                    variant.label()
                );
            }
            (start.elapsed(), expected)
        }
    };
    drop(sink);
    match guard {
        Guard::Ta(g) => drop(g),
        Guard::Ours(g) => drop(g),
    }
    // tracing-appender's guard does not join its worker; make sure
    // nothing is still on its way before the clock stops.
    wait_for_length(path, expected_lines * line_len);
    let done = start.elapsed();

    let landing = check_file(path, records)?;
    fs::remove_file(path)?;
    Ok(Run {
        variant,
        threads,
        done,
        to_os,
        sent: records,
        refused,
        landing,
        latency: Latency::of(latencies),
    })
}

fn main() -> ExitCode {
    support::main("compare_appenders", 10u64.pow(SEQ_DIGITS as u32) - 1, run)
}

/// Runs every round and prints the report; false if a lossless variant
/// lost or damaged a line.
fn run(args: &Args) -> io::Result<bool> {
    let tempdir;
    let dir = match &args.dir {
        Some(dir) => {
            fs::create_dir_all(dir)?;
            dir.clone()
        }
        None => {
            tempdir = tempfile::tempdir()?;
            tempdir.path().to_path_buf()
        }
    };
    let line_len = TEMPLATE.len();
    println!(
        "records={} rounds={} line={} bytes dir={} cpus={}",
        args.records,
        args.rounds,
        line_len,
        dir.display(),
        thread::available_parallelism().map_or(0, |n| n.get()),
    );
    println!("latency: every call timed, pooled over threads, from the median round");
    println!();
    println!(
        "{:>5} {:<14} {:>3} {:>12} {:>12} {:>9} {:>9} {:>9} {:>9}",
        "round", "variant", "thr", "rec/s", "incl. close", "p50", "p99", "p99.9", "landed"
    );

    let mut runs = Vec::new();
    for round in 0..args.rounds {
        for threads in THREAD_COUNTS {
            for variant in Variant::ALL {
                let path = dir.join(format!(
                    "compare-{}-r{round}-t{threads}-{}.log",
                    std::process::id(),
                    variant.label()
                ));
                let run = run_once(variant, threads, args.records, &path)?;
                println!(
                    "{:>5} {:<14} {:>3} {:>12.0} {:>12.0} {:>9} {:>9} {:>9} {:>9}",
                    round,
                    variant.label(),
                    threads,
                    run.records_per_sec(),
                    run.closed_per_sec(),
                    fmt_ns(run.latency.p50),
                    fmt_ns(run.latency.p99),
                    fmt_ns(run.latency.p999),
                    run.landing.lines,
                );
                runs.push(run);
            }
        }
    }

    println!();
    println!(
        "{:<14} {:>3} {:>12} {:>8} {:>12} {:>9} {:>9} {:>9} {:>19}",
        "variant",
        "thr",
        "rec/s (med)",
        "MB/s",
        "incl. close",
        "p50",
        "p99",
        "p99.9",
        "landed/sent (min)"
    );
    let mut ok = true;
    let mut ratio_parts = (0.0, 0.0);
    let mut buffered = 0.0;
    let mut close_parts = (0.0, 0.0);
    for threads in THREAD_COUNTS {
        for variant in Variant::ALL {
            let mut these: Vec<&Run> = runs
                .iter()
                .filter(|r| r.variant == variant && r.threads == threads)
                .collect();
            these.sort_by(|a, b| a.records_per_sec().total_cmp(&b.records_per_sec()));
            let rate = median(these.iter().map(|r| r.records_per_sec()).collect());
            let closed = median(these.iter().map(|r| r.closed_per_sec()).collect());
            let latency = these[these.len() / 2].latency;
            let worst = these
                .iter()
                .min_by_key(|r| r.landing.lines)
                .expect("at least one round");
            println!(
                "{:<14} {:>3} {:>12.0} {:>8.1} {:>12.0} {:>9} {:>9} {:>9} {:>19}",
                variant.label(),
                threads,
                rate,
                rate * line_len as f64 / 1e6,
                closed,
                fmt_ns(latency.p50),
                fmt_ns(latency.p99),
                fmt_ns(latency.p999),
                format!("{}/{}", worst.landing.lines, worst.sent),
            );
            for r in &these {
                if r.refused > 0 || r.landing.duplicates > 0 || r.landing.malformed > 0 {
                    eprintln!(
                        "{} thr={}: {} refused, {} duplicate, {} malformed line(s)",
                        variant.label(),
                        threads,
                        r.refused,
                        r.landing.duplicates,
                        r.landing.malformed
                    );
                }
                if variant.lossless() && !r.intact() {
                    eprintln!(
                        "FAIL: {} thr={} lost {} of {} line(s)",
                        variant.label(),
                        threads,
                        r.lost(),
                        r.sent
                    );
                    ok = false;
                }
            }
            if threads == 1 {
                match variant {
                    Variant::Ours => (ratio_parts.0, close_parts.0) = (rate, closed),
                    Variant::TaBlocking => (ratio_parts.1, close_parts.1) = (rate, closed),
                    Variant::TaBufWriter => buffered = rate,
                    Variant::TaLossy => {}
                }
            }
        }
    }
    println!();
    println!("ratio_incl_close={:.2}", close_parts.0 / close_parts.1);
    println!(
        "ratio_vs_tracing_appender={:.2}",
        ratio_parts.0 / ratio_parts.1
    );
    println!("ratio_vs_ta_bufwriter={:.2}", ratio_parts.0 / buffered);
    Ok(ok)
}
