//! What auditing every request costs an axum service: the same
//! hello-world served three ways in one process, loaded alternately by
//! one client over loopback.
//!
//! ```text
//! cargo run --release --all-features --example http_overhead
//! cargo run --release --all-features --example http_overhead -- --seconds 10 --rounds 5 --concurrency 32
//! ```
//!
//! Options: `--seconds S` (load per variant and round, default 5),
//! `--rounds R` (default 3), `--concurrency C` (client connections, one
//! request in flight on each, default 16), `--threads T` (worker threads
//! of each server's runtime, default 1), `--dir PATH` (where the files go;
//! default a fresh temporary directory, removed at the end), `--floors`
//! (two more servers in the rounds, to show where the cost lies:
//! `span-registry`, the request span issue 12 asks for and nothing else
//! under a bare `tracing_subscriber::Registry`, `span-only`, the same span
//! under the crate's subscriber, and `no-bodies`,
//! `AuditLayer::new().body_limit(0)`; each prints its
//! `…_ratio` over `bare` before the two main ratios).
//!
//! # The service
//!
//! An axum `Router` with `POST /items` (a JSON item in, the item with an
//! id out, 201) and `GET /items/{id}` (a JSON item out), served with
//! `into_make_service_with_connect_info::<SocketAddr>()` on 127.0.0.1:0
//! with `TCP_NODELAY`. Three servers, each on its own tokio runtime:
//!
//! - `bare`: the router alone.
//! - `audit-layer`: the router behind `tracing_audit::http::AuditLayer::new()`
//!   (request and response bodies captured, headers and bodies redacted),
//!   under `tracing_audit::builder().log_dir(dir).console(false)
//!   .max_file_size(None).init()`: the crate's real layer and appender
//!   writing `api.log` (one `audit.request` record per request) in the
//!   run's directory. The console is off, as for a service whose stderr is
//!   not read per request; size rotation is off so that every record stays
//!   in one file to be counted (the default would rotate at 10 MiB and
//!   keep 5 files).
//! - `tracelayer` (the anchor): the router behind tower-http's
//!   `TraceLayer::new_for_http()` with its span and its response event
//!   raised to INFO (both are DEBUG by default, so the default layer logs
//!   nothing at INFO), under `tracing_subscriber::fmt().json()` configured
//!   as a careful user would for a file (`flatten_event(true)`, the current
//!   span once, no span list, INFO and above) writing through
//!   `tracing_appender::non_blocking` made lossless (`lossy(false)`) over
//!   `rolling::never`. One line per request: status and latency in the
//!   request's span (method, URI, version); no bodies.
//!
//! # One process, three subscribers
//!
//! A process has one global subscriber, and it is ours, installed by
//! `init()` as a user would. Per-layer filtering could not keep the stacks
//! apart: it routes by an event's metadata, and nothing in the events of
//! hyper, axum, tower-http or our layer says which server made them. So
//! each server runs on its own runtime whose threads set their own default
//! dispatcher when they start (`tracing::dispatcher::set_default` from
//! `on_thread_start`, held for the thread's life): `NoSubscriber` for the
//! bare server, the anchor's `fmt` subscriber for the anchor; the
//! audit-layer server's threads keep the global one. The client runs on
//! the main thread under `NoSubscriber`. Each server thus logs through its
//! own stack only. Two costs fall on all three alike: once any thread has
//! a default of its own, every `tracing` call looks at the thread's
//! default first, and a callsite's interest is the union of what the
//! three subscribers want, so a callsite one stack wants is asked
//! (`enabled`) under the others too.
//!
//! # What is measured
//!
//! The client (hyper's HTTP/1.1 connection API on a current-thread
//! runtime) opens the same number of keep-alive connections to each
//! server, warms each server up for a quarter of `--seconds` (at most one
//! second), then loads them in interleaved rounds (`bare, audit-layer,
//! tracelayer, bare, ...`) so that machine noise hits all alike. On each
//! connection one request is in flight at a time, alternately a `POST`
//! and a `GET`; every request is timed from just before it is sent until
//! its whole response body has been read.
//!
//! - **req/s**: requests answered in a round divided by the round's time;
//!   the median over rounds.
//! - **p50/p99**: latency percentiles of each round; the median over
//!   rounds.
//! - **line**: the average length of the variant's log lines.
//!
//! Then `ratio_vs_tracelayer=X.XX` (median req/s of `audit-layer` over
//! `tracelayer`) and, last, `throughput_ratio=X.XX` (`audit-layer` over
//! `bare`).
//!
//! The program exits with status 1 if any request failed (a transport
//! error, a non-2xx status or an empty body), if a server answered a
//! different number of requests than the client counted, if the number
//! of `audit.request` records in `api.log` (each line parsed as JSON)
//! differs from the number of requests the audit-layer server answered,
//! if the guard reports a lost record, or if the anchor's file does not
//! hold one line per request it answered.

