//! The public API as a newcomer guesses it (issue 11): names at the root,
//! calls without type annotations, errors that keep their source.

mod common;

use common::records::Logs;
use tracing_audit::{diff, Changes, Kind};

#[test]
fn kind_and_diff_are_at_the_root() {
    #[derive(serde::Serialize)]
    struct P {
        price: u32,
    }
    let changes: Changes = diff(&P { price: 1 }, &P { price: 2 });
    assert_eq!(changes.len(), 1);
    assert_eq!(Kind::of_target("audit.login"), Kind::Login);
    // The record module still names the same type.
    assert_eq!(tracing_audit::record::Kind::Audit, Kind::Audit);
}

#[test]
fn set_user_needs_no_type_annotation() {
    let logs = Logs::new();
    logs.run(|| {
        let span = tracing::info_span!("request", request_id = "r-1");
        let _e = span.enter();
        tracing_audit::set_user(7);
        tracing_audit::read!(model: "Invoice", id: 1);
        tracing_audit::set_user_info("alice", &serde_json::json!({"role": "admin"}));
        tracing_audit::read!(model: "Invoice", id: 2);
    });
    let records = logs.records(Kind::Audit);
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(records[0]["user_id"], "7");
    assert_eq!(records[1]["user_id"], "alice");
    assert_eq!(records[1]["user_info"]["role"], "admin");
}

#[test]
fn errors_keep_their_source_and_a_bad_filter_shows_the_directive() {
    use std::error::Error as _;
    let dir = tempfile::tempdir().unwrap();

    let Err(err) = tracing_audit::layer()
        .log_dir(dir.path())
        .app_filter("info,billing=[[[")
        .build::<tracing_subscriber::Registry>()
    else {
        panic!("a bad directive is an error")
    };
    assert!(err.to_string().contains("info,billing=[[["), "{err}");
    assert!(err.source().is_some(), "{err:?}");
    match &err {
        tracing_audit::Error::Filter(f) => assert_eq!(f.directives(), "info,billing=[[["),
        other => panic!("{other:?}"),
    }

    let Err(err) = tracing_audit::layer()
        .log_dir(dir.path())
        .context_field("level")
        .build::<tracing_subscriber::Registry>()
    else {
        panic!("a reserved name is an error")
    };
    let tracing_audit::Error::ContextField(field) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(field.name(), Some("level"));
    assert!(err.source().is_some());

    // The only global subscriber of this binary: the second one fails.
    let _guard = tracing_audit::builder()
        .log_dir(dir.path())
        .console(false)
        .init()
        .expect("the first init succeeds");
    let Err(err) = tracing_audit::builder()
        .log_dir(dir.path())
        .console(false)
        .init()
    else {
        panic!("a second init is an error")
    };
    assert!(matches!(err, tracing_audit::Error::Init(_)), "{err:?}");
    assert!(err.source().is_some(), "{err:?}");
}

#[test]
fn shutdown_returns_the_final_figures() {
    struct Failing;
    impl std::io::Write for Failing {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let logs = Logs::with(|b| b.writer(Kind::App, || Failing));
    logs.run(|| {
        for id in 0..3 {
            tracing_audit::read!(model: "Invoice", id: id);
        }
        tracing::info!(target: "billing", "lost to the failing writer");
    });
    let Logs { guard, dir, .. } = logs;
    let report = guard.shutdown();
    let audit = report
        .stats(Kind::Audit)
        .expect("audit.log is an appender file");
    assert_eq!(audit.lines_written, 3, "{report:?}");
    assert_eq!(audit.dropped + audit.abandoned, 0, "{report:?}");
    assert!(
        report.stats(Kind::App).is_none(),
        "app records went to a writer"
    );
    assert_eq!(report.unwritten, 1, "{report:?}");
    assert_eq!(report.lost(), 1);
    // Closed: the file holds every line.
    let text = std::fs::read_to_string(dir.path().join("audit.log")).unwrap();
    assert_eq!(text.lines().count(), 3);
}

#[test]
fn a_crud_id_may_be_an_option() {
    let logs = Logs::new();
    logs.run(|| {
        let id: Option<u64> = None;
        tracing_audit::create!(model: "Product", id: id);
        tracing_audit::create!(model: "Product", id: None, user: 7);
        tracing_audit::read!(model: "Product", id: Some(42));
    });
    let records = logs.records(Kind::Audit);
    assert_eq!(records.len(), 3, "{records:?}");
    for r in &records[..2] {
        assert_eq!(r["instance_id"], "");
        assert_eq!(r["message"], "CREATE event for Product");
    }
    assert_eq!(records[1]["user_id"], "7");
    assert_eq!(records[2]["instance_id"], "42");
    assert_eq!(records[2]["message"], "READ event for Product (id: 42)");
}

#[test]
fn an_unknown_audit_target_is_routed_and_filtered_as_an_audit_record() {
    // Filtering and routing share `Kind::of_target`: `audit.crudd` passes
    // `app_filter("off")` and lands in audit.log, as AUDIT.
    let logs = Logs::with(|b| b.app_filter("off"));
    logs.run(|| {
        tracing::info!(target: "audit.crudd", model = "Product", "misspelt target");
        tracing::info!(target: "billing", "filtered out");
    });
    let audit = logs.records(Kind::Audit);
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0]["level"], "AUDIT");
    assert_eq!(audit[0]["name"], "audit.crudd");
    assert_eq!(audit[0]["message"], "misspelt target");
    assert!(logs.records(Kind::App).is_empty());
    assert_eq!(Kind::of_target("audit.crudd"), Kind::Audit);
    assert!(tracing_audit::record::is_audit_target("audit.crudd"));
}

/// One function configures both builders: the settings other than the
/// console's are the same methods on `builder()` and `layer()`.
fn shared_settings<M>(
    b: tracing_audit::Builder<M>,
    dir: &std::path::Path,
) -> tracing_audit::Builder<M> {
    b.log_dir(dir)
        .service_name("shared")
        .file_name(Kind::Audit, "trail.log")
        .app_filter("off")
}

#[test]
fn layer_and_builder_share_every_setting_but_the_console() {
    use tracing_subscriber::layer::SubscriberExt;

    let dir = tempfile::tempdir().unwrap();
    // Composed at once: no type annotation.
    let (audit, guard) = shared_settings(tracing_audit::layer(), dir.path())
        .build()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(audit), || {
        tracing_audit::create!(model: "Order", id: 1);
    });
    assert_eq!(
        guard.path(Kind::Audit),
        Some(dir.path().join("trail.log").as_path())
    );
    drop(guard);

    let console = dir.path().join("console.txt");
    let file = std::fs::File::create(&console).unwrap();
    let (subscriber, guard) = shared_settings(tracing_audit::builder(), dir.path())
        .console_writer(std::sync::Mutex::new(file))
        .console_filter("info")
        .finish()
        .unwrap();
    tracing::subscriber::with_default(subscriber, || {
        tracing_audit::create!(model: "Order", id: 2);
    });
    drop(guard);

    let text = std::fs::read_to_string(dir.path().join("trail.log")).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    for (line, id) in lines.iter().zip(["1", "2"]) {
        assert_eq!(line["service_name"], "shared");
        assert_eq!(line["instance_id"], id);
    }
    let shown = std::fs::read_to_string(&console).unwrap();
    assert!(shown.contains("CREATE Order 2"), "{shown}");
    assert!(!shown.contains("Order 1"), "{shown}");
}
