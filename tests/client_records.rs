//! `AuditedClient` against a real partner server: one `audit.request`
//! record per call (`request_type` "external") with the right status and
//! bodies, while the caller sees what plain reqwest would show.
#![cfg(all(feature = "reqwest", feature = "axum"))]

mod client_support;
mod common;
mod http_support;

use std::time::Duration;

use client_support::{in_request, one, start};
use common::records::Logs;
use http_support::at;
use serde_json::{json, Value};
use tracing_audit::http::AuditedClient;

fn client() -> AuditedClient {
    AuditedClient::new("partner-api", reqwest::Client::new())
}

#[test]
fn each_call_is_one_record_and_the_caller_sees_the_same_response() {
    let server = start(Logs::new());
    let c = client();

    let got: Value = in_request(&server, "get", async {
        let r = c.get(server.url("/items/7")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/json");
        assert_eq!(r.url().path(), "/items/7");
        assert_eq!(r.content_length(), Some(24));
        assert_eq!(r.remote_addr(), Some(server.addr));
        r.json().await.unwrap()
    });
    assert_eq!(got, json!({"id": 7, "name": "widget"}));

    let created: Value = in_request(&server, "post", async {
        let r = c
            .post(server.url("/items"))
            .json(&json!({"name": "gadget", "price": 12}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        r.json().await.unwrap()
    });
    assert_eq!(created, json!({"created": {"name": "gadget", "price": 12}}));

    let missing = in_request(&server, "missing", async {
        let r = c.get(server.url("/nowhere")).send().await.unwrap();
        (r.status(), r.text().await.unwrap())
    });
    assert_eq!(missing.0, 404);

    let boom = in_request(&server, "boom", async {
        let r = c.get(server.url("/boom")).send().await.unwrap();
        (r.status(), r.text().await.unwrap())
    });
    assert_eq!(
        boom,
        (
            reqwest::StatusCode::INTERNAL_SERVER_ERROR,
            "database down".to_owned()
        )
    );

    let text = in_request(&server, "text", async {
        let r = c.get(server.url("/text")).send().await.unwrap();
        r.bytes().await.unwrap()
    });
    assert_eq!(&text[..], b"plain words, not JSON");

    let redirected = in_request(&server, "redirect", async {
        let r = c.get(server.url("/redirect")).send().await.unwrap();
        assert_eq!(r.url().path(), "/items/9");
        (r.status(), r.json::<Value>().await.unwrap())
    });
    assert_eq!(redirected.0, 200);
    assert_eq!(redirected.1["id"], 9);

    let records = server.wait_records(6);
    assert_eq!(records.len(), 6, "{records:#?}");
    for r in &records {
        assert_eq!(r["level"], "API");
        assert_eq!(r["message"], "Audit External Request");
        assert_eq!(r["request_type"], "external");
        assert_eq!(r["peer_service"], "partner-api");
        assert_eq!(r["service_name"], common::records::SERVICE);
        assert_eq!(r["protocol"], "http");
        assert!(r["execution_time"].as_f64().unwrap() >= 0.0);
        assert_eq!(r["aborted"], false);
        assert_eq!(r["error_kind"], Value::Null);
        assert!(r["request_repr"].get("path").is_none());
        assert!(r["request_repr"].get("client_ip").is_none());
    }

    let get = one(&records, "get");
    assert_eq!(at(get, &["request_repr", "method"]), "GET");
    assert_eq!(
        at(get, &["request_repr", "endpoint"]),
        server.url("/items/7").as_str()
    );
    assert_eq!(at(get, &["response_repr", "status_code"]), 200);
    assert_eq!(
        at(get, &["response_repr", "body"]),
        &json!({"id": 7, "name": "widget"})
    );
    assert_eq!(get["error_message"], Value::Null);

    let post = one(&records, "post");
    assert_eq!(at(post, &["request_repr", "method"]), "POST");
    assert_eq!(
        at(post, &["request_repr", "body"]),
        &json!({"name": "gadget", "price": 12})
    );
    assert_eq!(
        at(post, &["request_repr", "headers", "content-type"]),
        "application/json"
    );
    assert_eq!(at(post, &["response_repr", "status_code"]), 201);
    assert_eq!(
        at(post, &["response_repr", "body", "created", "name"]),
        "gadget"
    );

    let missing = one(&records, "missing");
    assert_eq!(at(missing, &["response_repr", "status_code"]), 404);
    assert_eq!(missing["error_message"], Value::Null);

    let boom = one(&records, "boom");
    assert_eq!(at(boom, &["response_repr", "status_code"]), 500);
    assert_eq!(at(boom, &["response_repr", "body"]), "database down");
    assert_eq!(boom["error_message"], "500 Internal Server Error");

    // A 200 that is not JSON is text, not an error.
    let text = one(&records, "text");
    assert_eq!(
        at(text, &["response_repr", "body"]),
        "plain words, not JSON"
    );
    assert_eq!(text["error_message"], Value::Null);

    // The redirect is followed: one record, the final answer.
    let redirect = one(&records, "redirect");
    assert_eq!(at(redirect, &["response_repr", "status_code"]), 200);
    assert_eq!(at(redirect, &["response_repr", "body", "id"]), 9);
}

#[test]
fn a_second_call_keeps_nothing_of_the_first() {
    let server = start(Logs::new());
    let c = client();
    in_request(&server, "first", async {
        let r = c.get(server.url("/boom")).send().await.unwrap();
        r.text().await.unwrap();
    });
    in_request(&server, "second", async {
        let r = c.get(server.url("/items/1")).send().await.unwrap();
        r.text().await.unwrap();
    });
    let records = server.wait_records(2);
    assert_eq!(records.len(), 2);
    let first = one(&records, "first");
    assert_eq!(first["error_message"], "500 Internal Server Error");
    let second = one(&records, "second");
    assert_eq!(second["error_message"], Value::Null);
    assert_eq!(at(second, &["response_repr", "status_code"]), 200);
    assert_eq!(at(second, &["response_repr", "body", "id"]), 1);
    assert_ne!(second["trace_id"], first["trace_id"]);
}

#[test]
fn a_closed_port_and_a_timeout_reach_the_caller_and_the_record() {
    let server = start(Logs::new());
    let c = client();
    // A port that was just free: nothing listens on it.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let refused = in_request(&server, "refused", async {
        c.get(format!("http://{closed}/x?token=S3cr3t-in-error-url"))
            .send()
            .await
            .unwrap_err()
    });
    assert!(refused.is_connect(), "{refused:?}");
    assert!(
        refused.to_string().contains("S3cr3t-in-error-url"),
        "{refused}"
    );

    let late = in_request(&server, "late", async {
        c.get(server.url("/slow"))
            .timeout(Duration::from_millis(200))
            .send()
            .await
            .unwrap_err()
    });
    assert!(late.is_timeout(), "{late:?}");

    let records = server.wait_records(2);
    let refused = one(&records, "refused");
    assert_eq!(refused["error_kind"], "connect");
    assert!(refused["error_message"]
        .as_str()
        .unwrap()
        .contains("error sending request"));
    assert_eq!(at(refused, &["response_repr", "status_code"]), &Value::Null);
    // reqwest's message names the URL: the query's secret reaches no file.
    assert!(!server.all_files().contains("S3cr3t-in-error-url"));
    let late = one(&records, "late");
    assert_eq!(late["error_kind"], "timeout");
    assert!(!late["error_message"].as_str().unwrap().is_empty());
}

#[test]
fn the_request_id_and_a_traceparent_go_out() {
    let server = start(Logs::new());
    let c = client();
    let seen: Value = in_request(&server, "req-42", async {
        c.get(server.url("/headers"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(seen["x-request-id"], "req-42");
    let tp = seen["traceparent"].as_str().unwrap().to_owned();
    let records = server.wait_records(1);
    let r = one(&records, "req-42");
    // The partner's record joins ours on these.
    assert_eq!(
        tp,
        format!(
            "00-{}-{}-01",
            r["trace_id"].as_str().unwrap(),
            r["span_id"].as_str().unwrap()
        )
    );

    // Turned off: neither goes out.
    let quiet = client().propagate_request_id(false).traceparent(false);
    let seen: Value = in_request(&server, "req-43", async {
        quiet
            .get(server.url("/headers"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(seen, json!({"x-request-id": null, "traceparent": null}));
}

#[test]
fn a_response_dropped_unread_is_recorded_once() {
    let server = start(Logs::new());
    let c = client();
    let status = in_request(&server, "unread", async {
        c.get(server.url("/items/3")).send().await.unwrap().status()
    });
    assert_eq!(status, 200);
    let records = server.wait_records(1);
    assert_eq!(records.len(), 1);
    assert_eq!(
        at(one(&records, "unread"), &["response_repr", "status_code"]),
        200
    );
}

#[test]
fn a_call_dropped_before_its_response_is_recorded_as_abandoned() {
    let server = start(Logs::new());
    let c = client();
    let outer = in_request(&server, "gave-up", async {
        tokio::time::timeout(
            Duration::from_millis(200),
            c.get(server.url("/slow")).send(),
        )
        .await
    });
    assert!(outer.is_err(), "the caller's own timeout fired");
    let records = server.wait_records(1);
    assert_eq!(records.len(), 1);
    let r = one(&records, "gave-up");
    assert_eq!(r["error_kind"], "abandoned");
    assert_eq!(r["aborted"], true);
    assert_eq!(at(r, &["response_repr", "status_code"]), &Value::Null);
}

#[test]
fn with_body_limit_zero_bodies_are_recorded_by_size_only() {
    let server = start(Logs::new());
    let c = client().body_limit(0);
    let got: Value = in_request(&server, "sizes", async {
        c.post(server.url("/items"))
            .json(&json!({"name": "gadget"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(got["created"]["name"], "gadget");
    let records = server.wait_records(1);
    let r = one(&records, "sizes");
    let sent = r["request_size"].as_u64().unwrap();
    let read = r["response_size"].as_u64().unwrap();
    assert_eq!(sent, br#"{"name":"gadget"}"#.len() as u64);
    assert_eq!(
        at(r, &["request_repr", "body"]),
        format!("[not kept {sent} bytes]").as_str()
    );
    assert_eq!(
        at(r, &["response_repr", "body"]),
        format!("[not kept {read} bytes]").as_str()
    );
    assert_eq!(at(r, &["response_repr", "body_truncated"]), false);
}
