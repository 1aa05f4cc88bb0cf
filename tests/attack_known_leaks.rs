//! The redaction leaks left open by the earlier rounds, each placed where
//! a user's code puts it (a JSON value, JSON text in a string, a span
//! field, a message) and searched for in every file the layer wrote.

mod common;

use common::records::Logs;
use tracing_audit::redact::Policy;

/// Every file the layer wrote, as text.
fn written(logs: &Logs) -> String {
    logs.guard.flush().unwrap();
    let mut all = String::new();
    for entry in std::fs::read_dir(logs.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            all.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
        }
    }
    all
}

fn assert_absent(all: &str, secrets: &[&str]) {
    let leaked: Vec<&&str> = secrets.iter().filter(|s| all.contains(**s)).collect();
    assert!(leaked.is_empty(), "leaked {leaked:?} in:\n{all}");
}

fn assert_present(all: &str, kept: &[&str]) {
    let lost: Vec<&&str> = kept.iter().filter(|s| !all.contains(**s)).collect();
    assert!(lost.is_empty(), "lost {lost:?} in:\n{all}");
}

// An RSA private key's members (short, made-up base64url values) and an
// EC and an `oct` key's.
const RSA_D: &str = "X4cTteJY_gn4FYPsXB8rdXix5vwsg1FLN5E3EaG6RJoVH-HLLKD9";
const RSA_P: &str = "83i-7IvMGXoMXCskv73TKr8637FiO7Z27zv8oj6pbWUQyLPQBQxt";
const RSA_Q: &str = "3dfOR9cuYq-0S-mkFLzgItgMEfFzB2q3hWehMuG0oCuqnb3vobLy";
const RSA_DP: &str = "G4sPXkc6Ya9y8oJW9_ILj4xuppu0lzi_H7VTkS8xj5SdX3coE0oi";
const RSA_DQ: &str = "s9lAH9fggBsoFR8Oac2R_E2gw282rT2kGOAhvIllETE1efrA6huU";
const RSA_QI: &str = "GyM_p6JrXySiz1toFgKbWV-JdI3jQ4ypu9rbMWx3rQJBfmt0FoYz";
const RSA_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4";
const EC_D: &str = "870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE";
const EC_X: &str = "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4";
const OCT_K: &str = "GawgguFyGrWKav7AX4VKUg";

fn rsa_jwk() -> serde_json::Value {
    serde_json::json!({
        "kty": "RSA", "kid": "rsa-key-1", "alg": "RS256", "e": "AQAB", "n": RSA_N,
        "d": RSA_D, "p": RSA_P, "q": RSA_Q, "dp": RSA_DP, "dq": RSA_DQ, "qi": RSA_QI,
    })
}

