//! Secrets in command lines, as a process record, an error or a message
//! quotes them (`mysqldump --password=…`, `psql --dbname=postgres://…`):
//! every file the layer wrote is read as bytes and searched for the raw
//! secret.

mod common;

use std::fs;

use common::records::Logs;
use tracing_audit::redact::Policy;

/// Text with a secret in a command-line option, and the raw secret.
const LEAKS: &[(&str, &str)] = &[
    (
        "exec: mysqldump --user=root --password=cliPw-long-1 shop",
        "cliPw-long-1",
    ),
    ("pg_restore --auth-token=cliTok-2 dump.sql", "cliTok-2"),
    ("tool -token=cliTok-3", "cliTok-3"),
    ("redis-cli --pass=cliPass-4 ping", "cliPass-4"),
    ("aws --secret-access-key=cliAws-5 s3 ls", "cliAws-5"),
    // The value after a space, as most tools also take it.
    (
        "mysql -u root --password cliPw-space-6 shop",
        "cliPw-space-6",
    ),
    ("curl --token 'cliTok 7' https://example.com", "cliTok 7"),
    // A `Debug` list of arguments (`std::process::Command`'s).
    (
        r#"Command { args: ["deploy", "--api-key", "cliKey-8"] }"#,
        "cliKey-8",
    ),
    (r#"["--password","cliPw-9"]"#, "cliPw-9"),
    // A pair written as a list of two texts.
    (r#"["password", "cliPw-10"]"#, "cliPw-10"),
];

#[test]
fn the_policy_masks_secret_long_options() {
    let policy = Policy::default();
    for (text, raw) in LEAKS {
        let out = policy.redact_text(text);
        assert!(!out.contains(raw), "{text:?} -> {out:?}");
    }
    // The option's name stays, so the record says what was masked.
    assert_eq!(
        policy.redact_text("mysql --password=hunter2 -e 'select 1'"),
        "mysql --password=[REDACTED] -e 'select 1'"
    );
    assert_eq!(
        policy.redact_text("mysql --password hunter2 -e 'select 1'"),
        "mysql --password [REDACTED] -e 'select 1'"
    );
    // Options that are not secret are kept, and so are words that only
    // look like options, longer lists of names and option-like words
    // inside other words.
    for kept in [
        "cargo build --release --jobs=2 --target-dir=t",
        "ls --color always -la /tmp",
        "--password --verbose",
        r#"["token", "expires_at", "scope"]"#,
        "re-token abc, pre-password xyz",
        "id 0f8e-password 12",
    ] {
        assert_eq!(policy.redact_text(kept), kept);
    }
}

#[test]
fn no_file_holds_a_secret_from_a_command_line() {
    #[derive(Debug)]
    struct Failed(String);
    impl std::fmt::Display for Failed {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "command failed: {}", self.0)
        }
    }
    impl std::error::Error for Failed {}

    let logs = Logs::new();
    logs.run(|| {
        for (text, _) in LEAKS {
            tracing::info!("running {text}");
            tracing::info!(command = *text, "spawned");
            let error = Failed((*text).to_owned());
            tracing::error!(error = &error as &dyn std::error::Error, "backup failed");
            tracing_audit::create!(model: "Backup", id: 1, extra: serde_json::json!({ "argv": [text] }));
        }
    });
    logs.guard.flush().unwrap();
    let mut written = String::new();
    for entry in fs::read_dir(logs.dir.path()).unwrap() {
        written += &String::from_utf8_lossy(&fs::read(entry.unwrap().path()).unwrap());
    }
    assert!(written.contains("--password=[REDACTED]"), "{written}");
    for (_, raw) in LEAKS {
        assert!(!written.contains(raw), "{raw} reached a file:\n{written}");
    }
}
