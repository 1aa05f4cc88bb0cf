//! The rules thread and the observer that feeds it from the layer.

use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError, TrySendError};
use serde_json::Value;
use tracing_core::dispatcher::WeakDispatch;
use tracing_core::Dispatch;

use super::action::Action;
use super::deliver::{self, Queue};
use super::prefilter::Prefilter;
use super::rule::{Armed, Fired};
use super::stats::{bump, Counters};
use super::view::RecordView;
use super::{Alert, AlertStats, Alerts};
use crate::record::{target, AlertRecord, Kind};
use crate::sink::Observer;
use crate::unwind;

enum Msg {
    Line {
        at: Instant,
        kind: Kind,
        line: Vec<u8>,
    },
    /// Evaluate what came before, deliver until the deadline, then say so.
    Stop(Instant, Sender<()>),
}

/// What the engine's threads and handles share.
struct Shared {
    counters: Arc<Counters>,
    /// The subscriber the layer is in: alert records go through it.
    dispatch: Mutex<Option<WeakDispatch>>,
}

/// The layer's end: copies the lines the rules read into their queue,
/// never waiting.
pub(crate) struct Engine {
    tx: Sender<Msg>,
    /// The rules' tests of a line on the caller's thread (their state is
    /// on the rules thread).
    prefilter: Prefilter,
    shared: Arc<Shared>,
}

impl Observer for Engine {
    fn line(&self, kind: Kind, target: &str, line: &[u8]) {
        // The audit kinds' lines carry their target as it is; an
        // application record's may be escaped or cut, so it is read from
        // the line (or left to the parser).
        let name = match kind {
            Kind::App => target_of(line),
            _ => Some(target),
        };
        if !self.prefilter.wants(kind, name, line) {
            return;
        }
        let msg = Msg::Line {
            at: Instant::now(),
            kind,
            line: line.to_vec(),
        };
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = self.tx.try_send(msg) {
            bump(&self.shared.counters.records_dropped);
        }
    }

    fn dispatch(&self, dispatch: &Dispatch) {
        *self
            .shared
            .dispatch
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(dispatch.downgrade());
    }
}

/// The guard's end: statistics and shutdown.
pub(crate) struct Handle {
    tx: Sender<Msg>,
    /// The rules' queue, read when the shutdown gives up on it: each line
    /// taken here is counted as dropped, each taken by the rules thread is
    /// evaluated, so none is both or neither.
    rx: Receiver<Msg>,
    shared: Arc<Shared>,
    stopped: bool,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertHandle").finish_non_exhaustive()
    }
}

impl Handle {
    pub(crate) fn stats(&self) -> AlertStats {
        self.shared.counters.snapshot()
    }

    /// Evaluates the records already queued, delivers what it can within
    /// `timeout`, and stops both threads (idempotent).
    pub(crate) fn shutdown(&mut self, timeout: Duration) {
        if std::mem::replace(&mut self.stopped, true) {
            return;
        }
        let timeout = timeout.min(super::MAX_WINDOW);
        let deadline = Instant::now() + timeout;
        let (done_tx, done_rx) = crossbeam_channel::bounded(1);
        let stopped = self
            .tx
            .send_timeout(Msg::Stop(deadline, done_tx), timeout)
            .is_ok()
            // A little past the deadline: the thread counts what it
            // abandons before it answers.
            && done_rx
                .recv_timeout(timeout.saturating_add(Duration::from_secs(1)))
                .is_ok();
        if !stopped {
            // A delivery stuck in an attempt (a webhook that never answers)
            // holds the thread: what it has not ended is abandoned now, so
            // that the stats say so when the guard is gone.
            self.shared.counters.abandon_outstanding();
            // The records still queued will not be evaluated before the
            // guard is gone: counted as dropped rather than left uncounted.
            while let Ok(msg) = self.rx.try_recv() {
                if let Msg::Line { .. } = msg {
                    bump(&self.shared.counters.records_dropped);
                }
            }
            // The stop just taken, if it was queued, is sent again: the
            // rules thread ends once its record is done.
            let (done_tx, _) = crossbeam_channel::bounded(1);
            let _ = self.tx.try_send(Msg::Stop(Instant::now(), done_tx));
        }
        let s = self.stats();
        if s.records_dropped > 0 || s.deliveries_lost() > 0 {
            report!(
                "tracing-audit: alert rules skipped {} record(s) (a full queue, or still queued at shutdown); {} alert delivery(ies) lost ({} failed, {} dropped, {} abandoned at shutdown)",
                s.records_dropped,
                s.deliveries_lost(),
                s.deliveries_failed,
                s.deliveries_dropped,
                s.deliveries_abandoned
            );
        }
    }
}

