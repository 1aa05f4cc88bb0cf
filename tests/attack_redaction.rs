//! Attack on redaction (issue 10, items 5-6) from outside: secret shapes
//! the value scan or the key words let through, placed in messages, `?`
//! values (`Debug` of structs), errors and JSON text; every produced file
//! is then read as bytes and searched for the raw secret.

mod common;

use std::fs;
use std::path::Path;

use common::records::Logs;
use tracing_audit::redact::Policy;

/// Text that carries a secret, and the raw secret that must not survive.
const LEAKS: &[(&str, &str)] = &[
    // A space or tab before the separator (TOML, INI, pretty printers).
    ("password = hunter2-toml", "hunter2-toml"),
    ("db_password = \"hunter2-quoted\"", "hunter2-quoted"),
    ("password\t=\thunter2-tab", "hunter2-tab"),
    (
        "{\"client_secret\" : \"cs-spaced-colon\"}",
        "cs-spaced-colon",
    ),
    // `Debug` of a newtype or an `Option` under a secret field.
    (
        "User { password: Secret(\"hunter2-newtype\") }",
        "hunter2-newtype",
    ),
    (
        "Login { password: Some(\"hunter2-option\"), user: \"bob\" }",
        "hunter2-option",
    ),
    (
        "Cfg { api_key: SecretBox { inner: \"ak-boxed-123\" } }",
        "ak-boxed-123",
    ),
    // A list or an object under a secret key, in JSON text.
    ("{\"passwords\":[\"hunter2-in-list\"]}", "hunter2-in-list"),
    (
        "{\"password\":{\"old\":\"pw-old-1\",\"new\":\"pw-new-2\"}}",
        "pw-new-2",
    ),
    // JSON text inside JSON text (escaped quotes).
    (
        "{\\\"password\\\":\\\"hunter2-escaped\\\"}",
        "hunter2-escaped",
    ),
    // Django's cookies, PHP's session cookie, a glued API token key.
    (
        "Cookie: csrftoken=Xq9csrfvalue77; theme=dark",
        "Xq9csrfvalue77",
    ),
    ("csrftoken=Xq9csrfvalue88", "Xq9csrfvalue88"),
    ("PHPSESSID=php5sess1d0n", "php5sess1d0n"),
    ("apitoken=glued-api-token-1", "glued-api-token-1"),
    ("passcode=918273", "918273"),
    // Azure: a storage connection string, a SAS URL's signature.
    (
        "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=az0accountkey0/pct==;EndpointSuffix=core.windows.net",
        "az0accountkey0",
    ),
    ("https://acme.blob.core.windows.net/c/b?sv=2022-11-02&se=2026-12-01&sig=az0sas0sig0value%3D", "az0sas0sig0value"),
    // Percent-encoded, as in a redirect URL's query.
    (
        "GET /login?next=%2Fcb%3Faccess_token%3Dat-pct-17%26state%3D1",
        "at-pct-17",
    ),
    ("next=%2Fcb%3Fpassword%3dpw-pct-18", "pw-pct-18"),
    ("h=Authorization%3A%20Bearer%20bt9pct19xyz0", "bt9pct19xyz0"),
    ("auth header Bearer%20bt9pct20xyz0 rejected", "bt9pct20xyz0"),
    ("form: Authorization=Bearer+bt9pct21xyz0", "bt9pct21xyz0"),
    // `Debug` of a header list or a pair.
    (
        "[(\"X-Api-Key\", \"xak-pair-12\"), (\"Accept\", \"*/*\")]",
        "xak-pair-12",
    ),
    ("Some((\"password\", \"pw-tuple-16\"))", "pw-tuple-16"),
    // Form keys with brackets, plain and percent-encoded (Rails, PHP).
    ("GET /signup?user[password]=pw-bracket-22", "pw-bracket-22"),
    ("user%5Bpassword%5D=pw-bracket-23&x=1", "pw-bracket-23"),
    ("user%5bapi_key%5d=ak-bracket-24", "ak-bracket-24"),
    // A Ruby or Perl hash.
    ("{ password => \"pw-rocket-25\" }", "pw-rocket-25"),
    ("{:password=>\"pw-rocket-26\"}", "pw-rocket-26"),
    // Private keys that are not PEM `… PRIVATE KEY`.
    (
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBGpgpkey27secret\n-----END PGP PRIVATE KEY BLOCK-----",
        "lQOYBGpgpkey27secret",
    ),
    (
        "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nP2/56wAAAssh2key28\n---- END SSH2 ENCRYPTED PRIVATE KEY ----",
        "P2/56wAAAssh2key28",
    ),
    (
        "PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nPublic-Lines: 1\nAAAApublic\nPrivate-Lines: 1\nAAAAputtyprivate29\nPrivate-MAC: 0a1b",
        "AAAAputtyprivate29",
    ),
    // URL userinfo inside a percent-encoded redirect target.
    (
        "GET /login?next=https%3A%2F%2Fbob%3Apw-userinfo-30%40partner.example%2Fcb",
        "pw-userinfo-30",
    ),
    // Webhook URLs are their own password: the token is in the path.
    (
        "alert delivery to https://hooks.slack.com/services/T0AB12CD3/B0EF45GH6/slackWebhook31x failed",
        "slackWebhook31x",
    ),
    (
        "POST https://discord.com/api/webhooks/112233445566/discordWebhook-32_token",
        "discordWebhook-32_token",
    ),
    (
        "teams https://contoso.webhook.office.com/webhookb2/aaa-bbb@ccc/IncomingWebhook/teamsWebhook33/ddd",
        "teamsWebhook33",
    ),
];

