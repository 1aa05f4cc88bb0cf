//! The inbound layer on a real axum server, attacked with what the earlier
//! rounds did not send: an HTTP/1 upgrade (101), HEAD, OPTIONS and
//! CONNECT, a body that fails half-way, a nested service and a fallback,
//! the layer wrapped twice, a request body read whole and wrapped again.
#![cfg(feature = "axum")]

mod common;
mod http_support;

use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::routing::{any, get};
use axum::Router;
use common::records::Logs;
use http_support::{at, Server};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::Layer;
use tracing_audit::http::AuditLayer;

/// Sends `raw` on a new connection and reads what comes back until the
/// server closes it or `wait` passes.
async fn raw(server: &Server, raw: &[u8], wait: Duration) -> String {
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(raw).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(wait, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn an_upgraded_connection_leaves_one_record_of_its_101() {
    let app = Router::new()
        .route(
            "/ws",
            get(|mut req: Request| async move {
                let upgrade = hyper::upgrade::on(&mut req);
                tokio::spawn(async move {
                    if let Ok(upgraded) = upgrade.await {
                        let mut io = hyper_util::rt::TokioIo::new(upgraded);
                        let mut buf = [0u8; 5];
                        if io.read_exact(&mut buf).await.is_ok() {
                            let _ = io.write_all(&buf).await;
                        }
                    }
                });
                axum::http::Response::builder()
                    .status(101)
                    .header("connection", "upgrade")
                    .header("upgrade", "echo")
                    .body(Body::empty())
                    .unwrap()
            }),
        )
        .layer(AuditLayer::new());
    let server = Server::start(Logs::new(), app);
    let answer = server.run(async {
        let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        stream
            .write_all(
                b"GET /ws HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: echo\r\nx-request-id: up-1\r\n\r\n",
            )
            .await
            .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).await.unwrap();
            head.push(byte[0]);
        }
        stream.write_all(b"hello").await.unwrap();
        let mut echo = [0u8; 5];
        stream.read_exact(&mut echo).await.unwrap();
        (String::from_utf8_lossy(&head).into_owned(), echo)
    });
    assert!(answer.0.starts_with("HTTP/1.1 101"), "{}", answer.0);
    assert_eq!(&answer.1, b"hello");
    let records = server.wait_records(1);
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0]["request_id"], "up-1");
    assert_eq!(at(&records[0], &["response_repr", "status_code"]), 101);
    assert_eq!(records[0]["aborted"], false);
}