/// Starts the rules and delivery threads.
pub(crate) fn start(alerts: Alerts) -> std::io::Result<(Engine, Handle)> {
    let counters = Arc::new(Counters::default());
    let shared = Arc::new(Shared {
        counters: Arc::clone(&counters),
        dispatch: Mutex::new(None),
    });
    let (queue, delivery) = deliver::start(alerts.delivery_capacity, Arc::clone(&counters))?;
    let (tx, rx) = crossbeam_channel::bounded(alerts.queue_capacity.max(1));
    let prefilter = Prefilter::new(&alerts.rules);
    let rules = Rules {
        armed: alerts.rules.iter().map(|r| r.arm()).collect(),
        actions: alerts.actions,
        queue,
        shared: Arc::clone(&shared),
    };
    let rx_for_handle = rx.clone();
    std::thread::Builder::new()
        .name("tracing-audit-alert-rules".into())
        .spawn(move || rules.run(rx, delivery))?;
    Ok((
        Engine {
            tx: tx.clone(),
            prefilter,
            shared: Arc::clone(&shared),
        },
        Handle {
            tx,
            rx: rx_for_handle,
            shared,
            stopped: false,
        },
    ))
}

/// The target (`name`) of a line the layer wrote, found without parsing:
/// the envelope writes it first among string values that could contain
/// `"name":"`, after `timestamp` and `level`. `None` when it is not there
/// or holds an escape (the caller then parses).
fn target_of(line: &[u8]) -> Option<&str> {
    const KEY: &[u8] = b"\"name\":\"";
    let head = &line[..line.len().min(160)];
    // One searcher for every line: building one per call cost more than
    // the search.
    static FINDER: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new(KEY));
    let start = FINDER.find(head)? + KEY.len();
    let len = memchr::memchr2(b'"', b'\\', &line[start..])?;
    if line.get(start + len) != Some(&b'"') {
        return None;
    }
    std::str::from_utf8(&line[start..start + len]).ok()
}

/// How long the rules thread sleeps between two looks at an empty queue
/// while lines keep coming.
const NAP: Duration = Duration::from_millis(2);
/// How long after the last line it keeps napping before it blocks.
const IDLE_AFTER: Duration = Duration::from_millis(50);

/// The next message; `None` once every sender is gone.
///
/// While lines keep coming (the last less than [`IDLE_AFTER`] ago) the
/// thread naps between looks at an empty queue instead of blocking on it:
/// a blocked receiver is woken by a system call on the sending side, which
/// is the application's thread, once per line when lines come one at a
/// time (a request record for the 5xx rule, say). Napping, it is woken by
/// nobody; a line waits at most [`NAP`] more. Idle, it blocks, so that it
/// costs no CPU.
fn next_message(rx: &Receiver<Msg>, last: &mut Instant) -> Option<Msg> {
    loop {
        match rx.try_recv() {
            Ok(msg) => {
                *last = Instant::now();
                return Some(msg);
            }
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) if last.elapsed() < IDLE_AFTER => std::thread::sleep(NAP),
            Err(TryRecvError::Empty) => {
                let msg = rx.recv().ok()?;
                *last = Instant::now();
                return Some(msg);
            }
        }
    }
}

struct Rules {
    armed: Vec<Armed>,
    /// The actions every alert takes.
    actions: Vec<Action>,
    queue: Queue,
    shared: Arc<Shared>,
}

impl Rules {
    fn run(mut self, rx: Receiver<Msg>, delivery: std::thread::JoinHandle<()>) {
        let counters = Arc::clone(&self.shared.counters);
        let mut last = Instant::now();
        while let Some(msg) = next_message(&rx, &mut last) {
            match msg {
                Msg::Line { at, kind, line } => {
                    // Nothing in a record can stop this thread: a panic in
                    // the rules is caught per rule, the parse is bounded by
                    // serde_json's recursion limit.
                    let Ok(value) = serde_json::from_slice::<Value>(&line) else {
                        bump(&counters.records_unparsed);
                        continue;
                    };
                    bump(&counters.records_seen);
                    self.evaluate(&value, kind, at);
                }
                Msg::Stop(deadline, done) => {
                    self.queue.stop(deadline);
                    let _ = delivery.join();
                    let _ = done.send(());
                    return;
                }
            }
        }
    }

    fn evaluate(&mut self, value: &Value, kind: Kind, at: Instant) {
        let view = RecordView::new(value);
        if view.name() == target::ALERT {
            return;
        }
        let counters = Arc::clone(&self.shared.counters);
        for i in 0..self.armed.len() {
            if !self.armed[i].rule.kinds().contains(&kind) {
                continue;
            }
            let mut capped = false;
            let armed = &mut self.armed[i];
            match unwind::catch(|| armed.check(&view, at, &mut capped)) {
                Ok(Some(fired)) => self.fire(i, fired, value),
                Ok(None) => {}
                Err(_) => bump(&counters.rule_panics),
            }
            if capped {
                bump(&counters.keys_capped);
            }
        }
    }

