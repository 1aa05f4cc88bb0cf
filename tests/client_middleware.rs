//! `AuditMiddleware` in a `reqwest-middleware` chain after a retry
//! middleware: one record per attempt, numbered.
#![cfg(all(feature = "reqwest-middleware", feature = "axum"))]

mod client_support;
mod common;
mod http_support;

use client_support::{in_request, start};
use common::records::Logs;
use http_support::at;
use reqwest_retry::policies::ExponentialBackoff;
use reqwest_retry::RetryTransientMiddleware;
use serde_json::Value;
use tracing_audit::http::AuditMiddleware;

#[test]
fn each_attempt_under_a_retry_middleware_is_one_record() {
    let server = start(Logs::new());
    let policy = ExponentialBackoff::builder()
        .retry_bounds(
            std::time::Duration::from_millis(1),
            std::time::Duration::from_millis(5),
        )
        .build_with_max_retries(3);
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(RetryTransientMiddleware::new_with_policy(policy))
        .with(AuditMiddleware::new("flaky-partner"))
        .build();
    let body: Value = in_request(&server, "retried", async {
        let r = client.get(server.url("/flaky")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    });
    assert_eq!(body["ok"], true);
    let mut records = server.wait_records(3);
    assert_eq!(records.len(), 3, "{records:#?}");
    records.sort_by_key(|r| r["attempt"].as_u64());
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r["attempt"], i as u64 + 1);
        assert_eq!(r["peer_service"], "flaky-partner");
        assert_eq!(r["request_id"], "retried");
    }
    assert_eq!(at(&records[0], &["response_repr", "status_code"]), 503);
    assert_eq!(at(&records[1], &["response_repr", "status_code"]), 503);
    assert_eq!(at(&records[2], &["response_repr", "status_code"]), 200);
    assert_eq!(at(&records[2], &["response_repr", "body", "ok"]), true);
}
