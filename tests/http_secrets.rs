//! Secrets in requests and responses reach no file: secret headers
//! (`Authorization`, `Cookie`, `Set-Cookie`), secret keys (`password`,
//! `token`, `access`, `refresh`, `api_key`) in JSON bodies, form bodies and
//! query strings, and a bearer token in any header.
#![cfg(feature = "axum")]

mod common;
mod http_support;

use axum::http::header::SET_COOKIE;
use axum::routing::post;
use axum::{Json, Router};
use common::records::Logs;
use http_support::{at, by_request_id, Server};
use serde_json::{json, Value};
use tracing_audit::http::AuditLayer;
use tracing_audit::redact::Policy;

const SECRETS: &[&str] = &[
    "S3cr3t-authorization",
    "S3cr3t-cookie",
    "S3cr3t-set-cookie",
    "S3cr3t-json-password",
    "S3cr3t-json-token",
    "S3cr3t-json-access",
    "S3cr3t-json-refresh",
    "S3cr3t-json-api-key",
    "S3cr3t-form-password",
    "S3cr3t-form-token",
    "S3cr3t-form-api-key",
    "S3cr3t-query-password",
    "S3cr3t-query-token",
    "S3cr3t-query-access",
    "S3cr3t-query-refresh",
    "S3cr3t-query-api-key",
    "S3cr3tBearerInACustomHeader",
    "S3cr3t-response-access",
    "S3cr3t-response-refresh",
    "S3cr3t-nested-password",
];

fn app() -> Router {
    Router::new()
        .route(
            "/login",
            post(|body: String| async move {
                let _ = body;
                (
                    [(SET_COOKIE, "session=S3cr3t-set-cookie; HttpOnly")],
                    Json(json!({
                        "access": "S3cr3t-response-access",
                        "refresh": "S3cr3t-response-refresh",
                        "user": "alice"
                    })),
                )
            }),
        )
        .layer(AuditLayer::new())
}

#[test]
fn no_secret_reaches_any_file() {
    let (server, found) = run(Logs::new());
    assert!(
        found.is_empty(),
        "secrets in a file: {found:?}\n{}",
        server.all_files()
    );
    let records = server.wait_records(2);
    // What is not secret is still there.
    let json_rec = by_request_id(&records, "json");
    assert_eq!(at(json_rec, &["request_repr", "body", "username"]), "alice");
    assert_eq!(at(json_rec, &["request_repr", "query_params", "page"]), "2");
    assert_eq!(at(json_rec, &["response_repr", "body", "user"]), "alice");
    assert_eq!(
        at(json_rec, &["request_repr", "headers", "authorization"]),
        "[REDACTED]"
    );
    let form = by_request_id(&records, "form");
    assert_eq!(at(form, &["request_repr", "body", "username"]), "alice");
    assert_eq!(
        at(form, &["request_repr", "body", "password"]),
        "[REDACTED]"
    );
    assert_ne!(
        at(form, &["response_repr", "headers", "set-cookie"]),
        &Value::Null
    );
}

/// The check above can fail: with redaction off, every secret is found.
#[test]
fn without_redaction_the_same_requests_leave_every_secret() {
    let (_server, found) = run(Logs::with(|b| b.redaction(Policy::none())));
    assert_eq!(found.len(), SECRETS.len(), "{found:?}");
}

/// Sends the requests; the secrets found in the files.
fn run(logs: Logs) -> (Server, Vec<&'static str>) {
    let server = Server::start(logs, app());
    let c = &server.client;
    let query = "/login?password=S3cr3t-query-password&token=S3cr3t-query-token\
                 &access=S3cr3t-query-access&refresh=S3cr3t-query-refresh\
                 &api_key=S3cr3t-query-api-key&page=2";
    let json_body = json!({
        "username": "alice",
        "password": "S3cr3t-json-password",
        "token": "S3cr3t-json-token",
        "access": "S3cr3t-json-access",
        "refresh": "S3cr3t-json-refresh",
        "api_key": "S3cr3t-json-api-key",
        "profile": {"settings": {"old_password": "S3cr3t-nested-password"}}
    });
    let requests = vec![
        (
            "json",
            c.post(server.url(query))
                .header("authorization", "Bearer S3cr3t-authorization")
                .header("cookie", "sid=S3cr3t-cookie")
                .header("x-forward-auth", "Bearer S3cr3tBearerInACustomHeader")
                .json(&json_body),
        ),
        (
            "form",
            c.post(server.url("/login"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(
                    "username=alice&password=S3cr3t-form-password\
                     &token=S3cr3t-form-token&api_key=S3cr3t-form-api-key",
                ),
        ),
    ];
    for (name, request) in requests {
        let r = server
            .run(request.header("x-request-id", name).send())
            .unwrap();
        assert_eq!(r.status(), 200);
        // The client gets the response untouched.
        let text = server.run(r.text()).unwrap();
        assert!(text.contains("S3cr3t-response-access"));
    }
    assert_eq!(server.wait_records(2).len(), 2);
    let files = server.all_files();
    let found = SECRETS
        .iter()
        .copied()
        .filter(|s| files.contains(s))
        .collect();
    (server, found)
}
