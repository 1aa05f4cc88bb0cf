//! The delivery thread: webhooks, emails and callbacks, off the rules
//! thread and the application's, with retries, backoff and a bounded
//! queue.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};

use super::action::{backoff, Action, Webhook};
use super::stats::{bump, Counters};
use super::Alert;
use crate::unwind;

/// One alert to deliver one way.
pub(crate) struct Job {
    pub(crate) alert: Arc<Alert>,
    pub(crate) action: Action,
    attempt: u32,
    due: Instant,
}

/// The rules thread's end of the delivery queue.
pub(crate) struct Queue {
    tx: Sender<Job>,
    stop: Sender<Instant>,
    counters: Arc<Counters>,
}

impl Queue {
    /// Queues a delivery; a full queue drops it, counted.
    pub(crate) fn push(&self, alert: &Arc<Alert>, action: &Action) {
        let job = Job {
            alert: Arc::clone(alert),
            action: action.clone(),
            attempt: 0,
            due: Instant::now(),
        };
        self.counters.delivery_queued();
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = self.tx.try_send(job) {
            if self.counters.delivery_ended() {
                bump(&self.counters.deliveries_dropped);
            }
        }
    }

    /// Asks the thread to deliver what it holds until `deadline`, then
    /// stop.
    pub(crate) fn stop(&self, deadline: Instant) {
        let _ = self.stop.try_send(deadline);
    }
}

/// Starts the delivery thread. `capacity` bounds the queue and, apart, the
/// deliveries held for a retry: when those are full, the queue fills and
/// further deliveries are dropped (counted).
pub(crate) fn start(
    capacity: usize,
    counters: Arc<Counters>,
) -> std::io::Result<(Queue, std::thread::JoinHandle<()>)> {
    let capacity = capacity.max(1);
    let (tx, rx) = crossbeam_channel::bounded(capacity);
    let (stop, stop_rx) = crossbeam_channel::bounded(1);
    let thread_counters = Arc::clone(&counters);
    let handle = std::thread::Builder::new()
        .name("tracing-audit-alert-delivery".into())
        .spawn(move || Deliverer::new(thread_counters, capacity).run(&rx, &stop_rx))?;
    Ok((Queue { tx, stop, counters }, handle))
}

struct Deliverer {
    counters: Arc<Counters>,
    capacity: usize,
    client: Option<reqwest::blocking::Client>,
    pending: Vec<Job>,
    /// Failures already reported on stderr.
    reported: u64,
}

impl Deliverer {
    fn new(counters: Arc<Counters>, capacity: usize) -> Deliverer {
        Deliverer {
            counters,
            capacity,
            client: None,
            pending: Vec::new(),
            reported: 0,
        }
    }

    fn run(mut self, jobs: &Receiver<Job>, stop: &Receiver<Instant>) {
        let never_job = crossbeam_channel::never();
        let never_stop = crossbeam_channel::never();
        let mut deadline: Option<Instant> = None;
        let (mut jobs_open, mut stop_open) = (true, true);
        loop {
            let now = Instant::now();
            let next = self.pending.iter().map(|j| j.due).min();
            let mut wait = next.map_or(Duration::from_secs(3600), |d| {
                d.saturating_duration_since(now)
            });
            if let Some(dl) = deadline {
                wait = wait.min(dl.saturating_duration_since(now));
            }
            // Retries held at capacity: new jobs wait in the queue.
            let room = self.pending.len() < self.capacity;
            let job_rx = if room && jobs_open { jobs } else { &never_job };
            let stop_rx = if stop_open { stop } else { &never_stop };
            crossbeam_channel::select! {
                recv(job_rx) -> job => match job {
                    Ok(job) => self.pending.push(job),
                    Err(_) => jobs_open = false,
                },
                recv(stop_rx) -> dl => match dl {
                    Ok(dl) => deadline = Some(dl),
                    Err(_) => {
                        stop_open = false;
                        deadline.get_or_insert_with(Instant::now);
                    }
                },
                default(wait) => {}
            }
            while self.pending.len() < self.capacity {
                match jobs.try_recv() {
                    Ok(job) => self.pending.push(job),
                    Err(_) => break,
                }
            }
            self.run_due(deadline);
            if let Some(dl) = deadline {
                if (self.pending.is_empty() && jobs.is_empty()) || Instant::now() >= dl {
                    // What is still pending or queued (and nothing else:
                    // a shutdown that stopped waiting counted its share).
                    self.counters.abandon_outstanding();
                    return;
                }
            }
        }
    }

