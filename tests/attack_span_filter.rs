//! The span filter in realistic shapes, with the application filter `off`:
//! a request span with its `request_id`, nested spans without context,
//! `#[instrument]`-style spans (written out by hand: the span the attribute
//! makes, `module_path!()` target, `INFO`, the arguments as fields),
//! tokio tasks spawned with `.instrument(..)`/`.in_current_span()`,
//! transactions across `.await`, `set_user` from inside spans that are left
//! out or made only for another layer.

mod common;

use common::records::{read_records, Logs, Record};
use serde_json::json;
use tracing::Instrument;
use tracing_audit::Kind;
use tracing_audit::Transaction;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

fn app_off() -> Logs {
    Logs::with(|b| b.app_filter("off"))
}

/// What `#[instrument(skip(user))]` on `async fn load(id: u64, ..)` makes.
async fn load(id: u64) {
    let span = tracing::span!(target: module_path!(), tracing::Level::INFO, "load", id = ?id);
    async move {
        tokio::task::yield_now().await;
        tracing_audit::read!(model: "Doc", id: id);
    }
    .instrument(span)
    .await
}

fn by_id(records: &[Record], id: &str) -> Record {
    records
        .iter()
        .find(|r| r["instance_id"] == id)
        .unwrap_or_else(|| panic!("no record {id}: {records:?}"))
        .clone()
}

#[test]
fn context_and_user_reach_records_of_a_request_across_tasks_and_awaits() {
    let logs = app_off();
    let dispatch = logs.dispatch.clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .on_thread_start({
            let dispatch = dispatch.clone();
            move || {
                // Each worker uses the test's subscriber.
                let guard = tracing::dispatcher::set_default(&dispatch);
                std::mem::forget(guard);
            }
        })
        .build()
        .unwrap();
    let _outer = tracing::dispatcher::set_default(&dispatch);
    rt.block_on(async {
        let request = tracing::info_span!("request", request_id = "r-1", tenant = "acme");
        async {
            // The middleware's handler span and the router's: no context.
            let handler = tracing::info_span!("handler", path = "/docs");
            async {
                tracing_audit::set_user_info(7, &json!({"role": "admin"}));
                load(1).await;
                tokio::task::yield_now().await;
                // A task carrying the current span: keeps the context.
                tokio::spawn(load(2).in_current_span()).await.unwrap();
                tokio::spawn(
                    async { tracing_audit::read!(model: "Doc", id: 3) }
                        .instrument(tracing::Span::current()),
                )
                .await
                .unwrap();
                // A transaction committed after awaits, in another task.
                let tx = Transaction::begin();
                tx.in_future(async {
                    tokio::task::yield_now().await;
                    tracing_audit::create!(model: "Doc", id: 4);
                })
                .await;
                tokio::spawn(async move { tx.commit() }.in_current_span())
                    .await
                    .unwrap();
                // A task instrumented with a span of its own and no
                // context: documented to run outside the request.
                tokio::spawn(
                    async { tracing_audit::read!(model: "Doc", id: 5) }
                        .instrument(tracing::info_span!("job")),
                )
                .await
                .unwrap();
            }
            .instrument(handler)
            .await
        }
        .instrument(request)
        .await
    });
    drop(rt);
    let audit = logs.records(Kind::Audit);
    assert_eq!(audit.len(), 5, "{audit:?}");
    for id in ["1", "2", "3", "4"] {
        let r = by_id(&audit, id);
        assert_eq!(r["request_id"], "r-1", "{r:?}");
        assert_eq!(r["tenant"], "acme", "{r:?}");
        assert_eq!(r["user_id"], "7", "{r:?}");
        assert_eq!(r["user_info"], json!({"role": "admin"}), "{r:?}");
    }
    let r = by_id(&audit, "5");
    assert!(!r.contains_key("request_id"), "{r:?}");
}

#[test]
fn set_user_inside_a_span_only_another_layer_wants_reaches_the_records() {
    let dir = tempfile::tempdir().unwrap();
    let (audit, guard) = tracing_audit::layer()
        .log_dir(dir.path())
        .app_filter("off")
        .build()
        .unwrap();
    // A second layer that wants every span of target `console`.
    let console = tracing_subscriber::fmt::layer()
        .with_writer(std::io::sink)
        .with_filter(tracing_subscriber::filter::filter_fn(|meta| {
            meta.target() == "console"
        }));
    let subscriber = tracing_subscriber::registry().with(audit).with(console);
    tracing::subscriber::with_default(subscriber, || {
        // A batch job: its span names the user slot, no request id.
        let job = tracing::info_span!("job", user_id = tracing::field::Empty);
        let _job = job.enter();
        tracing::info_span!(target: "console", "step").in_scope(|| {
            tracing_audit::set_user_info(3, &json!({"role": "batch"}));
            tracing_audit::read!(model: "Doc", id: 1);
        });
        tracing_audit::read!(model: "Doc", id: 2);
    });
    guard.flush().unwrap();
    let records = read_records(guard.path(Kind::Audit).unwrap());
    assert_eq!(records.len(), 2);
    for r in &records {
        assert_eq!(r["user_id"], "3", "{r:?}");
    }
}

#[test]
fn set_user_inside_a_span_left_out_with_no_span_around_does_not_panic() {
    let logs = app_off();
    logs.run(|| {
        tracing::trace_span!("left out").in_scope(|| {
            tracing_audit::set_user(3);
            tracing_audit::read!(model: "Doc", id: 1);
        });
        let tx = Transaction::begin();
        tx.in_scope(|| {
            tracing::trace_span!("left out").in_scope(|| {
                tracing_audit::set_user(4);
                tracing_audit::read!(model: "Doc", id: 2);
            });
        });
        tx.commit();
    });
    let audit = logs.records(Kind::Audit);
    assert_eq!(audit.len(), 2, "{audit:?}");
    // No span was made to hold the first user: documented.
    assert_eq!(audit[0]["user_id"], "");
    // The transaction's span holds the second.
    assert_eq!(audit[1]["user_id"], "4", "{:?}", audit[1]);
}
