//! Compares the whole logging stack of tracing-audit (layer, JSON record,
//! appender) with the usual `tracing` JSON stack (`tracing_subscriber`'s
//! JSON `fmt` layer over `tracing_appender::non_blocking`), configured two
//! ways, and with the raw limit (hand-written serde into a buffered file on
//! the caller's thread) on the same record: one CRUD `UPDATE` of `Product`
//! 42 with its changes, made inside a request span, as fast as one or two
//! producer threads can.
//!
//! ```text
//! cargo run --release --example compare_stacks -- --records 1000000
//! cargo run --release --example compare_stacks -- --records 1000000 --rounds 5 --dir /dev/shm/x
//! ```
//!
//! Options: `--records N` (records per run, default 1,000,000), `--rounds R`
//! (default 3), `--dir PATH` (where the files go; default a fresh temporary
//! directory, removed at the end).
//!
//! # Variants
//!
//! Every variant makes its records inside the same span,
//! `info_span!("request", user_id = "7", request_id = "0193a2b4-…", tenant =
//! "acme")`, entered once per producer thread before the clock starts. The
//! changes (`{"price":{"old":10.99,"new":12.99}}`) are built once, outside
//! the loop.
//!
//! - `tj-default`: `tracing_subscriber::fmt::layer().json()` in its
//!   default configuration (event fields under `fields`, the current span
//!   with its fields under `span`, the span list under `spans`, so the span
//!   is written twice) on
//!   `tracing_subscriber::registry()`, writing to
//!   `NonBlockingBuilder::default().lossy(false)` (a full queue makes the
//!   caller wait: nothing is lost) over `tracing_appender::rolling::never`.
//!   Each record is
//!   `tracing::info!(target: "audit.crud", model = "Product", event_type =
//!   "UPDATE", instance_id = "42", changes = %changes_json, seq, "UPDATE
//!   event for Product (id: 42)")`, `changes_json` being the changes
//!   serialized once to a `String`.
//! - `tj-careful`: the same stack as a careful user would configure it for
//!   an audit file: `.json().flatten_event(true).with_current_span(true)
//!   .with_span_list(false)` (event fields at the top level, the current
//!   span once under `span`, no span list), the same lossless
//!   `non_blocking` and the same record.
//! - `raw-serde`: no `tracing` at all, the limit of hand-written code: each
//!   producer thread serializes a `#[derive(Serialize)]` struct with the
//!   same keys as a `tracing-audit` line (a timestamp formatted by `time`
//!   with six decimals, a `Uuid::now_v7()` event id with uuid's `fast-rng`
//!   so that no id costs a system call, the same changes, the span's three
//!   values passed in) with `serde_json::to_writer` into its own
//!   `BufWriter` (64 KiB) over its own file, on the caller's thread: no
//!   queue, no lock, no redaction, no caps, no escaping beyond serde's.
//! - `tracing-audit`: `tracing_audit::layer().log_dir(dir)
//!   .max_file_size(None).build()` on `tracing_subscriber::registry()` (no
//!   console), each record being `tracing_audit::update!(model: "Product",
//!   id: 42, changes: changes, extra: seq)`, `changes` a `Changes` passed
//!   by reference. `max_file_size(None)` turns size rotation off, as
//!   `rolling::never` does, so that every line stays in one file to be
//!   checked (the default would rotate at 10 MiB and keep 5 files).
//!
//! Every record carries its sequence number once, as a number: the field
//! `seq` of the `tj-*` variants (`"fields":{…,"seq":N}`, or at the top
//! level in `tj-careful`), the `extra` of `tracing-audit` and `raw-serde`
//! (`"extra":N`, which is `{}` without it). The id stays 42 everywhere, so
//! the message and `instance_id` are the same. The rest of each line is
//! what each stack writes: a timestamp, the level, the target, the
//! message, the record's fields and the span's fields for all; the `tj-*`
//! variants add the span's name (`tj-default` repeats the span in the span
//! list), `tracing-audit` and `raw-serde` add an `event_id` (a UUID), an empty
//! `user_info` and the `service_name`, and writes the changes as a JSON
//! object instead of an escaped string. The average line length of each
//! variant is printed, and one line of each is shown.
//!
//! # What is measured
//!
//! For each run (one variant, one producer-thread count, a fresh directory
//! and a fresh subscriber, installed with `tracing::dispatcher::with_default`
//! in each producer thread):
//!
//! - **records/s**: records made divided by the time from the first record
//!   until every line has been handed to the operating system:
//!   `AuditGuard::flush` returning for ours; each producer's `BufWriter`
//!   flushed for `raw-serde`; for the `tj-*` variants (whose
//!   `non_blocking` has no flush) the file having received one newline per
//!   record. The newlines are counted by a thin `io::Write` adapter between
//!   `non_blocking`'s worker and the `rolling::never` file, which counts
//!   the newline bytes of each successful `write` into the file (a byte
//!   count over each ~480-byte line, on the worker thread). Reading the
//!   file back instead would cost the measuring thread a second pass over
//!   it, or a core of its own while the run goes on. This is the figure
//!   the ratio uses.
//! - **MB/s**: records/s times the variant's average line length, in 10^6
//!   bytes per second.
//! - **caller latency**: every record call is timed with two `Instant`
//!   reads and stored as nanoseconds in a preallocated `Vec<u32>` per
//!   thread (no sampling); percentiles are pooled over the producer threads
//!   of the round with the median records/s. This is the time the
//!   application thread spends in the `tracing` macro: formatting the line
//!   and queueing it (and waiting, when the queue is full).
//! - **line**: the average length of the lines in the file, newline
//!   included.
//! - **landed/sent**: lines found in the file over records made, the
//!   minimum over rounds. Every line is parsed as JSON and must be an
//!   intact record (model, event type, id, message, changes and the span's
//!   `user_id`, `request_id` and `tenant` as made) and every sequence
//!   number must appear exactly once; otherwise the program exits with
//!   status 1. Both variants are lossless.
//!
//! Rounds interleave the variants (`for round { for threads in [1, 2] {
//! for variant { .. } } }`) so that machine noise hits both alike; the
//! variants' order is rotated by one each round, and `tracing-audit` and
//! `ta+chain` swap places every other round, so that no variant always
//! runs first or after the same one. The last
//! lines printed are `ratio_vs_tracing_json=X.XX` (median records/s of
//! `tracing-audit` over median records/s of `tj-careful`, both with one
//! producer thread), `ratio_vs_tracing_json_default=X.XX` (the same over
//! `tj-default`) and `ratio_vs_raw_limit=X.XX` (over `raw-serde`). With the
//! feature `alert`, `rules_cost_ratio=X.XX` follows: the crate's stack with
//! five alert rules on over the same with none (`support/rules_cost.rs`).
//!
//! With `--features chain` a variant `ta+chain` runs tracing-audit with the
//! hash chain on (checkpoints at their defaults), in the same rounds; its
//! chain is verified after each run (a break fails the run), and
//! `chain_cost_ratio=X.XX` is its median records/s with one producer over
//! `tracing-audit`'s (goal at least 0.90).

