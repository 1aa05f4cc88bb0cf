//! Many calls at once and a large download: each record carries its own
//! caller's request id, and a 10 MB body reaches the caller whole while
//! the record keeps its first bytes and says it was cut.
#![cfg(all(feature = "reqwest", feature = "axum"))]

mod client_support;
mod common;
mod http_support;

use client_support::{big_body, in_request, one, start, BIG};
use common::records::Logs;
use futures_util::StreamExt;
use http_support::at;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tracing::instrument::WithSubscriber;
use tracing::Instrument;
use tracing_audit::http::AuditedClient;

#[test]
fn two_hundred_concurrent_calls_carry_their_own_request_id() {
    let server = start(Logs::new());
    let c = AuditedClient::new("partner-api", reqwest::Client::new());
    let base = server.url("");
    server.logs.run(|| {
        server.run(async {
            let mut tasks = Vec::new();
            for i in 0..200u32 {
                let c = c.clone();
                let base = base.clone();
                let span =
                    tracing::info_span!("request", request_id = format!("conc-{i}").as_str());
                tasks.push(tokio::spawn(
                    async move {
                        let r = c.get(format!("{base}/headers")).send().await.unwrap();
                        let seen: Value = r.json().await.unwrap();
                        assert_eq!(seen["x-request-id"], format!("conc-{i}").as_str());
                    }
                    .instrument(span)
                    .with_current_subscriber(),
                ));
            }
            for t in tasks {
                t.await.unwrap();
            }
        })
    });
    let records = server.wait_records(200);
    assert_eq!(records.len(), 200);
    for i in 0..200 {
        let id = format!("conc-{i}");
        let r = one(&records, &id);
        assert_eq!(
            at(r, &["response_repr", "body", "x-request-id"]),
            id.as_str()
        );
    }
}

#[test]
fn a_10_mb_download_is_whole_and_its_record_cut() {
    let server = start(Logs::new());
    let c = AuditedClient::new("files", reqwest::Client::new());
    let want = Sha256::digest(big_body());
    // Read as a stream, chunk by chunk.
    let got = in_request(&server, "big-stream", async {
        let r = c.get(server.url("/big")).send().await.unwrap();
        let mut hash = Sha256::new();
        let mut n = 0;
        let mut stream = r.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.unwrap();
            n += chunk.len();
            hash.update(&chunk);
        }
        assert_eq!(n, BIG);
        hash.finalize()
    });
    assert_eq!(got, want);
    // Read whole.
    let bytes = in_request(&server, "big-bytes", async {
        c.get(server.url("/big"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
    });
    assert_eq!(Sha256::digest(&bytes), want);

    let records = server.wait_records(2);
    for id in ["big-stream", "big-bytes"] {
        let r = one(&records, id);
        assert_eq!(r["response_size"], BIG as u64);
        assert_eq!(at(r, &["response_repr", "body_truncated"]), true);
        let kept = at(r, &["response_repr", "body"]).as_str().unwrap();
        assert_eq!(
            kept.len(),
            tracing_audit::http::DEFAULT_BODY_LIMIT.min(kept.len())
        );
        assert!(kept.len() <= tracing_audit::http::DEFAULT_BODY_LIMIT);
        assert!(
            kept.starts_with("abcdefghijklmnopqrstuvwxyzabc"),
            "{}",
            &kept[..40]
        );
        assert_eq!(r["aborted"], false);
    }
}
