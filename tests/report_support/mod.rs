//! Records with known content for the `cli` tests, written by the crate
//! itself (its layer, its macros, its HTTP layer in process) into a
//! temporary directory, then read back from the files.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::Value;
use tower::{service_fn, Layer, ServiceExt};
use tracing_audit::http::{AuditLayer, RequestBody};
use tracing_audit::Kind;

use crate::common::records::Logs;

/// The user id of the hostile records [`write`] adds when asked.
pub const EVIL_USER: &str =
    "<script>console.error('injected')</script><img src=x onerror=\"console.error('img')\">";

/// What [`write`] wrote, as the test planned it.
pub mod plan {
    /// Failed logins per client IP (`""`: without an address).
    pub const FAILED: [(&str, u64); 3] = [("10.0.0.1", 3), ("10.0.0.2", 2), ("", 1)];
    /// Successful logins and logouts.
    pub const LOGINS: u64 = 2;
    pub const LOGOUTS: u64 = 1;
    /// CRUD records per model.
    pub const MODELS: [(&str, u64); 2] = [("Order", 5), ("Invoice", 2)];
    /// CRUD records per event type.
    pub const EVENT_TYPES: [(&str, u64); 4] =
        [("CREATE", 4), ("UPDATE", 1), ("DELETE", 1), ("READ", 1)];
    /// Requests per path: (path, requests, errors: 5xx or no status).
    pub const PATHS: [(&str, u64, u64); 2] = [("/orders", 20, 0), ("/pay", 10, 4)];
    /// Application records.
    pub const APP: u64 = 2;
}

/// Writes the planned records (plus, with `evil`, records whose user,
/// model and client IP are markup) and returns every record of every
/// file, parsed.
pub fn write(evil: bool) -> Vec<Value> {
    let logs = Logs::new();
    logs.run(|| {
        for _ in 0..plan::LOGINS {
            tracing_audit::login!(user: "alice", client_ip: "10.0.0.5");
        }
        tracing_audit::logout!(user: "alice");
        for (ip, n) in plan::FAILED {
            for _ in 0..n {
                if ip.is_empty() {
                    tracing_audit::login_failed!(user: "nobody", error: "unknown user");
                } else {
                    tracing_audit::login_failed!(user: "mallory", client_ip: ip, error: "bad password");
                }
            }
        }
        tracing::info_span!("job", user_id = "dave").in_scope(|| {
            for id in 1..=4 {
                tracing_audit::create!(model: "Order", id: id);
            }
            tracing_audit::update!(model: "Order", id: 1);
        });
        tracing_audit::read!(model: "Invoice", id: 7, user: "erin");
        tracing_audit::delete!(model: "Invoice", id: 7, user: "erin");
        tracing::info_span!("worker", user_id = "carol").in_scope(|| {
            for _ in 0..plan::APP {
                tracing::info!(target: "billing::jobs", "tick");
            }
        });
        if evil {
            tracing_audit::create!(model: EVIL_USER, id: 1, user: EVIL_USER);
            tracing_audit::login_failed!(user: EVIL_USER, client_ip: EVIL_USER);
        }
    });
    requests(&logs);
    let mut records = Vec::new();
    for kind in Kind::ALL {
        records.extend(logs.records(kind).into_iter().map(Value::Object));
    }
    records
}

/// The planned requests through the crate's HTTP layer, in process:
/// `/orders` answers 200 (one 404), `/pay` 201, 503 three times and an
/// `Err` once; handlers take a few hundred microseconds each so that the
/// execution times differ.
fn requests(logs: &Logs) {
    let svc = AuditLayer::new().layer(service_fn(
        |req: Request<RequestBody<Full<Bytes>>>| async move {
            let n: u64 = req
                .headers()
                .get("x-n")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            std::thread::sleep(Duration::from_micros(100 * (n % 7)));
            let status = match (req.uri().path(), n) {
                ("/orders", 0) => StatusCode::NOT_FOUND,
                ("/orders", _) => StatusCode::OK,
                (_, 0) => return Err(std::io::Error::other("backend down")),
                (_, 1..=3) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::CREATED,
            };
            let mut res = Response::new(Full::new(Bytes::from_static(b"{}")));
            *res.status_mut() = status;
            Ok::<_, std::io::Error>(res)
        },
    ));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    logs.run(|| {
        rt.block_on(async {
            for (path, count, _) in plan::PATHS {
                for n in 0..count {
                    let req = Request::builder()
                        .uri(path)
                        .header("x-n", n.to_string())
                        .body(Full::new(Bytes::new()))
                        .unwrap();
                    if let Ok(res) = svc.clone().oneshot(req).await {
                        let _ = res.into_body().collect().await;
                    }
                }
            }
        })
    });
}
