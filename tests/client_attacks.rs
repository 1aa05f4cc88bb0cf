//! An outsider's attacks on `AuditedClient`: credentials where no list
//! names them (URL userinfo of a request built by hand, signatures and
//! JWTs in query values, `Proxy-Authorization`, a redirect's `Location`,
//! reqwest's own error text), a 10 MB stream dropped halfway, and a body
//! that breaks off mid-read.
#![cfg(all(feature = "reqwest", feature = "axum"))]

mod client_support;
mod common;
mod http_support;

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use client_support::{in_request, one, partner, BIG};
use common::records::Logs;
use futures_util::StreamExt;
use http_support::{at, Server};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracing_audit::http::AuditedClient;

const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhdHRhY2sifQ.S3cr3tJwtSigInAQueryValue0123456";

fn client() -> AuditedClient {
    AuditedClient::new("partner-api", reqwest::Client::new())
}

/// The partner, plus a redirect whose `Location` carries credentials.
fn server() -> Server {
    let app: Router = partner()
        .route(
            "/loop",
            get(|| async {
                (
                    StatusCode::FOUND,
                    [("location", "/loop?access_token=S3cr3t-loop-token")],
                )
            }),
        )
        .route(
        "/oauth",
        get(|| async {
            (
                StatusCode::FOUND,
                [(
                    "location",
                    "http://idp:S3cr3t-location-pass@127.0.0.1:9/cb?access_token=S3cr3t-location-token&state=ok",
                )],
            )
        }),
    );
    Server::start(Logs::new(), app)
}

#[test]
fn credentials_no_list_names_reach_no_file() {
    let server = server();
    let c = client();
    // A request built by hand keeps its URL's userinfo (reqwest moves it
    // into `Authorization` only in its builder).
    let url = format!(
        "http://bot:S3cr3t-userinfo-pass@{}/items/1?X-Amz-Signature=S3cr3tAmzSignature0123&sig=S3cr3t-azure-sig&state={JWT}&page=3",
        server.addr
    );
    let status = in_request(&server, "by-hand", async {
        let mut req = reqwest::Request::new(reqwest::Method::GET, url.parse().unwrap());
        req.headers_mut().insert(
            "proxy-authorization",
            "Basic S3cr3tProxyAuthorization".parse().unwrap(),
        );
        let r = c.execute(req).await.unwrap();
        let status = r.status();
        r.bytes().await.unwrap();
        status
    });
    assert_eq!(status, 200);
    // A redirect not followed: its `Location` is in the record.
    let no_follow = AuditedClient::new(
        "idp",
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    );
    let location = in_request(&server, "location", async {
        let r = no_follow.get(server.url("/oauth")).send().await.unwrap();
        assert_eq!(r.status(), 302);
        r.headers()["location"].to_str().unwrap().to_owned()
    });
    assert!(location.contains("S3cr3t-location-token"), "caller's view");

    let records = server.wait_records(2);
    let all = server.all_files();
    for secret in [
        "S3cr3t-userinfo-pass",
        "S3cr3tAmzSignature0123",
        "S3cr3t-azure-sig",
        JWT,
        "S3cr3tJwtSigInAQueryValue",
        "S3cr3tProxyAuthorization",
        "S3cr3t-location-pass",
        "S3cr3t-location-token",
    ] {
        assert!(!all.contains(secret), "{secret} in a file:\n{all}");
    }
    // What is not secret is still there.
    let r = one(&records, "by-hand");
    assert_eq!(at(r, &["request_repr", "query_params", "page"]), "3");
    let endpoint = at(r, &["request_repr", "endpoint"]).as_str().unwrap();
    assert!(endpoint.contains("/items/1?") && endpoint.contains("page=3"));
    let r = one(&records, "location");
    let location = at(r, &["response_repr", "headers", "location"])
        .as_str()
        .unwrap();
    assert!(location.contains("state=ok"), "{location}");
}

