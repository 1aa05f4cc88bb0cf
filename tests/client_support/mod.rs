//! The partner: a plain axum server on 127.0.0.1:0 (no audit layer, so
//! every record in `api.log` is one the client made), and helpers to call
//! it from inside a request span of the crate's real layer.
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use tracing::Instrument;

use crate::common::records::{Logs, Record};
use crate::http_support::Server;

/// Size of `/big`: 10 MB.
pub const BIG: usize = 10 * 1024 * 1024;

/// The bytes `/big` sends: a text of known content.
pub fn big_body() -> Vec<u8> {
    (0..BIG).map(|i| b'a' + (i % 26) as u8).collect()
}

/// The partner API.
pub fn partner() -> Router {
    let flaky = Arc::new(AtomicUsize::new(0));
    Router::new()
        .route(
            "/items/{id}",
            get(
                |axum::extract::Path(id): axum::extract::Path<u32>| async move {
                    Json(json!({"id": id, "name": "widget"}))
                },
            ),
        )
        .route(
            "/items",
            post(|Json(v): Json<Value>| async move {
                (StatusCode::CREATED, Json(json!({"created": v})))
            }),
        )
        .route(
            "/boom",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "database down") }),
        )
        .route("/text", get(|| async { "plain words, not JSON" }))
        .route("/redirect", get(|| async { Redirect::to("/items/9") }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                "late"
            }),
        )
        .route(
            "/big",
            get(|| async { ([("content-type", "text/plain")], big_body()) }),
        )
        .route(
            "/headers",
            get(|headers: HeaderMap| async move {
                let h = |n: &str| headers.get(n).map(|v| v.to_str().unwrap_or("").to_owned());
                Json(json!({
                    "x-request-id": h("x-request-id"),
                    "traceparent": h("traceparent"),
                }))
            }),
        )
        .route(
            "/login",
            post(|body: String| async move {
                let _ = body;
                Json(json!({
                    "access_token": "S3cr3t-response-access-token",
                    "refresh": "S3cr3t-response-refresh",
                    "user": "alice"
                }))
            }),
        )
        .route(
            "/flaky",
            get(move || {
                let flaky = Arc::clone(&flaky);
                async move {
                    // Two 503s, then 200.
                    if flaky.fetch_add(1, Ordering::SeqCst) < 2 {
                        (StatusCode::SERVICE_UNAVAILABLE, "try later").into_response()
                    } else {
                        Json(json!({"ok": true})).into_response()
                    }
                }
            }),
        )
}

/// The partner, its records going to `logs`.
pub fn start(logs: Logs) -> Server {
    Server::start(logs, partner())
}

/// Runs `f` inside a request span with this `request_id`, on the test
/// thread with the layer's subscriber as default.
pub fn in_request<T, Fut: Future<Output = T>>(server: &Server, id: &str, f: Fut) -> T {
    server.logs.run(|| {
        let span = tracing::info_span!("request", request_id = id);
        server.run(f.instrument(span))
    })
}

/// The one record with this `request_id`.
pub fn one<'a>(records: &'a [Record], id: &str) -> &'a Record {
    crate::http_support::by_request_id(records, id)
}