#[cfg(feature = "alert")]
#[path = "support/rules_cost.rs"]
mod rules_cost;
#[path = "support/mod.rs"]
mod support;

use std::borrow::Cow;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use support::{fmt_ns, median, Args, Latency};
use tracing::Dispatch;
use tracing_appender::non_blocking::{NonBlocking, NonBlockingBuilder, WorkerGuard};
use tracing_appender::rolling::RollingFileAppender;
use tracing_audit::AuditGuard;
use tracing_audit::Changes;
use tracing_audit::Kind;
use tracing_subscriber::layer::SubscriberExt;

const USER_ID: &str = "7";
const REQUEST_ID: &str = "0193a2b4-7c1e-7000-8000-000000000001";
const TENANT: &str = "acme";
const MESSAGE: &str = "UPDATE event for Product (id: 42)";
/// The `tracing-json` variants' file, inside the run's directory.
const TRACING_FILE: &str = "tracing.log";
/// The buffer of each `raw-serde` producer.
const RAW_BUFFER: usize = 64 * 1024;

const THREAD_COUNTS: [usize; 2] = [1, 2];
/// How long to wait for `tracing-appender`'s worker to write every line.
const LANDING_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// `fmt().json()` as it comes.
    TjDefault,
    /// `fmt().json()` as a careful user configures it.
    TjCareful,
    /// Hand-written serde into a buffered file, no `tracing`.
    RawSerde,
    Ours,
    /// `Ours` with the hash chain on (feature `chain`).
    #[cfg(feature = "chain")]
    OursChain,
}

