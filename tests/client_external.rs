//! `external_call`: the record of a call over any protocol, finished,
//! failed, or dropped unfinished ("abandoned").

mod common;

use common::records::Logs;
use serde_json::{json, Value};
use tracing_audit::{external_call, Kind};

#[test]
fn finished_failed_and_abandoned_calls_are_recorded() {
    let logs = Logs::new();
    logs.run(|| {
        let span = tracing::info_span!("request", request_id = "ok");
        span.in_scope(|| {
            external_call("partner-sftp", "sftp")
                .operation("put")
                .endpoint("sftp://bot:S3cr3t-sftp-password@files.partner.example/inbox?token=S3cr3t-url-token")
                .request(json!({"file": "invoices.csv", "bytes": 2048, "password": "S3cr3t-desc-password"}))
                .finish_ok(json!({"stored": true}));
        });
        let span = tracing::info_span!("request", request_id = "err");
        span.in_scope(|| {
            external_call("mail", "smtp")
                .operation("send")
                .request(json!({"to": "a@example.com"}))
                .finish_err("550 mailbox unavailable");
        });
        let span = tracing::info_span!("request", request_id = "dropped");
        span.in_scope(|| {
            let _call = external_call("broker", "amqp").operation("publish");
            // Dropped here: an early return, a `?`, a panic.
        });
    });
    logs.guard.flush().unwrap();
    let records = logs.records(Kind::Api);
    assert_eq!(records.len(), 3, "{records:#?}");
    let by = |id: &str| {
        records
            .iter()
            .find(|r| r["request_id"] == id)
            .unwrap_or_else(|| panic!("no record {id}: {records:#?}"))
    };
    for r in &records {
        assert_eq!(r["request_type"], "external");
        assert_eq!(r["message"], "Audit External Request");
        assert_eq!(r["level"], "API");
    }
    let ok = by("ok");
    assert_eq!(ok["peer_service"], "partner-sftp");
    assert_eq!(ok["protocol"], "sftp");
    assert_eq!(ok["request_repr"]["method"], "put");
    assert_eq!(ok["request_repr"]["body"]["file"], "invoices.csv");
    assert_eq!(ok["request_repr"]["body"]["password"], "[REDACTED]");
    assert_eq!(ok["response_repr"]["body"], json!({"stored": true}));
    assert_eq!(ok["error_message"], Value::Null);
    assert_eq!(ok["error_kind"], Value::Null);
    let endpoint = ok["request_repr"]["endpoint"].as_str().unwrap();
    assert!(
        endpoint.contains("files.partner.example/inbox"),
        "{endpoint}"
    );

    let err = by("err");
    assert_eq!(err["error_message"], "550 mailbox unavailable");
    assert_eq!(err["error_kind"], "other");
    assert_eq!(err["response_repr"]["body"], Value::Null);

    let dropped = by("dropped");
    assert_eq!(dropped["error_kind"], "abandoned");
    assert_eq!(dropped["protocol"], "amqp");
    assert_eq!(dropped["request_repr"]["method"], "publish");

    let mut all = String::new();
    for kind in Kind::ALL {
        all.push_str(&std::fs::read_to_string(logs.path(kind)).unwrap_or_default());
    }
    for secret in [
        "S3cr3t-sftp-password",
        "S3cr3t-url-token",
        "S3cr3t-desc-password",
    ] {
        assert!(!all.contains(secret), "{secret} in a file:\n{all}");
    }
}
