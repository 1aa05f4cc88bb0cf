//! The console `builder()` installs, captured through
//! `Builder::console_writer` and `Builder::finish`: every secret shape is
//! redacted by the layer's policy, audit kinds read as one line with their
//! own level and the keys that matter, nothing hostile gets through.

use std::fmt;
use std::sync::{Arc, Mutex};

use serde_json::json;
use tracing_audit::redact::Policy;
use tracing_audit::Changes;

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What the console shows while `f` runs, with the builder `configure`
/// returns.
fn console_with(
    configure: impl FnOnce(tracing_audit::Builder) -> tracing_audit::Builder,
    f: impl FnOnce(),
) -> String {
    let dir = tempfile::tempdir().unwrap();
    let console = Shared::default();
    let writer = console.clone();
    let builder = tracing_audit::builder()
        .log_dir(dir.path())
        .console_filter("trace")
        .console_writer(move || writer.clone());
    let (subscriber, guard) = configure(builder).finish().unwrap();
    tracing::subscriber::with_default(subscriber, f);
    drop(guard);
    let bytes = console.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

fn console(f: impl FnOnce()) -> String {
    console_with(|b| b, f)
}

/// The one line of `text` that contains `needle`.
fn line_with<'t>(text: &'t str, needle: &str) -> &'t str {
    let lines: Vec<&str> = text.lines().filter(|l| l.contains(needle)).collect();
    assert_eq!(lines.len(), 1, "one line with {needle:?} in:\n{text}");
    lines[0]
}

const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

#[derive(serde::Serialize)]
struct Info {
    email: &'static str,
    password: &'static str,
}

#[test]
fn no_secret_shape_reaches_the_console() {
    let text = console(|| {
        tracing::info!(
            password = "hunter2",
            "login with Bearer 9f8e7d6c5b4a3f2e1d0c"
        );
        tracing::info!(token = %JWT, "jwt in a secret field");
        tracing::info!(header = JWT, "jwt in a plain field");
        tracing::warn!(
            dsn = "postgres://admin:s3cr3tPW@db.internal/app",
            "url with a password"
        );
        tracing::error!("paid with 4111 1111 1111 1111 today");
        tracing::info!(note = ?"card 5500-0000-0000-0004", "card in a debug field");
        let span = tracing::info_span!(
            "request",
            request_id = "r-1",
            user_info = r#"{"email":"a@b.c","password":"spanpw77"}"#
        );
        let _entered = span.enter();
        tracing::info!("inside the span");
        tracing_audit::set_user_info(
            7,
            &Info {
                email: "b@c.d",
                password: "setuserpw88",
            },
        );
        tracing_audit::update!(
            model: "User",
            id: 7,
            changes: Changes::new().with("password", "oldpw123", "newpw456"),
            user_info: json!({"password": "crudpw99"}),
            extra: json!({"api_key": "k-abcdef"})
        );
        tracing_audit::login!(
            user: 7,
            user_info: Info { email: "c@d.e", password: "loginpw55" },
            user_agent: "curl with Bearer 1a2b3c4d5e6f7a8b9c0d"
        );
        tracing_audit::login_failed!(user: "alice", error: "wrong password=hunter3");
    });
    for secret in [
        "hunter2",
        "9f8e7d6c5b4a3f2e1d0c",
        "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ",
        "s3cr3tPW",
        "4111 1111 1111 1111",
        "5500-0000-0000-0004",
        "spanpw77",
        "setuserpw88",
        "oldpw123",
        "newpw456",
        "crudpw99",
        "k-abcdef",
        "loginpw55",
        "1a2b3c4d5e6f7a8b9c0d",
        "hunter3",
    ] {
        assert!(!text.contains(secret), "{secret} on the console:\n{text}");
    }
    // What is around the secrets is still shown.
    assert!(
        text.contains("login with Bearer [REDACTED] password=[REDACTED]"),
        "{text}"
    );
    assert!(
        text.contains("dsn=postgres://[REDACTED]@db.internal/app"),
        "{text}"
    );
    assert!(text.contains("paid with [REDACTED] today"), "{text}");
    assert!(
        line_with(&text, "UPDATE User 7").contains("(password)"),
        "the changed field's name is shown, not its values:\n{text}"
    );
}