impl Variant {
    /// Every variant, in the order each round runs them.
    fn all() -> Vec<Variant> {
        #[allow(unused_mut)]
        let mut all = vec![
            Variant::TjDefault,
            Variant::TjCareful,
            Variant::RawSerde,
            Variant::Ours,
        ];
        #[cfg(feature = "chain")]
        all.push(Variant::OursChain);
        all
    }

    fn label(self) -> &'static str {
        match self {
            Variant::TjDefault => "tj-default",
            Variant::TjCareful => "tj-careful",
            Variant::RawSerde => "raw-serde",
            Variant::Ours => "tracing-audit",
            #[cfg(feature = "chain")]
            Variant::OursChain => "ta+chain",
        }
    }
}

/// The record's changes, built once per process; both variants write these.
struct Payload {
    changes: Changes,
    /// `changes` serialized once, for the `tracing-json` variants.
    changes_json: String,
    /// `changes` as a JSON value, to check the lines against.
    changes_value: serde_json::Value,
}

impl Payload {
    fn new() -> Payload {
        let changes = Changes::new().with("price", 10.99, 12.99);
        let changes_json = serde_json::to_string(&changes).expect("changes serialize");
        let changes_value = serde_json::from_str(&changes_json).expect("changes parse");
        Payload {
            changes,
            changes_json,
            changes_value,
        }
    }
}

/// The order of the variants in round `round`: rotated by one each round,
/// so that no variant always runs first (cold caches) or after the same
/// one, and `tracing-audit` and `ta+chain` swapped every other round, so
/// that each runs first of the two as often as the other.
fn round_order(round: usize) -> Vec<Variant> {
    let mut order = Variant::all();
    let len = order.len();
    order.rotate_left(round % len);
    #[cfg(feature = "chain")]
    if round % 2 == 1 {
        let at = |v: Variant| order.iter().position(|&o| o == v);
        if let (Some(a), Some(b)) = (at(Variant::Ours), at(Variant::OursChain)) {
            order.swap(a, b);
        }
    }
    order
}

/// The request span both variants make their records in.
fn request_span() -> tracing::Span {
    tracing::info_span!(
        "request",
        user_id = USER_ID,
        request_id = REQUEST_ID,
        tenant = TENANT
    )
}

/// Sits between `non_blocking`'s worker and the file: counts the newline
/// bytes of every successful write, so that the run knows when every line
/// is in the file without reading it back.
struct CountLines {
    file: RollingFileAppender,
    newlines: Arc<AtomicU64>,
}

impl Write for CountLines {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        let lines = buf[..n].iter().filter(|&&b| b == b'\n').count();
        self.newlines.fetch_add(lines as u64, Ordering::Release);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// One run's subscriber and what it takes to know its lines are written.
enum Stack {
    TracingJson {
        dispatch: Dispatch,
        writer: NonBlocking,
        guard: WorkerGuard,
        newlines: Arc<AtomicU64>,
    },
    Ours {
        dispatch: Dispatch,
        guard: AuditGuard,
    },
    /// No subscriber: each producer writes its own file.
    Raw { dispatch: Dispatch },
}

impl Stack {
    fn open(variant: Variant, dir: &Path) -> io::Result<Stack> {
        Ok(match variant {
            Variant::TjDefault | Variant::TjCareful => {
                let newlines = Arc::new(AtomicU64::new(0));
                let file = CountLines {
                    file: tracing_appender::rolling::never(dir, TRACING_FILE),
                    newlines: Arc::clone(&newlines),
                };
                let (writer, guard) = NonBlockingBuilder::default().lossy(false).finish(file);
                let json = tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(writer.clone());
                let dispatch = if variant == Variant::TjCareful {
                    Dispatch::new(
                        tracing_subscriber::registry().with(
                            json.flatten_event(true)
                                .with_current_span(true)
                                .with_span_list(false),
                        ),
                    )
                } else {
                    Dispatch::new(tracing_subscriber::registry().with(json))
                };
                Stack::TracingJson {
                    dispatch,
                    writer,
                    guard,
                    newlines,
                }
            }
            Variant::Ours => {
                let (layer, guard) = tracing_audit::layer()
                    .log_dir(dir)
                    .max_file_size(None)
                    .build()
                    .map_err(io::Error::other)?;
                Stack::Ours {
                    dispatch: Dispatch::new(tracing_subscriber::registry().with(layer)),
                    guard,
                }
            }
            Variant::RawSerde => Stack::Raw {
                dispatch: Dispatch::none(),
            },
            #[cfg(feature = "chain")]
            Variant::OursChain => chain_stack(dir)?,
        })
    }

