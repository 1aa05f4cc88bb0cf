//! Login records: a record that names its own user gets the span's
//! `user_info` only when the span's user is the same one; a plain
//! `tracing` event on `audit.login` has every login key the schema calls
//! *always*, from its fields of those names or `null`.

mod common;

use common::records::{check_envelope, Logs};
use serde_json::{json, Value};
use tracing_audit::Kind;

#[test]
fn a_record_naming_another_user_does_not_get_the_span_users_info() {
    let logs = Logs::new();
    logs.run(|| {
        tracing::info_span!("request", request_id = "r-1").in_scope(|| {
            tracing_audit::set_user_info("Y", &json!({"email": "y@example.com"}));
            tracing::info_span!("handler").in_scope(|| {
                tracing_audit::login!(user: "X");
                tracing_audit::login!(user: "Y");
                tracing_audit::login!();
                tracing_audit::login!(user: "X", user_info: json!({"email": "x@example.com"}));
                tracing_audit::login_failed!(user: "X", error: "bad password");
                tracing::info!(target: "audit.login", user_id = "X", "plain, another user");
                tracing_audit::read!(model: "Doc", id: 1, user: "X");
                tracing_audit::read!(model: "Doc", id: 2, user: "Y");
            });
        });
    });
    let login = logs.records(Kind::Login);
    let users: Vec<_> = login
        .iter()
        .map(|r| (r["user_id"].clone(), r["user_info"].clone()))
        .collect();
    let y_info = json!({"email": "y@example.com"});
    assert_eq!(
        users,
        [
            (json!("X"), json!({})),
            (json!("Y"), y_info.clone()),
            (json!("Y"), y_info.clone()),
            (json!("X"), json!({"email": "x@example.com"})),
            (json!("X"), json!({})),
            (json!("X"), json!({})),
        ]
    );
    let audit = logs.records(Kind::Audit);
    assert_eq!(audit[0]["user_id"], "X");
    assert_eq!(audit[0]["user_info"], json!({}));
    assert_eq!(audit[1]["user_id"], "Y");
    assert_eq!(audit[1]["user_info"], y_info);
}

#[test]
fn a_user_given_without_a_span_user_gets_no_span_details() {
    let logs = Logs::new();
    logs.run(|| {
        // Details on the span, but no user id there.
        tracing::info_span!("request", user_info = r#"{"email":"who@example.com"}"#).in_scope(
            || {
                tracing_audit::login!(user: "X");
                tracing_audit::login!();
            },
        );
    });
    let login = logs.records(Kind::Login);
    assert_eq!(login[0]["user_info"], json!({}));
    assert_eq!(login[1]["user_id"], "");
    assert_eq!(login[1]["user_info"], json!({"email": "who@example.com"}));
}

#[test]
fn a_plain_tracing_login_event_has_every_login_key() {
    let logs = Logs::new();
    logs.run(|| {
        tracing::info!(target: "audit.login", "bare");
        tracing::info!(
            target: "audit.login",
            event = "failed_login",
            success = false,
            client_ip = "203.0.113.9",
            user_agent = %"curl/8.5",
            error = "bad password",
            attempt = 3u64,
            "sso refused"
        );
    });
    let login = logs.records(Kind::Login);
    assert_eq!(login.len(), 2);
    for r in &login {
        check_envelope(r, Some("LOGIN"));
        for key in [
            "event",
            "success",
            "client_ip",
            "user_agent",
            "error",
            "user_id",
            "user_info",
            "extra",
        ] {
            assert!(r.contains_key(key), "{key} missing: {r:?}");
        }
    }
    let bare = &login[0];
    assert_eq!(bare["message"], "bare");
    for key in ["event", "success", "client_ip", "user_agent", "error"] {
        assert_eq!(bare[key], Value::Null, "{key}");
    }
    assert_eq!(bare["extra"], json!({}));
    let full = &login[1];
    assert_eq!(full["event"], "failed_login");
    assert_eq!(full["success"], false);
    assert_eq!(full["client_ip"], "203.0.113.9");
    assert_eq!(full["user_agent"], "curl/8.5");
    assert_eq!(full["error"], "bad password");
    assert_eq!(
        full["extra"],
        json!({"attempt": 3}),
        "the login keys are not repeated"
    );
}