#[test]
fn reqwest_error_text_with_credentials_is_masked() {
    let server = server();
    let c = client();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    // reqwest's error names the request's URL, userinfo and query
    // included (a request built by hand keeps its userinfo).
    let url =
        format!("http://bot:S3cr3t-error-pass@{closed}/x?X-Amz-Signature=S3cr3tErrorAmzSig0123");
    let refused = in_request(&server, "refused", async {
        let req = reqwest::Request::new(reqwest::Method::GET, url.parse().unwrap());
        c.execute(req).await.unwrap_err()
    });
    assert!(
        refused.to_string().contains("S3cr3t-error-pass"),
        "the caller's error is reqwest's: {refused}"
    );
    // A redirect loop: the error names the last redirect's URL.
    let looped = in_request(&server, "loop", async {
        c.get(server.url("/loop")).send().await.unwrap_err()
    });
    assert!(looped.is_redirect(), "{looped:?}");
    assert!(
        looped.to_string().contains("S3cr3t-loop-token"),
        "the caller's error is reqwest's: {looped}"
    );
    let records = server.wait_records(2);
    for id in ["refused", "loop"] {
        let r = one(&records, id);
        assert!(r["error_message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert_eq!(one(&records, "loop")["error_kind"], "redirect");
    let all = server.all_files();
    for secret in [
        "S3cr3t-error-pass",
        "S3cr3tErrorAmzSig0123",
        "S3cr3t-loop-token",
    ] {
        assert!(!all.contains(secret), "{secret} in a file:\n{all}");
    }
}

#[test]
fn a_stream_dropped_halfway_is_recorded_once_and_marked() {
    let server = server();
    let c = client();
    let read = in_request(&server, "half", async {
        let r = c.get(server.url("/big")).send().await.unwrap();
        let mut stream = r.bytes_stream();
        let mut n = 0;
        while let Some(chunk) = stream.next().await {
            n += chunk.unwrap().len();
            if n >= BIG / 2 {
                break;
            }
        }
        n
        // The stream is dropped here.
    });
    assert!((BIG / 2..BIG).contains(&read), "{read}");
    // Nothing more comes later (no second record on a late drop).
    std::thread::sleep(std::time::Duration::from_millis(300));
    let records = server.wait_records(1);
    assert_eq!(records.len(), 1, "{records:#?}");
    let r = one(&records, "half");
    assert_eq!(r["aborted"], true);
    assert_eq!(r["response_size"], read as u64);
    assert_eq!(at(r, &["response_repr", "body_truncated"]), true);
    assert_eq!(at(r, &["response_repr", "status_code"]), 200);
}

/// A server that promises 1000 bytes, sends 10 and hangs up.
fn short_body_server(server: &Server) -> std::net::SocketAddr {
    let listener = server
        .runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    server.runtime.spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let _ = socket
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 1000\r\n\r\n0123456789",
                    )
                    .await;
                let _ = socket.shutdown().await;
            });
        }
    });
    addr
}

/// An error's text and the texts of its causes.
fn chain(e: &reqwest::Error) -> Vec<String> {
    let mut out = vec![e.to_string()];
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        out.push(cause.to_string());
        source = cause.source();
    }
    out
}

#[test]
fn a_body_read_error_reaches_the_caller_as_plain_reqwest_gives_it_and_the_record() {
    let server = server();
    let addr = short_body_server(&server);
    let url = format!("http://{addr}/short");
    let plain = in_request(&server, "plain", async {
        let r = reqwest::Client::new().get(&url).send().await.unwrap();
        r.bytes().await.unwrap_err()
    });
    let audited = in_request(&server, "body-error", async {
        let r = client().get(&url).send().await.unwrap();
        assert_eq!(r.status(), 200);
        r.bytes().await.unwrap_err()
    });
    // The same error as far as the caller can tell it apart.
    assert_eq!(audited.to_string(), plain.to_string());
    for (what, a, p) in [
        ("is_body", audited.is_body(), plain.is_body()),
        ("is_decode", audited.is_decode(), plain.is_decode()),
        ("is_timeout", audited.is_timeout(), plain.is_timeout()),
        ("is_connect", audited.is_connect(), plain.is_connect()),
        ("is_request", audited.is_request(), plain.is_request()),
    ] {
        assert_eq!(a, p, "{what}: {audited:?} vs {plain:?}");
    }
    assert_eq!(audited.url(), plain.url());
    assert_eq!(chain(&audited).last(), chain(&plain).last());

    let records = server.wait_records(1);
    assert_eq!(records.len(), 1, "{records:#?}");
    let r = one(&records, "body-error");
    assert_eq!(r["error_kind"], "body");
    assert_eq!(r["aborted"], true);
    assert_eq!(r["response_size"], 10);
    let message = r["error_message"].as_str().unwrap();
    assert!(
        message.contains(chain(&plain).last().unwrap().as_str()),
        "{message}"
    );
    // Each cause once.
    assert_eq!(
        message.matches("request or response body error").count(),
        1,
        "{message}"
    );
    assert_eq!(
        at(r, &["response_repr", "body"]),
        &Value::from("0123456789")
    );
}