    fn dispatch(&self) -> &Dispatch {
        match self {
            Stack::TracingJson { dispatch, .. }
            | Stack::Ours { dispatch, .. }
            | Stack::Raw { dispatch } => dispatch,
        }
    }

    /// The files the run's lines land in.
    fn paths(&self, dir: &Path, threads: usize) -> Vec<PathBuf> {
        match self {
            Stack::TracingJson { .. } => vec![dir.join(TRACING_FILE)],
            Stack::Ours { guard, .. } => vec![guard
                .path(Kind::Audit)
                .expect("the audit file is written by the built-in appender")
                .to_path_buf()],
            Stack::Raw { .. } => (0..threads).map(|i| raw_file(dir, i)).collect(),
        }
    }
}

/// `Ours` with the hash chain on audit.log, checkpoints at their defaults.
#[cfg(feature = "chain")]
fn chain_stack(dir: &Path) -> io::Result<Stack> {
    let (layer, guard) = tracing_audit::layer()
        .log_dir(dir)
        .max_file_size(None)
        .chain(tracing_audit::chain::ChainOptions::new())
        .build()
        .map_err(io::Error::other)?;
    Ok(Stack::Ours {
        dispatch: Dispatch::new(tracing_subscriber::registry().with(layer)),
        guard,
    })
}

/// The variants that go through tracing-audit's layer.
fn is_ours(variant: Variant) -> bool {
    #[cfg(feature = "chain")]
    if variant == Variant::OursChain {
        return true;
    }
    variant == Variant::Ours
}

/// The chain variant's start records, which are not the run's records.
fn chain_start_line(variant: Variant, line: &[u8]) -> bool {
    #[cfg(feature = "chain")]
    if variant == Variant::OursChain {
        let needle = br#""name":"audit.chain""#;
        return line.windows(needle.len()).any(|w| w == needle);
    }
    let _ = (variant, line);
    false
}

/// Whether the chain variant's files verify (other variants: true).
#[cfg(feature = "chain")]
fn chain_verifies(variant: Variant, dir: &Path) -> io::Result<bool> {
    if variant != Variant::OursChain {
        return Ok(true);
    }
    let report = tracing_audit::chain::verify(dir, &tracing_audit::chain::VerifyOptions::new())
        .map_err(io::Error::other)?;
    if let Some(b) = report.first_break() {
        eprintln!("FAIL: the chain does not verify: {b}");
    }
    Ok(report.intact())
}

#[cfg(not(feature = "chain"))]
fn chain_verifies(_variant: Variant, _dir: &Path) -> io::Result<bool> {
    Ok(true)
}

/// The file of `raw-serde` producer `i`.
fn raw_file(dir: &Path, i: usize) -> PathBuf {
    dir.join(format!("raw-{i}.log"))
}

/// A `raw-serde` record: the keys of a `tracing-audit` CRUD line.
#[derive(Serialize)]
struct RawRecord<'a> {
    timestamp: &'a str,
    level: &'static str,
    name: &'static str,
    event_id: &'a str,
    message: &'static str,
    service_name: &'static str,
    model: &'static str,
    event_type: &'static str,
    instance_id: &'static str,
    changes: &'a Changes,
    extra: u64,
    user_id: &'a str,
    user_info: RawEmpty,
    request_id: &'a str,
    tenant: &'a str,
}

/// `{}`.
#[derive(Serialize)]
struct RawEmpty {}

/// The RFC 3339 form with six decimals that `tracing-audit` writes.
const RAW_TIME: &[time::format_description::FormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
);

