//! How fast `cli::stats::Stats` counts: writes records with the crate
//! (CRUD, logins and failed logins, requests through `AuditLayer` in
//! process), then reads the files back in alternating rounds, parsing
//! each line into a `serde_json::Value` only, or counting it with
//! `Stats::add_line` (which reads only the keys it needs), and prints MB/s
//! for both and `stats_ratio` (stats over the plain parse).
//!
//! ```text
//! cargo run --release --all-features --example stats_speed -- --records 1000000 --rounds 3
//! ```
//!
//! Exit status 1 if `Stats` did not count every record written.

#[path = "support/mod.rs"]
#[allow(dead_code)] // the latency helpers are the comparisons'
mod support;

use std::io;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::Value;
use support::{median, Args};
use tower::{service_fn, Layer, ServiceExt};
use tracing_audit::cli::stats::Stats;
use tracing_audit::http::{AuditLayer, RequestBody};
use tracing_audit::read::{kind_files, open, Lines};
use tracing_audit::Kind;
use tracing_subscriber::layer::SubscriberExt;

const MODELS: [&str; 5] = ["Order", "Product", "Invoice", "Customer", "Session"];

fn main() -> ExitCode {
    support::main("stats_speed", u64::MAX, run)
}

fn run(args: &Args) -> io::Result<bool> {
    let tempdir;
    let dir = match &args.dir {
        Some(dir) => dir.clone(),
        None => {
            tempdir = tempfile::tempdir()?;
            tempdir.path().to_path_buf()
        }
    };
    write(&dir, args.records)?;
    let files: Vec<_> = Kind::ALL
        .iter()
        .map(|k| kind_files(&dir, k.file_name()))
        .collect::<io::Result<Vec<_>>>()?
        .concat();
    let bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()))
        .sum::<io::Result<u64>>()?;
    println!(
        "records={} rounds={} bytes={} files={}",
        args.records,
        args.rounds,
        bytes,
        files.len()
    );
    let mb = bytes as f64 / 1e6;
    let (mut parse, mut stats) = (Vec::new(), Vec::new());
    let mut all_counted = true;
    for round in 0..args.rounds {
        for with_stats in [round % 2 == 1, round % 2 == 0] {
            let started = Instant::now();
            let (lines, counted) = scan(&files, with_stats)?;
            let rate = mb / started.elapsed().as_secs_f64();
            let name = if with_stats { "stats" } else { "parse" };
            println!("round={round} variant={name} lines={lines} mb_per_s={rate:.1}");
            if with_stats {
                all_counted &= counted == args.records && lines == args.records;
                stats.push(rate);
            } else {
                parse.push(rate);
            }
        }
    }
    let (parse, stats) = (median(parse), median(stats));
    println!("parse_mb_per_s={parse:.1}");
    println!("stats_mb_per_s={stats:.1}");
    println!("stats_ratio={:.2}", stats / parse);
    if !all_counted {
        eprintln!("stats_speed: Stats did not count every record written");
    }
    Ok(all_counted)
}

/// Reads every line of `files`, parsed or counted: the lines read and
/// the records `Stats` counted (0 when `with_stats` is off).
fn scan(files: &[std::path::PathBuf], with_stats: bool) -> io::Result<(u64, u64)> {
    let mut stats = Stats::default();
    let mut lines = 0;
    for path in files {
        let mut reader = Lines::new(open(path)?);
        while let Some(line) = reader.next_line()? {
            lines += 1;
            if with_stats {
                stats.add_line(line.bytes)?;
            } else {
                std::hint::black_box(serde_json::from_slice::<Value>(line.bytes)?);
            }
        }
    }
    if with_stats {
        // The figures are part of the cost: ranking and the quantiles.
        std::hint::black_box(stats.to_json());
    }
    Ok((lines, stats.records()))
}

/// Writes `records` records: 6 in 10 CRUD (1000 users, 5 models), 1 in 10
/// a login (half of them failed, from 256 addresses), 3 in 10 requests
/// through `AuditLayer` (50 paths, 1 in 20 answered 500).
fn write(dir: &Path, records: u64) -> io::Result<()> {
    let (layer, guard) = tracing_audit::layer()
        .log_dir(dir)
        .service_name("stats-speed")
        .max_files(None)
        .build()
        .map_err(io::Error::other)?;
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let svc = AuditLayer::new().layer(service_fn(
        |req: http::Request<RequestBody<Full<Bytes>>>| async move {
            let mut res = http::Response::new(Full::new(Bytes::from_static(b"{\"ok\":true}")));
            if req.uri().path().ends_with('7') {
                *res.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
            }
            Ok::<_, std::convert::Infallible>(res)
        },
    ));
    let rt = tokio::runtime::Builder::new_current_thread().build()?;
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..records {
            let user = i % 1000;
            match i % 10 {
                0..=5 => {
                    tracing_audit::update!(model: MODELS[(i % 5) as usize], id: i, user: user);
                }
                6 if i % 20 < 10 => {
                    let ip = format!("10.0.0.{}", i % 256);
                    tracing_audit::login_failed!(user: user, client_ip: ip, error: "bad password");
                }
                6 => tracing_audit::login!(user: user, client_ip: "10.0.1.1"),
                _ => {
                    let req = http::Request::builder()
                        .uri(format!("/api/p{}", i % 50))
                        .body(Full::new(Bytes::new()))
                        .expect("a valid request");
                    rt.block_on(async {
                        let Ok(res) = svc.clone().oneshot(req).await;
                        let _ = res.into_body().collect().await;
                    });
                }
            }
        }
    });
    let report = guard.shutdown();
    if report.lost() != 0 {
        return Err(io::Error::other(format!("{} records lost", report.lost())));
    }
    Ok(())
}
