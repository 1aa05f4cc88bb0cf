//! The context spans carry into records: `user_id`, `user_info`,
//! `request_id`, `tenant` and declared fields; inheritance and overriding in
//! nested spans; `set_user` after authentication; and async tasks that
//! move between threads.
//!
//! Single-thread tests use a scoped default subscriber; the async test
//! installs the global default (the only one in this binary).

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::records::{check_envelope, read_records, Logs, Record};
use serde_json::{json, Value};
use tracing::Instrument;
use tracing_audit::Kind;
use tracing_subscriber::layer::SubscriberExt;

fn by_id(records: &[Record]) -> HashMap<String, Record> {
    records
        .iter()
        .map(|r| (r["instance_id"].as_str().unwrap().to_owned(), r.clone()))
        .collect()
}

#[test]
fn a_record_outside_any_span_has_an_empty_user_and_no_request() {
    let logs = Logs::new();
    logs.run(|| {
        tracing_audit::create!(model: "Doc", id: 1);
        tracing_audit::login!(client_ip: "203.0.113.9");
        tracing::info!(target: "audit.request", method = "GET", "GET /");
        tracing::info!("app");
    });
    let audit = logs.records(Kind::Audit);
    let login = logs.records(Kind::Login);
    let api = logs.records(Kind::Api);
    let app = logs.records(Kind::App);
    assert_eq!(
        (audit.len(), login.len(), api.len(), app.len()),
        (1, 1, 1, 1)
    );
    for r in audit.iter().chain(&login).chain(&api) {
        check_envelope(r, None);
        assert_eq!(r["user_id"], "", "{r:?}");
        assert_eq!(r["user_info"], json!({}), "{r:?}");
        assert!(r.get("request_id").is_none(), "{r:?}");
        assert!(r.get("tenant").is_none(), "{r:?}");
    }
    assert!(app[0].get("request_id").is_none(), "{:?}", app[0]);
    assert!(app[0].get("tenant").is_none(), "{:?}", app[0]);
}

#[test]
fn nested_spans_inherit_the_context_and_the_nearest_value_wins() {
    let logs = Logs::new();
    logs.run(|| {
        let request = tracing::info_span!("request", request_id = "r-1", tenant = "acme");
        let _r = request.enter();
        tracing_audit::read!(model: "Doc", id: "in-request");
        let child = tracing::info_span!("child");
        let _c = child.enter();
        tracing_audit::read!(model: "Doc", id: "in-child");
        tracing::info!(step = "child", "app in child");
        {
            let grandchild = tracing::info_span!("grandchild", request_id = "r-2");
            let _g = grandchild.enter();
            tracing_audit::read!(model: "Doc", id: "in-grandchild");
            let great = tracing::info_span!("great", tenant = "globex");
            great.in_scope(|| tracing_audit::read!(model: "Doc", id: "in-great"));
        }
        tracing_audit::read!(model: "Doc", id: "back-in-child");
    });
    let audit = by_id(&logs.records(Kind::Audit));
    let expect = [
        ("in-request", "r-1", "acme"),
        ("in-child", "r-1", "acme"),
        ("in-grandchild", "r-2", "acme"),
        ("in-great", "r-2", "globex"),
        ("back-in-child", "r-1", "acme"),
    ];
    assert_eq!(audit.len(), expect.len());
    for (id, request_id, tenant) in expect {
        let r = &audit[id];
        assert_eq!(r["request_id"], request_id, "{id}: {r:?}");
        assert_eq!(r["tenant"], tenant, "{id}: {r:?}");
        assert_eq!(r["user_id"], "", "{id}: {r:?}");
    }
    let app = logs.records(Kind::App);
    assert_eq!(app.len(), 1);
    assert_eq!(app[0]["request_id"], "r-1");
    assert_eq!(app[0]["tenant"], "acme");
    assert_eq!(app[0]["fields"], json!({"step": "child"}));
}

#[test]
fn context_values_given_as_numbers_are_written_as_strings() {
    let logs = Logs::new();
    logs.run(|| {
        tracing::info_span!(
            "request",
            request_id = 42u64,
            user_id = -7i64,
            tenant = true
        )
        .in_scope(|| tracing_audit::read!(model: "Doc", id: 1));
    });
    let r = &logs.records(Kind::Audit)[0];
    assert_eq!(r["request_id"], "42");
    assert_eq!(r["user_id"], "-7");
    assert_eq!(r["tenant"], "true");
}