/// Writes `seqs` as `raw-serde` records into `path`, flushing at the end.
fn produce_raw(
    path: &Path,
    payload: &Payload,
    seqs: std::ops::Range<u64>,
    latencies_ns: &mut Vec<u32>,
) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(RAW_BUFFER, File::create(path)?);
    let mut stamp = Vec::with_capacity(32);
    let mut id = uuid::Uuid::encode_buffer();
    for seq in seqs {
        let t0 = Instant::now();
        stamp.clear();
        time::OffsetDateTime::now_utc()
            .format_into(&mut stamp, RAW_TIME)
            .map_err(io::Error::other)?;
        let record = RawRecord {
            timestamp: std::str::from_utf8(&stamp).map_err(io::Error::other)?,
            level: "AUDIT",
            name: "audit.crud",
            event_id: uuid::Uuid::now_v7().hyphenated().encode_lower(&mut id),
            message: MESSAGE,
            service_name: "compare_stacks",
            model: "Product",
            event_type: "UPDATE",
            instance_id: "42",
            changes: &payload.changes,
            extra: seq,
            user_id: USER_ID,
            user_info: RawEmpty {},
            request_id: REQUEST_ID,
            tenant: TENANT,
        };
        serde_json::to_writer(&mut out, &record)?;
        out.write_all(b"\n")?;
        let ns = t0.elapsed().as_nanos();
        latencies_ns.push(u32::try_from(ns).unwrap_or(u32::MAX));
    }
    out.flush()
}

/// What one producer thread did.
struct Produced {
    latencies_ns: Vec<u32>,
}

/// Makes the records `seqs` through `dispatch`, timing each call.
fn produce(
    variant: Variant,
    dispatch: &Dispatch,
    payload: &Payload,
    seqs: std::ops::Range<u64>,
    barrier: &Barrier,
    raw_path: &Path,
) -> io::Result<Produced> {
    let mut latencies_ns = Vec::with_capacity((seqs.end - seqs.start) as usize);
    if variant == Variant::RawSerde {
        barrier.wait();
        produce_raw(raw_path, payload, seqs, &mut latencies_ns)?;
        return Ok(Produced { latencies_ns });
    }
    tracing::dispatcher::with_default(dispatch, || {
        let span = request_span();
        let _entered = span.enter();
        barrier.wait();
        match variant {
            Variant::TjDefault | Variant::TjCareful => {
                let changes_json = payload.changes_json.as_str();
                for seq in seqs {
                    let t0 = Instant::now();
                    tracing::info!(
                        target: "audit.crud",
                        model = "Product",
                        event_type = "UPDATE",
                        instance_id = "42",
                        changes = %changes_json,
                        seq,
                        "UPDATE event for Product (id: 42)"
                    );
                    let ns = t0.elapsed().as_nanos();
                    latencies_ns.push(u32::try_from(ns).unwrap_or(u32::MAX));
                }
            }
            _ if is_ours(variant) => {
                let changes = &payload.changes;
                for seq in seqs {
                    let t0 = Instant::now();
                    tracing_audit::update!(model: "Product", id: 42, changes: changes, extra: seq);
                    let ns = t0.elapsed().as_nanos();
                    latencies_ns.push(u32::try_from(ns).unwrap_or(u32::MAX));
                }
            }
            _ => unreachable!("raw-serde makes no tracing records"),
        }
    });
    Ok(Produced { latencies_ns })
}

/// A `tj-default` line: what the JSON `fmt` layer writes by default.
#[derive(Deserialize)]
struct TracingLine<'a> {
    #[serde(borrow)]
    fields: TracingFields<'a>,
    #[serde(borrow)]
    target: Cow<'a, str>,
    #[serde(borrow)]
    span: SpanFields<'a>,
}

#[derive(Deserialize)]
struct TracingFields<'a> {
    #[serde(borrow)]
    message: Cow<'a, str>,
    #[serde(borrow)]
    model: Cow<'a, str>,
    #[serde(borrow)]
    event_type: Cow<'a, str>,
    #[serde(borrow)]
    instance_id: Cow<'a, str>,
    /// The changes, as the escaped JSON text they were given as.
    #[serde(borrow)]
    changes: Cow<'a, str>,
    seq: u64,
}

