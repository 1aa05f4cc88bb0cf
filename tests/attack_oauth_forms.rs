//! OAuth's authorization code in a token request's form body and in a
//! redirect's query, as `AuditLayer` records them: masked, where an
//! error's `code` stays.
#![cfg(feature = "axum")]

mod common;
mod http_support;

use axum::routing::{get, post};
use axum::Router;
use common::records::Logs;
use http_support::{at, by_request_id, Server};
use tracing_audit::http::AuditLayer;

fn app() -> Router {
    Router::new()
        .route("/oauth/token", post(|_body: String| async { "{}" }))
        .route("/cb", get(|| async { "ok" }))
        .route("/error", get(|| async { "no" }))
        .layer(AuditLayer::new())
}

#[test]
fn an_authorization_code_reaches_no_file() {
    let server = Server::start(Logs::new(), app());
    let c = &server.client;
    let requests = vec![
        (
            "token",
            c.post(server.url("/oauth/token"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(
                    "grant_type=authorization_code&code=formCode-1\
                     &redirect_uri=https%3A%2F%2Fapp%2Fcb&client_id=app",
                ),
        ),
        (
            "redirect",
            c.get(server.url("/cb?code=queryCode-2&state=xyz")),
        ),
        ("error", c.get(server.url("/error?code=404"))),
    ];
    for (name, request) in requests {
        let r = server
            .run(request.header("x-request-id", name).send())
            .unwrap();
        assert!(r.status().is_success() || r.status().is_client_error());
    }
    let records = server.wait_records(3);
    let all = server.all_files();
    for secret in ["formCode-1", "queryCode-2"] {
        assert!(!all.contains(secret), "{secret} in:\n{all}");
    }
    let token = by_request_id(&records, "token");
    assert_eq!(at(token, &["request_repr", "body", "code"]), "[REDACTED]");
    assert_eq!(at(token, &["request_repr", "body", "client_id"]), "app");
    let error = by_request_id(&records, "error");
    assert_eq!(at(error, &["request_repr", "query_params", "code"]), "404");
}
