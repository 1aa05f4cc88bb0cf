//! How fast an alert reaches its webhook, and what a dead receiver costs
//! the application.
//!
//! ```text
//! cargo run --release --all-features --example alert_latency
//! cargo run --release --all-features --example alert_latency -- --alerts 50   # smoke size
//! ```
//!
//! A real axum receiver on 127.0.0.1:0; the crate's layer writing real
//! files; the rule "6 failed logins from one address within 60 s"
//! (threshold 6, so that the sixth login is the one that alerts) and a
//! signed webhook. For each of `--alerts N` addresses (default 1,000), five
//! failed logins, then the sixth, timed from the call to the webhook's
//! arrival at the receiver (one alert at a time). Then the same calls with
//! the webhook pointing at a port nothing listens on: the caller's latency
//! per call, with the receiver up and down.
//!
//! Exits with status 1 if an alert did not arrive (10 s each) or a record
//! was lost. The last line is `alert_p99_ms=X.X` (goal: under 100).

#[path = "support/mod.rs"]
#[allow(dead_code)] // the record-count options are not used here
mod support;

use std::io;
use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::routing::post;
use support::{fmt_ns, Latency};
use tracing::Dispatch;
use tracing_audit::alert::{Alerts, Rule, Webhook};
use tracing_audit::AuditGuard;
use tracing_subscriber::layer::SubscriberExt;

struct Args {
    alerts: u32,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args { alerts: 1000 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--alerts" => {
                let v = it.next().ok_or("--alerts needs a value")?;
                args.alerts = v.parse().map_err(|e| format!("--alerts: {e}"))?;
            }
            "-h" | "--help" => return Err("usage: alert_latency [--alerts N]".into()),
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    if args.alerts == 0 || args.alerts > 60_000 {
        return Err("--alerts must be between 1 and 60000".into());
    }
    Ok(args)
}

fn main() -> ExitCode {
    support::exit_status(parse_args(), run)
}

/// The `i`th address: 10.a.b.c, a different one per alert.
fn ip(phase: u32, i: u32) -> String {
    format!("10.{}.{}.{}", phase, i / 250, i % 250)
}

fn stack(dir: &std::path::Path, url: String) -> io::Result<(Dispatch, AuditGuard)> {
    let alerts = Alerts::new()
        .rule(Rule::failed_logins_per_ip().threshold(6))
        .webhook(
            Webhook::new(url)
                .secret("latency-bench")
                .backoff(Duration::from_millis(50))
                .retries(1),
        )
        .shutdown_timeout(Duration::from_millis(200));
    let (layer, guard) = tracing_audit::layer()
        .log_dir(dir)
        .alerts(alerts)
        .build()
        .map_err(io::Error::other)?;
    Ok((
        Dispatch::new(tracing_subscriber::registry().with(layer)),
        guard,
    ))
}