#[test]
fn a_context_value_recorded_later_reaches_later_records() {
    let logs = Logs::new();
    logs.run(|| {
        let span = tracing::info_span!("request", request_id = tracing::field::Empty);
        let _e = span.enter();
        tracing_audit::read!(model: "Doc", id: "before");
        span.record("request_id", "r-late");
        tracing_audit::read!(model: "Doc", id: "after");
    });
    let audit = by_id(&logs.records(Kind::Audit));
    assert!(audit["before"].get("request_id").is_none());
    assert_eq!(audit["after"]["request_id"], "r-late");
}

#[test]
fn set_user_names_the_user_in_later_records_of_the_request_only() {
    let logs = Logs::new();
    logs.run(|| {
        // A long-lived span above the requests: the user must not leak
        // into it, nor into the next request.
        let server = tracing::info_span!("server", tenant = "acme");
        let _s = server.enter();
        {
            let request = tracing::info_span!("request", request_id = "r-1");
            let _r = request.enter();
            tracing_audit::read!(model: "Doc", id: "before-login");
            {
                let auth = tracing::info_span!("authenticate");
                let _a = auth.enter();
                tracing_audit::set_user_info(7, &json!({"email": "a@b.c", "password": "x"}));
                tracing_audit::read!(model: "Doc", id: "in-auth");
                tracing_audit::login!(client_ip: "203.0.113.9");
            }
            // Back in the request span, after the child span closed.
            tracing_audit::read!(model: "Doc", id: "after-auth");
            tracing::info!("app after auth");
            tracing::info_span!("handler")
                .in_scope(|| tracing_audit::read!(model: "Doc", id: "in-handler"));
            // `user:` on the record wins over the context.
            tracing_audit::read!(model: "Doc", id: "explicit", user: "admin");
        }
        tracing_audit::read!(model: "Doc", id: "in-server");
        tracing::info_span!("request", request_id = "r-2")
            .in_scope(|| tracing_audit::read!(model: "Doc", id: "next-request"));
    });
    let audit = by_id(&logs.records(Kind::Audit));
    let info = json!({"email": "a@b.c", "password": "[REDACTED]"});
    for id in ["in-auth", "after-auth", "in-handler"] {
        assert_eq!(audit[id]["user_id"], "7", "{id}: {:?}", audit[id]);
        assert_eq!(audit[id]["user_info"], info, "{id}: {:?}", audit[id]);
        assert_eq!(audit[id]["request_id"], "r-1", "{id}");
        assert_eq!(audit[id]["tenant"], "acme", "{id}");
    }
    assert_eq!(audit["explicit"]["user_id"], "admin");
    for id in ["before-login", "in-server", "next-request"] {
        assert_eq!(audit[id]["user_id"], "", "{id}: {:?}", audit[id]);
        assert_eq!(audit[id]["user_info"], json!({}), "{id}: {:?}", audit[id]);
    }
    let login = logs.records(Kind::Login);
    assert_eq!(login.len(), 1);
    assert_eq!(login[0]["user_id"], "7");
    assert_eq!(login[0]["user_info"], info);
    let app = logs.records(Kind::App);
    assert_eq!(app[0]["user_id"], "7");
    assert_eq!(app[0]["user_info"], info);
}

#[test]
fn set_user_outside_any_span_or_without_the_layer_does_nothing() {
    // Without any subscriber: no panic.
    tracing_audit::set_user_info(1, &json!({"a": 1}));
    tracing_audit::set_user(1);
    let logs = Logs::new();
    logs.run(|| {
        tracing_audit::set_user(5);
        tracing_audit::read!(model: "Doc", id: 1);
    });
    let r = &logs.records(Kind::Audit)[0];
    assert_eq!(r["user_id"], "");
}

