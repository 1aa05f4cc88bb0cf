//! Login detection on a real axum server: `AuditLayer::login_route` turns
//! the answers of an authentication route into `audit.login` records (a
//! login on 2xx, a failed login on 401/403), the user read from the JSON or
//! form body, while the password and the tokens the route answers with
//! reach no file.
#![cfg(feature = "axum")]

mod common;
mod http_support;

use axum::extract::Form;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use common::records::{Logs, Record};
use http_support::{at, by_request_id, Server};
use serde::Deserialize;
use serde_json::json;
use tracing_audit::http::AuditLayer;
use tracing_audit::redact::Policy;
use tracing_audit::Kind;

const PASSWORD: &str = "Tr0ub4dor-and-3";
const WRONG_PASSWORD: &str = "hunter2-is-wrong";
/// A JWT (header `{"alg":"HS256"}`, claims `{"sub":"alice"}`) and an
/// opaque refresh token, as a login route answers them.
const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLW9mLXRoZS1qd3Q";
const REFRESH: &str = "rt_9f8e7d6c5b4a39281706f5e4d3c2b1a0";
const AGENT: &str = "login-test/1.0";

#[derive(Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

fn answer(c: Credentials) -> Response {
    match (c.username.as_str(), c.password.as_str()) {
        (_, "locked") => StatusCode::FORBIDDEN.into_response(),
        ("alice", PASSWORD) => Json(json!({
            "access_token": JWT,
            "refresh_token": REFRESH,
            "expires_in": 3600
        }))
        .into_response(),
        _ => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid credentials"})),
        )
            .into_response(),
    }
}

fn app(layer: AuditLayer) -> Router {
    Router::new()
        .route(
            "/login",
            post(|Json(c): Json<Credentials>| async { answer(c) }),
        )
        .route(
            "/form-login",
            post(|Form(c): Form<Credentials>| async { answer(c) }),
        )
        .route(
            "/not-a-login",
            post(|Json(c): Json<Credentials>| async { answer(c) }),
        )
        .layer(layer)
}

fn layer() -> AuditLayer {
    AuditLayer::new()
        .login_route("/login", "username")
        .login_route("/form-login", "username")
}

/// Sends `(request id, path, JSON or form, username, password)` attempts
/// and returns the server and the statuses.
fn attempts(
    logs: Logs,
    layer: AuditLayer,
    list: &[(&str, &str, bool, &str, &str)],
) -> (Server, Vec<u16>) {
    let server = Server::start(logs, app(layer));
    let mut statuses = Vec::new();
    for (id, path, json, username, password) in list {
        let request = server
            .client
            .post(server.url(path))
            .header("x-request-id", *id)
            .header("user-agent", AGENT);
        let request = if *json {
            request.json(&json!({"username": username, "password": password}))
        } else {
            request.form(&[("username", *username), ("password", *password)])
        };
        let response = server.run(request.send()).unwrap();
        statuses.push(response.status().as_u16());
        let body = server.run(response.text()).unwrap();
        if statuses.last() == Some(&200) {
            // The client gets its tokens untouched.
            assert!(body.contains(JWT) && body.contains(REFRESH), "{body}");
        }
    }
    (server, statuses)
}

fn login_records(server: &Server, n: usize) -> Vec<Record> {
    // The request records are written when each response ends; the login
    // records in the same step, just after.
    server.wait_records(n);
    server.logs.records(Kind::Login)
}

fn by_id<'a>(records: &'a [Record], id: &str) -> Vec<&'a Record> {
    records.iter().filter(|r| r["request_id"] == id).collect()
}

#[test]
fn right_password_logs_in_wrong_password_fails_and_no_secret_is_written() {
    let (server, statuses) = attempts(
        Logs::new(),
        layer(),
        &[
            ("wrong", "/login", true, "alice", WRONG_PASSWORD),
            ("right", "/login", true, "alice", PASSWORD),
        ],
    );
    assert_eq!(statuses, [401, 200]);
    let logins = login_records(&server, 2);
    assert_eq!(logins.len(), 2, "{logins:#?}");

    let failed = by_id(&logins, "wrong");
    assert_eq!(failed.len(), 1, "{logins:#?}");
    let failed = failed[0];
    assert_eq!(failed["level"], "LOGIN");
    assert_eq!(failed["event"], "failed_login");
    assert_eq!(failed["success"], false);
    assert_eq!(failed["user_id"], "alice");
    assert_eq!(failed["error"], "401 Unauthorized");
    assert_eq!(failed["client_ip"], "127.0.0.1");
    assert_eq!(failed["user_agent"], AGENT);

    let ok = by_id(&logins, "right");
    assert_eq!(ok.len(), 1, "{logins:#?}");
    let ok = ok[0];
    assert_eq!(ok["event"], "login");
    assert_eq!(ok["success"], true);
    assert_eq!(ok["user_id"], "alice");
    assert_eq!(ok["error"], serde_json::Value::Null);
    assert_eq!(ok["client_ip"], "127.0.0.1");
    assert_eq!(ok["user_agent"], AGENT);

    // The request records are there too, with the bodies redacted.
    let requests = server.wait_records(2);
    let api = by_request_id(&requests, "right");
    assert_eq!(at(api, &["request_repr", "body", "username"]), "alice");
    assert_eq!(at(api, &["request_repr", "body", "password"]), "[REDACTED]");
    assert_eq!(
        at(api, &["response_repr", "body", "access_token"]),
        "[REDACTED]"
    );
    assert_eq!(
        at(api, &["response_repr", "body", "refresh_token"]),
        "[REDACTED]"
    );
    assert_eq!(at(api, &["response_repr", "body", "expires_in"]), 3600);

    let files = server.all_files();
    for secret in [
        PASSWORD,
        WRONG_PASSWORD,
        JWT,
        REFRESH,
        "c2lnbmF0dXJlLW9mLXRoZS1qd3Q",
    ] {
        assert!(!files.contains(secret), "{secret} in a file:\n{files}");
    }
}

