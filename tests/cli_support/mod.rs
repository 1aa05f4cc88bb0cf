//! Files with known content written by the crate itself (rotated, some
//! gzipped), the records read back independently of the command (plain
//! `flate2` and `serde_json`), and a way to run the real binary.
#![allow(dead_code, unreachable_pub)]

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use serde_json::Value;
use tower::{service_fn, Layer, ServiceExt};
use tracing_audit::http::{AuditLayer, RequestBody};
use tracing_subscriber::layer::SubscriberExt;

pub const BIN: &str = env!("CARGO_BIN_EXE_tracing-audit");

pub const USERS: [&str; 4] = ["7", "8", "alice", "zoë"];
pub const MODELS: [&str; 3] = ["Order", "Product", "Invoice"];
pub const EVENTS: [&str; 3] = ["CREATE", "UPDATE", "DELETE"];
pub const TENANTS: [&str; 2] = ["acme", "globex"];

/// Writes the fixture into `dir`: 400 CRUD records (rotated every 16 KiB,
/// rotated audit files gzipped), 12 requests, 12 logins, 5 application
/// records.
pub fn write_fixture(dir: &Path) {
    let (layer, guard) = tracing_audit::layer()
        .log_dir(dir)
        .service_name("billing")
        .app_filter("info")
        .max_file_size(16 * 1024)
        .max_files(None)
        .configure_appender(|kind, appender| match kind {
            tracing_audit::Kind::Audit => appender.compress(true).compress_after(Duration::ZERO),
            _ => appender,
        })
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        for n in 0..400usize {
            let user = USERS[n % USERS.len()];
            let tenant = TENANTS[n % 5 % TENANTS.len()];
            let request = format!("r-{}", n / 10);
            let span = tracing::info_span!("req", request_id = %request, tenant = tenant);
            let _in = span.enter();
            let model = MODELS[n % MODELS.len()];
            match EVENTS[n % 7 % EVENTS.len()] {
                "CREATE" => tracing_audit::create!(model: model, id: n, user: user,
                    extra: serde_json::json!({"note": format!("made #{n} \"quoted\"")})),
                "UPDATE" => tracing_audit::update!(model: model, id: n, user: user,
                    changes: tracing_audit::diff(&serde_json::json!({"price": n}), &serde_json::json!({"price": n + 1}))),
                _ => tracing_audit::delete!(model: model, id: n, user: user),
            }
            if n == 150 {
                tracing_audit::bulk_delete!(model: "Session", ids: ["s1", "s2", "s3"], user: "7");
            }
        }
        for n in 0..12usize {
            let ip = format!("10.0.0.{}", n % 3);
            match n % 3 {
                0 => tracing_audit::login!(user: USERS[n % 4], client_ip: ip.as_str()),
                1 => tracing_audit::logout!(user: USERS[n % 4], client_ip: ip.as_str()),
                _ => {
                    tracing_audit::login_failed!(user: "mallory", error: "bad password", client_ip: ip.as_str())
                }
            }
        }
        for n in 0..5 {
            tracing::info!(attempt = n, "application line {n}");
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        for n in 0..12u16 {
            let status = [200u16, 201, 404, 503][usize::from(n % 4)];
            let svc = AuditLayer::new().layer(service_fn(
                move |_req: Request<RequestBody<Full<Bytes>>>| async move {
                    Ok::<_, std::convert::Infallible>(
                        Response::builder()
                            .status(StatusCode::from_u16(status).unwrap())
                            .body(Full::new(Bytes::from_static(b"{}")))
                            .unwrap(),
                    )
                },
            ));
            let path =
                ["/api/orders", "/api/orders/1", "/health/deep", "/login"][usize::from(n % 4)];
            let method = ["GET", "POST", "DELETE"][usize::from(n % 3)];
            let req = Request::builder()
                .method(method)
                .uri(path)
                .header("x-request-id", format!("api-{n}"))
                .body(Full::new(Bytes::from_static(b"{}")))
                .unwrap();
            rt.block_on(svc.oneshot(req)).unwrap();
        }
    });
    let report = guard.shutdown();
    assert_eq!(report.lost(), 0);
}

/// A kind's files in `dir` in write order, found here without the crate:
/// rotated names sort by their time, `.gz` included, then the live file.
pub fn files_in_order(dir: &Path, live: &str) -> Vec<PathBuf> {
    let mut rotated: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with(&format!("{live}.2")) && !name.ends_with(".tmp")
        })
        .collect();
    rotated.sort();
    let live = dir.join(live);
    if live.exists() {
        rotated.push(live);
    }
    rotated
}

/// The text of a file, gunzipped when its name ends in `.gz`.
pub fn text_of(path: &Path) -> String {
    let bytes = fs::read(path).unwrap();
    if path.extension().is_some_and(|e| e == "gz") {
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .unwrap();
        text
    } else {
        String::from_utf8(bytes).unwrap()
    }
}

/// Every record of a kind, in write order.
pub fn records(dir: &Path, live: &str) -> Vec<Value> {
    files_in_order(dir, live)
        .iter()
        .flat_map(|p| {
            text_of(p)
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Every record of every kind.
pub fn all_records(dir: &Path) -> Vec<Value> {
    ["audit.log", "api.log", "login.log", "app.log"]
        .iter()
        .flat_map(|k| records(dir, k))
        .collect()
}

/// Runs the command with `args`.
pub fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

/// The stdout's JSON lines.
pub fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The event ids of `records`, sorted.
pub fn ids(records: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = records
        .iter()
        .map(|r| r["event_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

/// The expected answer to a filter: `all` kept by `keep`, by event id.
pub fn expect(all: &[Value], keep: impl Fn(&Value) -> bool) -> Vec<String> {
    let kept: Vec<Value> = all.iter().filter(|r| keep(r)).cloned().collect();
    ids(&kept)
}

/// Whether the records' timestamps never go back.
pub fn in_time_order(records: &[Value]) -> bool {
    records
        .windows(2)
        .all(|w| w[0]["timestamp"].as_str() <= w[1]["timestamp"].as_str())
}