    fn fire(&self, rule: usize, fired: Fired, record: &Value) {
        let rule = &self.armed[rule].rule;
        let alert = Arc::new(Alert::new(rule, fired, record));
        bump(&self.shared.counters.alerts);
        self.emit(&alert);
        for action in self.actions.iter().chain(&rule.actions) {
            self.queue.push(&alert, action);
        }
    }

    /// The `audit.alert` record, through the layer's subscriber like any
    /// record.
    fn emit(&self, alert: &Alert) {
        let body = AlertRecord {
            alert_id: &alert.alert_id,
            rule: &alert.rule,
            key: &alert.key,
            count: alert.count,
            threshold: alert.threshold,
            window_secs: alert.window.as_secs_f64(),
            event_ids: &alert.event_ids,
            message: &alert.message,
        };
        let emit = || {
            tracing::event!(
                target: crate::record::target::ALERT,
                tracing::Level::WARN,
                audit = tracing::field::debug(&body)
            )
        };
        let dispatch = self
            .shared
            .dispatch
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .and_then(WeakDispatch::upgrade);
        match dispatch {
            Some(d) => tracing::dispatcher::with_default(&d, emit),
            None => emit(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::Rule;

    #[test]
    fn the_target_is_read_from_the_envelope_or_left_to_the_parser() {
        let line = br#"{"timestamp":"2026-11-29T10:00:00.000000Z","level":"AUDIT","name":"audit.crud","message":"\"name\":\"x\""}"#;
        assert_eq!(target_of(line), Some("audit.crud"));
        assert_eq!(target_of(br#"{"level":"INFO","name":"my\"app"}"#), None);
        assert_eq!(target_of(br#"{"level":"INFO","name":"unterminated"#), None);
        assert_eq!(target_of(b"\xff\xfe"), None);
        assert_eq!(target_of(b""), None);
    }

    #[test]
    fn lines_that_are_not_json_are_counted_and_the_thread_goes_on() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&seen);
        let alerts = Alerts::new()
            .rule(Rule::matching("any login", |r| r.name() == "audit.login"))
            .callback(move |a| kept.lock().unwrap().push(a.key.clone()));
        let (engine, mut handle) = start(alerts).unwrap();
        let deep = "[".repeat(100_000);
        engine.line(Kind::Login, "audit.login", b"\xff\xfe\x00 not json at all");
        engine.line(Kind::Login, "audit.login", deep.as_bytes());
        engine.line(
            Kind::Login,
            "audit.login",
            b"{\"name\":\"audit.login\",\"event_id\":\"e\xff1\"}",
        );
        engine.line(
            Kind::Login,
            "audit.login",
            b"{\"name\":\"audit.login\",\"event_id\":\"e2\"}",
        );
        handle.shutdown(Duration::from_secs(30));
        let stats = handle.stats();
        assert_eq!(stats.records_unparsed, 3, "{stats:?}");
        assert_eq!(stats.records_seen, 1);
        assert_eq!(stats.alerts, 1);
        assert_eq!(*seen.lock().unwrap(), ["e2"]);
    }

    #[test]
    fn lines_are_evaluated_whether_the_thread_naps_or_blocks() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&seen);
        let alerts = Alerts::new()
            .rule(Rule::matching("any", |_| true))
            .callback(move |a| kept.lock().unwrap().push(a.key.clone()));
        let (engine, mut handle) = start(alerts).unwrap();
        let line = |id: &str| format!("{{\"name\":\"jobs\",\"event_id\":\"{id}\"}}");
        // A burst, taken while the thread naps between looks at the queue.
        for i in 0..100 {
            engine.line(Kind::App, "jobs", line(&format!("burst-{i}")).as_bytes());
        }
        // Long enough idle for the thread to block on the queue: the next
        // line wakes it.
        std::thread::sleep(IDLE_AFTER * 3);
        engine.line(Kind::App, "jobs", line("after-idle").as_bytes());
        handle.shutdown(Duration::from_secs(30));
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 101, "{:?}", handle.stats());
        assert_eq!(seen[0], "burst-0");
        assert_eq!(seen[100], "after-idle");
    }

    #[test]
    fn a_full_queue_drops_and_counts_without_waiting() {
        let alerts = Alerts::new()
            .rule(Rule::matching("slow", |_| {
                std::thread::sleep(Duration::from_millis(50));
                false
            }))
            .queue_capacity(1);
        let (engine, mut handle) = start(alerts).unwrap();
        for _ in 0..20 {
            engine.line(Kind::App, "x", b"{\"name\":\"x\"}");
        }
        let dropped = handle.stats().records_dropped;
        handle.shutdown(Duration::from_secs(30));
        let stats = handle.stats();
        assert!(dropped >= 1, "{stats:?}");
        assert_eq!(stats.records_seen + stats.records_dropped, 20, "{stats:?}");
    }
}
