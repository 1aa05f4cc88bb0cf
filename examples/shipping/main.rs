//! Writes records of every kind through the crate, with rotation on and
//! hostile values among them (the request records by the `http` feature's
//! `AuditLayer` around an axum app, called in-process), for the shipping checks: the ClickHouse load
//! (`.ci/shipping_check.py`, run by `.ci/run`) and the VRL check
//! (`tests/shipping/vrl-check`). Prints, and writes to `<dir>/expected.json`,
//! how many records of each kind it made and the counts the queries in
//! `examples/shipping/queries.sql` must find.
//!
//! ```text
//! cargo run --features http,gzip --example shipping -- --dir target/shipping --rounds 2000
//! ```

use std::collections::BTreeMap;
use std::error::Error;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::{Json, Router};
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;
use tracing::Instrument;
use tracing_audit::http::AuditLayer;
use tracing_audit::{diff, Changes, Kind};

/// The entity whose history the queries look up.
const WATCHED_MODEL: &str = "Product";
const WATCHED_ID: u64 = 42;
/// The user whose actions the queries look up.
const WATCHED_USER: &str = "7";
/// The request whose CRUD records the queries look up.
const WATCHED_REQUEST: &str = "req-000010";
/// The address whose failed logins the queries count.
const WATCHED_IP: &str = "203.0.113.9";
const IPS: [&str; 4] = [WATCHED_IP, "198.51.100.7", "2001:db8::1", "not-an-ip"];
const PATHS: [&str; 3] = ["/api/v1/items", "/api/v1/orders", "/login"];
/// The partner whose calls the queries look up.
const WATCHED_PEER: &str = "sftp-partner";
/// The business process whose records the queries look up.
const WATCHED_PROCESS: &str = "onboarding";

#[derive(serde::Serialize, Clone)]
struct Product {
    id: u64,
    name: String,
    price: f64,
    stock: i64,
}

#[derive(Default, serde::Serialize)]
struct Expected {
    /// Records made, by file kind.
    rows: BTreeMap<&'static str, u64>,
    /// CRUD records of `WATCHED_MODEL` `WATCHED_ID`.
    entity_history: u64,
    /// Of those, the ones whose changes name `price`.
    price_changes: u64,
    /// Failed logins, in all and from `WATCHED_IP`.
    failed_logins: u64,
    failed_logins_watched_ip: u64,
    /// CRUD records made by `WATCHED_USER`.
    user_actions: u64,
    /// DELETE and BULK_DELETE records by model.
    deletes_by_model: BTreeMap<String, u64>,
    /// CRUD records made inside `WATCHED_REQUEST`.
    request_crud: u64,
    /// Request records by path.
    requests_by_path: BTreeMap<&'static str, u64>,
    /// Records that the crate marks `"truncated":true`.
    truncated_at_least: u64,
    /// Outbound calls to `WATCHED_PEER`, and those that failed.
    external_calls: u64,
    external_failures: u64,
    /// Records of the process `WATCHED_PROCESS`, and its registrations.
    process_records: u64,
    process_registrations: u64,
    /// Records of a transaction whose outcome is unknown.
    unknown_outcome: u64,
    watched: BTreeMap<&'static str, &'static str>,
}

