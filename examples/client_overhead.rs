//! What recording costs an outbound call: the same requests to a local
//! axum server through a plain `reqwest::Client` and through
//! `AuditedClient`, in alternating rounds of one run, at the same
//! concurrency. Prints requests/s and p50/p99 latency for both and, last,
//! `client_ratio=X.XX` (audited throughput over plain, all rounds), after
//! the per-round ratios and their median. Both arms share one
//! `reqwest::Client` (one connection pool, as a careful user keeps it), run
//! 32 tasks each inside a request span, and swap places every round.
//! Exits non-zero if a request fails or a record is lost.
//!
//! ```text
//! cargo run --release --all-features --example client_overhead -- --requests 5000 --rounds 6
//! ```

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use tracing::Instrument;
use tracing_audit::http::AuditedClient;

const CONCURRENCY: usize = 32;

struct Args {
    requests: usize,
    rounds: usize,
}

fn args() -> Result<Args, String> {
    let mut args = Args {
        requests: 5_000,
        rounds: 6,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let n: usize = value.parse().map_err(|e| format!("{flag}: {e}"))?;
        match flag.as_str() {
            "--requests" => args.requests = n,
            "--rounds" => args.rounds = n,
            other => {
                return Err(format!(
                    "unknown argument {other:?} (usage: --requests N --rounds R)"
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
    Plain(reqwest::Client),
    Audited(AuditedClient),
}

impl Client {
    async fn call(&self, url: &str, i: usize) -> Result<(), String> {
        let body = json!({"order": i, "items": [{"sku": "A-1", "qty": 2}], "note": "bench"});
        let response = match self {
            Client::Plain(c) => c.post(url).json(&body).send().await,
            Client::Audited(c) => c.post(url).json(&body).send().await,
        }
        .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("status {}", response.status()));
        }
        let v: Value = response.json().await.map_err(|e| e.to_string())?;
        if v["order"] != i {
            return Err(format!("wrong answer {v}"));
        }
        Ok(())
    }
}

/// One round: `n` requests over `CONCURRENCY` tasks, each in a request
/// span; the latencies and the wall time.
async fn round(
    client: &Client,
    url: &Arc<str>,
    n: usize,
) -> Result<(Vec<Duration>, Duration), String> {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..CONCURRENCY {
        let client = client.clone();
        let url = Arc::clone(url);
        tasks.push(tokio::spawn(async move {
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
        }));
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

fn report(name: &str, mut lat: Vec<Duration>, wall: Duration) -> f64 {
    lat.sort();
    let rps = lat.len() as f64 / wall.as_secs_f64();
    println!(
        "{name:<8} {:>9.0} req/s  p50 {:>8.1} µs  p99 {:>8.1} µs  ({} requests)",
        rps,
        percentile(&lat, 0.50).as_secs_f64() * 1e6,
        percentile(&lat, 0.99).as_secs_f64() * 1e6,
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

fn run(args: &Args) -> Result<bool, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let guard = tracing_audit::builder()
        .service_name("bench")
        .log_dir(dir.path())
        .console(false)
        .init()
        .map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let (plain, audited, mut ratios) = runtime.block_on(async {
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
        let plain_client = Client::Plain(inner.clone());
        let audited_client = Client::Audited(AuditedClient::new("orders", inner));
        // Warm up both (connections, allocator).
        round(&plain_client, &url, CONCURRENCY * 4).await?;
        round(&audited_client, &url, CONCURRENCY * 4).await?;
        let (mut plain, mut audited) = ((Vec::new(), Duration::ZERO), (Vec::new(), Duration::ZERO));
        // Audited over plain requests/s, round by round (both arms of a
        // round ran back to back, so they saw the same machine load).
        let mut ratios = Vec::with_capacity(args.rounds);
        for r in 0..args.rounds {
            let mut rps = [0.0f64; 2];
            // Alternate which goes first.
            let order = if r % 2 == 0 {
                [false, true]
            } else {
                [true, false]
            };
            for is_audited in order {
                let (client, into) = if is_audited {
                    (&audited_client, &mut audited)
                } else {
                    (&plain_client, &mut plain)
                };
                let (lat, wall) = round(client, &url, args.requests).await?;
                rps[usize::from(is_audited)] = lat.len() as f64 / wall.as_secs_f64();
                into.0.extend(lat);
                into.1 += wall;
            }
            ratios.push(rps[1] / rps[0]);
        }
        Ok::<_, String>((plain, audited, ratios))
    })?;
    drop(runtime);
    let expected = (args.requests * args.rounds + CONCURRENCY * 4) as u64;
    let report_ = guard.shutdown();
    // api.log and its rotated files (`api.log.<time>Z`, rotated at 10 MiB).
    let mut lines = 0u64;
    for entry in std::fs::read_dir(dir.path()).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("api.log"))
        {
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{path:?}: {e}"))?;
            lines += text
                .lines()
                .filter(|l| l.contains("\"request_type\":\"external\""))
                .count() as u64;
        }
    }
    println!(
        "concurrency {CONCURRENCY}, {} rounds of {} requests each",
        args.rounds, args.requests
    );
    let plain_rps = report("reqwest", plain.0, plain.1);
    let audited_rps = report("audited", audited.0, audited.1);
    println!(
        "records {lines} of {expected} (unwritten at shutdown: {})",
        report_.unwritten
    );
    if lines != expected {
        eprintln!("lost records: {} of {expected} written", lines);
        return Ok(false);
    }
    ratios.sort_by(f64::total_cmp);
    let shown: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
    let mid = ratios.len() / 2;
    let median = if ratios.len() % 2 == 1 {
        ratios[mid]
    } else {
        (ratios[mid - 1] + ratios[mid]) / 2.0
    };
    println!(
        "per-round ratios (sorted) {}; median {median:.2}",
        shown.join(" ")
    );
    println!("client_ratio={:.2}", audited_rps / plain_rps);
    Ok(true)
}