/// The future of `send` made inside a request and awaited in a task of
/// its own (`tokio::spawn`, which does not carry the span): the call is
/// still the request's, as the docs promise ("in the span current at
/// `send`"): its record has the request id, and the id goes out.
#[test]
fn a_call_sent_inside_a_request_and_awaited_in_a_spawned_task_keeps_its_request() {
    use tracing::instrument::WithSubscriber;
    let server = server();
    let c = client();
    let url = server.url("/headers");
    let seen = server.logs.run(|| {
        server.run(async {
            let call = {
                let span = tracing::info_span!("request", request_id = "sent-in-request");
                let _entered = span.enter();
                c.get(url).send()
            };
            let task = async move {
                let r = call.await.unwrap();
                r.json::<Value>().await.unwrap()
            };
            tokio::spawn(task.with_current_subscriber()).await.unwrap()
        })
    });
    assert_eq!(seen["x-request-id"], "sent-in-request");
    let records = server.wait_records(1);
    let record = one(&records, "sent-in-request");
    assert_eq!(
        at(record, &["response_repr", "body", "x-request-id"]),
        "sent-in-request"
    );
}

/// A request that cannot be built (a URL that does not parse, a header
/// name with a space): the caller gets reqwest's error, and the one record
/// has the method the caller asked for (it said `GET` whatever it was).
#[test]
fn a_request_that_cannot_be_built_is_recorded_with_its_own_method() {
    let server = server();
    let c = client();
    let errors = in_request(&server, "unbuildable", async {
        let bad_url = c.post("http://exa mple.com/x").send().await;
        let bad_header = c
            .delete(server.url("/headers"))
            .header("bad name", "v")
            .send()
            .await;
        [bad_url.is_err(), bad_header.is_err()]
    });
    assert_eq!(errors, [true, true]);
    let records = server.wait_records(2);
    assert_eq!(records.len(), 2, "{records:#?}");
    let methods: Vec<&Value> = records
        .iter()
        .map(|r| at(r, &["request_repr", "method"]))
        .collect();
    assert_eq!(methods, ["POST", "DELETE"]);
    for r in &records {
        assert!(r["error_message"].is_string(), "{r:#?}");
        assert!(r["error_kind"].is_string(), "{r:#?}");
    }
}

/// Query values whose secret shows only once decoded (a card number with
/// `+` between its groups, as `query()` encodes spaces; one with `%20`; a
/// secret key written percent-encoded): masked in `query_params`, and in
/// the `endpoint` too, which has the URL as it was sent.
#[test]
fn query_secrets_hidden_by_url_encoding_are_masked_in_the_endpoint_too() {
    let server = server();
    let c = client();
    let url = format!(
        "{}?raw=4111%201111%201111%201111&session%5Fid=s3ss-hunter2",
        server.url("/headers")
    );
    in_request(&server, "encoded-query", async {
        let r = c
            .get(url)
            .query(&[("card", "4111 1111 1111 1111"), ("q", "widgets")])
            .send()
            .await
            .unwrap();
        r.text().await.unwrap();
    });
    let records = server.wait_records(1);
    let record = one(&records, "encoded-query");
    let text = serde_json::to_string(record).unwrap();
    for secret in ["4111", "s3ss-hunter2"] {
        assert!(!text.contains(secret), "{secret}: {text}");
    }
    let endpoint = at(record, &["request_repr", "endpoint"]).as_str().unwrap();
    assert!(endpoint.ends_with("&q=widgets"), "{endpoint}");
    assert!(endpoint.contains("/headers?raw="), "{endpoint}");
}