/// The grep above can fail: with redaction off, the same requests leave
/// the password and both tokens in the request records (and still none in
/// the login records, which never hold a body).
#[test]
fn without_redaction_the_secrets_are_in_the_request_records_only() {
    let (server, _) = attempts(
        Logs::with(|b| b.redaction(Policy::none())),
        layer(),
        &[("right", "/login", true, "alice", PASSWORD)],
    );
    let logins = login_records(&server, 1);
    assert_eq!(logins.len(), 1);
    let files = server.all_files();
    for secret in [PASSWORD, JWT, REFRESH] {
        assert!(files.contains(secret), "{secret} not found:\n{files}");
    }
    let login_file = std::fs::read_to_string(server.logs.path(Kind::Login)).unwrap();
    for secret in [PASSWORD, JWT, REFRESH] {
        assert!(
            !login_file.contains(secret),
            "{secret} in login.log:\n{login_file}"
        );
    }
}

#[test]
fn a_form_login_a_forbidden_one_and_routes_that_are_not_login_routes() {
    let (server, statuses) = attempts(
        Logs::new(),
        layer(),
        &[
            ("form-ok", "/form-login", false, "bob@example.com", PASSWORD),
            (
                "form-bad",
                "/form-login",
                false,
                "bob@example.com",
                WRONG_PASSWORD,
            ),
            ("locked", "/login", true, "carol", "locked"),
            ("elsewhere", "/not-a-login", true, "alice", PASSWORD),
        ],
    );
    assert_eq!(statuses, [401, 401, 403, 200]);
    let logins = login_records(&server, 4);
    assert_eq!(logins.len(), 3, "{logins:#?}");
    let form_bad = by_id(&logins, "form-bad")[0];
    assert_eq!(form_bad["event"], "failed_login");
    assert_eq!(form_bad["user_id"], "bob@example.com");
    let locked = by_id(&logins, "locked")[0];
    assert_eq!(locked["event"], "failed_login");
    assert_eq!(locked["user_id"], "carol");
    assert_eq!(locked["error"], "403 Forbidden");
    // Not a login route: its request record only.
    assert!(by_id(&logins, "elsewhere").is_empty());
    assert_eq!(by_id(&logins, "form-ok").len(), 1);
}

#[test]
fn a_route_answered_with_another_status_or_a_get_gives_no_login_record() {
    let server = Server::start(Logs::new(), app(layer()));
    // A body that is not the credentials: axum answers 422.
    let r = server
        .run(
            server
                .client
                .post(server.url("/login"))
                .header("x-request-id", "malformed")
                .json(&json!({"username": "alice"}))
                .send(),
        )
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = server
        .run(server.client.get(server.url("/login")).send())
        .unwrap();
    assert_eq!(r.status(), 405);
    let requests = server.wait_records(2);
    assert_eq!(requests.len(), 2);
    assert!(server.logs.records(Kind::Login).is_empty());
}

#[test]
fn a_secret_user_field_is_never_read() {
    let (server, _) = attempts(
        Logs::new(),
        AuditLayer::new().login_route("/login", "password"),
        &[("right", "/login", true, "alice", PASSWORD)],
    );
    let logins = login_records(&server, 1);
    assert_eq!(logins.len(), 1);
    assert_eq!(logins[0]["user_id"], "[REDACTED]");
    assert!(!server.all_files().contains(PASSWORD));
}

/// The audit layer's own policy decides whether the user field is secret,
/// not the default one: a policy that adds `username` to the secret keys
/// masks the user of the login records too.
#[test]
fn the_layers_own_policy_decides_that_the_user_field_is_secret() {
    let (server, _) = attempts(
        Logs::with(|b| b.redaction(Policy::default().with_key("username"))),
        layer(),
        &[
            ("right", "/login", true, "alice", PASSWORD),
            ("wrong", "/login", true, "alice", WRONG_PASSWORD),
        ],
    );
    let logins = login_records(&server, 2);
    assert_eq!(logins.len(), 2, "{logins:#?}");
    for login in &logins {
        assert_eq!(login["user_id"], "[REDACTED]", "{login:?}");
    }
    let login_file = std::fs::read_to_string(server.logs.path(Kind::Login)).unwrap();
    assert!(!login_file.contains("alice"), "{login_file}");
}
