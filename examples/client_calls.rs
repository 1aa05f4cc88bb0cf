//! A fixed number of outbound calls, one after the other, for instruction
//! counts: the same small JSON `POST` to an axum server on loopback in the
//! same process, through a plain `reqwest::Client` (`plain`) or through
//! `AuditedClient` (`audit`), with the crate's real layer and appender
//! installed in both modes (files in a temporary directory).
//!
//! ```text
//! cargo build --release --all-features --example client_calls
//! # instructions per call: the difference of two runs over the
//! # difference of their call counts (start-up cancels out)
//! for mode in plain audit; do for n in 500 1500; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/client_calls $mode $n 2>&1 | grep 'refs'
//! done; done
//! ```

use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use tracing::Instrument;
use tracing_audit::http::AuditedClient;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "audit".to_owned());
    let n: u64 = args.next().map_or(Ok(1000), |s| s.parse())?;
    if mode != "plain" && mode != "audit" {
        return Err(format!("mode {mode}: plain or audit").into());
    }
    let dir = tempfile::tempdir()?;
    let guard = tracing_audit::builder()
        .service_name("client_calls")
        .log_dir(dir.path())
        .console(false)
        .init()?;
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
        for i in 0..n {
            let body = json!({"order": i, "items": [{"sku": "A-1", "qty": 2}], "note": "bench"});
            let span = tracing::info_span!("request", request_id = i);
            let call = async {
                let response = if mode == "audit" {
                    audited.post(&url).json(&body).send().await?
                } else {
                    plain.post(&url).json(&body).send().await?
                };
                let answer: Value = response.json().await?;
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
    let report = guard.shutdown();
    eprintln!("{report:?}");
    println!("{mode}: {n} calls");
    Ok(())
}
