//! Redaction: secret keys at any depth (in changes, snapshots, `extra`,
//! `user_info`, application fields) and card numbers are masked in every
//! record kind; a custom policy applies; `Policy::none()` writes values as
//! they are. Each test also checks that the secret itself appears nowhere
//! in the files.

mod common;

use std::fs;

use common::records::{Logs, Record};
use serde::Serialize;
use serde_json::{json, Value};
use tracing_audit::redact::Policy;
use tracing_audit::Kind;
use tracing_audit::{diff, Changes};

const MASK: &str = "[REDACTED]";
const CARD: &str = "4111 1111 1111 1111";
const CARD_PLAIN: &str = "4111111111111111";

/// Every record of every file, without `timestamp` and `event_id`: random
/// digits there could match a short secret by chance.
fn all_text(logs: &Logs) -> String {
    logs.guard.flush().unwrap();
    let mut text = String::new();
    for kind in Kind::ALL {
        let Ok(file) = fs::read_to_string(logs.path(kind)) else {
            continue;
        };
        for line in file.lines() {
            let mut record: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(line).expect("a JSON object per line");
            record.remove("timestamp");
            record.remove("event_id");
            text.push_str(&serde_json::Value::Object(record).to_string());
            text.push('\n');
        }
    }
    text
}

#[track_caller]
fn assert_nowhere(logs: &Logs, secrets: &[&str]) {
    let text = all_text(logs);
    assert!(!text.is_empty());
    for s in secrets {
        assert!(!text.contains(s), "{s:?} is in the files:\n{text}");
    }
}

#[derive(Serialize, Clone)]
struct Account {
    email: String,
    password: String,
    profile: Profile,
}

#[derive(Serialize, Clone)]
struct Profile {
    city: String,
    api_key: String,
    cards: Vec<Card>,
}

#[derive(Serialize, Clone)]
struct Card {
    number: String,
    holder: String,
}

fn account(password: &str, key: &str) -> Account {
    Account {
        email: "a@b.c".into(),
        password: password.into(),
        profile: Profile {
            city: "Oslo".into(),
            api_key: key.into(),
            cards: vec![Card {
                number: CARD.into(),
                holder: "A B".into(),
            }],
        },
    }
}

fn only(records: Vec<Record>) -> Record {
    assert_eq!(records.len(), 1, "{records:?}");
    records.into_iter().next().unwrap()
}

#[test]
fn a_changed_password_shows_masked_on_both_sides() {
    let logs = Logs::new();
    let before = account("hunter2", "sk_live_old");
    let mut after = before.clone();
    after.password = "correct horse".into();
    after.profile.api_key = "sk_live_new".into();
    after.profile.city = "Bergen".into();
    logs.run(|| {
        tracing_audit::update!(model: "Account", id: 1, changes: diff(&before, &after));
        let by_hand = Changes::new()
            .with("password", "old-secret-pw", "new-secret-pw")
            .with("auth.refresh_token", "rt-1", "rt-2")
            .with("name", "a", "b");
        tracing_audit::update!(model: "Account", id: 2, changes: by_hand);
        // A secret inside an object that appeared as a whole.
        let grown = diff(
            &json!({}),
            &json!({"creds": {"password": "pw-added", "user": "u"}}),
        );
        tracing_audit::update!(model: "Account", id: 3, changes: grown);
    });
    let audit = logs.records(Kind::Audit);
    assert_eq!(audit.len(), 3);
    let masked = json!({"old": MASK, "new": MASK});
    assert_eq!(
        audit[0]["changes"],
        json!({
            "password": masked,
            "profile.api_key": masked,
            "profile.city": {"old": "Oslo", "new": "Bergen"},
        })
    );
    assert_eq!(
        audit[1]["changes"],
        json!({
            "password": masked,
            "auth.refresh_token": masked,
            "name": {"old": "a", "new": "b"},
        })
    );
    assert_eq!(
        audit[2]["changes"],
        json!({"creds": {"old": null, "new": {"password": MASK, "user": "u"}}})
    );
    assert_nowhere(
        &logs,
        &[
            "hunter2",
            "correct horse",
            "sk_live_old",
            "sk_live_new",
            "old-secret-pw",
            "new-secret-pw",
            "rt-1",
            "rt-2",
            "pw-added",
        ],
    );
}

