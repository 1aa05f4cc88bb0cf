//! Eight threads at once, each in its own request span: every record
//! carries its own thread's user and request, and every record is written
//! exactly once, in its thread's order. A binary of its own: the layer is
//! the global default subscriber.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Barrier};
use std::thread;

use common::files_of;
use common::records::{check_envelope, read_records, Record};
use serde_json::json;
use tracing_audit::Kind;
use tracing_subscriber::layer::SubscriberExt;

const THREADS: u64 = 8;
const PER_THREAD: u64 = 2_000;

fn work(t: u64, barrier: &Barrier) {
    let model = format!("Thread{t}");
    let user = format!("user-{t}");
    let request = format!("req-{t}");
    // Even threads name the user on the span, odd ones after
    // authentication, with set_user.
    let span = if t.is_multiple_of(2) {
        tracing::info_span!(
            "req",
            user_id = user.as_str(),
            request_id = request.as_str()
        )
    } else {
        tracing::info_span!("req", request_id = request.as_str())
    };
    let _entered = span.enter();
    barrier.wait();
    if t % 2 == 1 {
        tracing_audit::set_user_info(&user, &json!({"thread": t}));
    }
    for n in 0..PER_THREAD {
        let id = format!("{t}:{n}");
        let record = || match n % 4 {
            0 => tracing_audit::create!(model: model, id: id, extra: json!({"n": n})),
            1 => tracing_audit::read!(model: model, id: id, extra: json!({"n": n})),
            2 => tracing_audit::update!(model: model, id: id, extra: json!({"n": n})),
            _ => tracing_audit::delete!(model: model, id: id, extra: json!({"n": n})),
        };
        if n % 50 == 0 {
            // Now and then from a child span without context of its own.
            tracing::info_span!("step", n).in_scope(record);
        } else {
            record();
        }
    }
}

#[test]
fn eight_threads_each_keep_their_own_context_and_every_record_lands_once() {
    let dir = tempfile::tempdir().unwrap();
    let (layer, guard) = tracing_audit::layer()
        .log_dir(dir.path())
        .service_name("threads")
        .build()
        .unwrap();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer)).unwrap();

    let barrier = Arc::new(Barrier::new(THREADS as usize));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || work(t, &barrier))
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    guard.flush().unwrap();

    let live = guard.path(Kind::Audit).unwrap().to_path_buf();
    let records: Vec<Record> = files_of(&live)
        .iter()
        .flat_map(|p| read_records(p))
        .collect();
    assert_eq!(records.len() as u64, THREADS * PER_THREAD);

    let mut seen: HashMap<(u64, u64), u32> = HashMap::new();
    let mut last: HashMap<u64, u64> = HashMap::new();
    let mut ids = HashSet::new();
    for r in &records {
        check_envelope(r, Some("AUDIT"));
        assert!(ids.insert(r["event_id"].as_str().unwrap().to_owned()));
        let (t, n) = r["instance_id"]
            .as_str()
            .and_then(|s| s.split_once(':'))
            .map(|(t, n)| (t.parse::<u64>().unwrap(), n.parse::<u64>().unwrap()))
            .unwrap_or_else(|| panic!("instance_id: {r:?}"));
        *seen.entry((t, n)).or_default() += 1;
        let ctx = || serde_json::to_string(r).unwrap();
        assert_eq!(r["model"], format!("Thread{t}"), "{}", ctx());
        assert_eq!(r["extra"], json!({"n": n}), "{}", ctx());
        assert_eq!(r["user_id"], format!("user-{t}"), "{}", ctx());
        assert_eq!(r["request_id"], format!("req-{t}"), "{}", ctx());
        let info = if t % 2 == 1 {
            json!({"thread": t})
        } else {
            json!({})
        };
        assert_eq!(r["user_info"], info, "{}", ctx());
        let kind = ["CREATE", "READ", "UPDATE", "DELETE"][(n % 4) as usize];
        assert_eq!(r["event_type"], kind, "{}", ctx());
        // One thread's records are in the file in the order it made them.
        if let Some(prev) = last.insert(t, n) {
            assert!(prev < n, "thread {t}: record {n} after {prev}");
        }
    }
    for t in 0..THREADS {
        for n in 0..PER_THREAD {
            assert_eq!(
                seen.get(&(t, n)).copied().unwrap_or(0),
                1,
                "record {t}:{n} not there exactly once"
            );
        }
    }
    assert_eq!(guard.unwritten(), 0);
    drop(guard);
}