#[test]
fn policy_masks_each_shape() {
    let p = Policy::default();
    let mut failures = Vec::new();
    for (text, raw) in LEAKS {
        let out = p.redact_text(text);
        if out.contains(raw) {
            failures.push(format!("{text:?} -> {out:?}"));
        }
    }
    assert!(failures.is_empty(), "leaked:\n{}", failures.join("\n"));
}

/// Text redacted once and scanned again (a span's `user_info` text is
/// redacted, then parsed and redacted as a value) comes out the same.
#[test]
fn redacting_twice_changes_nothing_more() {
    let p = Policy::default();
    let extra = [
        "Authorization: Bearer 9f8e7d6c5b4a3f2e1d0c",
        "password=[x]",
        "{\"password\":[\"a\",\"b\"]}",
        "Authorization: Bearer [REDACTED]",
    ];
    for text in LEAKS.iter().map(|(t, _)| *t).chain(extra) {
        let once = p.redact_text(text).into_owned();
        assert_eq!(p.redact_text(&once), once, "{text:?}");
    }
}

#[derive(Debug)]
#[allow(dead_code)]
struct Secret(&'static str);

#[derive(Debug)]
#[allow(dead_code)]
struct Credentials {
    user: &'static str,
    password: Secret,
    api_key: Option<&'static str>,
    session_token: Vec<&'static str>,
    headers: Vec<(&'static str, &'static str)>,
}

fn every_file(dir: &Path) -> String {
    let mut all = String::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        all.push_str(&String::from_utf8_lossy(&fs::read(&path).unwrap()));
    }
    all
}

#[test]
fn no_file_holds_a_secret_from_debug_or_text() {
    let logs = Logs::new();
    let creds = Credentials {
        user: "bob",
        password: Secret("hunter2-debug-newtype"),
        api_key: Some("ak-debug-option-42"),
        session_token: vec!["st-debug-list-7"],
        headers: vec![
            ("Cookie", "sid=ck-debug-hdr-8"),
            ("x-api-key", "xak-debug-hdr-9"),
        ],
    };
    logs.run(|| {
        tracing::info!(creds = ?creds, "login attempt");
        tracing::info!("config loaded: {creds:?}");
        tracing_audit::update!(model: "Cfg", id: 1, extra: format!("{creds:?}"));
        tracing_audit::login_failed!(user: "bob", error: format!("{creds:?}"));
        for (text, _) in LEAKS {
            tracing::warn!(detail = %text, "{text}");
            tracing_audit::create!(model: "Doc", id: 1, extra: *text);
        }
    });
    logs.guard.flush().unwrap();
    let all = every_file(logs.dir.path());
    assert!(all.contains("login attempt"));
    let mut raws: Vec<&str> = vec![
        "hunter2-debug-newtype",
        "ak-debug-option-42",
        "st-debug-list-7",
        "ck-debug-hdr-8",
        "xak-debug-hdr-9",
    ];
    raws.extend(LEAKS.iter().map(|(_, raw)| *raw));
    let leaked: Vec<&&str> = raws.iter().filter(|r| all.contains(**r)).collect();
    assert!(leaked.is_empty(), "in the files: {leaked:?}");
}

/// What must stay as written: audit data that only looks like a secret.
#[test]
fn ordinary_values_are_kept() {
    let p = Policy::default();
    for text in [
        "authorId=42",
        "tokenizer=bpe",
        "passport_country=FR",
        "550e8400-e29b-41d4-a716-446655440000",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "2026-11-22T10:00:00.123456Z",
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
        "order 79927398713",
        "isbn 9780306406157",
        "bob@example.com",
        "git@github.com:org/repo.git",
        "Bearer token missing",
        "Basic auth failed",
        "result = ok",
        "User { name: \"bob\", role: Admin(\"x\") }",
        "[(\"Accept\", \"*/*\"), (\"Content-Type\", \"text/plain\")]",
        "GET /search?q=100%25%20cotton&page=2",
        "next=%2Fcb%3Fstate%3Dabc%26lang%3Den",
        "see https://api.slack.com/services/docs and https://discord.com/developers",
    ] {
        assert_eq!(p.redact_text(text), text, "{text:?} was changed");
    }
    for key in [
        "authorId",
        "tokenizer",
        "passport_country",
        "accessibility",
        "compass",
    ] {
        assert!(!p.is_secret_key(key), "{key}");
    }
}

