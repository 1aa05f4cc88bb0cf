//! `builder().init()` installs the `log` crate bridge: records made with
//! `log::warn!` and friends land in `app.log` with their level, their `log`
//! target as `name`, and their call site. A binary of its own: `init`
//! installs the global default subscriber and the `log` logger.

mod common;

use common::records::{check_envelope, read_records};
use serde_json::Value;
use tracing_audit::Kind;

#[test]
fn log_crate_records_land_in_app_log_with_their_level_target_and_call_site() {
    let dir = tempfile::tempdir().unwrap();
    let guard = tracing_audit::builder()
        .console(false)
        .log_dir(dir.path())
        .service_name("bridge")
        .app_filter("info,billing=debug")
        .init()
        .unwrap();

    let warn_line = line!() + 1;
    log::warn!("disk {}% full", 91);
    log::info!(target: "billing::invoices", "invoice {} sent", "inv-7");
    log::debug!("debug from the test module");
    log::debug!(target: "billing", "billing debug");
    log::error!(target: "payments", "card declined: {}", "insufficient funds");
    log::trace!(target: "billing", "billing trace");
    tracing::info_span!("request", request_id = "r-log").in_scope(|| {
        log::info!("inside a span");
    });
    guard.flush().unwrap();

    let app = read_records(guard.path(Kind::App).unwrap());
    let got: Vec<(&str, &str, &str)> = app
        .iter()
        .map(|r| {
            (
                r["level"].as_str().unwrap(),
                r["name"].as_str().unwrap(),
                r["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("WARN", "records_log_bridge", "disk 91% full"),
            ("INFO", "billing::invoices", "invoice inv-7 sent"),
            ("DEBUG", "billing", "billing debug"),
            ("ERROR", "payments", "card declined: insufficient funds"),
            ("INFO", "records_log_bridge", "inside a span"),
        ]
    );
    for r in &app {
        check_envelope(r, None);
        assert_eq!(r["service_name"], "bridge");
        assert_eq!(r["module"], "records_log_bridge", "{r:?}");
        assert!(
            r["path"]
                .as_str()
                .unwrap()
                .ends_with("records_log_bridge.rs"),
            "{r:?}"
        );
        // The bridge's own `log.*` fields are not caller fields.
        let fields = r["fields"].as_object().unwrap();
        assert!(
            fields.keys().all(|k| !k.starts_with("log.")),
            "log.* fields: {r:?}"
        );
        assert!(fields.is_empty(), "{r:?}");
    }
    assert_eq!(app[0]["line"], Value::from(warn_line));
    assert_eq!(app[4]["request_id"], "r-log");
    // Nothing of the log records went to the audit files.
    for kind in [Kind::Audit, Kind::Api, Kind::Login] {
        assert!(read_records(guard.path(kind).unwrap()).is_empty());
    }
}