#[test]
fn head_options_and_connect_are_recorded_once_each() {
    let app = Router::new()
        .route(
            "/items",
            get(|| async { "a list of items" }).options(|| async { "GET, OPTIONS" }),
        )
        .fallback(any(|| async {
            (axum::http::StatusCode::NOT_FOUND, "none here")
        }))
        .layer(AuditLayer::new());
    let server = Server::start(Logs::new(), app);
    let head = server.run(raw(
        &server,
        b"HEAD /items HTTP/1.1\r\nhost: x\r\nx-request-id: m-head\r\nconnection: close\r\n\r\n",
        Duration::from_secs(5),
    ));
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let options = server.run(raw(
        &server,
        b"OPTIONS /items HTTP/1.1\r\nhost: x\r\nx-request-id: m-options\r\nconnection: close\r\n\r\n",
        Duration::from_secs(5),
    ));
    assert!(options.starts_with("HTTP/1.1 200"), "{options}");
    let connect = server.run(raw(
        &server,
        b"CONNECT bank.example:443 HTTP/1.1\r\nhost: bank.example:443\r\nx-request-id: m-connect\r\nproxy-authorization: Basic Ym9iOmh1bnRlcjI=\r\n\r\n",
        Duration::from_secs(2),
    ));
    let fallback = server.run(raw(
        &server,
        b"DELETE /nowhere?token=hunter2-q HTTP/1.1\r\nhost: x\r\nx-request-id: m-fallback\r\nconnection: close\r\n\r\n",
        Duration::from_secs(5),
    ));
    assert!(fallback.starts_with("HTTP/1.1 404"), "{fallback}");
    // The asterisk form, and the absolute form with credentials in it.
    let star = server.run(raw(
        &server,
        b"OPTIONS * HTTP/1.1\r\nhost: x\r\nx-request-id: m-star\r\nconnection: close\r\n\r\n",
        Duration::from_secs(5),
    ));
    assert!(star.starts_with("HTTP/1.1 "), "{star}");
    let absolute = server.run(raw(
        &server,
        b"GET http://bob:hunter2-abs@x/items?token=hunter2-absq HTTP/1.1\r\nhost: x\r\nx-request-id: m-abs\r\nconnection: close\r\n\r\n",
        Duration::from_secs(5),
    ));
    assert!(absolute.starts_with("HTTP/1.1 "), "{absolute}");
    let records = server.wait_records(6);
    let _ = connect;
    let by = |id: &str| {
        let found: Vec<_> = records.iter().filter(|r| r["request_id"] == id).collect();
        assert_eq!(found.len(), 1, "{id}: {records:#?}");
        found[0].clone()
    };
    let head = by("m-head");
    assert_eq!(head["aborted"], false);
    assert_eq!(at(&head, &["request_repr", "method"]), "HEAD");
    let options = by("m-options");
    assert_eq!(at(&options, &["response_repr", "status_code"]), 200);
    let fallback = by("m-fallback");
    assert_eq!(at(&fallback, &["response_repr", "status_code"]), 404);
    let connect = by("m-connect");
    assert_eq!(at(&connect, &["request_repr", "method"]), "CONNECT");
    by("m-star");
    by("m-abs");
    let all = server.all_files();
    assert!(!all.contains("Ym9iOmh1bnRlcjI="), "{all}");
    assert!(!all.contains("hunter2"), "{all}");
}

#[test]
fn a_body_that_fails_half_way_is_recorded_once_as_aborted() {
    let app = Router::new()
        .route(
            "/export",
            get(|| async {
                // The first row goes out with the head; the next fails.
                let rows = futures_util::stream::unfold(0, |n| async move {
                    match n {
                        0 => Some((Ok::<_, std::io::Error>("first,row\n"), 1)),
                        1 => {
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            Some((Err(std::io::Error::other("disk gone")), 2))
                        }
                        _ => None,
                    }
                });
                Body::from_stream(rows)
            }),
        )
        .layer(AuditLayer::new());
    let server = Server::start(Logs::new(), app);
    let result = server.run(async {
        let r = server
            .client
            .get(server.url("/export"))
            .header("x-request-id", "half")
            .send()
            .await
            .unwrap();
        r.bytes().await
    });
    assert!(result.is_err(), "the client sees a broken body");
    let records = server.wait_records(1);
    std::thread::sleep(Duration::from_millis(200));
    let records = if records.len() == 1 {
        server.wait_records(1)
    } else {
        records
    };
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0]["aborted"], true);
    assert!(records[0]["error_message"].is_string());
}

