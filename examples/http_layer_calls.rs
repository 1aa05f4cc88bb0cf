//! A fixed number of in-process requests through `AuditLayer`, for
//! instruction counts: the same small JSON `POST` (`oneshot`, no socket)
//! over a trivial service that answers JSON, with the crate's real layer
//! and appender installed (files in a temporary directory).
//!
//! ```text
//! cargo build --release --all-features --example http_layer_calls
//! # instructions per request: the difference of two runs over the
//! # difference of their request counts (start-up cancels out)
//! for n in 1000 3000; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/http_layer_calls audit $n 2>&1 | grep 'refs'
//! done
//! ```
//!
//! `bare` sends the same requests to the service without the layer and
//! without a subscriber; `audit` through `AuditLayer::new()`; `span`
//! without the layer but in a span like the layer's (`request_id` a new
//! UUIDv7, `user_id` empty) under the crate's subscriber, the floor of
//! the request span.

use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use tower::{service_fn, Layer, ServiceExt};
use tracing_audit::http::AuditLayer;

#[path = "support/mod.rs"]
#[allow(dead_code)] // only the request span is used here
mod support;

const REQUEST: &str = r#"{"name":"widget","price":12.5,"tags":["a","b"]}"#;
const RESPONSE: &str = r#"{"id":1,"name":"widget","price":12.5,"tags":["a","b"]}"#;

async fn handler<B>(req: Request<B>) -> Result<Response<Full<Bytes>>, Infallible>
where
    B: http_body::Body,
{
    // Read the body as a handler would, so that it is captured.
    let _ = req.into_body().collect().await;
    let mut response = Response::new(Full::new(Bytes::from_static(RESPONSE.as_bytes())));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

fn request() -> Request<Full<Bytes>> {
    Request::post("/items?page=2")
        .header("content-type", "application/json")
        .header("user-agent", "bench/1.0")
        .header("accept", "*/*")
        .header("host", "127.0.0.1:8080")
        .extension(std::net::SocketAddr::from(([127, 0, 0, 1], 50_000)))
        .body(Full::new(Bytes::from_static(REQUEST.as_bytes())))
        .expect("a valid request")
}

/// The crate's layer and appender, as the global subscriber, writing in
/// `dir`.
fn init(dir: &std::path::Path) -> Result<tracing_audit::AuditGuard, tracing_audit::Error> {
    tracing_audit::builder()
        .service_name("http_layer_calls")
        .log_dir(dir)
        .console(false)
        .init()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "audit".to_owned());
    let n: u64 = args.next().map_or(Ok(1000), |s| s.parse())?;
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    let dir = tempfile::tempdir()?;
    match mode.as_str() {
        "bare" => runtime.block_on(async {
            let service = service_fn(handler);
            for _ in 0..n {
                let response = service.oneshot(request()).await?;
                response.into_body().collect().await?;
            }
            Ok::<_, Box<dyn std::error::Error>>(())
        })?,
        "audit" => {
            let guard = init(dir.path())?;
            runtime.block_on(async {
                let service = AuditLayer::new().layer(service_fn(handler));
                for _ in 0..n {
                    let response = service.clone().oneshot(request()).await?;
                    response.into_body().collect().await?;
                }
                Ok::<_, Box<dyn std::error::Error>>(())
            })?;
            let report = guard.shutdown();
            eprintln!("{report:?}");
        }
        "span" => {
            let guard = init(dir.path())?;
            runtime.block_on(async {
                let service = service_fn(handler);
                for _ in 0..n {
                    let span = support::request_span();
                    let call = service.oneshot(request());
                    let response = tracing::Instrument::instrument(call, span).await?;
                    response.into_body().collect().await?;
                }
                Ok::<_, Box<dyn std::error::Error>>(())
            })?;
            drop(guard);
        }
        other => return Err(format!("mode {other}: bare, audit or span").into()),
    }
    println!("{mode}: {n} requests");
    Ok(())
}