    /// Attempts every job that is due, rescheduling the failures; none
    /// once the shutdown `deadline` has passed (they stay pending, to be
    /// counted as abandoned).
    fn run_due(&mut self, deadline: Option<Instant>) {
        let now = Instant::now();
        let (due, later): (Vec<Job>, Vec<Job>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|j| j.due <= now);
        self.pending = later;
        let mut due = due.into_iter();
        while let Some(mut job) = due.next() {
            if deadline.is_some_and(|dl| Instant::now() >= dl) {
                self.pending.push(job);
                self.pending.extend(due);
                return;
            }
            match self.attempt(&job) {
                Ok(()) => {
                    if self.counters.delivery_ended() {
                        bump(&self.counters.delivered);
                    }
                }
                Err(why) => {
                    let (retries, base) = job.action.retry();
                    if job.attempt < retries {
                        bump(&self.counters.retries);
                        job.due = Instant::now() + backoff(base, job.attempt);
                        job.attempt += 1;
                        self.pending.push(job);
                    } else if self.counters.delivery_ended() {
                        bump(&self.counters.deliveries_failed);
                        self.report(&job, &why);
                    }
                }
            }
        }
    }

    fn attempt(&mut self, job: &Job) -> Result<(), String> {
        match &job.action {
            // A panic inside the HTTP client is a failed attempt, not the
            // end of the thread (and of every delivery after it).
            Action::Webhook(w) => {
                let (w, alert) = (Arc::clone(w), Arc::clone(&job.alert));
                unwind::catch(|| self.post(&w, &alert))?
            }
            #[cfg(feature = "alert-email")]
            Action::Email(e) => {
                let (e, alert) = (Arc::clone(e), Arc::clone(&job.alert));
                unwind::catch(move || e.send(&alert))?
            }
            Action::Callback(f) => {
                let (f, alert) = (Arc::clone(f), Arc::clone(&job.alert));
                unwind::catch(move || f(&alert))
            }
        }
    }

    fn post(&mut self, webhook: &Webhook, alert: &Alert) -> Result<(), String> {
        if self.client.is_none() {
            let client = reqwest::blocking::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| e.to_string())?;
            self.client = Some(client);
        }
        let Some(client) = &self.client else {
            return Err("no HTTP client".to_owned());
        };
        let body = alert.payload().as_bytes().to_vec();
        let mut request = client
            .post(&webhook.url)
            .timeout(webhook.timeout)
            .header("content-type", "application/json")
            .header("x-alert-id", &alert.alert_id);
        if let Some(sig) = webhook.signature(&body) {
            request = request.header("x-signature", sig);
        }
        // The error without the URL, which may hold secrets.
        let response = request
            .body(body)
            .send()
            .map_err(|e| e.without_url().to_string())?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("answered {status}"))
        }
    }

    /// Reports a delivery given up on, on stderr: the first and then every
    /// 100th.
    fn report(&mut self, job: &Job, why: &str) {
        if self.reported.is_multiple_of(100) {
            let to = match &job.action {
                Action::Webhook(w) => w.shown_url(),
                #[cfg(feature = "alert-email")]
                Action::Email(_) => "email".to_owned(),
                Action::Callback(_) => "callback".to_owned(),
            };
            report!(
                "tracing-audit: alert {} ({}) could not be delivered to {to}: {why}; {} failed so far",
                job.alert.alert_id,
                job.alert.rule,
                self.reported + 1
            );
        }
        self.reported += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::rule::Fired;
    use crate::alert::Rule;

    #[test]
    fn retries_held_and_queued_are_bounded_and_the_rest_is_counted() {
        let counters = Arc::new(Counters::default());
        let (queue, handle) = start(2, Arc::clone(&counters)).unwrap();
        // Nothing listens on port 9 of loopback: every attempt fails, and
        // is retried only after a minute.
        let action = Action::Webhook(Arc::new(
            Webhook::new("http://127.0.0.1:9/")
                .retries(100)
                .backoff(Duration::from_secs(60)),
        ));
        let fired = || Fired {
            key: "k".into(),
            count: 1,
            threshold: 1,
            event_ids: vec![],
            message: "m".into(),
        };
        let rule = Rule::deleted("Invoice");
        for _ in 0..10 {
            let alert = Arc::new(Alert::new(&rule, fired(), &serde_json::json!({})));
            queue.push(&alert, &action);
        }
        queue.stop(Instant::now() + Duration::from_millis(200));
        handle.join().unwrap();
        let s = counters.snapshot();
        // At most two held for a retry and two queued: six or more dropped.
        assert!(s.deliveries_dropped >= 6, "{s:?}");
        assert_eq!(s.delivered, 0);
        assert_eq!(
            s.deliveries_dropped + s.deliveries_abandoned + s.deliveries_failed,
            10,
            "{s:?}"
        );
    }
}
