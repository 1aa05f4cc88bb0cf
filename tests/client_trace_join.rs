//! A call made through `AuditedClient` inside an inbound request continues
//! the inbound request's W3C trace: a real axum server behind `AuditLayer`
//! calls a second real axum server (also behind `AuditLayer`) on
//! 127.0.0.1:0, and the three records (the front's inbound request, its
//! outbound call, the partner's inbound request) join on `trace_id`.
#![cfg(all(feature = "reqwest", feature = "axum"))]

mod client_support;
mod common;
mod http_support;

use std::net::SocketAddr;

use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;
use tracing::Instrument;

use common::records::{Logs, Record};
use http_support::{at, Server};
use tracing_audit::http::{AuditLayer, AuditedClient};

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT: &str = "00f067aa0ba902b7";

/// The front service: `/front` calls the partner's `/headers` (which
/// answers the `x-request-id` and `traceparent` it got) and answers what
/// the partner saw; `/front-spawned` makes the call from a spawned task
/// instrumented with the request's span.
fn front(partner: String) -> Router {
    let client = AuditedClient::new("partner", reqwest::Client::new());
    let spawned_client = client.clone();
    let spawned_url = partner.clone();
    Router::new()
        .route(
            "/front",
            get(move || {
                let (client, url) = (client.clone(), partner.clone());
                async move {
                    let seen: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
                    Json(seen)
                }
            }),
        )
        .route(
            "/front-spawned",
            get(move || {
                let (client, url) = (spawned_client.clone(), spawned_url.clone());
                async move {
                    let task = async move {
                        let seen: Value =
                            client.get(&url).send().await.unwrap().json().await.unwrap();
                        seen
                    };
                    let seen = tokio::spawn(task.instrument(tracing::Span::current()))
                        .await
                        .unwrap();
                    Json(seen)
                }
            }),
        )
        .layer(AuditLayer::new())
}

/// The partner (behind `AuditLayer`) and the front server, both on the
/// partner's runtime; the front's base URL.
fn servers() -> (Server, String) {
    let server = Server::start(
        Logs::new(),
        client_support::partner().layer(AuditLayer::new()),
    );
    let listener = server
        .runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let front_addr = listener.local_addr().unwrap();
    let app = front(server.url("/headers"));
    server.runtime.spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    (server, format!("http://{front_addr}"))
}

/// Calls the front at `path` with this request id and `traceparent`
/// (none when `None`); what the partner saw.
fn call_front(server: &Server, url: String, id: &str, traceparent: Option<&str>) -> Value {
    server.run(async {
        let mut req = server.client.get(url).header("x-request-id", id);
        if let Some(tp) = traceparent {
            req = req.header("traceparent", tp);
        }
        let response = req.send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    })
}

