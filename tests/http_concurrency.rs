//! 200 concurrent requests with different users and bodies: no record
//! carries another request's user, id or body, and each handler's CRUD
//! record carries its own request's id and user.
#![cfg(feature = "axum")]

mod common;
mod http_support;

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::post;
use axum::{Json, Router};
use common::records::Logs;
use http_support::{at, by_request_id, Server};
use serde_json::{json, Value};
use tracing_audit::http::AuditLayer;
use tracing_audit::Kind;

const N: usize = 200;

async fn auth(req: Request, next: Next) -> Response {
    if let Some(user) = req.headers().get("x-user").and_then(|v| v.to_str().ok()) {
        tracing_audit::set_user(user.to_owned());
    }
    next.run(req).await
}

#[test]
fn concurrent_requests_never_mix_users_ids_or_bodies() {
    let app = Router::new()
        .route(
            "/work",
            post(|Json(body): Json<Value>| async move {
                let n = body["n"].as_u64().unwrap();
                // Interleave with the other requests.
                for _ in 0..(n % 5) {
                    tokio::task::yield_now().await;
                }
                tokio::time::sleep(std::time::Duration::from_millis(n % 7)).await;
                tracing_audit::create!(model: "Job", id: n);
                Json(json!({"n": n, "echo": body["label"]}))
            }),
        )
        .layer(middleware::from_fn(auth))
        .layer(AuditLayer::new());
    let server = Server::start(Logs::new(), app);
    let client = server.client.clone();
    let url = server.url("/work");
    server.run(async move {
        let tasks: Vec<_> = (0..N)
            .map(|i| {
                let (client, url) = (client.clone(), url.clone());
                tokio::spawn(async move {
                    let r = client
                        .post(url)
                        .header("x-request-id", format!("req-{i}"))
                        .header("x-user", format!("user-{i}"))
                        .json(&json!({"n": i, "label": format!("body-{i}")}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 200);
                    let v: Value = r.json().await.unwrap();
                    assert_eq!(v["n"], i);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    let records = server.wait_records(N);
    assert_eq!(records.len(), N);
    let audit = server.logs.records(Kind::Audit);
    assert_eq!(audit.len(), N);
    for i in 0..N {
        let r = by_request_id(&records, &format!("req-{i}"));
        assert_eq!(r["user_id"], format!("user-{i}").as_str(), "{r:?}");
        assert_eq!(
            at(r, &["request_repr", "body"]),
            &json!({"n": i, "label": format!("body-{i}")})
        );
        assert_eq!(
            at(r, &["response_repr", "body"]),
            &json!({"n": i, "echo": format!("body-{i}")})
        );
        assert_eq!(
            at(r, &["request_repr", "headers", "x-user"]),
            format!("user-{i}").as_str()
        );
        let crud = audit
            .iter()
            .find(|a| a["instance_id"] == i.to_string().as_str())
            .unwrap();
        assert_eq!(crud["request_id"], format!("req-{i}").as_str(), "{crud:?}");
        assert_eq!(crud["user_id"], format!("user-{i}").as_str(), "{crud:?}");
    }
}