fn run(args: &Args) -> io::Result<bool> {
    let dir = tempfile::tempdir()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    // The receiver: each arrival's instant, with the alert's key.
    let (arrived_tx, arrived) = mpsc::channel::<(Instant, String)>();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new()
        .route(
            "/alerts",
            post(
                |State(tx): State<mpsc::Sender<(Instant, String)>>, body: axum::body::Bytes| async move {
                    let at = Instant::now();
                    let key = serde_json::from_slice::<serde_json::Value>(&body)
                        .ok()
                        .and_then(|v| v["key"].as_str().map(str::to_owned))
                        .unwrap_or_default();
                    let _ = tx.send((at, key));
                },
            ),
        )
        .with_state(arrived_tx);
    runtime.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    println!(
        "alerts={} cpus={} (loopback; one alert in flight at a time)",
        args.alerts,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut ok = true;

    // Phase 1: the receiver up.
    let (dispatch, guard) = stack(&dir.path().join("up"), format!("http://{addr}/alerts"))?;
    let mut alert_ns = Vec::with_capacity(args.alerts as usize);
    let mut caller_up = Vec::with_capacity(args.alerts as usize * 6);
    for i in 0..args.alerts {
        let ip = ip(1, i);
        let t0 = tracing::dispatcher::with_default(&dispatch, || {
            for _ in 0..5 {
                let t = Instant::now();
                tracing_audit::login_failed!(user: "bench", client_ip: ip.as_str());
                caller_up.push(elapsed_ns(t));
            }
            let t0 = Instant::now();
            tracing_audit::login_failed!(user: "bench", client_ip: ip.as_str());
            caller_up.push(elapsed_ns(t0));
            t0
        });
        match wait_for(&arrived, &ip) {
            Some(at) => alert_ns.push(u32::try_from((at - t0).as_nanos()).unwrap_or(u32::MAX)),
            None => {
                eprintln!("FAIL: the alert for {ip} did not arrive within 10 s");
                ok = false;
                break;
            }
        }
    }
    drop(dispatch);
    let report = guard.shutdown();
    let stats = report.alerts.clone().unwrap_or_default();
    println!(
        "receiver up:   {} alerts delivered, {} lost; records lost {}",
        stats.delivered,
        stats.deliveries_lost(),
        report.lost()
    );
    // Exactly one alert per address, every one delivered.
    ok &= report.lost() == 0
        && stats.deliveries_lost() == 0
        && (!ok || stats.alerts == u64::from(args.alerts) && stats.delivered == stats.alerts);

    // Phase 2: the receiver down for good (nothing listens on the port).
    let dead = TcpListener::bind("127.0.0.1:0")?;
    let dead_url = format!("http://{}/alerts", dead.local_addr()?);
    drop(dead);
    let (dispatch, guard) = stack(&dir.path().join("down"), dead_url)?;
    let mut caller_down = Vec::with_capacity(args.alerts as usize * 6);
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..args.alerts {
            let ip = ip(2, i);
            for _ in 0..6 {
                let t = Instant::now();
                tracing_audit::login_failed!(user: "bench", client_ip: ip.as_str());
                caller_down.push(elapsed_ns(t));
            }
        }
    });
    drop(dispatch);
    let report = guard.shutdown();
    let stats_down = report.alerts.clone().unwrap_or_default();
    ok &= report.lost() == 0 && stats_down.deliveries_lost() == stats_down.alerts;
    println!(
        "receiver down: {} alerts raised, {} deliveries counted lost (failed or abandoned at shutdown); records lost {}",
        stats_down.alerts,
        stats_down.deliveries_lost(),
        report.lost()
    );

    let up = Latency::of(caller_up);
    let down = Latency::of(caller_down);
    println!(
        "caller per failed login, receiver up:   p50 {} p99 {} p99.9 {}",
        fmt_ns(up.p50),
        fmt_ns(up.p99),
        fmt_ns(up.p999)
    );
    println!(
        "caller per failed login, receiver down: p50 {} p99 {} p99.9 {}",
        fmt_ns(down.p50),
        fmt_ns(down.p99),
        fmt_ns(down.p999)
    );
    let alert = Latency::of(alert_ns);
    println!(
        "sixth failed login -> webhook arrival: p50 {} p99 {} p99.9 {}",
        fmt_ns(alert.p50),
        fmt_ns(alert.p99),
        fmt_ns(alert.p999)
    );
    println!("alert_p50_ms={:.1}", f64::from(alert.p50) / 1e6);
    println!("alert_p99_ms={:.1}", f64::from(alert.p99) / 1e6);
    Ok(ok)
}

fn elapsed_ns(t: Instant) -> u32 {
    u32::try_from(t.elapsed().as_nanos()).unwrap_or(u32::MAX)
}

/// The arrival of the alert for `key` (earlier arrivals, none expected,
/// are skipped).
fn wait_for(arrived: &mpsc::Receiver<(Instant, String)>, key: &str) -> Option<Instant> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match arrived.recv_timeout(left) {
            Ok((at, k)) if k == key => return Some(at),
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
}