mod client;
mod servers;
#[path = "../support/mod.rs"]
#[allow(dead_code)] // the record-count options are not used here
mod support;

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use serde::Deserialize;
use servers::{Server, Variant};
use support::{fmt_ns, median, Latency};
use tracing::subscriber::NoSubscriber;
use tracing::Dispatch;
use tracing_audit::Kind;

struct Args {
    seconds: f64,
    rounds: usize,
    concurrency: usize,
    threads: usize,
    dir: Option<PathBuf>,
    floors: bool,
}

const USAGE: &str =
    "usage: http_overhead [--seconds S] [--rounds R] [--concurrency C] [--threads T] [--dir PATH] [--floors]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        seconds: 5.0,
        rounds: 3,
        concurrency: 16,
        threads: 1,
        dir: None,
        floors: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--seconds" => {
                args.seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?;
            }
            "--rounds" => args.rounds = value()?.parse().map_err(|e| format!("--rounds: {e}"))?,
            "--concurrency" => {
                args.concurrency = value()?
                    .parse()
                    .map_err(|e| format!("--concurrency: {e}"))?;
            }
            "--threads" => {
                args.threads = value()?.parse().map_err(|e| format!("--threads: {e}"))?;
            }
            "--dir" => args.dir = Some(PathBuf::from(value()?)),
            "--floors" => args.floors = true,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    if !(args.seconds >= 0.1 && args.seconds <= 3600.0) {
        return Err("--seconds must be between 0.1 and 3600".into());
    }
    if args.rounds == 0 || args.concurrency == 0 || args.threads == 0 {
        return Err("--rounds, --concurrency and --threads must be at least 1".into());
    }
    Ok(args)
}

fn main() -> ExitCode {
    support::exit_status(parse_args(), run)
}

/// Per variant, in `variants` order.
#[derive(Default)]
struct Tally {
    /// Requests the client saw answered, warm-up included.
    ok: u64,
    failed: u64,
    rps: Vec<f64>,
    p50: Vec<f64>,
    p99: Vec<f64>,
}

fn run(args: &Args) -> io::Result<bool> {
    let temp;
    let dir = match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.clone()
        }
        None => {
            temp = tempfile::tempdir()?;
            temp.path().to_path_buf()
        }
    };
    let guard = tracing_audit::builder()
        .service_name("http_overhead")
        .log_dir(&dir)
        .console(false)
        .max_file_size(None)
        .init()
        .map_err(io::Error::other)?;
    let api_path = guard
        .path(Kind::Api)
        .map(Path::to_path_buf)
        .ok_or_else(|| io::Error::other("no api.log"))?;
    let (anchor, anchor_guard) = servers::anchor_dispatch(&dir);
    let none = Dispatch::new(NoSubscriber::default());

    let mut variants = Variant::ALL.to_vec();
    if args.floors {
        variants.extend(Variant::FLOORS);
    }
    let mut servers = Vec::new();
    for &variant in &variants {
        let dispatch = match variant {
            Variant::Bare => Some(none.clone()),
            Variant::Ours | Variant::SpanOnly | Variant::NoBodies => None,
            Variant::Anchor => Some(anchor.clone()),
            Variant::SpanRegistry => Some(Dispatch::new(tracing_subscriber::registry())),
        };
        servers.push(Server::start(variant, args.threads, dispatch)?);
    }
    drop(anchor);

    println!(
        "http_overhead: {} rounds of {}s per variant, {} connections, {} server thread(s), files in {}",
        args.rounds,
        args.seconds,
        args.concurrency,
        args.threads,
        dir.display()
    );
    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let duration = Duration::from_secs_f64(args.seconds);
    let warm_up = (duration / 4).min(Duration::from_secs(1));
    let tallies = tracing::dispatcher::with_default(&none, || {
        client.block_on(load_all(&servers, args, duration, warm_up))
    })?;
    drop(client);

    let served: Vec<u64> = servers.iter().map(Server::served).collect();
    for server in servers {
        server.stop();
    }
    let report = guard.shutdown();
    drop(anchor_guard);

    let mut ok = true;
    println!(
        "{:<12} {:>10} {:>10} {:>10} {:>8}",
        "variant", "req/s", "p50", "p99", "line"
    );
    let lines = [
        None,
        Some(count_records(&api_path)?),
        Some(count_lines(&dir.join(servers::ANCHOR_FILE))?),
    ];
    for (i, &variant) in variants.iter().enumerate() {
        let tally = &tallies[i];
        let line = match lines.get(i).copied().flatten() {
            Some((_, bytes, count)) if count > 0 => format!("{}B", bytes / count),
            _ => "-".into(),
        };
        println!(
            "{:<12} {:>10.0} {:>10} {:>10} {:>8}",
            variant.label(),
            median(tally.rps.clone()),
            fmt_ns(median(tally.p50.clone()) as u32),
            fmt_ns(median(tally.p99.clone()) as u32),
            line
        );
        if tally.failed > 0 {
            eprintln!(
                "FAIL: {}: {} requests failed",
                variant.label(),
                tally.failed
            );
            ok = false;
        }
        if tally.ok != served[i] {
            eprintln!(
                "FAIL: {}: the client saw {} answers, the server answered {}",
                variant.label(),
                tally.ok,
                served[i]
            );
            ok = false;
        }
    }
    let (records, _, _) = lines[1].unwrap_or_default();
    // The `no-bodies` server writes to the same api.log.
    let audited = served[1]
        + variants
            .iter()
            .zip(&served)
            .filter(|(v, _)| **v == Variant::NoBodies)
            .map(|(_, n)| n)
            .sum::<u64>();
    println!(
        "api.log: {records} audit.request records for {audited} requests answered; lost {}",
        report.lost()
    );
    if records != audited || report.lost() != 0 {
        eprintln!("FAIL: api.log does not hold one record per request");
        ok = false;
    }
    let (anchor_lines, _, _) = lines[2].unwrap_or_default();
    println!(
        "{}: {anchor_lines} lines for {} requests answered",
        servers::ANCHOR_FILE,
        served[2]
    );
    if anchor_lines != served[2] {
        eprintln!("FAIL: the anchor does not log one line per request");
        ok = false;
    }
    let rps = |i: usize| median(tallies[i].rps.clone());
    for (i, variant) in variants.iter().enumerate().skip(Variant::ALL.len()) {
        println!(
            "{}_ratio={:.2}",
            variant.label().replace('-', "_"),
            rps(i) / rps(0)
        );
    }
    println!("ratio_vs_tracelayer={:.2}", rps(1) / rps(2));
    println!("throughput_ratio={:.2}", rps(1) / rps(0));
    Ok(ok)
}