/// The layer twice around one handler (the app's, and a nested router's
/// of its own) made two records of one request, the outer one under a
/// request id the client never saw (the inner one's went out). The
/// innermost layer that audits records it, under the outer one's id.
#[test]
fn the_layer_wrapped_twice_gives_one_record_with_the_id_the_client_sees() {
    let api = Router::new()
        .route("/x", get(|| async { "nested" }))
        .layer(AuditLayer::new().body_limit(4));
    let app = Router::new()
        .route("/twice", get(|| async { "once" }))
        .layer(AuditLayer::new())
        .nest("/api", api)
        .layer(AuditLayer::new());
    let server = Server::start(Logs::new(), app);
    let ids = server.run(async {
        let mut ids = Vec::new();
        for (path, id) in [
            ("/twice", None),
            ("/twice", Some("dbl-1")),
            ("/api/x", None),
        ] {
            let mut req = server.client.get(server.url(path));
            if let Some(id) = id {
                req = req.header("x-request-id", id);
            }
            let r = req.send().await.unwrap();
            ids.push(r.headers()["x-request-id"].to_str().unwrap().to_owned());
            let _ = r.text().await;
        }
        ids
    });
    assert_eq!(ids[1], "dbl-1");
    let records = server.wait_records(3);
    std::thread::sleep(Duration::from_millis(300));
    let records = server.wait_records(records.len());
    assert_eq!(records.len(), 3, "{records:#?}");
    for id in &ids {
        let found = records
            .iter()
            .filter(|r| r["request_id"] == Value::String(id.clone()));
        assert_eq!(found.count(), 1, "{id}: {records:#?}");
    }
    let nested = records
        .iter()
        .find(|r| r["request_id"] == Value::String(ids[2].clone()))
        .unwrap();
    assert_eq!(at(nested, &["request_repr", "path"]), "/api/x");
    // The nested router's own settings: its cap of 4 bytes.
    assert_eq!(at(nested, &["response_repr", "body_truncated"]), true);
}

#[test]
fn a_request_body_read_whole_and_wrapped_again_is_recorded() {
    let inner = tower::service_fn(|req: Request| async move {
        let body = axum::body::to_bytes(req.into_body(), usize::MAX)
            .await
            .unwrap();
        Ok::<_, std::convert::Infallible>(axum::response::Response::new(Body::from(body)))
    });
    let app = Router::new()
        .nest_service(
            "/api",
            tower::service_fn(move |req: Request| {
                let mut inner = inner;
                async move {
                    let (parts, body) = req.into_parts();
                    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
                    let req = Request::from_parts(parts, Body::from(bytes));
                    tower::Service::call(&mut inner, req).await
                }
            }),
        )
        .layer(AuditLayer::new());
    let server = Server::start(Logs::new(), app);
    let text = server.run(async {
        let r = server
            .client
            .post(server.url("/api/echo"))
            .header("content-type", "application/json")
            .header("x-request-id", "rewrap")
            .body(r#"{"password":"hunter2-rewrap","n":1}"#)
            .send()
            .await
            .unwrap();
        r.text().await.unwrap()
    });
    assert!(text.contains("hunter2-rewrap"));
    let records = server.wait_records(1);
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(at(&records[0], &["request_repr", "path"]), "/api/echo");
    assert_eq!(at(&records[0], &["request_repr", "body", "n"]), 1);
    assert!(!server.all_files().contains("hunter2"));
    let _ = AuditLayer::new().layer(());
}

/// Wrapped twice and cut short by a timeout outside both (the client went
/// away): one aborted record, not one per layer.
#[test]
fn the_layer_wrapped_twice_and_timed_out_gives_one_aborted_record() {
    use http_body_util::Full;
    use tower::ServiceExt;
    let logs = Logs::new();
    let never = tower::service_fn(
        |_req: axum::http::Request<
            tracing_audit::http::RequestBody<tracing_audit::http::RequestBody<Full<bytes::Bytes>>>,
        >| async {
            std::future::pending::<()>().await;
            Ok::<_, std::convert::Infallible>(axum::http::Response::new(Full::new(
                bytes::Bytes::new(),
            )))
        },
    );
    let svc = AuditLayer::new().layer(AuditLayer::new().layer(never));
    let req = axum::http::Request::get("/slow")
        .header("x-request-id", "cut-1")
        .body(Full::new(bytes::Bytes::new()))
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let timed_out = logs.run(|| {
        rt.block_on(async {
            tokio::time::timeout(Duration::from_millis(50), svc.oneshot(req)).await
        })
    });
    assert!(timed_out.is_err());
    let records = logs.records(tracing_audit::Kind::Api);
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0]["request_id"], "cut-1");
    assert_eq!(records[0]["aborted"], true);
}

