//! The application filter (`RUST_LOG` or `app_filter`) decides which
//! application records reach `app.log`; audit, API and login records are
//! written whatever it says, and spans still carry their context.
//!
//! `RUST_LOG=off` is tested with the global default subscriber (the only
//! one in this binary); the other tests use a scoped default and set the
//! filter explicitly, so they do not depend on the environment.

mod common;

use common::records::{check_envelope, read_records, Logs};
use serde_json::json;
use tracing_audit::Kind;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

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

#[test]
fn app_filter_off_drops_every_app_record_and_keeps_audit_records() {
    let logs = Logs::with(|b| b.app_filter("off"));
    logs.run(|| {
        tracing::error!("app error");
        tracing_audit::read!(model: "Doc", id: 1);
        tracing_audit::logout!(user: 1);
    });
    assert!(logs.records(Kind::App).is_empty());
    assert_eq!(logs.records(Kind::Audit).len(), 1);
    assert_eq!(logs.records(Kind::Login).len(), 1);
}

#[test]
fn app_filter_warn_drops_info_and_keeps_warn_and_error() {
    let logs = Logs::with(|b| b.app_filter("warn"));
    logs.run(|| {
        tracing::trace!("t");
        tracing::debug!("d");
        tracing::info!("i");
        tracing::warn!(code = 1, "w");
        tracing::error!("e");
        tracing::info!(target: "some::module", "i2");
        tracing_audit::read!(model: "Doc", id: 1);
        tracing::info!(target: "audit.request", "GET /");
    });
    let app = logs.records(Kind::App);
    assert_eq!(messages(&app), ["w", "e"]);
    assert_eq!(app[0]["level"], "WARN");
    assert_eq!(app[0]["fields"], json!({"code": 1}));
    assert_eq!(app[1]["level"], "ERROR");
    assert_eq!(logs.records(Kind::Audit).len(), 1);
    assert_eq!(logs.records(Kind::Api).len(), 1);
}

#[test]
fn app_filter_directives_apply_per_target() {
    let logs = Logs::with(|b| b.app_filter("warn,billing=debug,billing::noisy=error"));
    logs.run(|| {
        tracing::debug!(target: "billing", "billing debug");
        tracing::trace!(target: "billing", "billing trace");
        tracing::warn!(target: "billing::noisy", "noisy warn");
        tracing::error!(target: "billing::noisy", "noisy error");
        tracing::info!(target: "shipping", "shipping info");
        tracing::warn!(target: "shipping", "shipping warn");
    });
    let app = logs.records(Kind::App);
    assert_eq!(
        messages(&app),
        ["billing debug", "noisy error", "shipping warn"]
    );
    assert_eq!(app[0]["name"], "billing");
    assert_eq!(app[0]["level"], "DEBUG");
}

#[test]
fn a_bad_filter_directive_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let result = tracing_audit::layer()
        .log_dir(dir.path())
        .app_filter("warn,[[[")
        .build::<tracing_subscriber::Registry>();
    assert!(
        matches!(result, Err(tracing_audit::Error::Filter(_))),
        "{:?}",
        result.err()
    );
}

#[test]
fn another_layer_with_a_strict_filter_does_not_hide_records_from_the_audit_layer() {
    // The documented composition: the other layer gets a per-layer filter.
    let dir = tempfile::tempdir().unwrap();
    let (audit, guard) = tracing_audit::layer()
        .log_dir(dir.path())
        .app_filter("info")
        .build()
        .unwrap();
    let console = tracing_subscriber::fmt::layer()
        .with_writer(std::io::sink)
        .with_filter(tracing_subscriber::filter::LevelFilter::ERROR);
    let subscriber = tracing_subscriber::registry().with(audit).with(console);
    tracing::subscriber::with_default(subscriber, || {
        tracing::info_span!("request", request_id = "r-1").in_scope(|| {
            tracing::info!("app info");
            tracing::debug!("app debug");
            tracing_audit::read!(model: "Doc", id: 1);
        });
    });
    guard.flush().unwrap();
    let app = read_records(guard.path(Kind::App).unwrap());
    assert_eq!(messages(&app), ["app info"]);
    assert_eq!(app[0]["request_id"], "r-1");
    let audit = read_records(guard.path(Kind::Audit).unwrap());
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["request_id"], "r-1");
}
