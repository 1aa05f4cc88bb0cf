//! The outbound side attacked a third time: a retry storm through
//! `reqwest-middleware` whose last attempt fails, credentials in a
//! redirect's `Location`, in a failed call's error text, and in what an
//! `external_call` is given.
#![cfg(all(feature = "reqwest-middleware", feature = "axum"))]

mod client_support;
mod common;
mod http_support;

use std::time::Duration;

use client_support::{in_request, start};
use common::records::Logs;
use http_support::{at, Server};
use reqwest_retry::policies::ExponentialBackoff;
use reqwest_retry::RetryTransientMiddleware;
use serde_json::json;
use tracing_audit::http::{AuditMiddleware, AuditedClient};
use tracing_audit::{external_call, Kind};

const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0.c2lnbmF0dXJlLW9mLWEtand0";

fn retrying(retries: u32) -> reqwest_middleware::ClientWithMiddleware {
    let policy = ExponentialBackoff::builder()
        .retry_bounds(Duration::from_millis(1), Duration::from_millis(3))
        .build_with_max_retries(retries);
    reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(RetryTransientMiddleware::new_with_policy(policy))
        .with(AuditMiddleware::new("storm"))
        .build()
}

/// A port nobody listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn all_files(server: &Server) -> String {
    server.all_files()
}