impl Expected {
    fn add(&mut self, kind: &'static str) {
        *self.rows.entry(kind).or_default() += 1;
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut dir = PathBuf::from("target/shipping");
    let mut rounds: u64 = 2000;
    let mut max_file_size: u64 = 256 * 1024;
    let mut pause = std::time::Duration::ZERO;
    let mut compress_after: Option<std::time::Duration> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--dir" => dir = PathBuf::from(value),
            "--rounds" => rounds = value.parse()?,
            "--max-file-size" => max_file_size = value.parse()?,
            // Sleep after each round, to write at a steady rate.
            "--pause-us" => pause = std::time::Duration::from_micros(value.parse()?),
            // Gzip rotated files once this old (needs the `gzip` feature).
            "--compress-after-ms" => {
                compress_after = Some(std::time::Duration::from_millis(value.parse()?))
            }
            _ => return Err(format!("unknown argument {arg}").into()),
        }
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }

    let mut builder = tracing_audit::builder();
    if let Some(age) = compress_after {
        builder = compressing(builder, age)?;
    }
    let started = std::time::Instant::now();
    let guard = builder
        .service_name("shipping-check")
        .log_dir(&dir)
        .console(false)
        .max_file_size(max_file_size)
        .max_files(None)
        .app_backpressure(tracing_audit::appender::Backpressure::Block)
        .init()?;

    let expected = Arc::new(Mutex::new(Expected::default()));
    let app = Router::new()
        .fallback(handle)
        .with_state(Arc::clone(&expected))
        .layer(AuditLayer::new());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    for round in 0..rounds {
        runtime.block_on(request(app.clone(), round, &expected))?;
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
    }
    drop(app);
    drop(runtime);
    let mut expected = Arc::into_inner(expected)
        .ok_or("the app still holds the counts")?
        .into_inner()
        .map_err(|_| "a handler panicked")?;
    hostile(&mut expected);
    calls_and_processes(&mut expected)?;

    let report = guard.shutdown();
    eprintln!("wrote for {:.2} s", started.elapsed().as_secs_f64());
    if report.lost() != 0 {
        return Err(format!("{} records lost", report.lost()).into());
    }
    for (kind, name) in [
        (Kind::Audit, "audit"),
        (Kind::Api, "api"),
        (Kind::Login, "login"),
        (Kind::App, "app"),
    ] {
        let written = report.stats(kind).map_or(0, |s| s.lines_written);
        let made = expected.rows.get(name).copied().unwrap_or(0);
        if written != made {
            return Err(format!("{name}: made {made} records, {written} lines written").into());
        }
    }
    expected.watched = BTreeMap::from([
        ("model", WATCHED_MODEL),
        ("instance_id", "42"),
        ("field", "price"),
        ("user_id", WATCHED_USER),
        ("request_id", WATCHED_REQUEST),
        ("client_ip", WATCHED_IP),
        ("peer_service", WATCHED_PEER),
        ("process", WATCHED_PROCESS),
    ]);
    let text = serde_json::to_string_pretty(&expected)?;
    std::fs::write(dir.join("expected.json"), &text)?;
    println!("{text}");
    Ok(())
}

fn compressing(
    builder: tracing_audit::Builder,
    age: std::time::Duration,
) -> Result<tracing_audit::Builder, Box<dyn Error>> {
    Ok(builder.configure_appender(move |_, appender| appender.compress(true).compress_after(age)))
}

/// Which round a request belongs to, in its extensions.
#[derive(Clone, Copy)]
struct Round(u64);

/// Sends one request through the audited app, as a client would, and
/// reads the response to its end (the request record is made then).
async fn request(
    app: Router,
    round: u64,
    expected: &Mutex<Expected>,
) -> Result<(), Box<dyn Error>> {
    let path = PATHS[(round % PATHS.len() as u64) as usize];
    let post = round.is_multiple_of(2);
    let body = if post {
        Body::from(json!({"title": format!("item {round}"), "password": "hunter2"}).to_string())
    } else {
        Body::empty()
    };
    let mut req = axum::http::Request::builder()
        .method(if post { "POST" } else { "GET" })
        .uri(format!("{path}?page={}", round % 5))
        .header("x-request-id", format!("req-{round:06}"))
        .header("content-type", "application/json")
        .header("authorization", "Bearer abc.def.ghi")
        .body(body)?;
    req.extensions_mut().insert(Round(round));
    let tenant = if round.is_multiple_of(2) {
        "acme"
    } else {
        "globex"
    };
    let span = tracing::info_span!("client", tenant);
    let response = app.oneshot(req).instrument(span).await?;
    response.into_body().collect().await?;
    let mut expected = expected.lock().map_err(|_| "a handler panicked")?;
    *expected.requests_by_path.entry(path).or_default() += 1;
    expected.add("api");
    Ok(())
}

/// The app's one handler: the records a request's work makes (CRUD,
/// login, application), all inside the request's span.
async fn handle(
    State(expected): State<Arc<Mutex<Expected>>>,
    req: Request,
) -> (StatusCode, Json<serde_json::Value>) {
    let Some(Round(round)) = req.extensions().get::<Round>().copied() else {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "no round"})));
    };
    // Read, so that the record shows the body and its size.
    if axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .is_err()
    {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "body"})));
    }
    let Ok(mut expected) = expected.lock() else {
        return (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({})));
    };
    one_round(round, &mut expected);
    if round.is_multiple_of(11) {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": "boom"})),
        )
    } else {
        (StatusCode::OK, Json(json!({"round": round})))
    }
}

