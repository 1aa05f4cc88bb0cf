//! Attack: the line the appender writes in drop mode (`app.log` by
//! default) to say how many lines a full queue refused. The schema says
//! every record has an `event_id` and a `service_name`; that line had
//! neither, so the shipping pipeline (Vector's `parse`, which requires
//! `event_id`) sent it to the dead letters: the gap it marks never
//! reached the `app` table where it should show. It now carries both.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use common::records::{Logs, SERVICE};
use tracing_audit::appender::LineTransform;
use tracing_audit::Kind;

/// Holds the writer thread in its first line until released.
struct Gate {
    entered: Arc<AtomicBool>,
    release: Arc<Mutex<mpsc::Receiver<()>>>,
}

impl LineTransform for Gate {
    fn on_open(&mut self, _: Option<&[u8]>, _: Option<&[u8]>) {}
    fn on_rotate(&mut self, _: &str) {}
    fn transform(&mut self, line: &[u8], out: &mut Vec<u8>) -> u64 {
        if !self.entered.swap(true, Ordering::SeqCst) {
            let _ = self.release.lock().unwrap().recv();
        }
        out.extend_from_slice(line);
        1
    }
}

#[test]
fn the_drop_summary_line_is_a_record_of_the_schema() {
    let entered = Arc::new(AtomicBool::new(false));
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release = Arc::new(Mutex::new(release_rx));
    let gate = (Arc::clone(&entered), Arc::clone(&release));
    let logs = Logs::with(move |b| {
        b.configure_appender(move |kind, appender| match kind {
            Kind::App => {
                let (entered, release) = (Arc::clone(&gate.0), Arc::clone(&gate.1));
                appender.capacity(1).line_transform(move || {
                    Box::new(Gate {
                        entered: Arc::clone(&entered),
                        release: Arc::clone(&release),
                    })
                })
            }
            _ => appender,
        })
    });
    logs.run(|| tracing::info!(n = 0, "first"));
    // The writer thread has taken the first line (a guard, not a timing:
    // it gives up only after a minute).
    for _ in 0..60_000 {
        if entered.load(Ordering::SeqCst) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert!(
        entered.load(Ordering::SeqCst),
        "the writer never took a line"
    );
    // The writer is held: one more line fits in the queue, the rest are
    // refused.
    logs.run(|| {
        for n in 1..20 {
            tracing::info!(n, "queued or dropped");
        }
    });
    release_tx.send(()).unwrap();
    let lines = logs.lines(Kind::App);
    let summary = lines
        .iter()
        .find(|l| l.record.get("dropped").is_some())
        .expect("a summary line");
    let record = &summary.record;
    assert!(record["dropped"].as_u64().unwrap() >= 1, "{record:?}");
    let id = record["event_id"].as_str().expect("an event_id");
    assert!(
        uuid::Uuid::parse_str(id).is_ok_and(|u| u.get_version_num() == 7),
        "{record:?}"
    );
    assert_eq!(record["service_name"], SERVICE, "{record:?}");
    assert!(record["message"].as_str().is_some(), "{record:?}");
}