#[test]
fn the_console_uses_the_layers_policy() {
    let text = console_with(
        |b| b.redaction(Policy::default().with_key("pin").mask_with("***")),
        || {
            tracing::info!(card_pin = 1234, "set");
            tracing_audit::create!(model: "Card", id: 1, instance: json!({"pin": "9876"}));
        },
    );
    assert!(text.contains("set card_pin=***"), "{text}");
    assert!(!text.contains("1234") && !text.contains("9876"), "{text}");
}

#[test]
fn audit_records_read_as_one_line_with_their_own_level() {
    #[derive(serde::Serialize, Clone)]
    struct Product {
        id: u64,
        price: f64,
        stock: u32,
        name: &'static str,
    }
    let text = console(|| {
        let span = tracing::info_span!("request", request_id = "r-1");
        let _entered = span.enter();
        tracing_audit::set_user(7);
        let before = Product {
            id: 42,
            price: 10.99,
            stock: 3,
            name: "Lamp",
        };
        let after = Product {
            price: 12.99,
            stock: 2,
            ..before.clone()
        };
        tracing_audit::update!(
            model: "Product",
            id: after.id,
            changes: tracing_audit::diff(&before, &after)
        );
        tracing_audit::bulk_delete!(model: "Session", ids: [7, 8]);
        tracing_audit::login_failed!(
            user: "alice",
            client_ip: "10.0.0.1",
            error: "bad password"
        );
        tracing_audit::logout!(user: 7);
        tracing::info!(
            target: "audit.request",
            method = "GET",
            path = "/orders",
            status = 200u64,
            "request"
        );
        tracing::info!(pool = 4, ready = true, host = "db one", "connected");
    });

    let update = line_with(&text, "UPDATE");
    assert!(
        update.contains("  AUDIT  UPDATE Product 42 (price, stock) user=7 request=r-1"),
        "{update}"
    );
    assert!(!update.contains('{'), "no JSON body: {update}");
    let time = update.split("  ").next().unwrap();
    assert!(
        time.len() == 24 && time.ends_with('Z') && time.as_bytes()[10] == b'T',
        "an RFC 3339 time to the millisecond: {update}"
    );

    let bulk = line_with(&text, "BULK_DELETE");
    assert!(
        bulk.contains("AUDIT  BULK_DELETE Session [7, 8] user=7"),
        "{bulk}"
    );

    let failed = line_with(&text, "login failed");
    assert!(
        failed.contains(
            "  LOGIN  login failed user=alice ip=10.0.0.1 error=\"bad password\" request=r-1"
        ),
        "{failed}"
    );
    let logout = line_with(&text, "logout");
    assert!(logout.contains("  LOGIN  logout user=7"), "{logout}");

    let api = line_with(&text, "/orders");
    assert!(
        api.contains("  API    GET /orders 200 user=7 request=r-1"),
        "{api}"
    );

    let app = line_with(&text, "connected");
    assert!(
        app.contains(
            "  INFO   console: connected pool=4 ready=true host=\"db one\" user=7 request=r-1"
        ),
        "{app}"
    );
    assert!(!text.contains("audit="), "{text}");
}

#[test]
fn no_colours_on_a_writer_that_is_not_a_terminal() {
    let text = console(|| {
        tracing::error!("bad");
        tracing_audit::read!(model: "Invoice", id: 1);
        tracing_audit::login!(user: 1);
    });
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(!text.contains('\x1b'), "{text:?}");
}

