//! Secrets in connection strings (ADO.NET, ODBC), whose values run to the
//! next `;` and may hold spaces: every file the layer wrote is read as
//! bytes and searched for any word of the raw secret.

mod common;

use std::fs;

use common::records::Logs;
use tracing_audit::redact::Policy;

/// A connection string, and the words of its secret.
const LEAKS: &[(&str, &[&str])] = &[
    (
        "Server=db1;Database=shop;User Id=sa;Password=correct horse battery;",
        &["correct", "horse", "battery"],
    ),
    (
        "Data Source=db2; Initial Catalog=crm; User ID=app; Pwd=two words",
        &["two", "words"],
    ),
    (
        "Driver={ODBC Driver 18};Server=db3;UID=app;PWD=odbc secret pw;Encrypt=yes",
        &["odbc", "secret pw"],
    ),
];

#[test]
fn the_policy_masks_a_connection_string_password_up_to_its_semicolon() {
    let policy = Policy::default();
    for (text, words) in LEAKS {
        let out = policy.redact_text(text);
        for word in *words {
            assert!(!out.contains(word), "{text:?} -> {out:?}");
        }
    }
    // The other settings stay readable.
    assert_eq!(
        policy.redact_text("Server=db1;User Id=sa;Password=correct horse;Encrypt=yes"),
        "Server=db1;User Id=sa;Password=[REDACTED];Encrypt=yes"
    );
    // Outside a connection string a bare value still ends at a space.
    assert_eq!(
        policy.redact_text("login with password=hunter2 failed"),
        "login with password=[REDACTED] failed"
    );
}

#[test]
fn no_file_holds_a_connection_string_password() {
    let logs = Logs::new();
    logs.run(|| {
        for (text, _) in LEAKS {
            tracing::info!("connecting: {text}");
            tracing::warn!(connection_string = *text, "pool exhausted");
            tracing_audit::update!(model: "Tenant", id: 3, extra: serde_json::json!({ "dsn": [text] }));
        }
    });
    logs.guard.flush().unwrap();
    let mut written = String::new();
    for entry in fs::read_dir(logs.dir.path()).unwrap() {
        written += &String::from_utf8_lossy(&fs::read(entry.unwrap().path()).unwrap());
    }
    assert!(written.contains("Password=[REDACTED];"), "{written}");
    for (_, words) in LEAKS {
        for word in *words {
            assert!(!written.contains(word), "{word} reached a file:\n{written}");
        }
    }
}
