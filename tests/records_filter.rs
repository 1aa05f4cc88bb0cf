//! The application filter (`RUST_LOG` or `app_filter`) decides which
//! application records reach `app.log`; audit, API and login records are
//! written whatever it says, and spans still carry their context.
//!
//! Every test here sets the filter explicitly and uses a scoped default
//! subscriber, so none depends on the environment; `RUST_LOG=off` itself
//! is tested in `records_rust_log_off.rs`, a binary of its own, since
//! changing the environment while other tests run is a data race.

mod common;

use common::records::{read_records, Logs};
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
