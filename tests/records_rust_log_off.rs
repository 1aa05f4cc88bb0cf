//! `RUST_LOG=off` read by `layer().build()`: audit, login and API records
//! still land, application records do not. A binary of its own: it sets
//! the process environment and the global subscriber, which no other test
//! may share.

mod common;

use common::records::{check_envelope, read_records};
use serde_json::json;
use tracing_audit::Kind;
use tracing_subscriber::layer::SubscriberExt;

fn messages(records: &[common::records::Record]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["message"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn with_rust_log_off_audit_login_and_api_records_still_land_and_app_records_do_not() {
    // Set before the layer is built: the filter reads RUST_LOG then.
    std::env::set_var("RUST_LOG", "off");
    let dir = tempfile::tempdir().unwrap();
    let (layer, guard) = tracing_audit::layer().log_dir(dir.path()).build().unwrap();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer)).unwrap();

    let request = tracing::info_span!("request", request_id = "r-off", tenant = "acme");
    request.in_scope(|| {
        tracing::error!("app error");
        tracing::warn!("app warn");
        tracing::info!("app info");
        tracing::debug!("app debug");
        tracing_audit::set_user(7);
        tracing_audit::create!(model: "Order", id: 1);
        tracing::trace!(target: "audit.process", "process step at TRACE");
        tracing_audit::login!(client_ip: "203.0.113.9");
        tracing::debug!(target: "audit.request", status = 200u64, "GET /orders");
    });
    guard.flush().unwrap();

    let app = read_records(guard.path(Kind::App).unwrap());
    assert!(app.is_empty(), "app records with RUST_LOG=off: {app:?}");
    let audit = read_records(guard.path(Kind::Audit).unwrap());
    let login = read_records(guard.path(Kind::Login).unwrap());
    let api = read_records(guard.path(Kind::Api).unwrap());
    assert_eq!(
        messages(&audit),
        ["CREATE event for Order (id: 1)", "process step at TRACE"]
    );
    assert_eq!(messages(&login), ["User logged in"]);
    assert_eq!(messages(&api), ["GET /orders"]);
    for r in audit.iter().chain(&login).chain(&api) {
        check_envelope(r, None);
        // The spans passed the filter: their context is there.
        assert_eq!(r["request_id"], "r-off", "{r:?}");
        assert_eq!(r["tenant"], "acme", "{r:?}");
        assert_eq!(r["user_id"], "7", "{r:?}");
    }
    assert_eq!(audit[1]["level"], "AUDIT");
    assert_eq!(api[0]["level"], "API");
    assert_eq!(api[0]["extra"], json!({"status": 200}));
}
