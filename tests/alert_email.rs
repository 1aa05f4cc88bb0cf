//! Alert emails through a local SMTP server (a small one in the test, on
//! 127.0.0.1:0).
#![cfg(feature = "alert-email")]

mod alert_support;
mod common;

use alert_support::{wait_for, SmtpSink};
use common::records::Logs;
use tracing_audit::alert::{Alerts, Email, Rule};

#[test]
fn the_smtp_sink_receives_the_alert_email() {
    let smtp = SmtpSink::start();
    let email = Email::smtp("127.0.0.1", smtp.port)
        .from("Audit <audit@example.com>")
        .unwrap()
        .to("admin@example.com")
        .unwrap();
    let logs = Logs::with(|b| {
        b.alerts(
            Alerts::new()
                .rule(Rule::failed_logins_per_ip())
                .email(email),
        )
    });
    logs.run(|| {
        for _ in 0..5 {
            tracing_audit::login_failed!(user: "mallory", client_ip: "203.0.113.77");
        }
    });
    let message = wait_for("the email", || smtp.messages().into_iter().next());
    // Long headers are folded (RFC 5322): unfolded to read them.
    let message = message.replace("\r\n ", " ");
    assert!(
        message.contains("From: Audit <audit@example.com>"),
        "{message}"
    );
    assert!(message.contains("To: admin@example.com"), "{message}");
    assert!(
        message.contains(
            "Subject: [audit alert] failed_logins_per_ip: 5 failed logins from 203.0.113.77"
        ),
        "{message}"
    );
    assert!(message.contains("key: 203.0.113.77"), "{message}");
    let stats = wait_for("the delivery count", || {
        let s = logs.guard.alert_stats().unwrap();
        (s.delivered == 1).then_some(s)
    });
    assert_eq!(stats.deliveries_lost(), 0);
    drop(logs);
    assert_eq!(smtp.messages().len(), 1);
}

#[test]
fn a_bad_address_is_an_error_not_a_panic() {
    let err = Email::smtp("127.0.0.1", 25)
        .to("not an address")
        .unwrap_err();
    assert!(err.to_string().contains("not an address"), "{err}");
}