#[test]
fn a_retry_storm_whose_every_attempt_fails_leaves_one_record_per_attempt() {
    let server = start(Logs::new());
    let client = retrying(5);
    let port = closed_port();
    let url = format!("http://bob:hunter2-storm@127.0.0.1:{port}/pay?api_key=hunter2-key");
    let result = in_request(&server, "storm", async { client.get(&url).send().await });
    // reqwest-retry hands back its own error after the last attempt.
    let err = result.expect_err("nobody listens");
    assert!(err.to_string().contains("after 5 retries"), "{err}");
    let mut records = server.wait_records(6);
    assert_eq!(records.len(), 6, "{records:#?}");
    records.sort_by_key(|r| r["attempt"].as_u64());
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r["attempt"], i as u64 + 1, "{r:?}");
        assert_eq!(r["request_id"], "storm");
        assert_eq!(r["error_kind"], "connect", "{r:?}");
        assert!(r["error_message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let all = all_files(&server);
    assert!(!all.contains("hunter2"), "{all}");
}

#[test]
fn a_redirect_location_and_a_failed_calls_error_keep_no_credentials() {
    use axum::routing::get;
    let app = axum::Router::new().route(
        "/go",
        get(|| async {
            (
                axum::http::StatusCode::FOUND,
                [
                    (
                        "location",
                        format!(
                            "https://bob:hunter2-loc@idp.example/cb?access_token=hunter2-tok&state=1#id_token={JWT}"
                        ),
                    ),
                    ("x-debug", "postgres://app:hunter2-pg@db/shop".to_owned()),
                ],
            )
        }),
    );
    let server = Server::start(Logs::new(), app);
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let client = AuditedClient::new("idp", plain);
    let status = in_request(&server, "loc", async {
        client.get(server.url("/go")).send().await.unwrap().status()
    });
    assert_eq!(status, 302);
    let records = server.wait_records(1);
    assert_eq!(records.len(), 1);
    assert!(at(&records[0], &["response_repr", "headers", "location"])
        .as_str()
        .is_some_and(|l| l.contains("idp.example/cb")));
    // A call that fails, with credentials in its URL (reqwest names the
    // URL in its error).
    let port = closed_port();
    let client = AuditedClient::new("closed", reqwest::Client::new());
    let url =
        format!("http://bob:hunter2-err@127.0.0.1:{port}/x?token=hunter2-q&password=hunter2-p");
    let err = in_request(&server, "err", async { client.get(&url).send().await });
    assert!(err.is_err());
    let records = server.wait_records(2);
    assert_eq!(records.len(), 2);
    let all = all_files(&server);
    assert!(!all.contains("hunter2"), "{all}");
    assert!(!all.contains("eyJzdWIi"), "{all}");
}

#[test]
fn what_an_external_call_is_given_is_redacted_everywhere() {
    let logs = Logs::new();
    logs.run(|| {
        external_call("db", "postgres")
            .operation("connect postgres://app:hunter2-op@db/shop")
            .endpoint("db.internal:5432/shop?sslpassword=hunter2-ep")
            .request("password=hunter2-desc user=app")
            .finish_err(format!(
                "could not connect to postgres://app:hunter2-err@db/shop with Bearer {JWT}"
            ));
        external_call("broker", "amqp")
            .endpoint("amqps://svc:hunter2-amqp@broker.internal/vhost")
            .request(json!({"headers": {"authorization": format!("Bearer {JWT}")}, "secret": "hunter2-json"}))
            .finish_ok(json!({"session_token": "hunter2-resp", "note": format!("token={JWT}")}));
        let _abandoned = external_call("sftp", "sftp")
            .endpoint("sftp://bot:hunter2-sftp@files.example/in")
            .request(json!({"private_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nhunter2-pem\n-----END OPENSSH PRIVATE KEY-----"}));
    });
    logs.guard.flush().unwrap();
    let records = logs.records(Kind::Api);
    assert_eq!(records.len(), 3, "{records:#?}");
    let mut all = String::new();
    for kind in Kind::ALL {
        all.push_str(&std::fs::read_to_string(logs.path(kind)).unwrap_or_default());
    }
    assert!(!all.contains("hunter2"), "{all}");
    assert!(!all.contains("eyJzdWIi"), "{all}");
}

/// Answers with no body to read (HEAD, 204, 304) dropped unread by the
/// caller, as callers do: one record each, not aborted.
#[test]
fn bodiless_answers_dropped_unread_are_not_aborted() {
    use axum::routing::get;
    let app = axum::Router::new()
        .route(
            "/items",
            get(|| async { "a list" }).delete(|| async { axum::http::StatusCode::NO_CONTENT }),
        )
        .route(
            "/cached",
            get(|| async { (axum::http::StatusCode::NOT_MODIFIED, [("etag", "\"v1\"")]) }),
        );
    let server = Server::start(Logs::new(), app);
    let client = AuditedClient::new("store", reqwest::Client::new());
    let statuses = in_request(&server, "bodiless", async {
        let mut statuses = Vec::new();
        statuses.push(
            client
                .head(server.url("/items"))
                .send()
                .await
                .unwrap()
                .status(),
        );
        statuses.push(
            client
                .delete(server.url("/items"))
                .send()
                .await
                .unwrap()
                .status(),
        );
        statuses.push(
            client
                .get(server.url("/cached"))
                .header("if-none-match", "\"v1\"")
                .send()
                .await
                .unwrap()
                .status(),
        );
        statuses
    });
    assert_eq!(statuses, [200, 204, 304]);
    let records = server.wait_records(3);
    assert_eq!(records.len(), 3, "{records:#?}");
    for r in &records {
        assert_eq!(r["aborted"], false, "{r:#?}");
        assert_eq!(r["error_message"], serde_json::Value::Null, "{r:#?}");
    }
}

/// Credentials given through the builder's own helpers, a prebuilt
/// request handed to `execute`, and a streamed body.
#[test]
fn credentials_from_the_builders_helpers_and_execute_reach_no_file() {
    use axum::routing::any;
    let app = axum::Router::new().route("/{*rest}", any(|| async { "ok" }));
    let server = Server::start(Logs::new(), app);
    let client = AuditedClient::new("partner", reqwest::Client::new());
    in_request(&server, "helpers", async {
        client
            .get(server.url("/a"))
            .basic_auth("bob", Some("hunter2-basic"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        client
            .get(server.url("/b"))
            .bearer_auth("hunter2-bearer")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let request = client
            .post(server.url("/c?client_secret=hunter2-exec"))
            .header("content-type", "application/json")
            .body(r#"{"refresh_token":"hunter2-exec-body"}"#)
            .build()
            .unwrap();
        client.execute(request).await.unwrap().text().await.unwrap();
        let chunks: Vec<Result<&'static str, std::io::Error>> =
            vec![Ok("password=hunter2-"), Ok("streamed")];
        client
            .post(server.url("/d"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
                chunks,
            )))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    });
    let records = server.wait_records(4);
    assert_eq!(records.len(), 4, "{records:#?}");
    let all = all_files(&server);
    assert!(!all.contains("hunter2"), "{all}");
    // base64 of bob:hunter2-basic
    assert!(!all.contains("Ym9iOmh1bnRlcjItYmFzaWM"), "{all}");
}

/// What the caller reads off the response besides the body: the final
/// URL after a redirect, the peer's address, the declared length, the
/// version, as the plain client gives them.
#[test]
fn the_response_reads_as_the_plain_clients_does() {
    let server = start(Logs::new());
    let plain = reqwest::Client::new();
    let client = AuditedClient::new("partner", plain.clone());
    let (audited, bare) = in_request(&server, "view", async {
        let mut views = Vec::new();
        for audited in [true, false] {
            let r = if audited {
                client.get(server.url("/redirect")).send().await.unwrap()
            } else {
                plain.get(server.url("/redirect")).send().await.unwrap()
            };
            let view = (
                r.status(),
                r.url().clone(),
                r.remote_addr(),
                r.content_length(),
                r.version(),
                r.text().await.unwrap(),
            );
            views.push(view);
        }
        (views.remove(0), views.remove(0))
    });
    assert_eq!(audited, bare);
    assert!(audited.1.path().ends_with("/items/9"), "{:?}", audited.1);
}