#[test]
fn nested_secret_keys_are_masked_in_instance_extra_and_user_info() {
    let logs = Logs::new();
    let acct = account("hunter2", "sk_live_1");
    logs.run(|| {
        let request = tracing::info_span!("request", request_id = "r-1");
        let _e = request.enter();
        tracing_audit::set_user_info(7, &json!({"email": "a@b.c", "prefs": {"access_token": "at-123"}}));
        tracing_audit::create!(
            model: "Account",
            id: 1,
            instance: acct,
            extra: json!({"webhook": {"url": "https://x", "client_secret": "cs-9"}, "list": [{"ssn": "123-45-6789"}]})
        );
        tracing_audit::read!(
            model: "Account",
            id: 1,
            user: 8,
            user_info: json!({"name": "b", "X-Api-Key": "xk-1", "passwordHash": "ph-1"})
        );
        tracing_audit::login!(user: 7, extra: json!({"cookie": "c-1", "headers": {"Authorization": "Bearer b-1"}}));
    });
    let audit = logs.records(Kind::Audit);
    let r = &audit[0];
    assert_eq!(
        r["instance_repr"],
        json!({
            "email": "a@b.c",
            "password": MASK,
            "profile": {"city": "Oslo", "api_key": MASK, "cards": [{"number": MASK, "holder": "A B"}]},
        })
    );
    assert_eq!(
        r["extra"],
        json!({"webhook": {"url": "https://x", "client_secret": MASK}, "list": [{"ssn": MASK}]})
    );
    assert_eq!(
        r["user_info"],
        json!({"email": "a@b.c", "prefs": {"access_token": MASK}})
    );
    assert_eq!(
        audit[1]["user_info"],
        json!({"name": "b", "X-Api-Key": MASK, "passwordHash": MASK})
    );
    let login = only(logs.records(Kind::Login));
    assert_eq!(
        login["extra"],
        json!({"cookie": MASK, "headers": {"Authorization": MASK}})
    );
    assert_eq!(login["user_info"]["prefs"]["access_token"], MASK);
    assert_nowhere(
        &logs,
        &[
            "hunter2",
            "sk_live_1",
            "at-123",
            "cs-9",
            "123-45-6789",
            "xk-1",
            "ph-1",
            "c-1",
            "b-1",
            CARD,
        ],
    );
}

#[test]
fn card_numbers_in_serialized_values_and_string_fields_are_masked() {
    let logs = Logs::new();
    logs.run(|| {
        tracing_audit::create!(
            model: "Payment",
            id: 1,
            instance: json!({"pan": CARD, "note": "ok", "nested": [CARD_PLAIN, "4111-1111-1111-1111"]}),
            extra: json!({"reference": "5500 0000 0000 0004"}),
            changes: Changes::new().with("pan", CARD_PLAIN, "5500000000000004")
        );
        tracing::info!(pan = CARD, order = 7, "payment");
        tracing::info_span!("request", tenant = CARD_PLAIN)
            .in_scope(|| tracing_audit::read!(model: "Payment", id: 2));
    });
    let audit = logs.records(Kind::Audit);
    assert_eq!(
        audit[0]["instance_repr"],
        json!({"pan": MASK, "note": "ok", "nested": [MASK, MASK]})
    );
    assert_eq!(audit[0]["extra"], json!({"reference": MASK}));
    assert_eq!(
        audit[0]["changes"],
        json!({"pan": {"old": MASK, "new": MASK}})
    );
    assert_eq!(audit[1]["tenant"], MASK);
    let app = only(logs.records(Kind::App));
    assert_eq!(app["fields"], json!({"pan": MASK, "order": 7}));
    assert_nowhere(
        &logs,
        &[
            CARD,
            CARD_PLAIN,
            "4111-1111-1111-1111",
            "5500",
            "5500000000000004",
        ],
    );
}

#[test]
fn a_number_that_fails_the_luhn_check_is_kept_and_one_in_a_sentence_is_masked_in_place() {
    // Until 0.1 a card number was masked only when it was the whole
    // string; now it is masked inside any text, the rest of which stays.
    let logs = Logs::new();
    logs.run(|| {
        tracing::info!(
            almost = "4111111111111112",
            sentence = "paid with 4111111111111111 today",
            "kept"
        );
    });
    let app = only(logs.records(Kind::App));
    assert_eq!(
        app["fields"],
        json!({"almost": "4111111111111112", "sentence": "paid with [REDACTED] today"})
    );
}

#[test]
fn card_numbers_formatted_with_display_or_debug_in_app_fields_are_masked() {
    // The schema: `fields` holds `%display` and `?debug` values as strings,
    // and "any string that is a payment card number is replaced too,
    // wherever it is".
    let logs = Logs::new();
    let card = String::from(CARD_PLAIN);
    let number: u64 = 4_111_111_111_111_111;
    logs.run(|| {
        tracing::info!(shown = %card, "display");
        tracing::info!(dbg = ?number, "debug");
    });
    let app = logs.records(Kind::App);
    let mut leaks = Vec::new();
    if app[0]["fields"] != json!({"shown": MASK}) {
        leaks.push(format!("%display: {}", app[0]["fields"]));
    }
    if app[1]["fields"] != json!({"dbg": MASK}) {
        leaks.push(format!("?debug: {}", app[1]["fields"]));
    }
    assert!(leaks.is_empty(), "card numbers written: {leaks:?}");
}

