//! Bodies pass through byte for byte and only the cap is kept: a 10 MB
//! upload and a 10 MB download hash the same at both ends; the record
//! holds at most the cap and says it was cut; an SSE stream of 1,000
//! events is recorded once, at its end; a client that goes away
//! mid-stream leaves an aborted record.
#![cfg(feature = "axum")]

mod common;
mod http_support;

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::response::sse::{Event, Sse};
use axum::routing::{get, post};
use axum::Router;
use common::records::Logs;
use futures_util::StreamExt;
use http_support::{at, by_request_id, Server};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tracing_audit::http::AuditLayer;
use tracing_audit::Kind;

const TEN_MB: usize = 10 * 1024 * 1024;

/// `n` bytes of printable text that does not repeat in short periods.
fn data(n: usize) -> Vec<u8> {
    let mut x: u32 = 0x2545_f491;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            b'a' + (x % 26) as u8
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn ten_megabytes_each_way_pass_through_unchanged_and_the_record_keeps_the_cap() {
    let download = Arc::new(data(TEN_MB));
    let served = Arc::clone(&download);
    let app = Router::new()
        .route("/upload", post(|body: Bytes| async move { hex(&body) }))
        .route(
            "/download",
            get(move || {
                let served = Arc::clone(&served);
                async move {
                    // Streamed in 64 KiB chunks, as a file would be.
                    let chunks: Vec<Result<Bytes, Infallible>> = served
                        .chunks(64 * 1024)
                        .map(|c| Ok(Bytes::copy_from_slice(c)))
                        .collect();
                    (
                        [("content-type", "application/octet-stream")],
                        Body::from_stream(futures_util::stream::iter(chunks)),
                    )
                }
            }),
        )
        .layer(axum::extract::DefaultBodyLimit::max(2 * TEN_MB))
        .layer(AuditLayer::new());
    let server = Server::start(Logs::new(), app);
    let upload = data(TEN_MB + 7);
    let r = server
        .run(
            server
                .client
                .post(server.url("/upload"))
                .header("x-request-id", "up")
                .header("content-type", "text/plain")
                .body(upload.clone())
                .send(),
        )
        .unwrap();
    assert_eq!(server.run(r.text()).unwrap(), hex(&upload));
    let r = server
        .run(
            server
                .client
                .get(server.url("/download"))
                .header("x-request-id", "down")
                .send(),
        )
        .unwrap();
    let got = server.run(r.bytes()).unwrap();
    assert_eq!(got.len(), TEN_MB);
    assert_eq!(hex(&got), hex(&download));

    let records = server.wait_records(2);
    let up = by_request_id(&records, "up");
    assert_eq!(up["request_size"], TEN_MB as u64 + 7);
    assert_eq!(at(up, &["request_repr", "body_truncated"]), true);
    let kept = at(up, &["request_repr", "body"]).as_str().unwrap();
    assert!(
        kept.len() <= tracing_audit::http::DEFAULT_BODY_LIMIT + 64,
        "{}",
        kept.len()
    );
    // What is kept is the start of the body.
    let head = kept.split('…').next().unwrap();
    assert!(head.len() > 1000 && upload.starts_with(head.as_bytes()));
    let down = by_request_id(&records, "down");
    assert_eq!(down["response_size"], TEN_MB as u64);
    assert_eq!(
        at(down, &["response_repr", "body"]),
        "[binary 10485760 bytes]"
    );
    // Recorded by its size: nothing of it is cut.
    assert_eq!(at(down, &["response_repr", "body_truncated"]), false);
    assert_eq!(down["aborted"], false);
    // Every line stays under Vector's default 100 KiB.
    for line in server.logs.lines(Kind::Api) {
        assert!(line.text.len() < 100 * 1024);
    }
}

/// A body far over the cap, each way, in frames of many sizes: the
/// record holds exactly the first `cap` bytes of each, marked cut.
#[test]
fn a_body_far_over_the_cap_is_recorded_as_its_first_cap_bytes_marked_cut() {
    const CAP: usize = 1000;
    let download = Arc::new(data(3 * 1024 * 1024 + 11));
    let served = Arc::clone(&download);
    let app = Router::new()
        .route(
            "/echo-size",
            post(|body: Bytes| async move { body.len().to_string() }),
        )
        .route(
            "/text",
            get(move || {
                let served = Arc::clone(&served);
                async move {
                    // Uneven frames: 1, 7, 333, 4096 … bytes.
                    let mut chunks: Vec<Result<Bytes, Infallible>> = Vec::new();
                    let mut at = 0;
                    for size in [1usize, 7, 333, 4096, 65_536].iter().cycle() {
                        if at >= served.len() {
                            break;
                        }
                        let end = (at + size).min(served.len());
                        chunks.push(Ok(Bytes::copy_from_slice(&served[at..end])));
                        at = end;
                    }
                    (
                        [("content-type", "text/plain")],
                        Body::from_stream(futures_util::stream::iter(chunks)),
                    )
                }
            }),
        )
        .layer(axum::extract::DefaultBodyLimit::max(2 * TEN_MB))
        .layer(AuditLayer::new().body_limit(CAP));
    let server = Server::start(Logs::new(), app);
    let upload = data(5 * 1024 * 1024);
    let r = server
        .run(
            server
                .client
                .post(server.url("/echo-size"))
                .header("x-request-id", "up")
                .header("content-type", "text/plain")
                .body(upload.clone())
                .send(),
        )
        .unwrap();
    assert_eq!(server.run(r.text()).unwrap(), upload.len().to_string());
    let r = server
        .run(
            server
                .client
                .get(server.url("/text"))
                .header("x-request-id", "down")
                .send(),
        )
        .unwrap();
    assert_eq!(server.run(r.bytes()).unwrap().len(), download.len());

    let records = server.wait_records(2);
    let up = by_request_id(&records, "up");
    let kept = at(up, &["request_repr", "body"]).as_str().unwrap();
    assert_eq!(kept.len(), CAP);
    assert_eq!(kept.as_bytes(), &upload[..CAP]);
    assert_eq!(at(up, &["request_repr", "body_truncated"]), true);
    assert_eq!(up["request_size"], upload.len() as u64);
    let down = by_request_id(&records, "down");
    let kept = at(down, &["response_repr", "body"]).as_str().unwrap();
    assert_eq!(kept.len(), CAP);
    assert_eq!(kept.as_bytes(), &download[..CAP]);
    assert_eq!(at(down, &["response_repr", "body_truncated"]), true);
    assert_eq!(down["response_size"], download.len() as u64);
    assert_eq!(down["truncated"], true);
}

#[test]
fn a_small_cap_cuts_json_into_marked_text() {
    let app = Router::new()
        .route("/echo", post(|body: String| async move { body }))
        .layer(AuditLayer::new().body_limit(10));
    let server = Server::start(Logs::new(), app);
    let r = server
        .run(
            server
                .client
                .post(server.url("/echo"))
                .header("content-type", "application/json")
                .body(r#"{"name":"a long enough value"}"#)
                .send(),
        )
        .unwrap();
    assert_eq!(
        server.run(r.text()).unwrap(),
        r#"{"name":"a long enough value"}"#
    );
    let records = server.wait_records(1);
    assert_eq!(at(&records[0], &["request_repr", "body"]), r#"{"name":"a"#);
    assert_eq!(at(&records[0], &["request_repr", "body_truncated"]), true);
    assert_eq!(records[0]["truncated"], true);
}

#[test]
fn an_sse_stream_is_recorded_once_at_its_end() {
    // The last event waits for the test's word.
    let gate: Arc<Mutex<Option<tokio::sync::oneshot::Receiver<()>>>> = Arc::default();
    let (release, wait) = tokio::sync::oneshot::channel();
    *gate.lock().unwrap() = Some(wait);
    let app = Router::new()
        .route(
            "/events",
            get(move || {
                let wait = gate.lock().unwrap().take().unwrap();
                async move {
                    let first = futures_util::stream::iter(0..999)
                        .map(|i| Ok::<_, Infallible>(Event::default().data(format!("event {i}"))));
                    let last = futures_util::stream::once(async move {
                        let _ = wait.await;
                        Ok::<_, Infallible>(Event::default().data("event 999"))
                    });
                    Sse::new(first.chain(last))
                }
            }),
        )
        .layer(AuditLayer::new());
    let server = Server::start(Logs::new(), app);
    let mut response = server
        .run(server.client.get(server.url("/events")).send())
        .unwrap();
    let mut received = Vec::new();
    while !String::from_utf8_lossy(&received).contains("event 998\n") {
        let chunk = server.run(response.chunk()).unwrap().unwrap();
        received.extend_from_slice(&chunk);
    }
    assert_eq!(
        server.logs.records(Kind::Api).len(),
        0,
        "no record before the end"
    );
    release.send(()).unwrap();
    while let Some(chunk) = server.run(response.chunk()).unwrap() {
        received.extend_from_slice(&chunk);
    }
    let text = String::from_utf8(received.clone()).unwrap();
    assert_eq!(text.matches("data: event ").count(), 1000);
    let records = server.wait_records(1);
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r["response_size"], received.len() as u64);
    assert_eq!(r["aborted"], false);
    assert_eq!(
        at(r, &["response_repr", "headers", "content-type"]),
        "text/event-stream"
    );
    assert!(at(r, &["response_repr", "body"])
        .as_str()
        .unwrap()
        .starts_with("data: event 0\n"));
}

#[test]
fn a_client_that_goes_away_mid_stream_leaves_an_aborted_record() {
    let app = Router::new()
        .route(
            "/forever",
            get(|| async {
                let first = futures_util::stream::once(async {
                    Ok::<_, Infallible>(Bytes::from_static(b"first chunk\n"))
                });
                let rest = futures_util::stream::pending::<Result<Bytes, Infallible>>();
                Body::from_stream(first.chain(rest))
            }),
        )
        .layer(AuditLayer::new());
    let server = Server::start(Logs::new(), app);
    {
        let client = reqwest::Client::new();
        let mut response = server
            .run(
                client
                    .get(server.url("/forever"))
                    .header("x-request-id", "gone")
                    .send(),
            )
            .unwrap();
        let chunk = server.run(response.chunk()).unwrap().unwrap();
        assert_eq!(&chunk[..], b"first chunk\n");
        // The client goes away: response and connection dropped.
    }
    let records = server.wait_records(1);
    let r = by_request_id(&records, "gone");
    assert_eq!(r["aborted"], true);
    assert_eq!(r["response_size"], 12);
    assert_eq!(at(r, &["response_repr", "body"]), "first chunk\n");
    assert_eq!(at(r, &["response_repr", "status_code"]), 200);
    assert_eq!(r["error_message"], Value::Null);
}

/// A panic while the response body streams (the head is already sent, so
/// no 500 can be given): the client sees a broken body, not a short one
/// that looks whole, and the one record says what happened.
#[test]
fn a_panic_while_the_body_streams_is_one_aborted_record_with_the_panic() {
    let app = Router::new()
        .route(
            "/stream",
            get(|| async {
                let chunks = futures_util::stream::iter(0..3).map(|i| {
                    if i == 2 {
                        panic!("the stream blew up at chunk {i}");
                    }
                    Ok::<_, Infallible>(Bytes::from(format!("chunk {i}\n")))
                });
                ([("content-type", "text/plain")], Body::from_stream(chunks))
            }),
        )
        .layer(AuditLayer::new());
    let server = Server::start(Logs::new(), app);
    let outcome = server.run(async {
        let response = server
            .client
            .get(server.url("/stream"))
            .header("x-request-id", "boom")
            .send()
            .await?;
        response.bytes().await
    });
    // Whether the head went out before the panic or not, the client gets
    // an error, never a cut body that looks whole.
    assert!(outcome.is_err(), "{outcome:?}");
    let records = server.wait_records(1);
    assert_eq!(records.len(), 1, "{records:#?}");
    let r = by_request_id(&records, "boom");
    assert_eq!(at(r, &["response_repr", "status_code"]), 200);
    assert_eq!(r["aborted"], true);
    let error = r["error_message"].as_str().unwrap_or_default();
    assert!(
        error.contains("the stream blew up at chunk 2"),
        "error_message: {error:?}"
    );
}

/// A download streamed with its length declared (`Content-Length`, as a
/// file served from a reader is): the server stops polling the body once
/// the declared bytes are out, without asking it for its end. Every byte
/// reached the client, so the record is not aborted.
#[test]
fn a_stream_with_a_declared_length_read_whole_is_not_aborted() {
    let app = Router::new()
        .route(
            "/file",
            get(|| async {
                let chunks = futures_util::stream::iter(0..3)
                    .map(|i| Ok::<_, Infallible>(Bytes::from(format!("part {i}\n"))));
                // A stream that would go on: only the length says it ended.
                let body = Body::from_stream(chunks.chain(futures_util::stream::pending()));
                (
                    [("content-length", "21"), ("content-type", "text/plain")],
                    body,
                )
            }),
        )
        .layer(AuditLayer::new());
    let server = Server::start(Logs::new(), app);
    let text = server.run(async {
        let r = server
            .client
            .get(server.url("/file"))
            .header("x-request-id", "declared")
            .send()
            .await
            .unwrap();
        r.text().await.unwrap()
    });
    assert_eq!(text, "part 0\npart 1\npart 2\n");
    let records = server.wait_records(1);
    let r = by_request_id(&records, "declared");
    assert_eq!(r["response_size"], 21);
    assert_eq!(r["aborted"], false, "{r:#?}");
    assert_eq!(
        at(r, &["response_repr", "body"]),
        "part 0\npart 1\npart 2\n"
    );
}
