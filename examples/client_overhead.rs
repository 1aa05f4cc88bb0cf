//! What recording costs an outbound call: the same requests to a local
//! axum server through a plain `reqwest::Client` and through
//! `AuditedClient`, in alternating rounds of one run, at the same
//! concurrency. Prints requests/s and p50/p99 latency for each arm and,
//! last, `client_ratio=X.XX` (audited throughput over plain, all rounds),
//! after the per-round ratios and their median. Every arm shares one
//! `reqwest::Client` (one connection pool, as a careful user keeps it), runs
//! 32 tasks each inside a request span, and the arms' order turns every
//! round. Exits non-zero if a request fails or a record is lost.
//!
//! `--floors` adds arms that show what parts of the job cost with nothing
//! of `AuditedClient` in them (see `support/client_floors.rs`), each
//! printed as `<arm>_ratio` over plain:
//!
//! - `wrapped`: the response body wrapped in an identity `map_frame` and
//!   the response rebuilt around it: the least a wrapper that sees the end
//!   of the body costs (issue 13, item 2).
//! - `propagated`: the request id and a new `traceparent` added as headers
//!   by hand (item 4).
//! - `logged`: one line per call (`tracing::info!` with the method, URL,
//!   status and time: no headers, no bodies) through the anchor a careful
//!   user sets up for JSON files: `fmt().json()` over a lossless
//!   `tracing_appender::non_blocking` (see `support::json_anchor`), the
//!   dispatcher of the arm's tasks. The least a record of a call costs in
//!   the usual stack (item 1).
//! - `our-line`: the same line through the crate's subscriber.
//! - `demanded`: the three together through the crate's subscriber (the
//!   body wrapped, the headers propagated, one line): what the issue's
//!   demands cost with the cheapest line measured and no header or body
//!   recorded.
//! - `no-bodies`: `AuditedClient::body_limit(0)`.
//!
//! ```text
//! cargo run --release --all-features --example client_overhead -- --requests 5000 --rounds 6 [--floors]
//! ```

#[path = "support/client_floors.rs"]
mod floors;
#[path = "support/mod.rs"]
#[allow(dead_code)] // the record-count options are not used here
mod support;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use tracing::instrument::WithSubscriber;
use tracing::{Dispatch, Instrument};
use tracing_audit::http::AuditedClient;

const CONCURRENCY: usize = 32;
/// The `logged` arm's file, inside the run's directory.
const ANCHOR_FILE: &str = "logged.log";

struct Args {
    requests: usize,
    rounds: usize,
    floors: bool,
}

fn args() -> Result<Args, String> {
    let mut args = Args {
        requests: 5_000,
        rounds: 6,
        floors: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--floors" {
            args.floors = true;
            continue;
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let n: usize = value.parse().map_err(|e| format!("{flag}: {e}"))?;
        match flag.as_str() {
            "--requests" => args.requests = n,
            "--rounds" => args.rounds = n,
            other => {
                return Err(format!(
                    "unknown argument {other:?} (usage: --requests N --rounds R [--floors])"
                ))
            }
        }
    }
    // About 1 KB a record, rotated at 10 MiB, 5 rotated files kept: more
    // would be removed by retention before they are counted.
    if args.requests.saturating_mul(args.rounds) > 50_000 {
        return Err("--requests times --rounds must be at most 50000".into());
    }
    if args.requests < CONCURRENCY || args.rounds == 0 {
        return Err(format!(
            "--requests must be at least {CONCURRENCY}, --rounds at least 1"
        ));
    }
    Ok(args)
}

#[derive(Clone)]
enum Client {
    Audited(AuditedClient),
    /// Plain `reqwest`, with the parts of a floor (all off: the plain arm).
    Plain(reqwest::Client, floors::Parts),
}