#[test]
fn hostile_values_are_escaped_and_cut() {
    let long = "x".repeat(5000);
    let text = console(|| {
        tracing::info!(long = %long, evil = "a\x1b[2J\nb\u{202e}c", "multi\nline");
    });
    assert_eq!(text.lines().count(), 1, "one line per record: {text:?}");
    assert!(
        !text.contains('\x1b') && !text.contains('\u{202e}'),
        "{text:?}"
    );
    assert!(text.contains(r"multi\nline"), "{text}");
    assert!(text.contains(r#"evil="a\u{1b}[2J\nb\u{202e}c""#), "{text}");
    assert!(
        text.contains(&format!(" long={}…", "x".repeat(200))) && !text.contains(&"x".repeat(201)),
        "a long value is cut at 200 characters: {text}"
    );
}

#[test]
fn a_panicking_value_does_not_reach_the_caller() {
    struct Boom;
    impl fmt::Debug for Boom {
        fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
            panic!("boom in Debug")
        }
    }
    impl fmt::Display for Boom {
        fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
            panic!("boom in Display")
        }
    }
    let text = console(|| {
        tracing::info!(value = ?Boom, "first");
        tracing::info!("second {}", Boom);
        tracing_audit::read!(model: Boom, id: 3);
        tracing::info!("still here");
    });
    assert!(
        line_with(&text, "first").contains("value=\"[panicked: boom in Debug]\""),
        "{text}"
    );
    assert!(text.contains("[panicked: boom in Display]"), "{text}");
    assert!(text.contains("READ "), "{text}");
    assert!(text.contains("still here"), "{text}");
}

#[test]
fn the_console_filter_still_applies() {
    let text = console_with(
        |b| b.console_filter("warn"),
        || {
            tracing::info!("hidden");
            tracing::warn!("shown");
        },
    );
    assert!(!text.contains("hidden"), "{text}");
    assert!(text.contains("WARN   console: shown"), "{text}");

    // Spans too: one the console filter leaves out gives no context.
    let text = console_with(
        |b| b.console_filter("warn"),
        || {
            let info = tracing::info_span!("request", request_id = "r-info");
            let _info = info.enter();
            let warn = tracing::warn_span!("job", user_id = 9);
            let _warn = warn.enter();
            tracing::warn!("in both");
        },
    );
    let line = line_with(&text, "in both");
    assert!(line.ends_with("in both user=9"), "{text}");

    let text = console_with(
        |b| b.console(false),
        || {
            tracing::warn!("not shown");
            tracing_audit::read!(model: "Invoice", id: 1);
        },
    );
    assert!(text.is_empty(), "{text}");
}

#[test]
fn a_record_deeper_than_serde_json_reads_is_still_shown() {
    let mut deep = json!("bottom");
    for _ in 0..300 {
        deep = json!({ "a": deep });
    }
    let text = console_with(
        |b| b.max_depth(1024),
        || {
            tracing_audit::create!(model: "Tree", id: 1, instance: deep);
            tracing::info!(value = %deep, "as text");
        },
    );
    assert!(text.contains("AUDIT  CREATE Tree 1"), "{text}");
    assert!(text.contains("INFO   console: as text value="), "{text}");
}

/// A request record from the HTTP layer reads as method, path and status,
/// taken from `request_repr` and `response_repr`, not as its message.
#[cfg(feature = "http")]
#[test]
fn a_request_record_shows_method_path_and_status() {
    use http_body_util::Full;
    use tower::{service_fn, Layer, ServiceExt};
    use tracing_audit::http::{AuditLayer, RequestBody};

    let text = console(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let svc = AuditLayer::new().layer(service_fn(
            |_req: http::Request<RequestBody<Full<bytes::Bytes>>>| async {
                let mut res = http::Response::new(Full::new(bytes::Bytes::from_static(b"gone")));
                *res.status_mut() = http::StatusCode::NOT_FOUND;
                Ok::<_, std::convert::Infallible>(res)
            },
        ));
        let req = http::Request::builder()
            .method("DELETE")
            .uri("/orders/9?token=abc")
            .header("x-request-id", "r-9")
            .body(Full::new(bytes::Bytes::new()))
            .unwrap();
        rt.block_on(async {
            let res = svc.oneshot(req).await.unwrap();
            http_body_util::BodyExt::collect(res.into_body())
                .await
                .unwrap();
        });
    });
    let api = line_with(&text, "  API  ");
    assert!(
        api.contains("  API    DELETE /orders/9 404 request=r-9"),
        "{api}"
    );
    assert!(!api.contains("abc"), "{api}");
}
