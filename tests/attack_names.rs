//! Field and context-field names an attacker (or a careless user) picks:
//! quotes and backslashes in names, a context field declared twice, names
//! of envelope keys, the record body's name, the empty name.

mod common;

use common::records::Logs;
use tracing_audit::Kind;

#[test]
fn odd_field_names_on_events_and_spans_give_valid_lines() {
    let logs = Logs::new();
    logs.run(|| {
        tracing::info_span!("s", "we\"ird\\" = 1, "" = 2, "message" = "span message").in_scope(|| {
            tracing::info!("q\"uote" = 1, "back\\slash" = 2, "" = 3, "\n" = 4, "a.b" = 5, "x");
            tracing::event!(target: "audit.crud", tracing::Level::INFO, { "q\"uote" = 1, "" = 2 }, "plain crud");
            tracing::event!(target: "audit.login", tracing::Level::INFO, { "q\"uote" = 1, "" = 2 });
        });
    });
    let app = logs.records(Kind::App);
    assert_eq!(app.len(), 1);
    assert_eq!(app[0]["fields"]["q\"uote"], 1, "{:?}", app[0]);
    assert_eq!(logs.records(Kind::Audit).len(), 1);
    assert_eq!(logs.records(Kind::Login).len(), 1);
}

#[test]
fn context_fields_with_odd_names_give_valid_lines_or_a_build_error() {
    let mut built_any = 0;
    for name in [
        "a\"b",
        "back\\slash",
        "",
        "org",
        "audit",
        "message",
        "fields",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let built = tracing_audit::layer()
            .log_dir(dir.path())
            .app_filter("info")
            .context_field(name)
            .context_field("org")
            .build::<tracing_subscriber::Registry>();
        let Ok((layer, guard)) = built else {
            assert_ne!(name, "org", "a context field declared twice is refused");
            continue;
        };
        built_any += 1;
        use tracing_subscriber::layer::SubscriberExt;
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::info_span!(
                "s",
                "a\"b" = 1,
                "back\\slash" = 2,
                "" = 3,
                org = 4,
                audit = 5,
                fields = 6
            )
            .in_scope(|| {
                tracing_audit::read!(model: "Doc", id: 1);
                tracing::info!("a\"b" = 1, org = 2, "app");
            });
        });
        guard.flush().unwrap();
        for kind in [Kind::Audit, Kind::App] {
            let records = common::records::read_records(guard.path(kind).unwrap());
            assert_eq!(records.len(), 1, "{name:?} {kind:?}");
        }
    }
    assert!(built_any >= 1);
}

#[test]
fn a_tracing_field_named_like_a_log_bridge_field_is_kept() {
    let logs = Logs::new();
    logs.run(|| {
        tracing::info!(log.target = "mine", log.level = "custom", "x");
    });
    let app = logs.records(Kind::App);
    assert_eq!(app[0]["fields"]["log.target"], "mine", "{:?}", app[0]);
    assert_eq!(app[0]["fields"]["log.level"], "custom", "{:?}", app[0]);
}
