//! Criterion benchmark: one request through `http::AuditLayer` (feature
//! `http`), in process (`oneshot`, no socket), next to the same request
//! without the layer: the cost of the request record on the request's
//! path, where the hand-written parts of it run (the JSON bodies written
//! from their bytes, `json::transcode`; the escape check; the value
//! scan's first pass and its memo of clean values).
//!
//! ```text
//! cargo bench --all-features --bench http_record
//! ```
//!
//! - `bare`: the service alone;
//! - `audit/sorted`: the layer, JSON bodies whose keys come in order;
//! - `audit/unsorted`: the layer, JSON bodies whose keys must be put in
//!   order and with a repeated key (the record's object is rewritten).
//!
//! The crate's subscriber is installed for all three (files in a
//! temporary directory), so `bare` pays nothing for it.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use tower::{service_fn, Layer, ServiceExt};
use tracing_audit::http::AuditLayer;

const SORTED_REQUEST: &str = r#"{"name":"widget","price":12.5,"tags":["a","b"]}"#;
const SORTED_RESPONSE: &str = r#"{"id":1,"name":"widget","price":12.5,"tags":["a","b"]}"#;
const UNSORTED_REQUEST: &str =
    r#"{"username":"alice","password":"hunter2","remember":true,"username":"bob"}"#;
const UNSORTED_RESPONSE: &str =
    r#"{"user":{"name":"bob","id":7},"access_token":"abc","expires":3600}"#;

fn request(body: &'static str) -> Request<Full<Bytes>> {
    Request::post("/items?page=2")
        .header("content-type", "application/json")
        .header("user-agent", "bench/1.0")
        .header("accept", "*/*")
        .header("host", "127.0.0.1:8080")
        .extension(std::net::SocketAddr::from(([127, 0, 0, 1], 50_000)))
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .expect("a valid request")
}

async fn handler<B: http_body::Body>(
    answer: &'static str,
    req: Request<B>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    // Read the body as a handler would, so that it is captured.
    let _ = req.into_body().collect().await;
    let mut response = Response::new(Full::new(Bytes::from_static(answer.as_bytes())));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let guard = tracing_audit::builder()
        .service_name("bench")
        .log_dir(dir.path())
        .console(false)
        .init()
        .expect("the subscriber installs");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let mut g = c.benchmark_group("http_record");
    g.bench_function("bare", |b| {
        let svc = service_fn(|r| handler(SORTED_RESPONSE, r));
        b.iter(|| {
            runtime.block_on(async {
                let response = svc
                    .oneshot(request(SORTED_REQUEST))
                    .await
                    .expect("infallible");
                response.into_body().collect().await.expect("a body");
            })
        })
    });
    for (name, req, res) in [
        ("audit/sorted", SORTED_REQUEST, SORTED_RESPONSE),
        ("audit/unsorted", UNSORTED_REQUEST, UNSORTED_RESPONSE),
    ] {
        g.bench_function(name, |b| {
            let svc = AuditLayer::new().layer(service_fn(move |r| handler(res, r)));
            b.iter(|| {
                runtime.block_on(async {
                    let response = svc.clone().oneshot(request(req)).await.expect("infallible");
                    response.into_body().collect().await.expect("a body");
                })
            })
        });
    }
    g.finish();
    drop(guard.shutdown());
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