#[test]
fn card_numbers_given_as_login_or_crud_text_are_masked() {
    // A card number typed into the user name field, and an entity whose
    // id is a card number: strings that are card numbers, in the record.
    let logs = Logs::new();
    logs.run(|| {
        tracing_audit::login_failed!(user: CARD_PLAIN, error: "unknown user", user_agent: CARD);
        tracing_audit::read!(model: "Card", id: CARD_PLAIN);
        tracing::info!("{}", CARD_PLAIN);
    });
    let login = only(logs.records(Kind::Login));
    let audit = only(logs.records(Kind::Audit));
    let app = only(logs.records(Kind::App));
    let mut leaks = Vec::new();
    for (what, v) in [
        ("login user_id", &login["user_id"]),
        ("login user_agent", &login["user_agent"]),
        ("crud instance_id", &audit["instance_id"]),
        ("app message", &app["message"]),
    ] {
        if v != MASK {
            leaks.push(format!("{what}: {v}"));
        }
    }
    assert!(leaks.is_empty(), "card numbers written: {leaks:?}");
}

#[test]
fn app_fields_named_like_secrets_are_masked_whatever_their_type() {
    let logs = Logs::new();
    let pw = String::from("pw-field-1");
    logs.run(|| {
        tracing::info!(
            password = "pw-str",
            api_key = %"ak-display",
            db_password = ?pw,
            auth_token = 12345u64,
            secret_ratio = 0.5,
            is_secret = true,
            user = "alice",
            "login attempt"
        );
        tracing::info!(target: "audit.request", authorization = "Bearer zzz", path = "/x", "GET /x");
    });
    let app = only(logs.records(Kind::App));
    assert_eq!(
        app["fields"],
        json!({
            "password": MASK,
            "api_key": MASK,
            "db_password": MASK,
            "auth_token": MASK,
            "secret_ratio": MASK,
            "is_secret": MASK,
            "user": "alice",
        })
    );
    let api = only(logs.records(Kind::Api));
    assert_eq!(api["extra"], json!({"authorization": MASK, "path": "/x"}));
    assert_nowhere(
        &logs,
        &["pw-str", "ak-display", "pw-field-1", "12345", "Bearer zzz"],
    );
}

#[test]
fn a_custom_policy_applies_to_every_record_kind() {
    let policy = Policy::default()
        .with_key("pin")
        .without_key("token")
        .mask_with("***");
    let logs = Logs::with(|b| b.redaction(policy));
    logs.run(|| {
        tracing_audit::create!(
            model: "Card",
            id: 1,
            instance: json!({"card_pin": "1234", "password": "pw-1", "token_count": 3, "label": "x"}),
            changes: Changes::new().with("PIN", "0000", "9999")
        );
        tracing_audit::login!(user: 1, extra: json!({"pin": "4321"}));
        tracing::info!(pin = "5678", token = "tok-visible", "app");
    });
    let audit = only(logs.records(Kind::Audit));
    assert_eq!(
        audit["instance_repr"],
        json!({"card_pin": "***", "password": "***", "token_count": 3, "label": "x"})
    );
    assert_eq!(
        audit["changes"],
        json!({"PIN": {"old": "***", "new": "***"}})
    );
    assert_eq!(
        only(logs.records(Kind::Login))["extra"],
        json!({"pin": "***"})
    );
    assert_eq!(
        only(logs.records(Kind::App))["fields"],
        json!({"pin": "***", "token": "tok-visible"})
    );
    assert_nowhere(
        &logs,
        &["1234", "pw-1", "0000", "9999", "4321", "5678", MASK],
    );
}

