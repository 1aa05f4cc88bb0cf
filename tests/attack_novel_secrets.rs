//! Attack on the redaction policy with secret shapes nobody had listed:
//! key names in other spellings and languages, one-time and recovery
//! codes, JSON text with escaped keys, secrets used as map keys, XML
//! attributes, newer vendor token prefixes. Each test places the secret
//! where a user's code puts it (span and event fields, messages, record
//! fields, nested values) and searches every written file for it.

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

/// The names the policy decides are secret (see the `redact` module docs,
/// "Which names are secret"), in the spellings users write them.
#[test]
fn keys_nobody_listed_are_secret_in_any_spelling() {
    let p = Policy::default();
    for key in [
        // Short forms and other languages of `password`.
        "pw",
        "db_pw",
        "newPw",
        "PW",
        "passwort",
        "Kennwort",
        "mot_de_passe",
        "contraseña",
        "senha",
        "wachtwoord",
        // One-time and recovery codes.
        "totp",
        "totp_seed",
        "hotp",
        "mfa_code",
        "mfaCode",
        "2fa_code",
        "otpCode",
        "verification_code",
        "one_time_code",
        "security_code",
        "security_answer",
        "recovery_codes",
        "backupCodes",
        "code_verifier",
        // Key material and wallets.
        "mnemonic",
        "seed_phrase",
        "APP_KEY",
        "license_key",
        // Cards and identity numbers under glued names.
        "ccnum",
        "cc_number",
        "cardNo",
        "PINCODE",
        "social_security_number",
        // The brief's list, all secret already: kept so.
        "Api-Key",
        "apiKey",
        "x_auth_token",
        "PASSWD",
        "secretKey",
        "client-secret",
        "privateKey",
        "sessionId",
        "otp",
        "pin",
        "cvv",
        "ssn",
    ] {
        assert!(p.is_secret_key(key), "{key} should be secret");
    }
    // Deliberately audit data (documented): their values are still scanned.
    for key in [
        "key",
        "salt",
        "nonce",
        "dsn",
        "database_url",
        "connection_string",
        "iban",
        "tax_id",
        "creds",
        "power",
        "pwm_duty",
        "mnemonics_count",
        "code",
        "spin_code_count",
    ] {
        assert!(!p.is_secret_key(key), "{key} should not be secret");
    }
}

#[test]
fn new_secret_names_are_masked_in_fields_records_and_text() {
    let logs = Logs::new();
    logs.run(|| {
        let span = tracing::info_span!("req", user_id = "u1", totp = "span-totp-31");
        let _g = span.enter();
        tracing::info!(
            pw = "event-pw-32",
            mfa_code = "event-mfa-33",
            "event with fields"
        );
        tracing::info!("retry: verification_code=text-vc-34 and pw: text-pw-35");
        tracing_audit::update!(
            model: "Account",
            id: 2,
            extra: serde_json::json!({
                "recovery_codes": ["nested-rc-36"],
                "profile": [{"security_answer": "nested-sa-37"}],
                "passwort": "nested-de-38",
            })
        );
    });
    let all = written(&logs);
    assert!(all.contains("event with fields"), "{all}");
    assert_absent(
        &all,
        &[
            "span-totp-31",
            "event-pw-32",
            "event-mfa-33",
            "text-vc-34",
            "text-pw-35",
            "nested-rc-36",
            "nested-sa-37",
            "nested-de-38",
        ],
    );
}

