//! `RUST_LOG=off` with `builder().init()` (console on): the request's
//! context and user still reach its records, transactions still work, and
//! spans without context are not made. A binary of its own: it sets the
//! environment and the global subscriber.

mod common;

use common::records::read_records;
use serde_json::json;
use tracing_audit::Kind;
use tracing_audit::Transaction;

#[test]
fn with_rust_log_off_context_user_and_transactions_reach_the_records() {
    std::env::set_var("RUST_LOG", "off");
    let dir = tempfile::tempdir().unwrap();
    let guard = tracing_audit::builder()
        .log_dir(dir.path())
        .service_name("off")
        .init()
        .unwrap();
    assert!(tracing::trace_span!("hyper").is_disabled());
    assert!(tracing::info_span!("handler").is_disabled());
    let request = tracing::info_span!("request", request_id = "r-1");
    request.in_scope(|| {
        tracing::debug_span!("router", path = "/x").in_scope(|| {
            tracing_audit::set_user_info(7, &json!({"role": "admin"}));
            let tx = Transaction::begin();
            tx.in_scope(|| {
                tracing::trace_span!("db").in_scope(|| tracing_audit::create!(model: "Doc", id: 1));
            });
            tx.commit();
            tracing_audit::login!(client_ip: "203.0.113.9");
            tracing::info!("app record, filtered out");
            tracing::error!(target: "audit.process", "process record");
        });
    });
    guard.flush().unwrap();
    let audit = read_records(guard.path(Kind::Audit).unwrap());
    let login = read_records(guard.path(Kind::Login).unwrap());
    let app = read_records(guard.path(Kind::App).unwrap());
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert_eq!(login.len(), 1);
    assert!(app.is_empty(), "{app:?}");
    for r in audit.iter().chain(&login) {
        assert_eq!(r["request_id"], "r-1", "{r:?}");
        assert_eq!(r["user_id"], "7", "{r:?}");
        assert_eq!(r["user_info"], json!({"role": "admin"}), "{r:?}");
    }
}