/// One request's worth of records: CRUD, login and application.
fn one_round(round: u64, expected: &mut Expected) {
    let request_id = format!("req-{round:06}");
    let user = (7 + round % 5).to_string();
    tracing_audit::set_user_info(&user, &json!({"email": format!("u{user}@example.com")}));
    let mut crud = 0;
    let id = if round.is_multiple_of(10) {
        WATCHED_ID
    } else {
        1000 + round
    };
    let before = Product {
        id,
        name: format!("item {round}"),
        price: 10.0 + (round % 7) as f64,
        stock: (round % 50) as i64,
    };
    let after = Product {
        price: before.price + 1.5,
        ..before.clone()
    };
    tracing_audit::create!(model: "Product", id: id, instance: before.clone());
    tracing_audit::update!(model: "Product", id: id, changes: diff(&before, &after));
    tracing_audit::read!(model: "Invoice", id: format!("inv_{round}"));
    crud += 3;
    if id == WATCHED_ID {
        expected.entity_history += 2;
        expected.price_changes += 1;
    }
    if round.is_multiple_of(7) {
        tracing_audit::delete!(model: "Order", id: round, extra: json!({"reason": "cancelled"}));
        *expected.deletes_by_model.entry("Order".into()).or_default() += 1;
        crud += 1;
    }
    if round.is_multiple_of(13) {
        tracing_audit::bulk_delete!(model: "Session", ids: [round, round + 1, round + 2]);
        *expected
            .deletes_by_model
            .entry("Session".into())
            .or_default() += 1;
        crud += 1;
    }
    if round.is_multiple_of(100) {
        // The watched entity among the ids of a bulk record: part of its
        // history too.
        tracing_audit::bulk_update!(model: "Product", ids: [id, 1_000_000 + round]);
        crud += 1;
        if id == WATCHED_ID {
            expected.entity_history += 1;
        }
    }
    if round.is_multiple_of(50) {
        tracing_audit::delete!(model: "Product", id: id);
        *expected
            .deletes_by_model
            .entry("Product".into())
            .or_default() += 1;
        crud += 1;
        if id == WATCHED_ID {
            expected.entity_history += 1;
        }
    }
    for _ in 0..crud {
        expected.add("audit");
    }
    if user == WATCHED_USER {
        expected.user_actions += crud;
    }
    if request_id == WATCHED_REQUEST {
        expected.request_crud += crud;
    }

    let ip = IPS[(round % IPS.len() as u64) as usize];
    if round.is_multiple_of(3) {
        tracing_audit::login_failed!(user: format!("guess{round}"), error: "invalid password", client_ip: ip);
        expected.failed_logins += 1;
        if ip == WATCHED_IP {
            expected.failed_logins_watched_ip += 1;
        }
    } else {
        tracing_audit::login!(client_ip: ip, user_agent: "curl/8.5");
        if round.is_multiple_of(2) {
            tracing_audit::logout!();
            expected.add("login");
        }
    }
    expected.add("login");

    tracing::info!(round, items = 3, "handled");
    expected.add("app");
    if round.is_multiple_of(20) {
        let error = std::io::Error::other("upstream timed out");
        tracing::warn!(error = &error as &dyn Error, "retrying");
        expected.add("app");
    }
}