/// A phone number in E.164 form (`+49 151 …`, 13 digits) can pass the Luhn
/// check and start like a Visa number; no card number is written with a
/// leading `+`, so it is kept: masking it would destroy audit data.
#[test]
fn e164_phone_numbers_are_not_card_numbers() {
    let p = Policy::default();
    assert!(p.is_secret_value("4915112345678"), "Luhn-valid, Visa-like");
    for text in [
        "+4915112345678",
        "phone +4915112345678",
        "tel:+4915112345678",
    ] {
        assert_eq!(p.redact_text(text), text);
    }
    // A card after a `+` and a space, or after a short `+` number, is
    // still a card.
    assert_eq!(p.redact_text("+1 4111 1111 1111 1111"), "+1 [REDACTED]");
    assert_eq!(p.redact_text("x1 4111111111111111"), "x1 [REDACTED]");
}

/// Hostile text made of the scan's trigger pieces, glued at random: the
/// scan never panics (a slice off a character boundary, an index past the
/// end), on the text or on its redacted form.
#[test]
fn glued_trigger_pieces_never_panic() {
    const PIECES: &[&str] = &[
        "password",
        "token",
        "Bearer",
        "Basic",
        "%3D",
        "%3a",
        "%20",
        "%2",
        "%",
        "=",
        ":",
        " ",
        "\"",
        "'",
        "\\",
        "\\\"",
        "(",
        ")",
        "{",
        "}",
        "[",
        "]",
        ",",
        "+",
        "hunter2",
        "é",
        "€",
        "4111",
        "1111",
        "-",
        "eyJhbGciOi",
        ".",
        "https://",
        "@",
        "sk_live_",
        "AKIA",
        "\n",
        "\t",
        "Secret",
        "Some",
        " {",
        "[REDACTED]",
    ];
    let p = Policy::default();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..200_000 {
        let n = 1 + (next() % 12) as usize;
        let text: String = (0..n)
            .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
            .collect();
        let out = p.redact_text(&text);
        let _ = p.redact_text(&out);
    }
}

/// `access` and `refresh` are secret as the JWT pair a login returns
/// (`{"access": …, "refresh": …}`), but as one segment among others they
/// name audit data: a privilege change (`access_level` from `read` to
/// `admin`) masked is the record a compliance audit needs most, lost.
#[test]
fn access_level_and_refresh_rate_are_audit_data() {
    let p = Policy::default();
    for key in [
        "access",
        "refresh",
        "Access",
        "accessToken",
        "refresh_token",
        "access_key_id",
    ] {
        assert!(p.is_secret_key(key), "{key}");
    }
    for key in [
        "access_level",
        "accessLevel",
        "access_time",
        "access_count",
        "last_access",
        "refresh_rate",
        "refresh_interval",
        "auto_refresh",
    ] {
        assert!(!p.is_secret_key(key), "{key} is audit data");
    }
    assert_eq!(
        p.redact_text("granted access_level=admin"),
        "granted access_level=admin"
    );
    assert_eq!(
        p.redact_text("{\"access\":\"at-1\"}"),
        "{\"access\":\"[REDACTED]\"}"
    );
    // Asked for as a word, `access` is one again.
    assert!(Policy::default()
        .with_key("access")
        .is_secret_key("access_level"));
    assert!(!Policy::default()
        .without_key("access")
        .is_secret_key("access"));
}

/// Text built to make the key-value scan measure every value: each is
/// redacted whole, in time linear in its size (a quadratic scan of 2 MB
/// would not end within the test run), and its secrets are masked.
#[test]
fn hostile_text_is_scanned_once() {
    let p = Policy::default();
    let n = 500_000;
    for unit in [
        "a=",
        "a:[",
        "k=v|",
        "(\"a\", \"",
        "password=",
        "password:[",
        "x%5D=",
        "https%3A%2F%2F",
        " --password",
        " --password \"",
        "[\"password\", \"",
        "https://hooks.slack.com/services/",
    ] {
        let text = unit.repeat(n);
        let out = p.redact_text(&text);
        assert!(!out.is_empty(), "{unit}");
    }
    // The secret after a long run of harmless pairs is still found.
    let text = format!("{}password=pw-after-run-31", "k=v|".repeat(n));
    assert!(!p.redact_text(&text).contains("pw-after-run-31"));
}