impl Client {
    async fn call(&self, url: &str, i: usize) -> Result<(), String> {
        let body = json!({"order": i, "items": [{"sku": "A-1", "qty": 2}], "note": "bench"});
        let start = Instant::now();
        let response = match self {
            Client::Plain(c, parts) => {
                let request = c.post(url).json(&body);
                let request = if parts.propagate {
                    floors::propagated(request, i as u64)
                } else {
                    request
                };
                request.send().await
            }
            Client::Audited(c) => c.post(url).json(&body).send().await,
        }
        .map_err(|e| e.to_string())?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("status {status}"));
        }
        let parts = match self {
            Client::Plain(_, parts) => *parts,
            Client::Audited(_) => floors::Parts::NONE,
        };
        let response = if parts.wrap {
            floors::wrapped(response)
        } else {
            response
        };
        let v: Value = response.json().await.map_err(|e| e.to_string())?;
        if v["order"] != i {
            return Err(format!("wrong answer {v}"));
        }
        if parts.log {
            floors::log_call(url, status.as_u16(), start.elapsed());
        }
        Ok(())
    }
}

/// One arm of the comparison.
struct Arm {
    name: &'static str,
    client: Client,
    /// The dispatcher of the arm's tasks (`None`: the global one, the
    /// crate's).
    dispatch: Option<Dispatch>,
    latencies: Vec<Duration>,
    wall: Duration,
    /// Requests/s of each round.
    rates: Vec<f64>,
}