#[test]
fn policy_none_writes_values_as_they_are() {
    let logs = Logs::with(|b| b.redaction(Policy::none()));
    let acct = account("hunter2", "sk_live_1");
    logs.run(|| {
        tracing_audit::create!(model: "Account", id: 1, instance: acct);
        tracing_audit::update!(
            model: "Account",
            id: 1,
            changes: Changes::new().with("password", "old-pw", "new-pw")
        );
        tracing::info!(password = "pw-str", card = CARD, "app");
        tracing::info_span!("request", user_info = r#"{"token":"t-1"}"#)
            .in_scope(|| tracing_audit::read!(model: "Account", id: 1));
    });
    let audit = logs.records(Kind::Audit);
    assert_eq!(
        audit[0]["instance_repr"],
        serde_json::to_value(account("hunter2", "sk_live_1")).unwrap()
    );
    assert_eq!(
        audit[1]["changes"],
        json!({"password": {"old": "old-pw", "new": "new-pw"}})
    );
    assert_eq!(audit[2]["user_info"], json!({"token": "t-1"}));
    assert_eq!(
        only(logs.records(Kind::App))["fields"],
        json!({"password": "pw-str", "card": CARD})
    );
    assert!(!all_text(&logs).contains(MASK));
}

#[test]
fn the_default_policy_is_what_the_builder_uses() {
    // No `.redaction(..)`: the files follow `Policy::default()`, decided
    // here through its public API.
    let policy = Policy::default();
    let keys = [
        "password",
        "Api-Key",
        "accessToken",
        "cvv",
        "email",
        "price",
    ];
    let mut object = serde_json::Map::new();
    for k in keys {
        object.insert(k.to_owned(), json!(format!("value-of-{k}")));
    }
    let logs = Logs::new();
    logs.run(|| tracing_audit::create!(model: "M", id: 1, extra: Value::Object(object.clone())));
    let r = only(logs.records(Kind::Audit));
    for k in keys {
        let expected = if policy.is_secret_key(k) {
            json!(policy.mask())
        } else {
            json!(format!("value-of-{k}"))
        };
        assert_eq!(r["extra"][k], expected, "{k}");
    }
    // And the default policy does mask the usual suspects.
    assert_eq!(r["extra"]["password"], MASK);
    assert_eq!(r["extra"]["email"], "value-of-email");
}

#[test]
fn card_numbers_in_bulk_ids_are_masked_one_by_one() {
    let logs = Logs::new();
    logs.run(|| {
        tracing_audit::bulk_delete!(model: "Card", ids: [CARD_PLAIN, "c-2"]);
    });
    let audit = only(logs.records(Kind::Audit));
    assert_eq!(audit["instance_id"], json!(format!("{MASK},c-2")));
    assert_eq!(audit["instance_ids"], json!([MASK, "c-2"]));
    assert_nowhere(&logs, &[CARD_PLAIN]);
}

#[test]
fn declared_context_fields_with_secret_names_are_masked() {
    let logs = Logs::with(|b| b.context_field("session_token"));
    logs.run(|| {
        tracing::info_span!("req", session_token = "s3cr3t-value")
            .in_scope(|| tracing_audit::read!(model: "Doc", id: 1));
    });
    assert_eq!(
        only(logs.records(Kind::Audit))["session_token"],
        json!(MASK)
    );
    assert_nowhere(&logs, &["s3cr3t-value"]);
}

/// What another layer (a `fmt` console) shows of records: the record body
/// it prints is redacted with the policy of the audit layer of the same
/// subscriber, whichever of the two comes first, and whatever layers the
/// other tests build meanwhile.
#[test]
fn bodies_printed_by_another_layer_use_the_configured_policy() {
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::prelude::*;

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    fn console_layer<S>(buf: &Buf) -> impl tracing_subscriber::Layer<S>
    where
        S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        let buf = buf.clone();
        tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(move || buf.clone())
    }
    // Each on a thread of its own: nothing this thread did before counts.
    let case = |audit_first: bool| {
        let dir = tempfile::tempdir().unwrap();
        let builder = tracing_audit::layer()
            .log_dir(dir.path())
            .redaction(Policy::default().with_key("pin").mask_with("***"));
        let shown = Buf::default();
        let console = shown.clone();
        let record = || {
            tracing_audit::create!(model: "Card", id: 1, instance: json!({"pin": "1234"}));
        };
        let _guard = if audit_first {
            let (audit, guard) = builder.build().unwrap();
            let subscriber = tracing_subscriber::registry()
                .with(audit)
                .with(console_layer(&console));
            tracing::subscriber::with_default(subscriber, record);
            guard
        } else {
            let registry = tracing_subscriber::registry().with(console_layer(&console));
            let (audit, guard) = builder.build().unwrap();
            tracing::subscriber::with_default(registry.with(audit), record);
            guard
        };
        let text = String::from_utf8(shown.0.lock().unwrap().clone()).unwrap();
        assert!(
            text.contains(r#""pin":"***""#),
            "audit first: {audit_first}: {text}"
        );
        assert!(!text.contains("1234"), "audit first: {audit_first}: {text}");
    };
    for audit_first in [false, true] {
        std::thread::scope(|s| s.spawn(|| case(audit_first)).join().unwrap());
    }
}