async fn load_all(
    servers: &[Server],
    args: &Args,
    duration: Duration,
    warm_up: Duration,
) -> io::Result<Vec<Tally>> {
    let mut connections = Vec::new();
    let mut tallies: Vec<Tally> = servers.iter().map(|_| Tally::default()).collect();
    for (i, server) in servers.iter().enumerate() {
        let opened = client::connect(server.addr, args.concurrency).await?;
        let (kept, load) = client::run(server.addr, opened, warm_up).await;
        tallies[i].ok += load.ok;
        tallies[i].failed += load.failed;
        connections.push(kept);
    }
    for _ in 0..args.rounds {
        for (i, server) in servers.iter().enumerate() {
            let mine = std::mem::take(&mut connections[i]);
            if mine.len() != args.concurrency {
                // A connection failed (counted): the rest would not be
                // loaded alike.
                return Ok(tallies);
            }
            let (kept, load) = client::run(server.addr, mine, duration).await;
            connections[i] = kept;
            let tally = &mut tallies[i];
            tally.ok += load.ok;
            tally.failed += load.failed;
            tally.rps.push(load.requests_per_second());
            let latency = Latency::of(load.latencies_ns);
            tally.p50.push(f64::from(latency.p50));
            tally.p99.push(f64::from(latency.p99));
        }
    }
    Ok(tallies)
}

#[derive(Deserialize)]
struct Line<'a> {
    name: &'a str,
}

/// `audit.request` records in `path` (every line parsed as JSON), its
/// bytes and its lines.
fn count_records(path: &Path) -> io::Result<(u64, u64, u64)> {
    let mut records = 0;
    let mut bytes = 0;
    let mut lines = 0;
    let mut reader = BufReader::new(File::open(path)?);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf)?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        lines += 1;
        match serde_json::from_slice::<Line<'_>>(&buf) {
            Ok(line) if line.name == "audit.request" => records += 1,
            Ok(_) => {}
            Err(e) => eprintln!("{}: line {lines} is not a record: {e}", path.display()),
        }
    }
    Ok((records, bytes, lines))
}

/// Lines in `path`, its bytes and its lines again (the shape of
/// [`count_records`]).
fn count_lines(path: &Path) -> io::Result<(u64, u64, u64)> {
    let mut lines = 0;
    let mut bytes = 0;
    let mut reader = BufReader::new(File::open(path)?);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf)?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        lines += 1;
    }
    Ok((lines, bytes, lines))
}
