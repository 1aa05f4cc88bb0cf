//! A fixed number of outbound calls, one after the other, for instruction
//! counts: the same small JSON `POST` to an axum server on loopback in the
//! same process, through a plain `reqwest::Client` (`plain`) or through
//! `AuditedClient` (`audit`), with the crate's real layer and appender
//! installed in every mode (files in a temporary directory). The floors of
//! `client_overhead --floors` (see `support/client_floors.rs`): `wrapped`
//! (the response body wrapped in an identity `map_frame`), `propagated`
//! (the two propagation headers added by hand), `logged` (one line per call
//! through `fmt().json()` over a lossless `non_blocking`, the thread's
//! dispatcher), `our-line` (the same line through the crate's subscriber),
//! `demanded` (the three together, the line through the crate's
//! subscriber) and `no-bodies` (`AuditedClient::body_limit(0)`).
//!
//! ```text
//! cargo build --release --all-features --example client_calls
//! # instructions per call: the difference of two runs over the
//! # difference of their call counts (start-up cancels out)
//! for mode in plain audit wrapped propagated logged our-line demanded no-bodies; do for n in 500 1500; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/client_calls $mode $n 2>&1 | grep 'refs'
//! done; done
//! ```

#[path = "support/mod.rs"]
#[allow(dead_code)] // the record-count options are not used here
mod support;

#[path = "support/client_floors.rs"]
mod floors;

use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use tracing::Instrument;
use tracing_audit::http::AuditedClient;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "audit".to_owned());
    let n: u64 = args.next().map_or(Ok(1000), |s| s.parse())?;
    use floors::Parts;
    let only = |f: fn(&mut Parts)| {
        let mut parts = Parts::NONE;
        f(&mut parts);
        parts
    };
    // What each mode adds to a plain call (the audited modes: nothing).
    let parts = match mode.as_str() {
        "plain" | "audit" | "no-bodies" => Parts::NONE,
        "wrapped" => only(|p| p.wrap = true),
        "propagated" => only(|p| p.propagate = true),
        "logged" | "our-line" => only(|p| p.log = true),
        "demanded" => Parts::ALL,
        _ => {
            return Err(format!(
                "mode {mode}: plain, audit, no-bodies, wrapped, propagated, logged, our-line or demanded"
            )
            .into())
        }
    };
    let dir = tempfile::tempdir()?;
    let guard = tracing_audit::builder()
        .service_name("client_calls")
        .log_dir(dir.path())
        .console(false)
        .init()?;
    let (anchor, anchor_guard) = support::json_anchor(dir.path(), "logged.log");
    // The runtime runs on this thread: the anchor takes every span and
    // event of the `logged` mode.
    let _default = (mode == "logged").then(|| tracing::dispatcher::set_default(&anchor));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/orders", listener.local_addr()?);
        let app = Router::new().route(
            "/orders",
            post(|Json(v): Json<Value>| async move { Json(v) }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        let plain = reqwest::Client::new();
        let audited = AuditedClient::new("orders", plain.clone());
        let audited = if mode == "no-bodies" {
            audited.body_limit(0)
        } else {
            audited
        };
        for i in 0..n {
            let body = json!({"order": i, "items": [{"sku": "A-1", "qty": 2}], "note": "bench"});
            let span = tracing::info_span!("request", request_id = i);
            let call = async {
                let start = std::time::Instant::now();
                let response = if mode == "audit" || mode == "no-bodies" {
                    audited.post(&url).json(&body).send().await?
                } else {
                    let request = plain.post(&url).json(&body);
                    let request = if parts.propagate {
                        floors::propagated(request, i)
                    } else {
                        request
                    };
                    request.send().await?
                };
                let status = response.status();
                let response = if parts.wrap {
                    floors::wrapped(response)
                } else {
                    response
                };
                let answer: Value = response.json().await?;
                if parts.log {
                    floors::log_call(&url, status.as_u16(), start.elapsed());
                }
                Ok::<_, reqwest::Error>(answer)
            };
            let answer = call.instrument(span).await?;
            if answer["order"] != i {
                return Err(format!("wrong answer {answer}").into());
            }
        }
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    drop(runtime);
    drop(_default);
    drop(anchor_guard);
    let report = guard.shutdown();
    eprintln!("{report:?}");
    println!("{mode}: {n} calls");
    Ok(())
}