#[test]
fn a_user_info_span_field_given_as_json_text_is_an_object() {
    let logs = Logs::new();
    logs.run(|| {
        tracing::info_span!("request", user_info = r#"{"email":"a@b.c","token":"t"}"#)
            .in_scope(|| tracing_audit::read!(model: "Doc", id: 1));
    });
    let r = &logs.records(Kind::Audit)[0];
    assert_eq!(
        r["user_info"],
        json!({"email": "a@b.c", "token": "[REDACTED]"})
    );
}

#[test]
fn a_declared_context_field_is_carried_like_the_built_in_ones() {
    let logs = Logs::with(|b| b.context_field("org_id").context_field("shard"));
    logs.run(|| {
        let span = tracing::info_span!("request", request_id = "r-1", org_id = 42, other = "x");
        let _e = span.enter();
        tracing::info_span!("inner", shard = "s-9").in_scope(|| {
            tracing_audit::read!(model: "Doc", id: 1);
            tracing_audit::login!(user: 3);
            tracing::info!(org_id = "from-event", "app");
        });
        tracing::info!(n = 1, "app outside inner");
    });
    let audit = logs.records(Kind::Audit);
    let login = logs.records(Kind::Login);
    let app = logs.records(Kind::App);
    for r in [&audit[0], &login[0]] {
        assert_eq!(r["org_id"], "42", "{r:?}");
        assert_eq!(r["shard"], "s-9", "{r:?}");
        assert_eq!(r["request_id"], "r-1", "{r:?}");
        assert!(r.get("other").is_none(), "undeclared field carried: {r:?}");
    }
    // Given on the event itself, the event's value wins and is not also a
    // free field.
    assert_eq!(app[0]["org_id"], "from-event");
    assert_eq!(app[0]["shard"], "s-9");
    assert_eq!(app[0]["fields"], json!({}));
    assert_eq!(app[1]["org_id"], "42");
    assert!(app[1].get("shard").is_none());
    assert_eq!(app[1]["fields"], json!({"n": 1}));
    // Without the declaration the field is not context.
    let plain = Logs::new();
    plain.run(|| {
        tracing::info_span!("request", org_id = 42)
            .in_scope(|| tracing_audit::read!(model: "Doc", id: 1));
    });
    assert!(plain.records(Kind::Audit)[0].get("org_id").is_none());
}

#[test]
fn async_tasks_keep_their_context_across_awaits_and_threads() {
    const TASKS: usize = 32;
    let dir = tempfile::tempdir().unwrap();
    let (layer, guard) = tracing_audit::layer()
        .log_dir(dir.path())
        .app_filter("info")
        .build()
        .unwrap();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer)).unwrap();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut handles = Vec::new();
        for task in 0..TASKS {
            let span = tracing::info_span!(
                "request",
                request_id = format!("req-{task}").as_str(),
                tenant = format!("tenant-{task}").as_str()
            );
            let fut = async move {
                tracing_audit::read!(model: "Task", id: format!("{task}:0"));
                tokio::time::sleep(Duration::from_millis(1 + (task % 3) as u64)).await;
                tracing_audit::set_user_info(format!("user-{task}"), &json!({"task": task}));
                tokio::task::yield_now().await;
                tracing_audit::read!(model: "Task", id: format!("{task}:1"));
                for step in 2..6 {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    let child = tracing::info_span!("step", step);
                    async {
                        tokio::task::yield_now().await;
                        tracing_audit::read!(model: "Task", id: format!("{task}:{step}"));
                    }
                    .instrument(child)
                    .await;
                }
                tracing::info!(task, "done");
            };
            handles.push(tokio::spawn(fut.instrument(span)));
        }
        for h in handles {
            h.await.unwrap();
        }
    });
    drop(runtime);
    guard.flush().unwrap();

    let audit = read_records(guard.path(Kind::Audit).unwrap());
    assert_eq!(audit.len(), TASKS * 6);
    let mut seen = std::collections::HashSet::new();
    for r in &audit {
        check_envelope(r, Some("AUDIT"));
        let id = r["instance_id"].as_str().unwrap();
        assert!(seen.insert(id.to_owned()), "{id} twice");
        let (task, step) = id.split_once(':').unwrap();
        let step: u32 = step.parse().unwrap();
        assert_eq!(r["request_id"], format!("req-{task}"), "{r:?}");
        assert_eq!(r["tenant"], format!("tenant-{task}"), "{r:?}");
        if step == 0 {
            assert_eq!(r["user_id"], "", "{r:?}");
        } else {
            assert_eq!(r["user_id"], format!("user-{task}"), "{r:?}");
            let task: u64 = task.parse().unwrap();
            assert_eq!(r["user_info"], json!({"task": task}), "{r:?}");
        }
    }
    let app = read_records(guard.path(Kind::App).unwrap());
    assert_eq!(app.len(), TASKS);
    for r in &app {
        let task = r["fields"]["task"].as_u64().unwrap();
        assert_eq!(r["request_id"], Value::from(format!("req-{task}")), "{r:?}");
        assert_eq!(r["user_id"], Value::from(format!("user-{task}")), "{r:?}");
    }
}

#[test]
fn set_user_without_a_request_span_stays_in_the_current_span() {
    let logs = Logs::new();
    logs.run(|| {
        // A long-lived span shared by every request, none with a request id.
        let app = tracing::info_span!("app");
        let _app = app.enter();
        tracing::info_span!("first request").in_scope(|| {
            tracing_audit::set_user(7);
            tracing_audit::read!(model: "Doc", id: 1);
        });
        tracing::info_span!("second request").in_scope(|| {
            tracing_audit::read!(model: "Doc", id: 2);
        });
    });
    let audit = logs.records(Kind::Audit);
    assert_eq!(audit[0]["user_id"], "7");
    assert_eq!(
        audit[1]["user_id"], "",
        "another request must not inherit the user"
    );
}
