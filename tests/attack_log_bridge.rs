//! The `log` bridge as an attacker drives it: audit targets, huge and
//! hostile messages, targets full of JSON's special characters, records
//! made inside a transaction. A binary of its own: `init` installs the
//! global subscriber and the `log` logger.

mod common;

use common::records::{excerpt, read_lines};
use tracing_audit::Kind;
use tracing_audit::Transaction;

#[test]
fn log_records_on_audit_targets_and_hostile_text_give_valid_lines_within_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let guard = tracing_audit::builder()
        .console(false)
        .log_dir(dir.path())
        .app_filter("off")
        .max_line_bytes(2048)
        .init()
        .unwrap();
    let huge = "\"\\\u{0}\u{7f}é\n".repeat(1_000_000);
    let hostile_target = format!("audit.{}", "\"\\\n".repeat(100_000));
    log::info!(target: "audit.crud", "{huge}");
    log::info!(target: "audit.login", "{huge}");
    log::info!(target: "audit.request", "{huge}");
    log::error!(target: &hostile_target, "{huge}");
    log::warn!(target: "audit.", "empty audit target");
    let tx = Transaction::begin();
    tx.in_scope(|| log::info!(target: "audit.crud", "in a transaction"));
    tx.commit();
    // A CRUD record from `log` inside a transaction rolled back: discarded
    // like one from `tracing`.
    let tx = Transaction::begin();
    tx.in_scope(|| log::info!(target: "audit.crud", "rolled back"));
    tx.rollback();
    tracing::info_span!("r", request_id = %huge).in_scope(|| {
        log::info!(target: "audit.crud", "in a span");
    });
    guard.flush().unwrap();
    let mut total = 0;
    for kind in [Kind::Audit, Kind::Login, Kind::Api, Kind::App] {
        for l in read_lines(guard.path(kind).unwrap()) {
            assert!(l.text.len() < 2048, "{kind:?}: {}", excerpt(&l.text));
            assert!(
                l.record["message"].is_string(),
                "{kind:?}: {}",
                excerpt(&l.text)
            );
            total += 1;
        }
    }
    assert_eq!(total, 7);
    let audit = read_lines(guard.path(Kind::Audit).unwrap());
    assert!(
        audit.iter().all(|l| l.record["message"] != "rolled back"),
        "a rolled-back record was written"
    );
    let login = read_lines(guard.path(Kind::Login).unwrap());
    for key in ["event", "success", "client_ip", "user_agent", "error"] {
        assert!(
            login[0].record.contains_key(key),
            "{key}: {}",
            excerpt(&login[0].text)
        );
    }
}
