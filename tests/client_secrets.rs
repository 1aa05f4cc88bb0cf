//! Credentials an outbound call carries reach no file: userinfo in the
//! URL, secret query values, `Authorization`, secret JSON keys, bearer
//! tokens and JWTs in other headers, secret keys in the partner's answer.
#![cfg(all(feature = "reqwest", feature = "axum"))]

mod client_support;
mod common;
mod http_support;

use client_support::{in_request, one, start};
use common::records::Logs;
use http_support::{at, Server};
use serde_json::json;
use tracing_audit::http::AuditedClient;
use tracing_audit::redact::Policy;

const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJTM2NyM3QtanciJ9.S3cr3tJwtSignature0123456789";

/// reqwest moves a URL's `user:password@` into an `Authorization: Basic`
/// header: the pair, base64-encoded.
const URL_USERINFO_B64: &str = "cGFydG5lcjpTM2NyM3QtdXJsLXBhc3N3b3Jk";

const SECRETS: &[&str] = &[
    "S3cr3t-url-password",
    URL_USERINFO_B64,
    "S3cr3t-query-api-key",
    "S3cr3t-query-token",
    "S3cr3t-authorization",
    "S3cr3t-json-password",
    "S3cr3t-json-client-secret",
    "S3cr3tBearerInACustomHeader",
    JWT,
    "S3cr3t-response-access-token",
    "S3cr3t-response-refresh",
];

fn run(logs: Logs) -> (Server, Vec<&'static str>) {
    let server = start(logs);
    let c = AuditedClient::new("auth-partner", reqwest::Client::new());
    let url = format!(
        "http://partner:S3cr3t-url-password@{}/login?api_key=S3cr3t-query-api-key&token=S3cr3t-query-token&page=2",
        server.addr
    );
    let body = in_request(&server, "login", async {
        let r = c
            .post(url)
            .header("authorization", "Bearer S3cr3t-authorization")
            .header("x-forward-auth", "Bearer S3cr3tBearerInACustomHeader")
            .header("x-id-token", JWT)
            .json(&json!({
                "username": "alice",
                "password": "S3cr3t-json-password",
                "client": {"client_secret": "S3cr3t-json-client-secret"}
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.text().await.unwrap()
    });
    // The caller gets the answer untouched.
    assert!(body.contains("S3cr3t-response-access-token"));
    let records = server.wait_records(1);
    assert_eq!(records.len(), 1);
    let all = server.all_files();
    let found = SECRETS
        .iter()
        .copied()
        .filter(|s| all.contains(s))
        .collect();
    (server, found)
}

#[test]
fn no_credential_reaches_any_file() {
    let (server, found) = run(Logs::new());
    assert!(
        found.is_empty(),
        "secrets in a file: {found:?}\n{}",
        server.all_files()
    );
    let records = server.wait_records(1);
    let r = one(&records, "login");
    // What is not secret is still there.
    let endpoint = at(r, &["request_repr", "endpoint"]).as_str().unwrap();
    assert!(
        endpoint.contains("/login?") && endpoint.contains("page=2"),
        "{endpoint}"
    );
    assert_eq!(at(r, &["request_repr", "query_params", "page"]), "2");
    assert_eq!(
        at(r, &["request_repr", "query_params", "api_key"]),
        "[REDACTED]"
    );
    assert_eq!(at(r, &["request_repr", "body", "username"]), "alice");
    assert_eq!(at(r, &["request_repr", "body", "password"]), "[REDACTED]");
    assert_eq!(
        at(r, &["request_repr", "headers", "authorization"]),
        "[REDACTED]"
    );
    assert_eq!(at(r, &["response_repr", "body", "user"]), "alice");
}

/// The check above can fail: with redaction off, every secret is found.
#[test]
fn without_redaction_every_credential_is_found() {
    let (_server, found) = run(Logs::with(|b| b.redaction(Policy::none())));
    // All but the URL's password as it was typed: reqwest took it out of
    // the URL before the request reached the wrapper.
    let missing: Vec<_> = SECRETS.iter().filter(|s| !found.contains(s)).collect();
    assert_eq!(missing, [&"S3cr3t-url-password"], "{found:?}");
}