/// The login route configured on the app's layer, and a nested router
/// with a plain layer of its own: the login is still recorded, once; and
/// with the route on both layers, once too.
#[test]
fn a_login_route_of_the_outer_layer_is_still_watched_inside_a_nested_layer() {
    use axum::routing::post;
    for inner_watches in [false, true] {
        let inner = if inner_watches {
            AuditLayer::new().login_route("/login", "username")
        } else {
            AuditLayer::new()
        };
        let auth = Router::new()
            .route(
                "/login",
                post(|body: String| async move {
                    if body.contains("right") {
                        axum::http::StatusCode::OK
                    } else {
                        axum::http::StatusCode::UNAUTHORIZED
                    }
                }),
            )
            .layer(inner);
        let app = Router::new()
            .nest("/auth", auth)
            .layer(AuditLayer::new().login_route("/auth/login", "username"));
        let server = Server::start(Logs::new(), app);
        server.run(async {
            for password in ["wrong", "right"] {
                server
                    .client
                    .post(server.url("/auth/login"))
                    .json(&serde_json::json!({"username": "bob", "password": password}))
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
            }
        });
        let requests = server.wait_records(2);
        assert_eq!(requests.len(), 2, "{requests:#?}");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let mut logins = server.logs.records(tracing_audit::Kind::Login);
        while logins.len() < 2 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
            logins = server.logs.records(tracing_audit::Kind::Login);
        }
        std::thread::sleep(Duration::from_millis(200));
        let logins = server.logs.records(tracing_audit::Kind::Login);
        assert_eq!(
            logins.len(),
            2,
            "inner watches: {inner_watches}: {logins:#?}"
        );
        let mut events: Vec<&str> = logins
            .iter()
            .map(|l| l["event"].as_str().unwrap())
            .collect();
        events.sort_unstable();
        assert_eq!(events, ["failed_login", "login"], "{logins:#?}");
        assert!(logins.iter().all(|l| l["user_id"] == "bob"), "{logins:#?}");
        // Each login record carries the request id of its request record.
        for l in &logins {
            assert_eq!(
                requests
                    .iter()
                    .filter(|r| r["request_id"] == l["request_id"])
                    .count(),
                1
            );
        }
    }
}

/// What the outer layer is told and the nested one is not: the client's
/// address behind trusted proxies, the user, routes whose bodies are never
/// kept. The one record keeps all of it.
#[test]
fn the_outer_layers_settings_still_hold_inside_a_nested_layer() {
    use axum::routing::post;
    let api = Router::new()
        .route("/login", post(|body: String| async move { body }))
        .route("/items", post(|body: String| async move { body }))
        .layer(AuditLayer::new());
    let app = Router::new().nest("/api", api).layer(
        AuditLayer::new()
            .trusted_proxies(["127.0.0.1"])
            .unwrap()
            .skip_body("/api/login")
            .user_from(|_| Some("alice".to_owned())),
    );
    let server = Server::start(Logs::new(), app);
    server.run(async {
        for (path, body) in [
            ("/api/login", "skip-me-login-secret"),
            ("/api/items", "an item"),
        ] {
            server
                .client
                .post(server.url(path))
                .header("x-forwarded-for", "203.0.113.9")
                .header("content-type", "text/plain")
                .body(body)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
        }
    });
    let records = server.wait_records(2);
    std::thread::sleep(Duration::from_millis(200));
    let records = server.wait_records(records.len());
    assert_eq!(records.len(), 2, "{records:#?}");
    for r in &records {
        assert_eq!(
            at(r, &["request_repr", "client_ip"]),
            "203.0.113.9",
            "{r:#?}"
        );
        assert_eq!(r["user_id"], "alice", "{r:#?}");
    }
    let login = records
        .iter()
        .find(|r| at(r, &["request_repr", "path"]) == "/api/login")
        .unwrap();
    assert!(
        at(login, &["request_repr", "body"])
            .as_str()
            .is_some_and(|b| b.starts_with("[not kept")),
        "{login:#?}"
    );
    let all = server.all_files();
    assert!(!all.contains("skip-me-login-secret"), "{all}");
}