#[derive(Deserialize)]
struct SpanFields<'a> {
    #[serde(borrow)]
    user_id: Cow<'a, str>,
    #[serde(borrow)]
    request_id: Cow<'a, str>,
    #[serde(borrow)]
    tenant: Cow<'a, str>,
}

/// A `tj-careful` line: the event's fields flattened, the span once.
#[derive(Deserialize)]
struct CarefulLine<'a> {
    #[serde(flatten, borrow)]
    fields: TracingFields<'a>,
    #[serde(borrow)]
    target: Cow<'a, str>,
    #[serde(borrow)]
    span: SpanFields<'a>,
}

/// A `tracing-audit` (or `raw-serde`) line: an `AUDIT` record of kind CRUD.
#[derive(Deserialize)]
struct OurLine<'a> {
    #[serde(borrow)]
    level: Cow<'a, str>,
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow)]
    message: Cow<'a, str>,
    #[serde(borrow)]
    model: Cow<'a, str>,
    #[serde(borrow)]
    event_type: Cow<'a, str>,
    #[serde(borrow)]
    instance_id: Cow<'a, str>,
    changes: serde_json::Value,
    extra: u64,
    #[serde(borrow)]
    user_id: Cow<'a, str>,
    #[serde(borrow)]
    request_id: Cow<'a, str>,
    #[serde(borrow)]
    tenant: Cow<'a, str>,
}

/// The sequence number of a `tj-*` record if it is intact.
fn tracing_seq(
    target: &str,
    f: &TracingFields<'_>,
    span: &SpanFields<'_>,
    payload: &Payload,
) -> Option<u64> {
    (target == "audit.crud"
        && f.message == MESSAGE
        && f.model == "Product"
        && f.event_type == "UPDATE"
        && f.instance_id == "42"
        && f.changes == payload.changes_json
        && span.user_id == USER_ID
        && span.request_id == REQUEST_ID
        && span.tenant == TENANT)
        .then_some(f.seq)
}

/// The sequence number of `line` if it is an intact record of `variant`.
fn parse_line(variant: Variant, line: &[u8], payload: &Payload) -> Option<u64> {
    let line = line.strip_suffix(b"\n")?;
    match variant {
        Variant::TjDefault => {
            let l: TracingLine<'_> = serde_json::from_slice(line).ok()?;
            tracing_seq(&l.target, &l.fields, &l.span, payload)
        }
        Variant::TjCareful => {
            let l: CarefulLine<'_> = serde_json::from_slice(line).ok()?;
            tracing_seq(&l.target, &l.fields, &l.span, payload)
        }
        _ => {
            let l: OurLine<'_> = serde_json::from_slice(line).ok()?;
            (l.level == "AUDIT"
                && l.name == "audit.crud"
                && l.message == MESSAGE
                && l.model == "Product"
                && l.event_type == "UPDATE"
                && l.instance_id == "42"
                && l.changes == payload.changes_value
                && l.user_id == USER_ID
                && l.request_id == REQUEST_ID
                && l.tenant == TENANT)
                .then_some(l.extra)
        }
    }
}

/// What the file held after a run.
#[derive(Debug, Default)]
struct Landing {
    lines: u64,
    bytes: u64,
    distinct: u64,
    duplicates: u64,
    malformed: u64,
    /// The first line of the file.
    sample: String,
}

impl Landing {
    fn line_len(&self) -> f64 {
        self.bytes as f64 / self.lines.max(1) as f64
    }
}

fn check_files(
    variant: Variant,
    paths: &[PathBuf],
    records: u64,
    payload: &Payload,
) -> io::Result<Landing> {
    let mut seen = vec![false; records as usize];
    let mut landing = Landing::default();
    for path in paths {
        check_file(variant, path, payload, &mut seen, &mut landing)?;
    }
    Ok(landing)
}