/// The three records of request `id`: the front's inbound record, its
/// outbound call's, and the partner's inbound record (the request id went
/// out as `x-request-id`, so all three carry it).
fn three<'a>(records: &'a [Record], id: &str) -> (&'a Record, &'a Record, &'a Record) {
    let mine: Vec<&Record> = records
        .iter()
        .filter(|r| r.get("request_id").and_then(Value::as_str) == Some(id))
        .collect();
    assert_eq!(mine.len(), 3, "three records for {id}: {mine:#?}");
    let path = |r: &Record| at(r, &["request_repr", "path"]).as_str().map(str::to_owned);
    let find = |what: &dyn Fn(&Record) -> bool| {
        let found: Vec<&&Record> = mine.iter().filter(|r| what(r)).collect();
        assert_eq!(found.len(), 1, "{mine:#?}");
        *found[0]
    };
    let front =
        find(&|r| r["request_type"] == "internal" && path(r).as_deref() != Some("/headers"));
    let call = find(&|r| r["request_type"] == "external");
    let partner =
        find(&|r| r["request_type"] == "internal" && path(r).as_deref() == Some("/headers"));
    (front, call, partner)
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[test]
fn a_call_inside_an_inbound_request_continues_its_trace() {
    let (server, front_url) = servers();
    let inbound = format!("00-{TRACE}-{PARENT}-01");
    let seen = call_front(
        &server,
        format!("{front_url}/front"),
        "join-1",
        Some(&inbound),
    );
    let records = server.wait_records(3);
    let (front, call, partner) = three(&records, "join-1");

    // The front's record: the trace it was called with.
    assert_eq!(front["trace_id"], TRACE);
    assert_eq!(front["span_id"], PARENT);
    // The call: the same trace, a parent id of its own (the hop's span).
    assert_eq!(call["trace_id"], TRACE);
    let call_span = call["span_id"].as_str().unwrap();
    assert!(is_hex(call_span, 16), "{call_span}");
    assert_ne!(call_span, PARENT);
    // What went out on the wire: the trace continued, flags kept.
    let sent = format!("00-{TRACE}-{call_span}-01");
    assert_eq!(seen["traceparent"], sent.as_str());
    assert_eq!(
        at(call, &["request_repr", "headers", "traceparent"]),
        sent.as_str()
    );
    assert_eq!(seen["x-request-id"], "join-1");
    // The partner's record joins the call's on both ids, and the front's
    // on the trace.
    assert_eq!(partner["trace_id"], TRACE);
    assert_eq!(partner["span_id"], call_span);
}

#[test]
fn a_spawned_task_instrumented_with_the_request_span_continues_it_too() {
    let (server, front_url) = servers();
    let trace = "0af7651916cd43dd8448eb211c80319c";
    let inbound = format!("00-{trace}-b7ad6b7169203331-00");
    let seen = call_front(
        &server,
        format!("{front_url}/front-spawned"),
        "join-2",
        Some(&inbound),
    );
    let records = server.wait_records(3);
    let (front, call, partner) = three(&records, "join-2");
    assert_eq!(front["trace_id"], trace);
    assert_eq!(call["trace_id"], trace);
    assert_eq!(partner["trace_id"], trace);
    // The flags (here: not sampled) go on as they came.
    let sent = seen["traceparent"].as_str().unwrap();
    assert!(sent.starts_with(&format!("00-{trace}-")), "{sent}");
    assert!(sent.ends_with("-00"), "{sent}");
}

#[test]
fn without_an_inbound_trace_the_call_starts_a_new_one() {
    let (server, front_url) = servers();
    // No header, then a malformed one: neither is continued.
    call_front(&server, format!("{front_url}/front"), "fresh-1", None);
    call_front(
        &server,
        format!("{front_url}/front"),
        "fresh-2",
        Some("00-XYZ-00f067aa0ba902b7-01"),
    );
    let records = server.wait_records(6);
    let mut traces = Vec::new();
    for id in ["fresh-1", "fresh-2"] {
        let (front, call, partner) = three(&records, id);
        assert_eq!(front["trace_id"], Value::Null);
        let trace = call["trace_id"].as_str().unwrap();
        assert!(is_hex(trace, 32), "{trace}");
        assert_eq!(partner["trace_id"], trace);
        assert_eq!(partner["span_id"], call["span_id"]);
        traces.push(trace.to_owned());
    }
    assert_ne!(traces[0], traces[1]);
}

#[test]
fn concurrent_requests_each_continue_their_own_trace() {
    let (server, front_url) = servers();
    const N: usize = 40;
    let traces: Vec<String> = (0..N)
        .map(|i| format!("{:032x}", 0xabc0_0000 + i))
        .collect();
    server.run(async {
        let mut tasks = Vec::new();
        for (i, trace) in traces.iter().enumerate() {
            let req = server
                .client
                .get(format!("{front_url}/front"))
                .header("x-request-id", format!("many-{i}"))
                .header("traceparent", format!("00-{trace}-{PARENT}-01"));
            tasks.push(tokio::spawn(async move {
                let response = req.send().await.unwrap();
                assert_eq!(response.status(), 200);
                response.bytes().await.unwrap();
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
    });
    let records = server.wait_records(3 * N);
    for (i, trace) in traces.iter().enumerate() {
        let (front, call, partner) = three(&records, &format!("many-{i}"));
        assert_eq!(front["trace_id"], trace.as_str());
        assert_eq!(call["trace_id"], trace.as_str());
        assert_eq!(partner["trace_id"], trace.as_str());
        assert_eq!(partner["span_id"], call["span_id"]);
    }
}