/// Values the schema allows that a strict table would reject.
fn hostile(expected: &mut Expected) {
    let span = tracing::info_span!("request", request_id = "req-hostile", tenant = "acme");
    let _entered = span.enter();
    tracing_audit::set_user("hostile");

    // Numbers no 64-bit column holds, or holds only as floats.
    let changes = Changes::new()
        .with("stock", u64::MAX, i64::MIN)
        .with("price", f64::MAX, 5e-324)
        .with("a.b", "dotted key", json!({"a": {"b": 1}}));
    tracing_audit::update!(
        model: "Product",
        id: u64::MAX,
        changes: changes,
        extra: json!({"u64": u64::MAX, "i64": i64::MIN, "f": -1.7976931348623157e308})
    );
    // Odd strings: control characters, quotes, a NUL, right-to-left text,
    // an emoji, a key that is empty and a key named like the envelope.
    tracing_audit::create!(
        model: "Prod\"uct\n\u{0}",
        id: "\u{202e}42\u{1f600}",
        extra: json!({"": "empty key", "timestamp": "not a date", "level": 99, "tab\tkey": "\u{1}\u{1f}"})
    );
    // `extra` and `user_info` that are not objects.
    tracing_audit::create!(model: "Product", id: None, extra: "no id yet", user_info: "plain text");
    tracing_audit::bulk_delete!(model: "Session", ids: Vec::<u64>::new());
    *expected
        .deletes_by_model
        .entry("Session".into())
        .or_default() += 1;
    // A record over max_line_bytes: written shrunk, "truncated":true.
    let big: Vec<String> = (0..40)
        .map(|i| format!("{i}{}", "x".repeat(4000)))
        .collect();
    tracing_audit::create!(model: "Document", id: 1, instance: big);
    // Nesting deeper than max_depth: cut, "truncated":true.
    let mut deep = json!("bottom");
    for _ in 0..200 {
        deep = json!([deep]);
    }
    tracing_audit::create!(model: "Document", id: 2, extra: deep);
    // A string longer than max_string_bytes: cut, "truncated":true.
    tracing_audit::read!(model: "Document", id: "y".repeat(20_000));
    for _ in 0..7 {
        expected.add("audit");
    }
    expected.truncated_at_least += 3;

    tracing_audit::login_failed!(
        user: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
        error: "Bearer abc.def",
        client_ip: "::ffff:300.1.1.1",
        user_agent: "\u{0}\u{7f}"
    );
    expected.failed_logins += 1;
    tracing::info!(target: "audit.login", event = "login", success = "yes", "hand-made login");
    expected.add("login");
    expected.add("login");

    tracing::info!(
        target: "audit.request",
        method = "GET",
        path = "/api/v1/items",
        status_code = u64::MAX,
        execution_time = f64::NAN,
        "odd request"
    );
    // Not an inbound request (no request_type): not counted per path.
    expected.add("api");

    tracing::error!(
        big = u128::MAX,
        small = i128::MIN,
        nan = f64::NAN,
        inf = f64::INFINITY,
        timestamp = "yesterday",
        password = "hunter2",
        "hostile \u{0} fields \"quoted\"\n"
    );
    expected.add("app");
}

/// Outbound calls over a protocol of their own (`external_call`: `api.log`,
/// `request_type` `"external"`), a business process (`Process`:
/// `audit.log`) and a transaction whose outcome is unknown, whose own keys
/// need their own columns.
fn calls_and_processes(expected: &mut Expected) -> Result<(), Box<dyn Error>> {
    let span = tracing::info_span!("request", request_id = "req-calls", user_id = "8");
    let _in = span.enter();
    for file in ["a.csv", "b.csv"] {
        tracing_audit::external_call(WATCHED_PEER, "sftp")
            .operation("put")
            .endpoint("sftp://files.partner.example/inbox")
            .request(json!({"file": file, "bytes": 1024}))
            .finish_ok(json!({"stored": true}));
    }
    tracing_audit::external_call(WATCHED_PEER, "sftp")
        .operation("put")
        .endpoint("sftp://bob:hunter2@files.partner.example/inbox")
        .finish_err("connection reset by peer");
    // Dropped unfinished: recorded as abandoned.
    drop(tracing_audit::external_call(WATCHED_PEER, "sftp").operation("list"));
    for _ in 0..4 {
        expected.add("api");
    }
    expected.external_calls += 4;
    expected.external_failures += 2;

    let mut process = tracing_audit::Process::begin(WATCHED_PROCESS, [("kyc", 1), ("contract", 1)]);
    process.register("kyc", true, "passport", "checked by hand")?;
    process.register("contract", false, "signature", "signature missing")?;
    process.finish();
    for _ in 0..4 {
        expected.add("audit");
    }
    expected.process_records += 4;
    expected.process_registrations += 2;

    // A COMMIT whose answer never came: its record is written, marked.
    let tx = tracing_audit::Transaction::begin();
    tx.in_scope(|| tracing_audit::create!(model: "Invoice", id: "inv-unknown"));
    tx.outcome_unknown();
    expected.add("audit");
    expected.unknown_outcome += 1;
    Ok(())
}