/// JSON text (a body kept as text, an error quoting a payload) whose key
/// is written with `\uXXXX` escapes: a JSON reader sees `password`.
#[test]
fn json_text_with_escaped_key_letters_is_masked() {
    let p = Policy::default();
    for (text, secret) in [
        (r#"{"\u0070assword":"esc-pw-41"}"#, "esc-pw-41"),
        (r#"{"pass\u0077ord": "esc-pw-42"}"#, "esc-pw-42"),
        (
            r#"{"\u0070\u0061\u0073\u0073\u0077\u006f\u0072\u0064":"esc-pw-43"}"#,
            "esc-pw-43",
        ),
        (r#"{"api\u005Fkey":"esc-ak-44"}"#, "esc-ak-44"),
        // JSON text inside a JSON string: the backslashes doubled.
        (r#"{\"\\u0070assword\":\"esc-pw-45\"}"#, "esc-pw-45"),
    ] {
        let out = p.redact_text(text);
        assert!(!out.contains(secret), "{text} -> {out}");
        assert!(out.contains("[REDACTED]"), "{text} -> {out}");
    }
    // Escapes in keys that are not secret change nothing.
    let plain = r#"{"n\u0061me":"bob","caf\u00e9":"x","\uD83D":"y"}"#;
    assert_eq!(p.redact_text(plain), plain);

    let logs = Logs::new();
    logs.run(|| {
        tracing::warn!(body = r#"{"\u0070assword":"field-esc-46"}"#, "rejected");
        tracing::warn!(r#"rejected body {{"to\u006ben":"msg-esc-47"}}"#);
    });
    let all = written(&logs);
    assert!(all.contains("rejected"), "{all}");
    assert_absent(&all, &["field-esc-46", "msg-esc-47"]);
}

/// A secret used as a map's key (sessions or API keys indexed by their
/// token, a connection URL as the key of its pool's settings): masked as
/// it would be as a value, in `extra`, in a snapshot, in `changes` and in
/// JSON text; two keys masked alike are numbered, so no key repeats (the
/// strict reader refuses a line with a key twice).
#[test]
fn secrets_used_as_map_keys_are_masked() {
    let logs = Logs::new();
    logs.run(|| {
        let mut by_token = std::collections::BTreeMap::new();
        by_token.insert("sk_live_mapkey0123456789AAAA", "alice");
        by_token.insert("sk_live_mapkey0123456789BBBB", "bob");
        by_token.insert("postgres://app:hunter51x@db/shop", "pool");
        by_token.insert("plain", "kept");
        tracing_audit::create!(model: "Sessions", id: 1, extra: &by_token);
        tracing_audit::update!(model: "Sessions", id: 2, instance: &by_token);
        let before = serde_json::json!({"ghp_mapkey52abcdefghijklmnopqrstu": {"role": "a"}});
        let after = serde_json::json!({"ghp_mapkey52abcdefghijklmnopqrstu": {"role": "b"}});
        tracing_audit::update!(model: "Grants", id: 3, changes: tracing_audit::diff(&before, &after));
        tracing_audit::login!(
            user: "bob",
            user_info: r#"{"xoxb-mapkey53-abcdefghij":"slack","name":"bob"}"#
        );
    });
    let all = written(&logs);
    assert_absent(
        &all,
        &["mapkey0123456789", "hunter51x", "mapkey52", "mapkey53"],
    );
    let audit = logs.records(tracing_audit::Kind::Audit);
    assert_eq!(audit.len(), 3, "{all}");
    let extra = audit[0]["extra"].as_object().unwrap();
    assert_eq!(extra.len(), 4, "no entry lost: {extra:?}");
    assert_eq!(extra["plain"], "kept");
    assert_eq!(extra["postgres://[REDACTED]@db/shop"], "pool");
    let mut owners: Vec<&str> = ["sk_live_[REDACTED]", "sk_live_[REDACTED] #2"]
        .iter()
        .map(|k| extra[*k].as_str().unwrap())
        .collect();
    owners.sort();
    assert_eq!(owners, ["alice", "bob"]);
    let login = logs.records(tracing_audit::Kind::Login);
    assert_eq!(login[0]["user_info"]["name"], "bob", "{all}");
}

/// XML and HTML that name the secret in an attribute: .NET's
/// `appSettings`, Spring's `<property>`, an HTML form echoed in an error,
/// an element named by the secret with its value as an attribute.
#[test]
fn xml_and_html_attributes_named_by_a_secret_key_are_masked() {
    let p = Policy::default();
    for (text, secret) in [
        (r#"<add key="Password" value="xml-pw-61"/>"#, "xml-pw-61"),
        (r#"<add value='xml-pw-62' key='ApiKey' />"#, "xml-pw-62"),
        (
            r#"<property name="password" value="xml-pw-63"/>"#,
            "xml-pw-63",
        ),
        (
            r#"<input type="password" name="pw1" value="html-pw-64">"#,
            "html-pw-64",
        ),
        (
            r#"<input type="hidden" name="csrf_token" value="html-csrf-65">"#,
            "html-csrf-65",
        ),
        (r#"<password value="xml-pw-66"/>"#, "xml-pw-66"),
        (
            r#"<meta name="api-token" content="html-meta-67">"#,
            "html-meta-67",
        ),
        (
            "<appSettings>\n  <add key=\"StripeSecret\" value=\"xml-pw-68\" />\n</appSettings>",
            "xml-pw-68",
        ),
    ] {
        let out = p.redact_text(text);
        assert!(!out.contains(secret), "{text} -> {out}");
        assert!(out.contains("[REDACTED]"), "{text} -> {out}");
    }
    // Other elements keep their values.
    for text in [
        r#"<add key="Theme" value="dark"/>"#,
        r#"<input type="text" name="email" value="bob@example.com">"#,
        r#"<meta name="viewport" content="width=device-width">"#,
        r#"<option value="3">three</option>"#,
        r#"a value="x" outside any tag, then <b>bold</b>"#,
    ] {
        assert_eq!(p.redact_text(text), text);
    }

    let logs = Logs::new();
    logs.run(|| {
        tracing::error!(
            config = r#"<add key="DbPassword" value="field-xml-69"/>"#,
            "bad config"
        );
    });
    let all = written(&logs);
    assert!(all.contains("bad config"), "{all}");
    assert_absent(&all, &["field-xml-69"]);
}

/// Vendor tokens with prefixes the policy did not list: GitLab's deploy,
/// runner, trigger, OAuth, job and agent tokens, Slack's refresh tokens,
/// HashiCorp Vault's tokens. The prefix stays, the rest is masked.
#[test]
fn newer_vendor_token_prefixes_are_masked() {
    let p = Policy::default();
    for (token, kept) in [
        ("gldt-pfx71abcdefghijklmnopq", "gldt-"),
        ("glrt-pfx72abcdefghijklmnopq", "glrt-"),
        ("glptt-pfx73abcdefghijklmnopqrstuvwxyz0123", "glptt-"),
        ("gloas-pfx74abcdefghijklmnopqrstuvwxyz", "gloas-"),
        ("glcbt-64_pfx75abcdefghijklmnopq", "glcbt-"),
        ("glagent-pfx76abcdefghijklmnopqrstuvwxyz", "glagent-"),
        ("glsoat-pfx77abcdefghijklmnopq", "glsoat-"),
        ("xoxe-1-pfx78abcdefghij", "xoxe-"),
        ("hvs.CAESIpfx79abcdefghijklmnopqrstuvwxyz", "hvs."),
        ("hvb.AAAAAQpfx80abcdefghijklmnopqrstuvwxyz", "hvb."),
    ] {
        let text = format!("export TOKEN_VALUE {token} now");
        let out = p.redact_text(&text);
        assert_eq!(
            out,
            format!("export TOKEN_VALUE {kept}[REDACTED] now"),
            "{text}"
        );
    }
    // Words that only start alike stay.
    for text in [
        "glrt-short",
        "hvs.x",
        "the xoxe- prefix",
        "hvsomething.else",
    ] {
        assert_eq!(p.redact_text(text), text);
    }

    let logs = Logs::new();
    logs.run(|| {
        tracing::info!(runner = "glrt-field81abcdefghijklmnop", "registered");
        tracing_audit::login_failed!(user: "ci", error: "vault said no to hvs.CAESIerr82abcdefghijklmnopqrs");
    });
    let all = written(&logs);
    assert!(all.contains("registered"), "{all}");
    assert_absent(&all, &["field81", "err82"]);
}

/// `Authorization: Bearer<TAB>token` (a header pasted from a tool that
/// aligns with tabs): the scheme was taken for the whole value, masked,
/// and the token after the tab written in clear.
#[test]
fn a_tab_after_the_authorization_scheme_does_not_uncover_the_token() {
    let p = Policy::default();
    for (text, secret) in [
        (
            "authorization: Bearer\ttab-bearer-91xyz",
            "tab-bearer-91xyz",
        ),
        (
            "Authorization=Basic\tYWxhZGRpbjp0YWI5Mg==",
            "YWxhZGRpbjp0YWI5Mg",
        ),
        ("Proxy-Authorization: Token\t\ttab-token-93", "tab-token-93"),
    ] {
        let out = p.redact_text(text);
        assert!(!out.contains(secret), "{text:?} -> {out:?}");
    }
    assert_eq!(
        p.redact_text("authorization: Bearer\ttab-bearer-94xyz"),
        "authorization: Bearer\t[REDACTED]"
    );
}

/// XML with its text in a CDATA section (SOAP and config files write
/// secrets so that they need no escaping), and `key=value` text right
/// after a `[`.
#[test]
fn cdata_sections_and_keys_after_a_bracket_are_masked() {
    let p = Policy::default();
    for (text, secret) in [
        (
            "<password><![CDATA[cdata-pw-101]]></password>",
            "cdata-pw-101",
        ),
        (
            "<ns:ApiKey><![CDATA[cdata <ak> 102]]></ns:ApiKey>",
            "cdata <ak> 102",
        ),
        ("<![CDATA[password=cdata-pw-103]]>", "cdata-pw-103"),
        ("[token]=brk-tok-104", "brk-tok-104"),
    ] {
        let out = p.redact_text(text);
        assert!(!out.contains(secret), "{text:?} -> {out:?}");
        assert!(out.contains("[REDACTED]"), "{text:?} -> {out:?}");
    }
    assert_eq!(
        p.redact_text("<password><![CDATA[x1y2]]></password>"),
        "<password><![CDATA[[REDACTED]]]></password>"
    );
    let plain = "<note><![CDATA[hello]]></note> [count]=3";
    assert_eq!(p.redact_text(plain), plain);
}

/// `curl -u user:password` and its kin: the password after the colon of
/// a user option's value (the user name stays).
#[test]
fn the_password_of_a_user_option_on_a_command_line_is_masked() {
    let p = Policy::default();
    for (text, want) in [
        (
            "curl -u bob:cli-user-111 https://api.example.com",
            "curl -u bob:[REDACTED] https://api.example.com",
        ),
        (
            "curl --user 'bob:cli user 112' https://x",
            "curl --user 'bob:[REDACTED]' https://x",
        ),
        (
            "curl -U proxy:cli-proxy-113 -x http://p:3128 https://x",
            "curl -U proxy:[REDACTED] -x http://p:3128 https://x",
        ),
        (
            r#"Command { args: ["-u", "bob:cli-user-114", "https://x"] }"#,
            r#"Command { args: ["-u", "bob:[REDACTED]", "https://x"] }"#,
        ),
    ] {
        assert_eq!(p.redact_text(text), want, "{text:?}");
    }
    // A user option with no password, and other options, stay.
    for text in [
        "curl -u bob https://x",
        "ssh -p 2222 host",
        "sort -u names.txt",
        "cp -r a:b c",
    ] {
        assert_eq!(p.redact_text(text), text);
    }
}

/// A connection URL whose password holds a `/`, `?` or `#` written as is
/// (not percent-encoded, as people paste it into a DSN): the userinfo
/// still ends at its `@`.
#[test]
fn a_url_password_with_unencoded_delimiters_is_masked() {
    let p = Policy::default();
    for (text, want) in [
        (
            "connect postgres://app:pa/ss121@db:5432/shop failed",
            "connect postgres://[REDACTED]@db:5432/shop failed",
        ),
        (
            "mysql://root:pw?122@localhost/x",
            "mysql://[REDACTED]@localhost/x",
        ),
        (
            "amqp://guest:g#123@rabbit/vhost",
            "amqp://[REDACTED]@rabbit/vhost",
        ),
    ] {
        assert_eq!(p.redact_text(text), want, "{text:?}");
    }
    // A port, a path with an `@` in it, no userinfo: kept.
    for text in [
        "https://host:8443/users/@bob",
        "https://medium.com/@bob/post",
        "see https://example.com/a?b=1#c and mail bob@example.com",
        "http://[::1]:8080/x@y",
    ] {
        assert_eq!(p.redact_text(text), text);
    }
}

/// Oracle's JDBC URL carries `user/password@` with no `//`.
#[test]
fn an_oracle_jdbc_password_is_masked() {
    let p = Policy::default();
    for (text, want) in [
        (
            "url=jdbc:oracle:thin:scott/tiger131@db:1521:orcl",
            "url=jdbc:oracle:thin:scott/[REDACTED]@db:1521:orcl",
        ),
        (
            "jdbc:oracle:thin:app/ti@ger132@//db.internal:1521/svc down",
            "jdbc:oracle:thin:app/[REDACTED]@//db.internal:1521/svc down",
        ),
        (
            "JDBC:ORACLE:OCI:app/tiger133@tns",
            "JDBC:ORACLE:OCI:app/[REDACTED]@tns",
        ),
    ] {
        assert_eq!(p.redact_text(text), want, "{text:?}");
    }
    for text in [
        "jdbc:oracle:thin:@db:1521:orcl",
        "jdbc:oracle:thin:@//db:1521/svc",
    ] {
        assert_eq!(p.redact_text(text), text);
    }
}

/// YAML (a config echoed in an error, a Kubernetes manifest) with the
/// secret on the lines under its key: a block scalar, a list, a nested
/// mapping.
#[test]
fn yaml_blocks_under_a_secret_key_are_masked() {
    let p = Policy::default();
    for (text, secrets) in [
        (
            "db:\n  password: |\n    yaml-block-141\n    yaml-block-142\n  host: db1\n",
            &["yaml-block-141", "yaml-block-142"][..],
        ),
        (
            "private_key: >-\n  yaml-folded-143\n\n  yaml-folded-144\nname: x",
            &["yaml-folded-143", "yaml-folded-144"],
        ),
        (
            "api_keys:\n- yaml-list-145\n- yaml-list-146\nregion: eu",
            &["yaml-list-145", "yaml-list-146"],
        ),
        (
            "credentials:\r\n  user: bob\r\n  pass: yaml-map-147\r\nport: 5432",
            &["yaml-map-147"],
        ),
    ] {
        let out = p.redact_text(text);
        for secret in secrets {
            assert!(!out.contains(secret), "{text:?} -> {out:?}");
        }
        assert!(out.contains("[REDACTED]"), "{text:?} -> {out:?}");
    }
    // The lines after the block stay, and so do blocks under other keys.
    assert_eq!(
        p.redact_text("password: |\n  s1\nhost: db1"),
        "password: |\n[REDACTED]\nhost: db1"
    );
    let plain = "description: |\n  free text\nitems:\n- a\n- b\n";
    assert_eq!(p.redact_text(plain), plain);
}

/// An age secret key (the file encryption tool's identity file line).
#[test]
fn an_age_secret_key_is_masked() {
    let p = Policy::default();
    let key = "AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQS151";
    assert_eq!(
        p.redact_text(&format!("# created\n{key}\n")),
        "# created\nAGE-SECRET-KEY-1[REDACTED]\n"
    );
    let public = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
    assert_eq!(p.redact_text(public), public, "a recipient is public");
}

/// HTTP Digest credentials: the `response` hashes the password with the
/// nonce and can be cracked offline; only the scheme stays.
#[test]
fn digest_authorization_parameters_are_masked() {
    let p = Policy::default();
    let text = "Authorization: Digest username=\"bob\", realm=\"api\", nonce=\"n1\", uri=\"/x\", response=\"6629fae49393a05397450978507c4ef1\"\nAccept: */*";
    assert_eq!(
        p.redact_text(text),
        "Authorization: Digest [REDACTED]\nAccept: */*"
    );
}

/// A Microsoft Entra ID (Azure AD) client secret, with no key next to it.
#[test]
fn an_entra_id_client_secret_is_masked() {
    let p = Policy::default();
    let secret = "xYz8Q~AbCdEfGhIjKlMnOpQrStUvWxYz0123456.";
    assert_eq!(
        p.redact_text(&format!("client created: {secret} (expires 2027)")),
        "client created: [REDACTED] (expires 2027)"
    );
    for text in ["a~b", "version 1Q~2", "x8Q~short", "~/.config/app"] {
        assert_eq!(p.redact_text(text), text);
    }
}

/// `Authorization` with a scheme the policy did not list (`ApiKey`,
/// Okta's `SSWS`, `DeepL-Auth-Key`, `Splunk`): the scheme was taken for
/// the value and masked, and the credentials after it written in clear.
#[test]
fn credentials_after_an_unlisted_authorization_scheme_are_masked() {
    let p = Policy::default();
    for (text, want) in [
        (
            "Authorization: ApiKey ak-scheme-161",
            "Authorization: ApiKey [REDACTED]",
        ),
        (
            "authorization: SSWS 00okta-scheme-162",
            "authorization: SSWS [REDACTED]",
        ),
        (
            "Proxy-Authorization: DeepL-Auth-Key dl-scheme-163:fx",
            "Proxy-Authorization: DeepL-Auth-Key [REDACTED]",
        ),
        (
            "curl -H 'Authorization: Splunk sp-scheme-164' https://x",
            "curl -H 'Authorization: Splunk [REDACTED]' https://x",
        ),
    ] {
        assert_eq!(p.redact_text(text), want, "{text:?}");
    }
    let logs = Logs::new();
    logs.run(|| {
        tracing::warn!(
            header = "Authorization: ApiKey field-scheme-165",
            "rejected"
        );
    });
    let all = written(&logs);
    assert!(all.contains("rejected"), "{all}");
    assert_absent(&all, &["field-scheme-165"]);
}

/// Webhook URLs that are their own password, from services the policy
/// did not list: the path after the service's prefix is masked.
#[test]
fn more_webhook_urls_are_masked() {
    let p = Policy::default();
    for (text, want) in [
        (
            "POST https://hooks.zapier.com/hooks/catch/123456/zapHook171/ failed",
            "POST https://hooks.zapier.com/hooks/catch/[REDACTED] failed",
        ),
        (
            "https://outlook.office.com/webhook/a-b@c/IncomingWebhook/legacy172/d",
            "https://outlook.office.com/webhook/[REDACTED]",
        ),
        (
            "https://maker.ifttt.com/use/iftttKey173",
            "https://maker.ifttt.com/use/[REDACTED]",
        ),
    ] {
        assert_eq!(p.redact_text(text), want, "{text:?}");
    }
    let plain = "see https://zapier.com/apps and https://ifttt.com/explore";
    assert_eq!(p.redact_text(plain), plain);
}

/// Anti-forgery tokens and session cookies under their frameworks' short
/// names (Express's `_csrf` and `connect.sid`, Django's
/// `csrfmiddlewaretoken`), as a form body or a cookie jar map holds them.
#[test]
fn csrf_and_session_cookie_names_of_frameworks_are_secret() {
    let p = Policy::default();
    for key in [
        "_csrf",
        "csrf",
        "XSRF",
        "csrfmiddlewaretoken",
        "connect.sid",
        "sid",
    ] {
        assert!(p.is_secret_key(key), "{key}");
    }
    for key in ["AccountSid", "sid_count", "side", "consider"] {
        assert!(!p.is_secret_key(key), "{key}");
    }
    let logs = Logs::new();
    logs.run(|| {
        tracing_audit::create!(
            model: "Form",
            id: 1,
            extra: serde_json::json!({
                "_csrf": "csrf-form-181",
                "csrfmiddlewaretoken": "csrf-form-182",
                "cookies": {"connect.sid": "s%3Asess-183", "sid": "sess-184"},
            })
        );
        tracing::info!("POST /login body: csrfmiddlewaretoken=csrf-text-185&user=bob");
    });
    let all = written(&logs);
    assert!(all.contains("user=bob"), "{all}");
    assert_absent(
        &all,
        &[
            "csrf-form-181",
            "csrf-form-182",
            "sess-183",
            "sess-184",
            "csrf-text-185",
        ],
    );
}

/// Text built from the shapes the new scans look at, repeated with no
/// space: each is redacted in time linear in its size (a scan that looked
/// to the end of the word for every URL in it did not end within the test
/// run), and a secret after the run is still masked.
#[test]
fn hostile_text_for_the_new_scans_is_scanned_once() {
    let p = Policy::default();
    let n = 200_000;
    for unit in [
        "a://b:c/",
        "jdbc:oracle:thin:a/",
        "<add key=\"password\" value=\"",
        "<x value=\"",
        "password:\n",
        "password: |\n",
        " -u a:",
        "Authorization: X ",
        "\"\\u0070assword\":",
        "<password><![CDATA[",
        "1Q~",
        "Digest ",
    ] {
        let text = unit.repeat(n);
        let out = p.redact_text(&text);
        assert!(!out.is_empty(), "{unit}");
    }
    let text = format!("{}password=pw-after-run-191", "a://b:c/".repeat(n));
    assert!(!p.redact_text(&text).contains("pw-after-run-191"));
}

/// Text made of the pieces the scans react to, in any order: redacting
/// it never panics (a panic here is the caller's, in the middle of its
/// logging), and redacting the output again changes nothing secret back.
mod no_panic {
    use proptest::prelude::*;
    use tracing_audit::redact::Policy;

    const PIECES: &[&str] = &[
        "password",
        "Authorization",
        ": ",
        "=",
        "\"",
        "'",
        "\\",
        "\\u0070",
        "\\\\u",
        "<",
        ">",
        "</",
        "/>",
        "<![CDATA[",
        "]]>",
        "value=\"",
        "key=\"",
        "\n",
        "\r\n",
        "  ",
        "|",
        ">-",
        "- ",
        "://",
        "@",
        "/",
        "?",
        "#",
        ":",
        "jdbc:oracle:thin:",
        "-u ",
        "--user ",
        "Bearer",
        "\t",
        "Digest ",
        "8Q~",
        "~",
        "AGE-SECRET-KEY-1",
        "glrt-",
        "hvs.",
        "xoxe-",
        "[",
        "]",
        "é",
        "€",
        "a",
        "Z",
        "0",
        "9",
        ",",
        ";",
        "%3D",
        "%",
        "sk_live_",
        "{",
        "}",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        #[test]
        fn redacting_any_mix_of_trigger_pieces_never_panics(
            picks in proptest::collection::vec(0..PIECES.len(), 0..40)
        ) {
            let text: String = picks.iter().map(|&i| PIECES[i]).collect();
            let p = Policy::default();
            let once = p.redact_text(&text).into_owned();
            let _ = p.redact_text(&once);
            let _ = p.is_secret_key(&text);
        }
    }
}

/// JSON text whose writer escapes what others leave alone: PHP's
/// `json_encode` writes `https:\/\/…`, some encoders write the space
/// after `Bearer` as `\u0020`.
#[test]
fn json_text_with_escaped_slashes_or_spaces_is_masked() {
    let p = Policy::default();
    for (text, want) in [
        (
            r#"{"url":"https:\/\/bob:php-url-201@api.example.com\/v1"}"#,
            r#"{"url":"https:\/\/[REDACTED]@api.example.com\/v1"}"#,
        ),
        (
            r#"{"header":"Bearer\u0020esc9space202xyz"}"#,
            r#"{"header":"Bearer\u0020[REDACTED]"}"#,
        ),
    ] {
        assert_eq!(p.redact_text(text), want, "{text}");
    }
    let plain = r#"{"url":"https:\/\/api.example.com\/v1","x":"a\u0020b"}"#;
    assert_eq!(p.redact_text(plain), plain);
}
