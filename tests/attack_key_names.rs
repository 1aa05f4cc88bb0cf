//! Secret key material under names no list had: cryptographic keys
//! (`encryption_key`, `master_key`, `signing_key`, `hmac_key`,
//! `shared_key`, `client_key`) and vendor API key headers
//! (`Ocp-Apim-Subscription-Key`, `x-functions-key`). Their values have no
//! shape of their own, so only the name can tell: each is masked in
//! structured data, as a field and in text, and no file holds the value.

mod common;

use std::fs;

use common::records::Logs;
use tracing_audit::redact::Policy;

const NAMES: &[&str] = &[
    "encryption_key",
    "masterKey",
    "SIGNING_KEY",
    "hmac-key",
    "sharedKey",
    "client_key",
    "Ocp-Apim-Subscription-Key",
    "x-functions-key",
];

/// A value for the `i`-th name, with no recognizable shape.
fn value(i: usize) -> String {
    format!("q{i}w7e3r9t1y5u")
}

#[test]
fn the_policy_counts_key_material_names_as_secret() {
    let policy = Policy::default();
    for name in NAMES {
        assert!(policy.is_secret_key(name), "{name}");
    }
    // Keys that merely hold the word stay readable.
    for name in [
        "key",
        "primary_key",
        "sort_key",
        "keyboard",
        "monkey",
        "key_count",
    ] {
        assert!(!policy.is_secret_key(name), "{name}");
    }
}

#[test]
fn no_file_holds_key_material() {
    let logs = Logs::new();
    logs.run(|| {
        let mut object = serde_json::Map::new();
        for (i, name) in NAMES.iter().enumerate() {
            object.insert((*name).to_owned(), value(i).into());
            tracing::info!("config loaded: {name}={}", value(i));
        }
        tracing::info!(encryption_key = %value(0), master_key = %value(1), "keys rotated");
        tracing_audit::update!(model: "Settings", id: 1, extra: serde_json::Value::Object(object));
    });
    logs.guard.flush().unwrap();
    let mut written = String::new();
    for entry in fs::read_dir(logs.dir.path()).unwrap() {
        written += &String::from_utf8_lossy(&fs::read(entry.unwrap().path()).unwrap());
    }
    for (i, name) in NAMES.iter().enumerate() {
        assert!(
            !written.contains(&value(i)),
            "{name} reached a file:\n{written}"
        );
    }
}