#[test]
fn private_json_web_key_members_are_masked() {
    let ec = serde_json::json!({"kty": "EC", "crv": "P-256", "x": EC_X, "d": EC_D});
    let oct = serde_json::json!({"kty": "oct", "k": OCT_K, "alg": "A128KW"});
    let logs = Logs::new();
    logs.run(|| {
        tracing::info!(jwk = %oct.to_string(), "rotated");
        // A JSON value, in a record's `extra` and in a list of keys.
        tracing_audit::update!(
            model: "SigningKey",
            id: 1,
            extra: serde_json::json!({"keys": [rsa_jwk(), ec.clone()]})
        );
        // JSON text in a field and in a message; `d` before `kty`.
        let text = format!(r#"{{"d":"{EC_D}","crv":"P-256","kty":"EC","x":"{EC_X}"}}"#);
        tracing::info!(jwk = %rsa_jwk().to_string(), "loaded {text}");
        // JSON text inside JSON text (a body quoted in an error).
        let quoted = serde_json::to_string(&rsa_jwk().to_string()).unwrap();
        tracing::warn!("bad key: {quoted}");
        // `Debug` of a key type.
        #[allow(dead_code)]
        #[derive(Debug)]
        struct Jwk {
            kty: &'static str,
            k: &'static str,
        }
        tracing::info!(key = ?Jwk { kty: "oct", k: OCT_K }, "debug");
    });
    let all = written(&logs);
    assert_absent(
        &all,
        &[RSA_D, RSA_P, RSA_Q, RSA_DP, RSA_DQ, RSA_QI, EC_D, OCT_K],
    );
    // The public members stay.
    assert_present(&all, &[RSA_N, EC_X, "rsa-key-1", "AQAB", "A128KW"]);
}

#[test]
fn members_named_like_jwk_ones_stay_outside_a_key() {
    let p = Policy::default();
    for text in [
        r#"{"d":"2024-01-01","p":"page-2","q":"search words"}"#,
        r#"{"d":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","kind":"RSA"}"#,
    ] {
        assert_eq!(p.redact_text(text), text);
    }
    let logs = Logs::new();
    logs.run(|| {
        tracing_audit::update!(
            model: "Page",
            id: 1,
            extra: serde_json::json!({"d": "day-kept-1", "p": "page-kept-2", "k": "k-kept-3"})
        );
    });
    assert_present(&written(&logs), &["day-kept-1", "page-kept-2", "k-kept-3"]);
}

/// XML shown in a page (`&lt;password&gt;…`) or written by a JSON
/// encoder that escapes HTML characters (`\u003cpassword\u003e…`).
#[test]
fn escaped_tags_named_by_a_secret_key_are_masked() {
    let p = Policy::default();
    for (text, want) in [
        (
            "&lt;user&gt;bob&lt;/user&gt;&lt;password&gt;htmlEsc-1&lt;/password&gt;",
            "&lt;user&gt;bob&lt;/user&gt;&lt;password&gt;[REDACTED]&lt;/password&gt;",
        ),
        (
            "&LT;ns:Token a=\"x\"&GT;htmlEsc-2&LT;/ns:Token&GT;",
            "&LT;ns:Token a=\"x\"&GT;[REDACTED]&LT;/ns:Token&GT;",
        ),
        (
            r"\u003cpassword\u003euEsc-3\u003c/password\u003e",
            r"\u003cpassword\u003e[REDACTED]\u003c/password\u003e",
        ),
        (
            r"\u003capi_key\u003EuEsc-4\u003C/api_key\u003E",
            r"\u003capi_key\u003E[REDACTED]\u003C/api_key\u003E",
        ),
        // Other names, closing and self-closing tags: kept.
        (
            "&lt;name&gt;bob&lt;/name&gt;&lt;password/&gt;x",
            "&lt;name&gt;bob&lt;/name&gt;&lt;password/&gt;x",
        ),
        ("a &gt; b; c &lt; d", "a &gt; b; c &lt; d"),
        (r#"{"a":"\u003e\\"}"#, r#"{"a":"\u003e\\"}"#),
    ] {
        assert_eq!(p.redact_text(text), want, "{text}");
    }
    let logs = Logs::new();
    logs.run(|| {
        tracing::warn!(
            body = "&lt;login&gt;&lt;password&gt;htmlEsc-5&lt;/password&gt;&lt;/login&gt;",
            "soap fault"
        );
        // A JSON body whose encoder escaped `<` and `>` (Go's
        // `encoding/json`, .NET's default), read as JSON text.
        tracing::info!(
            "{}",
            r#"{"xml":"\u003cpassword\u003euEsc-6\u003c/password\u003e"}"#
        );
    });
    assert_absent(&written(&logs), &["htmlEsc-5", "uEsc-6"]);
}

/// Passwords under a tool's one-letter option (`mysql -pS3cret`,
/// `sshpass -p S3cret`, `docker login -p S3cret`), in a command line, a
/// `Debug` list of arguments and a process record's step.
#[test]
fn passwords_under_a_tools_short_option_are_masked() {
    let p = Policy::default();
    for (text, secret) in [
        ("mysql -uroot -pCmd-1 shop", "Cmd-1"),
        ("/usr/bin/mysqldump -h db -u app -p'Cmd 2' shop", "Cmd 2"),
        ("mariadb -pCmd-3", "Cmd-3"),
        ("docker login -u bob -p Cmd-4 registry.example.com", "Cmd-4"),
        ("podman login -pCmd-5 quay.io", "Cmd-5"),
        ("sshpass -p Cmd-6 ssh deploy@host", "Cmd-6"),
        ("sshpass -p \"Cmd 7\" scp a b", "Cmd 7"),
        ("redis-cli -h cache -a Cmd-8 ping", "Cmd-8"),
        ("sqlcmd -S db -U sa -P Cmd-9 -Q 'select 1'", "Cmd-9"),
        ("mongosh --host db -u admin -p Cmd-10", "Cmd-10"),
        (
            r#"Command { program: "mysql", args: ["-uroot", "-pCmd-11"] }"#,
            "Cmd-11",
        ),
        (r#"["sshpass", "-p", "Cmd-12", "ssh", "host"]"#, "Cmd-12"),
        ("cd /srv && docker login -p Cmd-13 r.io", "Cmd-13"),
    ] {
        let out = p.redact_text(text);
        assert!(!out.contains(secret), "{text:?} -> {out:?}");
        assert!(out.contains("[REDACTED]"), "{text:?} -> {out:?}");
    }
    // `-p` of other tools, or of a tool earlier in another command, is
    // not a password; nor `mysql -p shop` (a prompt, then the database).
    for kept in [
        "ssh -p 2222 deploy@host",
        "mkdir -p /var/lib/app",
        "docker run -p 8080:80 nginx",
        "psql -p 5432 -h db",
        "mysql -p shop",
        "mysql -e 'select 1'; ssh -p 22 host",
        "scp -P 2222 a host:b",
    ] {
        assert_eq!(p.redact_text(kept), kept);
    }
    let logs = Logs::new();
    logs.run(|| {
        tracing::error!(
            cmd = "mysqldump -uroot -pCmd-14 shop",
            "backup failed: exit 2"
        );
    });
    assert_absent(&written(&logs), &["Cmd-14"]);
}

const TELEGRAM: &str = "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1";

/// Tokens in a URL's path: Telegram's bot token, password-reset,
/// magic-link and verification links. Only the token's segment goes.
#[test]
fn tokens_in_url_paths_are_masked() {
    let p = Policy::default();
    for (text, want) in [
        (
            format!("POST https://api.telegram.org/bot123456789:{TELEGRAM}/sendMessage"),
            "POST https://api.telegram.org/bot[REDACTED]/sendMessage".to_string(),
        ),
        (
            format!("GET /bot123456789:{TELEGRAM}/getUpdates"),
            "GET /bot123456789:[REDACTED]/getUpdates".to_string(),
        ),
        (
            "GET /reset/5xk-1a2b3c4d5e6f7a8b9c0d".into(),
            "GET /reset/[REDACTED]".into(),
        ),
        (
            "GET /accounts/reset/MQ/5xk-1a2b3c4d5e6f7a8b9c0d/ 200".into(),
            "GET /accounts/reset/MQ/[REDACTED]/ 200".into(),
        ),
        (
            "https://app.example.com/auth/magic/mAgIcToKeN7xyzQ?next=/home".into(),
            "https://app.example.com/auth/magic/[REDACTED]?next=/home".into(),
        ),
        (
            "/verify-email/0193a2b4-7c1e-7000-8000-000000000001".into(),
            "/verify-email/[REDACTED]".into(),
        ),
        (
            "/api/password/reset/QmFzZTY0VG9rZW5IZXJlWFla".into(),
            "/api/password/reset/[REDACTED]".into(),
        ),
    ] {
        assert_eq!(p.redact_text(&text), want, "{text}");
    }
    // Words, short ids and other paths stay.
    for kept in [
        "/reset/password",
        "/verify/email",
        "/invite/42",
        "/api/v1/items/0193a2b4-7c1e-7000-8000-000000000001",
        "/reset",
        "/docs/magic/numbers",
    ] {
        assert_eq!(p.redact_text(kept), kept);
    }
    let logs = Logs::new();
    logs.run(|| {
        tracing::info!(
            url = %format!("https://api.telegram.org/bot42424242:{TELEGRAM}/sendMessage"),
            "notified"
        );
        tracing::warn!(path = "/reset/rstTok-99887766", "link expired");
    });
    assert_absent(&written(&logs), &[TELEGRAM, "rstTok-99887766"]);
}

/// OAuth: the authorization code next to the exchange's or redirect's
/// parameters, and client and grant assertions. `refresh_token` and
/// `id_token` were secret already (by `token`): kept so.
#[test]
fn oauth_codes_and_assertions_are_masked() {
    let p = Policy::default();
    for (text, secret) in [
        (
            "grant_type=authorization_code&code=oaCode-1&redirect_uri=https%3A%2F%2Fa.b%2Fcb",
            "oaCode-1",
        ),
        ("GET /cb?code=oaCode-2&state=af0ifjsldkj", "oaCode-2"),
        (
            r#"{"code":"oaCode-3","code_verifier":"v","grant_type":"authorization_code"}"#,
            "oaCode-3",
        ),
        ("code_verifier=oaVerif-4&code=oaCode-4", "oaVerif-4"),
        ("grant_type=refresh_token&refresh_token=oaRt-5", "oaRt-5"),
        ("id_token=oaId-6&state=1", "oaId-6"),
        (
            "client_assertion_type=urn%3Aietf&client_assertion=oaCa-7",
            "oaCa-7",
        ),
        (
            "grant_type=urn%3Aietf%3Asaml2-bearer&assertion=oaAs-8",
            "oaAs-8",
        ),
        ("SAMLResponse=PHNhbWxwOlJlc3Bvbn-9", "PHNhbWxwOlJlc3Bvbn-9"),
    ] {
        let out = p.redact_text(text);
        assert!(!out.contains(secret), "{text:?} -> {out:?}");
    }
    // An error's code, and the assertion's type, stay.
    for kept in [
        "GET /error?code=404&lang=en",
        r#"{"code":"E_TIMEOUT","message":"upstream"}"#,
        "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    ] {
        assert_eq!(p.redact_text(kept), kept);
    }
    let logs = Logs::new();
    logs.run(|| {
        tracing_audit::create!(
            model: "TokenRequest",
            id: 1,
            extra: serde_json::json!({
                "body": {"grant_type": "authorization_code", "code": "oaCode-10"},
                "error": {"code": "kept-error-code-11"},
            })
        );
    });
    let all = written(&logs);
    assert_absent(&all, &["oaCode-10"]);
    assert_present(&all, &["kept-error-code-11"]);
}

/// `Basic` credentials without their scheme, in a header or field that
/// is not secret by name (`X-Raw: dXNlcjpwYXNz`), or split from their
/// scheme into a second field.
#[test]
fn bare_basic_credentials_under_any_key_are_masked() {
    // base64 of `bob:b64Pw-1` …
    let p = Policy::default();
    for (text, secret) in [
        ("X-Raw: Ym9iOmI2NFB3LTE=", "Ym9iOmI2NFB3LTE="),
        (r#"{"x-upstream": "Ym9iOmI2NFB3LTE="}"#, "Ym9iOmI2NFB3LTE="),
        ("value=Ym9iOmI2NFB3LTE", "Ym9iOmI2NFB3LTE"),
        (r#"[("x-raw", "Ym9iOmI2NFB3LTE=")]"#, "Ym9iOmI2NFB3LTE="),
    ] {
        let out = p.redact_text(text);
        assert!(!out.contains(secret), "{text:?} -> {out:?}");
    }
    // Base64 of JSON (a cursor), of text with a space before its `:`,
    // words and hashes stay.
    for kept in [
        r#"{"cursor":"eyJpZCI6NX0="}"#,
        "next=eyJpZCI6NX0",
        "etag: ZGF0ZSBpczogMjAyNA==",
        "sha: 9b74c9897bac770ffc029102a200c5de",
        "user: alice",
    ] {
        assert_eq!(p.redact_text(kept), kept);
    }
    let logs = Logs::new();
    logs.run(|| {
        let mut headers = std::collections::BTreeMap::new();
        headers.insert("X-Raw", "Ym9iOmI2NFB3LTI=");
        tracing::info!(headers = ?headers, "upstream");
        tracing::info!(scheme = "Basic", value = "Ym9iOmI2NFB3LTM=", "split");
    });
    let all = written(&logs);
    assert_absent(&all, &["Ym9iOmI2NFB3LTI=", "Ym9iOmI2NFB3LTM="]);
}

#[test]
fn a_field_holding_only_basic_credentials_is_masked() {
    let p = Policy::default();
    // base64 of `bob:b64Pw-4`, unpadded: no byte the scan reacts to.
    assert_eq!(p.redact_text("Ym9iOmI2NFB3LTQ"), "[REDACTED]");
    assert_eq!(p.redact_text("Ym9iOmI2NFB3LTQ="), "[REDACTED]");
    for kept in [
        "eyJpZCI6NX0=",
        "password",
        "dGVzdGluZzEyMw",
        "ZGF0ZSBpczogMjAyNA==",
    ] {
        assert_eq!(p.redact_text(kept), kept);
    }
    assert_eq!(
        Policy::default()
            .mask_auth_credentials(false)
            .redact_text("Ym9iOmI2NFB3LTQ"),
        "Ym9iOmI2NFB3LTQ"
    );
}

/// JSON text percent-encoded into a query (`%22password%22%3A%22…`), and
/// a pair encoded twice (`password%253D…`).
#[test]
fn percent_encoded_json_and_twice_encoded_pairs_are_masked() {
    let p = Policy::default();
    for (text, secret) in [
        ("data=%7B%22password%22%3A%22encJson-1%22%7D", "encJson-1"),
        (
            "state=%7B%22token%22%3A%20%22encTok-2%22%2C%22n%22%3A1%7D",
            "encTok-2",
        ),
        ("next=%2Fcb%3Fpassword%253DdblEnc-3", "dblEnc-3"),
    ] {
        let out = p.redact_text(text);
        assert!(!out.contains(secret), "{text:?} -> {out:?}");
    }
    assert_eq!(
        p.redact_text("data=%7B%22name%22%3A%22kept-4%22%7D"),
        "data=%7B%22name%22%3A%22kept-4%22%7D"
    );
    assert_eq!(
        p.redact_text("q=%7B%22password%22%3A%22encJson-5%22%2C%22user%22%3A%22bob%22%7D"),
        "q=%7B%22password%22%3A%22[REDACTED]%22%2C%22user%22%3A%22bob%22%7D"
    );
}

/// More tools' password options: OpenLDAP's `-w`, Java's `keytool`
/// passwords, Samba's `-U user%password`.
#[test]
fn ldap_keytool_and_samba_passwords_are_masked() {
    let p = Policy::default();
    for (text, secret) in [
        (
            "ldapsearch -x -D cn=admin,dc=x -w ldapPw-1 -b dc=x",
            "ldapPw-1",
        ),
        ("ldapmodify -D cn=a -w 'ldap Pw 2' -f x.ldif", "ldap Pw 2"),
        (
            "keytool -importkeystore -srcstorepass ksPw-3 -deststorepass ksPw-4 -keypass ksPw-5",
            "ksPw-",
        ),
        ("smbclient //srv/share -U bob%smbPw-6", "smbPw-6"),
    ] {
        let out = p.redact_text(text);
        assert!(!out.contains(secret), "{text:?} -> {out:?}");
    }
    // `-w` of other tools (`wc -w`, `curl -w '%{http_code}'`) stays.
    for kept in ["wc -w notes.txt", "curl -w %{http_code} https://x.io"] {
        assert_eq!(p.redact_text(kept), kept);
    }
}

/// SMTP's `AUTH PLAIN` (base64 of `\0user\0password`: its NUL bytes are
/// not `Basic`'s text) and `AUTH XOAUTH2`, in a mail client's trace.
#[test]
fn smtp_auth_plain_credentials_are_masked() {
    let p = Policy::default();
    assert_eq!(
        p.redact_text("C: AUTH PLAIN AGJvYgBodW50ZXIy\r\nS: 235 ok"),
        "C: AUTH PLAIN [REDACTED]\r\nS: 235 ok"
    );
    assert_eq!(
        p.redact_text("AUTH XOAUTH2 dXNlcj1ib2JAeC5pbwFhdXRoPUJlYXJlciB5YTI5LnZGOQEB"),
        "AUTH XOAUTH2 [REDACTED]"
    );
    assert_eq!(p.redact_text("AUTH PLAIN"), "AUTH PLAIN");
}

/// Text made of one piece of this round's scans, repeated 100,000 times
/// with no space: each is redacted in one pass (a quadratic scan would
/// run for minutes), and a secret after the run is still found.
#[test]
fn hostile_text_for_this_rounds_scans_is_scanned_once() {
    let p = Policy::default();
    let n = 100_000;
    for unit in [
        r#""d":"AAAAAAAAAAAAAAAAAAAA","#,
        r#""kty":"RSA","d":"AAAAAAAAAAAAAAAAAAAA","#,
        "code=1&",
        "&lt;password&gt;",
        "&lt;a",
        "\\u003cpassword\\u003e",
        "\\u003e",
        "/reset/abcdefgh1",
        "/x",
        "mysql -p",
        " -w",
        "a=Ym9iOmh1bnRlcjI=",
        "%22password%22%3A",
        "%253D",
        "bot123456:",
        "AUTH PLAIN ",
    ] {
        let text = unit.repeat(n);
        let out = p.redact_text(&text);
        assert!(!out.is_empty(), "{unit}");
    }
    let text = format!("{}password=pw-after-run-7", "&lt;a".repeat(n));
    assert!(!p.redact_text(&text).contains("pw-after-run-7"));
}

/// Text mixed from the pieces this round's scans react to: redacting it
/// never panics.
mod no_panic {
    use proptest::prelude::*;
    use tracing_audit::redact::Policy;

    const PIECES: &[&str] = &[
        "\"kty\":",
        "\"d\":",
        "\"",
        "AAAAAAAAAAAAAAAAAAAA",
        "{",
        "}",
        "code=",
        "state=",
        "&",
        "&lt;",
        "&gt;",
        "password",
        "\\u003c",
        "\\u003e",
        "\\",
        ";",
        "/",
        "reset",
        "magic",
        "1a2b3c4d5e",
        "mysql",
        " -p",
        "-p",
        "'",
        " ",
        "sshpass",
        "ldapsearch",
        "-w",
        "Ym9iOmh1bnRlcjI=",
        "=",
        ":",
        "%22",
        "%3A",
        "%25",
        "%253D",
        "bot",
        "123456",
        "AUTH PLAIN ",
        "é",
        "\n",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn redacting_any_mix_of_this_rounds_pieces_never_panics(
            picks in proptest::collection::vec(0..PIECES.len(), 0..40)
        ) {
            let text: String = picks.iter().map(|&i| PIECES[i]).collect();
            let p = Policy::default();
            let once = p.redact_text(&text).into_owned();
            let _ = p.redact_text(&once);
        }
    }
}