fn check_file(
    variant: Variant,
    path: &Path,
    payload: &Payload,
    seen: &mut [bool],
    landing: &mut Landing,
) -> io::Result<()> {
    let records = seen.len() as u64;
    let mut reader = BufReader::with_capacity(1 << 20, File::open(path)?);
    let mut buf = Vec::with_capacity(1024);
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        if chain_start_line(variant, &buf) {
            continue;
        }
        if buf.last() == Some(&b'\n') {
            landing.lines += 1;
        }
        landing.bytes += buf.len() as u64;
        if landing.sample.is_empty() {
            landing.sample = String::from_utf8_lossy(buf.trim_ascii_end()).into_owned();
        }
        match parse_line(variant, &buf, payload) {
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
    Ok(())
}

/// Waits until `counter` reaches `target`; false on timeout.
fn wait_for_count(counter: &AtomicU64, target: u64) -> bool {
    let deadline = Instant::now() + LANDING_TIMEOUT;
    loop {
        if counter.load(Ordering::Acquire) >= target {
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
    /// First record until every line was handed to the OS.
    to_os: Duration,
    sent: u64,
    /// Lines the stack itself reports as not written.
    unwritten: u64,
    landing: Landing,
    latency: Latency,
}

impl Run {
    fn records_per_sec(&self) -> f64 {
        self.sent as f64 / self.to_os.as_secs_f64()
    }

    fn lost(&self) -> u64 {
        self.sent - self.landing.distinct
    }

    fn intact(&self) -> bool {
        self.lost() == 0
            && self.unwritten == 0
            && self.landing.duplicates == 0
            && self.landing.malformed == 0
    }
}

fn run_once(
    variant: Variant,
    threads: usize,
    records: u64,
    dir: &Path,
    payload: &Payload,
) -> io::Result<Run> {
    fs::create_dir_all(dir)?;
    let stack = Stack::open(variant, dir)?;
    let paths = stack.paths(dir, threads);
    let barrier = Barrier::new(threads + 1);
    let per_thread = records / threads as u64;
    let (start, latencies) = thread::scope(|s| -> io::Result<_> {
        let producers: Vec<_> = (0..threads as u64)
            .map(|i| {
                let start = i * per_thread;
                let end = if i + 1 == threads as u64 {
                    records
                } else {
                    start + per_thread
                };
                let dispatch = stack.dispatch();
                let barrier = &barrier;
                let raw_path = raw_file(dir, i as usize);
                thread::Builder::new()
                    .name(format!("producer-{i}"))
                    .spawn_scoped(s, move || {
                        produce(variant, dispatch, payload, start..end, barrier, &raw_path)
                    })
            })
            .collect::<io::Result<_>>()?;

        // The producers are already waiting, in their span: this releases
        // them.
        let start = Instant::now();
        barrier.wait();
        let mut latencies = Vec::with_capacity(records as usize);
        for producer in producers {
            let produced = producer.join().expect("producer thread panicked")?;
            latencies.extend_from_slice(&produced.latencies_ns);
        }
        Ok((start, latencies))
    })?;

    // Every line handed to the OS.
    let (to_os, unwritten) = match &stack {
        Stack::Ours { guard, .. } => {
            guard.flush()?;
            (start.elapsed(), guard.unwritten())
        }
        // Each producer flushed its own file before it returned.
        Stack::Raw { .. } => (start.elapsed(), 0),
        Stack::TracingJson {
            writer, newlines, ..
        } => {
            let dropped = writer.error_counter().dropped_lines() as u64;
            if !wait_for_count(newlines, records - dropped) {
                eprintln!(
                    "warning: {} did not land every line within {LANDING_TIMEOUT:?}",
                    variant.label()
                );
            }
            (start.elapsed(), dropped)
        }
    };
    match stack {
        Stack::TracingJson {
            dispatch,
            writer,
            guard,
            ..
        } => {
            drop(dispatch);
            drop(writer);
            drop(guard);
        }
        Stack::Ours { dispatch, guard } => {
            drop(dispatch);
            drop(guard);
        }
        Stack::Raw { .. } => {}
    }

    let mut landing = check_files(variant, &paths, records, payload)?;
    if !chain_verifies(variant, dir)? {
        landing.malformed += 1;
    }
    fs::remove_dir_all(dir)?;
    Ok(Run {
        variant,
        threads,
        to_os,
        sent: records,
        unwritten,
        landing,
        latency: Latency::of(latencies),
    })
}

fn main() -> ExitCode {
    support::main("compare_stacks", u64::from(u32::MAX), run)
}

/// Runs every round and prints the report; false if a variant lost or
/// damaged a line.
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
    let payload = Payload::new();
    println!(
        "records={} rounds={} dir={} cpus={}",
        args.records,
        args.rounds,
        dir.display(),
        thread::available_parallelism().map_or(0, |n| n.get()),
    );
    println!("latency: every call timed, pooled over threads, from the median round");
    println!();
    println!(
        "{:>5} {:<14} {:>3} {:>12} {:>9} {:>9} {:>9} {:>9} {:>6}",
        "round", "variant", "thr", "rec/s", "p50", "p99", "p99.9", "landed", "line"
    );

    let mut runs = Vec::new();
    for round in 0..args.rounds {
        for threads in THREAD_COUNTS {
            for variant in round_order(round) {
                let run_dir = dir.join(format!(
                    "compare-{}-r{round}-t{threads}-{}",
                    std::process::id(),
                    variant.label()
                ));
                let run = run_once(variant, threads, args.records, &run_dir, &payload)?;
                println!(
                    "{:>5} {:<14} {:>3} {:>12.0} {:>9} {:>9} {:>9} {:>9} {:>6.1}",
                    round,
                    variant.label(),
                    threads,
                    run.records_per_sec(),
                    fmt_ns(run.latency.p50),
                    fmt_ns(run.latency.p99),
                    fmt_ns(run.latency.p999),
                    run.landing.lines,
                    run.landing.line_len(),
                );
                runs.push(run);
            }
        }
    }

    println!();
    for variant in Variant::all() {
        if let Some(run) = runs.iter().find(|r| r.variant == variant) {
            println!("{} line: {}", variant.label(), run.landing.sample);
        }
    }

    println!();
    println!(
        "{:<14} {:>3} {:>12} {:>8} {:>9} {:>9} {:>9} {:>6} {:>19}",
        "variant", "thr", "rec/s (med)", "MB/s", "p50", "p99", "p99.9", "line", "landed/sent (min)"
    );
    let mut ok = true;
    // Median records/s with one producer thread, by variant.
    let mut single = [0.0; 8];
    for threads in THREAD_COUNTS {
        for variant in Variant::all() {
            let mut these: Vec<&Run> = runs
                .iter()
                .filter(|r| r.variant == variant && r.threads == threads)
                .collect();
            these.sort_by(|a, b| a.records_per_sec().total_cmp(&b.records_per_sec()));
            let rate = median(these.iter().map(|r| r.records_per_sec()).collect());
            let line_len = median(these.iter().map(|r| r.landing.line_len()).collect());
            let latency = these[these.len() / 2].latency;
            let worst = these
                .iter()
                .min_by_key(|r| r.landing.lines)
                .expect("at least one round");
            println!(
                "{:<14} {:>3} {:>12.0} {:>8.1} {:>9} {:>9} {:>9} {:>6.1} {:>19}",
                variant.label(),
                threads,
                rate,
                rate * line_len / 1e6,
                fmt_ns(latency.p50),
                fmt_ns(latency.p99),
                fmt_ns(latency.p999),
                line_len,
                format!("{}/{}", worst.landing.lines, worst.sent),
            );
            for r in &these {
                if !r.intact() {
                    eprintln!(
                        "FAIL: {} thr={} lost {} of {} line(s) ({} reported unwritten, {} duplicate, {} malformed)",
                        variant.label(),
                        threads,
                        r.lost(),
                        r.sent,
                        r.unwritten,
                        r.landing.duplicates,
                        r.landing.malformed
                    );
                    ok = false;
                }
            }
            if threads == 1 {
                single[variant as usize] = rate;
            }
        }
    }
    let ours = single[Variant::Ours as usize];
    println!();
    println!(
        "ratio_vs_tracing_json={:.2}",
        ours / single[Variant::TjCareful as usize]
    );
    println!(
        "ratio_vs_tracing_json_default={:.2}",
        ours / single[Variant::TjDefault as usize]
    );
    println!(
        "ratio_vs_raw_limit={:.2}",
        ours / single[Variant::RawSerde as usize]
    );
    #[cfg(feature = "alert")]
    let ok = rules_cost::run(args.records, args.rounds, &dir)? && ok;
    #[cfg(feature = "chain")]
    println!(
        "chain_cost_ratio={:.2}",
        single[Variant::OursChain as usize] / ours
    );
    Ok(ok)
}