/// One round: `n` requests over `CONCURRENCY` tasks, each in a request
/// span; the latencies and the wall time.
async fn round(
    client: &Client,
    dispatch: Option<&Dispatch>,
    url: &Arc<str>,
    n: usize,
) -> Result<(Vec<Duration>, Duration), String> {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..CONCURRENCY {
        let client = client.clone();
        let url = Arc::clone(url);
        let task = async move {
            let mut lat = Vec::new();
            let mut i = t;
            while i < n {
                let span = tracing::info_span!("request", request_id = i);
                let began = Instant::now();
                client.call(&url, i).instrument(span).await?;
                lat.push(began.elapsed());
                i += CONCURRENCY;
            }
            Ok::<_, String>(lat)
        };
        tasks.push(match dispatch {
            Some(d) => tokio::spawn(task.with_subscriber(d.clone())),
            None => tokio::spawn(task),
        });
    }
    let mut all = Vec::with_capacity(n);
    for t in tasks {
        all.extend(t.await.map_err(|e| e.to_string())??);
    }
    Ok((all, start.elapsed()))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(arm: &mut Arm) -> f64 {
    arm.latencies.sort();
    let lat = &arm.latencies;
    let rps = lat.len() as f64 / arm.wall.as_secs_f64();
    println!(
        "{:<10} {:>9.0} req/s  p50 {:>8.1} µs  p99 {:>8.1} µs  ({} requests)",
        arm.name,
        rps,
        percentile(lat, 0.50).as_secs_f64() * 1e6,
        percentile(lat, 0.99).as_secs_f64() * 1e6,
        lat.len()
    );
    rps
}

fn main() -> ExitCode {
    let args = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("client_overhead: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Lines in the files of `dir` whose names start with `prefix` (rotated
/// ones too) that contain `marker`.
fn count_lines(dir: &Path, prefix: &str, marker: &str) -> Result<u64, String> {
    let mut lines = 0u64;
    for entry in std::fs::read_dir(dir).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(prefix))
        {
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{path:?}: {e}"))?;
            lines += text.lines().filter(|l| l.contains(marker)).count() as u64;
        }
    }
    Ok(lines)
}

fn run(args: &Args) -> Result<bool, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let guard = tracing_audit::builder()
        .service_name("bench")
        .log_dir(dir.path())
        .console(false)
        .init()
        .map_err(|e| e.to_string())?;
    let (anchor, anchor_guard) = support::json_anchor(dir.path(), ANCHOR_FILE);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let warm_up = CONCURRENCY * 4;
    let mut arms = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let app = Router::new().route(
            "/orders",
            post(|Json(v): Json<Value>| async move { Json(v) }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        let url: Arc<str> = format!("http://{addr}/orders").into();
        let inner = reqwest::Client::new();
        let arm = |name, client, dispatch| Arm {
            name,
            client,
            dispatch,
            latencies: Vec::new(),
            wall: Duration::ZERO,
            rates: Vec::new(),
        };
        use floors::Parts;
        let plain = |parts| Client::Plain(inner.clone(), parts);
        let mut arms = vec![
            arm("reqwest", plain(Parts::NONE), None),
            arm(
                "audited",
                Client::Audited(AuditedClient::new("orders", inner.clone())),
                None,
            ),
        ];
        if args.floors {
            let log = Parts {
                log: true,
                ..Parts::NONE
            };
            arms.push(arm("logged", plain(log), Some(anchor.clone())));
            arms.push(arm(
                "wrapped",
                plain(Parts {
                    wrap: true,
                    ..Parts::NONE
                }),
                None,
            ));
            arms.push(arm(
                "propagated",
                plain(Parts {
                    propagate: true,
                    ..Parts::NONE
                }),
                None,
            ));
            arms.push(arm("our-line", plain(log), None));
            arms.push(arm("demanded", plain(Parts::ALL), None));
            arms.push(arm(
                "no-bodies",
                Client::Audited(AuditedClient::new("orders", inner.clone()).body_limit(0)),
                None,
            ));
        }
        // Warm up every arm (connections, allocator).
        for a in &arms {
            round(&a.client, a.dispatch.as_ref(), &url, warm_up).await?;
        }
        let mut order: Vec<usize> = (0..arms.len()).collect();
        for _ in 0..args.rounds {
            for &i in &order {
                let a = &mut arms[i];
                let (lat, wall) =
                    round(&a.client, a.dispatch.as_ref(), &url, args.requests).await?;
                a.rates.push(lat.len() as f64 / wall.as_secs_f64());
                a.latencies.extend(lat);
                a.wall += wall;
            }
            // Each arm runs first once every `arms.len()` rounds.
            order.rotate_left(1);
        }
        Ok::<_, String>(arms)
    })?;
    drop(runtime);
    drop(anchor);
    drop(anchor_guard);
    let audited_arms = if args.floors { 2 } else { 1 };
    let expected = (args.requests * args.rounds + warm_up) as u64 * audited_arms;
    let report_ = guard.shutdown();
    let records = count_lines(dir.path(), "api.log", "\"request_type\":\"external\"")?;
    println!(
        "concurrency {CONCURRENCY}, {} rounds of {} requests each",
        args.rounds, args.requests
    );
    let rates: Vec<f64> = arms.iter_mut().map(report).collect();
    println!(
        "records {records} of {expected} (unwritten at shutdown: {})",
        report_.unwritten
    );
    if records != expected {
        eprintln!("lost records: {records} of {expected} written");
        return Ok(false);
    }
    if args.floors {
        let want = (args.requests * args.rounds + warm_up) as u64;
        for (file, arm, arms) in [
            (ANCHOR_FILE, "logged", 1),
            ("app.log", "our-line and demanded", 2),
        ] {
            let lines = count_lines(dir.path(), file, "external call")?;
            if lines != want * arms {
                eprintln!("lost {arm} lines: {lines} of {want} written");
                return Ok(false);
            }
        }
    }
    // Each arm over plain, round by round (the arms of a round ran back to
    // back, so they saw the same machine load), then over all rounds.
    for (a, rate) in arms.iter().zip(&rates).skip(1) {
        let per_round: Vec<f64> = a
            .rates
            .iter()
            .zip(&arms[0].rates)
            .map(|(x, plain)| x / plain)
            .collect();
        let mut shown = per_round.clone();
        shown.sort_by(f64::total_cmp);
        let shown: Vec<String> = shown.iter().map(|r| format!("{r:.2}")).collect();
        println!(
            "{:<10} per-round ratios (sorted) {}; median {:.2}",
            a.name,
            shown.join(" "),
            support::median(per_round)
        );
        if a.name != "audited" {
            println!("{}_ratio={:.2}", a.name.replace('-', "_"), rate / rates[0]);
        }
    }
    println!("client_ratio={:.2}", rates[1] / rates[0]);
    Ok(true)
}
