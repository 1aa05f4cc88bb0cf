//! Where records go: each kind to its own file by target, under the
//! configured file name, or to any `MakeWriter` given for the kind, or
//! nowhere for a disabled kind; and the envelope every record carries.

mod common;

use std::collections::HashSet;
use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use common::records::{
    check_envelope, parse_line, read_records, rfc3339_micros_millis, uuid_v7_millis, Logs, Record,
    SERVICE,
};
use serde_json::json;
use tracing_audit::Kind;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// A `MakeWriter` that keeps what each writer it made received, writer by
/// writer, to check that each record is one whole line in one writer.
#[derive(Clone, Default)]
struct Capture {
    chunks: Arc<Mutex<Vec<Vec<u8>>>>,
}

struct CaptureWriter {
    buf: Vec<u8>,
    chunks: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Write for CaptureWriter {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for CaptureWriter {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        self.chunks.lock().unwrap().push(buf);
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = CaptureWriter;

    fn make_writer(&'a self) -> CaptureWriter {
        CaptureWriter {
            buf: Vec::new(),
            chunks: Arc::clone(&self.chunks),
        }
    }
}

/// A `MakeWriter` whose writes all fail.
#[derive(Clone, Copy)]
struct Broken;

impl Write for Broken {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::other("disk on fire"))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Broken {
    type Writer = Broken;

    fn make_writer(&'a self) -> Broken {
        Broken
    }
}

fn messages(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["message"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn records_go_to_the_file_of_their_target_with_its_level() {
    let logs = Logs::new();
    logs.run(|| {
        tracing_audit::create!(model: "Order", id: 1);
        tracing::info!(target: "audit.process", step = "charge", "process step");
        tracing_audit::login!(user: 1);
        tracing::info!(target: "audit.request", method = "GET", "GET /orders");
        tracing::info!("app info");
        tracing::warn!(target: "my_app::db", "app warn");
        tracing::error!("app error");
        tracing::info!(target: "audit.other", "an unknown audit target");
    });
    let audit = logs.records(Kind::Audit);
    let login = logs.records(Kind::Login);
    let api = logs.records(Kind::Api);
    let app = logs.records(Kind::App);

    // An unknown `audit.*` target is an audit record too (`Kind::of_target`).
    assert_eq!(
        messages(&audit),
        [
            "CREATE event for Order (id: 1)",
            "process step",
            "an unknown audit target"
        ]
    );
    for (r, name) in audit
        .iter()
        .zip(["audit.crud", "audit.process", "audit.other"])
    {
        check_envelope(r, Some("AUDIT"));
        assert_eq!(r["name"], name);
    }
    assert_eq!(audit[1]["extra"], json!({"step": "charge"}));

    assert_eq!(messages(&login), ["User logged in"]);
    check_envelope(&login[0], Some("LOGIN"));
    assert_eq!(login[0]["name"], "audit.login");

    assert_eq!(messages(&api), ["GET /orders"]);
    check_envelope(&api[0], Some("API"));
    assert_eq!(api[0]["name"], "audit.request");
    assert_eq!(api[0]["extra"], json!({"method": "GET"}));

    let got: Vec<(&str, &str, &str)> = app
        .iter()
        .map(|r| {
            check_envelope(r, None);
            (
                r["level"].as_str().unwrap(),
                r["name"].as_str().unwrap(),
                r["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("INFO", "records_sinks", "app info"),
            ("WARN", "my_app::db", "app warn"),
            ("ERROR", "records_sinks", "app error"),
        ]
    );
}

#[test]
fn every_record_has_the_envelope() {
    let start_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let logs = Logs::new();
    logs.run(|| {
        for n in 0..50 {
            tracing_audit::read!(model: "Doc", id: n);
            tracing_audit::logout!(user: n);
            tracing::info!(target: "audit.request", n, "req");
            tracing::info!(n, "app");
            tracing::info!(target: "audit.crud", "by hand, no message fields");
            tracing::info!(n);
        }
    });
    let end_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let mut ids = HashSet::new();
    let mut total = 0;
    for kind in Kind::ALL {
        let lines = logs.lines(kind);
        let mut prev_ts = 0;
        let mut prev_id_ms = 0;
        for line in &lines {
            let r = &line.record;
            check_envelope(r, kind.level());
            // Exactly six decimals and Z, within the test's run.
            let ts = r["timestamp"].as_str().unwrap();
            assert!(
                ts.len() == 27 && ts.ends_with('Z') && ts.as_bytes()[19] == b'.',
                "{ts}"
            );
            let ts_ms = rfc3339_micros_millis(ts).unwrap();
            assert!(
                (start_ms..=end_ms).contains(&ts_ms),
                "{ts} not within the run"
            );
            assert!(ts_ms >= prev_ts, "timestamps go back: {ts}");
            prev_ts = ts_ms;
            // UUIDv7: time-ordered, distinct.
            let id = r["event_id"].as_str().unwrap();
            let id_ms = uuid_v7_millis(id).unwrap();
            assert!((start_ms..=end_ms).contains(&id_ms), "{id}");
            assert!(id_ms >= prev_id_ms, "event_id time goes back: {id}");
            prev_id_ms = id_ms;
            assert!(ids.insert(id.to_owned()), "event_id {id} twice");
            assert_eq!(r["service_name"], SERVICE);
            assert!(r["message"].is_string());
        }
        total += lines.len();
    }
    assert_eq!(total, 300);
    let app = logs.records(Kind::App);
    // A record without a message has an empty one.
    assert_eq!(app[1]["message"], "");
    assert_eq!(app[1]["fields"], json!({"n": 0}));
}

#[test]
fn the_service_name_defaults_to_the_executable_name() {
    let dir = tempfile::tempdir().unwrap();
    let (layer, guard) = tracing_audit::layer().log_dir(dir.path()).build().unwrap();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || tracing_audit::read!(model: "Doc", id: 1));
    guard.flush().unwrap();
    let r = &read_records(guard.path(Kind::Audit).unwrap())[0];
    let name = r["service_name"].as_str().unwrap();
    // This test binary is `records_sinks-<hash>`; `cargo test` also sets
    // CARGO_PKG_NAME at run time, which must not be read.
    assert!(name.starts_with("records_sinks"), "{name}");
    assert_ne!(name, env!("CARGO_PKG_NAME"));
}

#[test]
fn any_make_writer_receives_each_record_as_one_whole_line() {
    let dir = tempfile::tempdir().unwrap();
    let capture = Capture::default();
    let api_dir = dir.path().join("elsewhere");
    let logs = Logs::with(|b| {
        b.writer(Kind::Audit, capture.clone()).writer(
            Kind::Api,
            tracing_appender::rolling::never(&api_dir, "x.log"),
        )
    });
    let long = "é".repeat(20_000);
    logs.run(|| {
        for n in 0..100 {
            tracing_audit::update!(model: "Doc", id: n, extra: json!({"n": n, "text": "a\nb"}));
            tracing::info!(target: "audit.request", n, "GET /{}", n);
        }
        tracing_audit::create!(model: "Doc", id: "long", instance: long);
        tracing_audit::login!(user: 1);
    });
    logs.guard.flush().unwrap();

    // The custom writer: one writer per record, one whole line in each.
    let chunks = capture.chunks.lock().unwrap().clone();
    assert_eq!(chunks.len(), 101);
    for (n, chunk) in chunks.iter().enumerate() {
        let text = std::str::from_utf8(chunk).unwrap();
        assert!(text.ends_with('\n'), "{text}");
        assert_eq!(text.matches('\n').count(), 1, "{text}");
        let r = parse_line(&text[..text.len() - 1]).unwrap();
        check_envelope(&r, Some("AUDIT"));
        if n < 100 {
            assert_eq!(r["instance_id"], n.to_string());
            assert_eq!(r["extra"], json!({"n": n, "text": "a\nb"}));
        } else {
            assert_eq!(r["instance_id"], "long");
        }
    }
    // No built-in appender for a kind given a writer.
    assert!(logs.guard.path(Kind::Audit).is_none());
    assert!(!dir.path().join("audit.log").exists());
    assert!(!logs.dir.path().join("audit.log").exists());

    // tracing-appender's file.
    let api = read_records(&api_dir.join("x.log"));
    assert_eq!(api.len(), 100);
    for (n, r) in api.iter().enumerate() {
        check_envelope(r, Some("API"));
        assert_eq!(r["message"], format!("GET /{n}"));
    }
    assert!(logs.guard.path(Kind::Api).is_none());

    // The other kinds still use their files.
    assert_eq!(logs.records(Kind::Login).len(), 1);
    assert_eq!(logs.guard.unwritten(), 0);
}

#[test]
fn a_failing_writer_counts_the_records_it_could_not_take() {
    let logs = Logs::with(|b| b.writer(Kind::Login, Broken));
    logs.run(|| {
        for _ in 0..3 {
            tracing_audit::login!(user: 1);
        }
        tracing_audit::read!(model: "Doc", id: 1);
    });
    assert_eq!(logs.guard.unwritten(), 3);
    assert_eq!(logs.records(Kind::Audit).len(), 1);
}

#[test]
fn a_disabled_kind_writes_no_file_and_the_others_still_do() {
    let logs = Logs::with(|b| b.disable(Kind::App).disable(Kind::Api));
    logs.run(|| {
        tracing::info!("app info");
        tracing::error!("app error");
        tracing::info!(target: "audit.request", "GET /");
        tracing_audit::read!(model: "Doc", id: 1);
        tracing_audit::login!(user: 1);
    });
    logs.guard.flush().unwrap();
    for kind in [Kind::App, Kind::Api] {
        assert!(logs.guard.path(kind).is_none());
        let path = logs.dir.path().join(kind.file_name());
        assert!(
            !path.exists() || std::fs::read(&path).unwrap().is_empty(),
            "{kind:?} was written"
        );
    }
    assert_eq!(logs.records(Kind::Audit).len(), 1);
    assert_eq!(logs.records(Kind::Login).len(), 1);
    assert_eq!(logs.guard.unwritten(), 0);
}

#[test]
fn a_kind_can_be_written_under_another_file_name() {
    let logs = Logs::with(|b| {
        b.file_name(Kind::Login, "auth.log")
            .file_name(Kind::Audit, "trail.log")
    });
    logs.run(|| {
        tracing_audit::login!(user: 1);
        tracing_audit::login_failed!(user: "mallory");
        tracing_audit::read!(model: "Doc", id: 1);
    });
    let dir = logs.dir.path();
    assert_eq!(
        logs.guard.path(Kind::Login),
        Some(dir.join("auth.log").as_path())
    );
    assert_eq!(
        logs.guard.path(Kind::Audit),
        Some(dir.join("trail.log").as_path())
    );
    assert_eq!(
        logs.guard.path(Kind::App),
        Some(dir.join("app.log").as_path())
    );
    logs.guard.flush().unwrap();
    let login = read_records(&dir.join("auth.log"));
    assert_eq!(messages(&login), ["User logged in", "Failed login attempt"]);
    assert_eq!(read_records(&dir.join("trail.log")).len(), 1);
    assert!(!dir.join("login.log").exists());
    assert!(!dir.join("audit.log").exists());
}
