#![doc = include_str!("../docs/alerts.md")]

mod action;
mod deliver;
#[cfg(feature = "alert-email")]
mod email;
pub(crate) mod engine;
mod prefilter;
mod rule;
mod stats;
mod view;
mod window;

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::{json, Value};

use action::Action;
pub use action::{sign, Webhook};
#[cfg(feature = "alert-email")]
pub use email::{AddressError, Email};
pub use rule::{Rule, DEFAULT_MAX_KEYS, DEFAULT_THRESHOLD, DEFAULT_WINDOW, MAX_WINDOW};
pub use stats::AlertStats;
pub use view::RecordView;

/// The alert rules and the actions every alert takes, given to
/// [`Builder::alerts`](crate::Builder::alerts).
#[must_use]
pub struct Alerts {
    rules: Vec<Rule>,
    actions: Vec<Action>,
    queue_capacity: usize,
    delivery_capacity: usize,
    shutdown_timeout: Duration,
}

impl fmt::Debug for Alerts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Alerts")
            .field("rules", &self.rules)
            .field("actions", &self.actions.len())
            .field("queue_capacity", &self.queue_capacity)
            .field("delivery_capacity", &self.delivery_capacity)
            .finish_non_exhaustive()
    }
}

impl Default for Alerts {
    fn default() -> Self {
        Alerts::new()
    }
}

impl Alerts {
    /// No rules yet; queues of 65,536 records and 1,024 deliveries.
    pub fn new() -> Alerts {
        Alerts {
            rules: Vec::new(),
            actions: Vec::new(),
            queue_capacity: 65_536,
            delivery_capacity: 1024,
            shutdown_timeout: Duration::from_secs(5),
        }
    }

    /// Adds a rule.
    pub fn rule(mut self, rule: Rule) -> Alerts {
        self.rules.push(rule);
        self
    }

    /// A webhook every alert is POSTed to.
    pub fn webhook(mut self, webhook: Webhook) -> Alerts {
        self.actions.push(Action::Webhook(Arc::new(webhook)));
        self
    }

    /// An email every alert is sent as.
    #[cfg(feature = "alert-email")]
    pub fn email(mut self, email: Email) -> Alerts {
        self.actions.push(Action::Email(Arc::new(email)));
        self
    }

    /// A callback run with every alert, on the delivery thread (a panic in
    /// it is caught and counted as a failed delivery).
    pub fn callback<F>(mut self, f: F) -> Alerts
    where
        F: Fn(&Alert) + Send + Sync + 'static,
    {
        self.actions.push(Action::Callback(Arc::new(f)));
        self
    }

    /// The largest [`queue_capacity`](Self::queue_capacity) and
    /// [`delivery_capacity`](Self::delivery_capacity): 1,048,576 (the
    /// queues' slots are made when the logs start, so a larger number
    /// would only exhaust memory); a larger number is taken as this one.
    pub const MAX_CAPACITY: usize = 1 << 20;

    /// Records queued for the rules before more are dropped (counted in
    /// [`AlertStats::records_dropped`]); the application never waits.
    /// 1 to [`MAX_CAPACITY`](Self::MAX_CAPACITY).
    pub fn queue_capacity(mut self, records: usize) -> Alerts {
        self.queue_capacity = records.clamp(1, Self::MAX_CAPACITY);
        self
    }

    /// Deliveries queued (retries included) before more are dropped
    /// (counted in [`AlertStats::deliveries_dropped`]). 1 to
    /// [`MAX_CAPACITY`](Self::MAX_CAPACITY).
    pub fn delivery_capacity(mut self, deliveries: usize) -> Alerts {
        self.delivery_capacity = deliveries.clamp(1, Self::MAX_CAPACITY);
        self
    }

    /// How long dropping the guard waits for pending deliveries (5 s);
    /// what is left is counted in [`AlertStats::deliveries_abandoned`].
    /// At most a century ([`MAX_WINDOW`]): a longer one, up to
    /// `Duration::MAX`, waits that long.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Alerts {
        self.shutdown_timeout = timeout.min(MAX_WINDOW);
        self
    }

    pub(crate) fn timeout(&self) -> Duration {
        self.shutdown_timeout
    }
}

/// One alert: what a rule found, given to callbacks and sent as the
/// webhook payload ([`payload`](Alert::payload)).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Alert {
    /// A UUIDv7, also in the `audit.alert` record and the `X-Alert-Id`
    /// header.
    pub alert_id: String,
    /// When the alert was raised (RFC 3339 UTC, six decimals).
    pub timestamp: String,
    /// The rule's name.
    pub rule: String,
    /// What the rule counted by (the address, the user), or for rules that
    /// alert on every record the record's `event_id` (`"service"` for the
    /// 5xx rate).
    pub key: String,
    /// Records counted (5xx answers for the rate rule).
    pub count: u64,
    /// The rule's threshold (the fewest requests for the rate rule).
    pub threshold: u64,
    /// The rule's window.
    pub window: Duration,
    /// What happened, in words.
    pub message: String,
    /// The `event_id`s of the records that made the alert.
    pub event_ids: Vec<String>,
    /// The record that triggered it, as written (redacted).
    pub record: Value,
    payload: OnceLock<String>,
}

impl Alert {
    fn new(rule: &Rule, fired: rule::Fired, record: &Value) -> Alert {
        let mut timestamp = String::with_capacity(27);
        let since = crate::clock::write_now_rfc3339(&mut timestamp);
        Alert {
            alert_id: crate::event_id::at(since).to_string(),
            timestamp,
            rule: rule.name.clone(),
            key: fired.key,
            count: fired.count,
            threshold: fired.threshold,
            window: rule.window_len(),
            message: fired.message,
            event_ids: fired.event_ids,
            record: record.clone(),
            payload: OnceLock::new(),
        }
    }

    /// The webhook payload: one JSON object (see the schema), made once.
    pub fn payload(&self) -> &str {
        self.payload.get_or_init(|| {
            json!({
                "alert_id": self.alert_id,
                "timestamp": self.timestamp,
                "rule": self.rule,
                "key": self.key,
                "count": self.count,
                "threshold": self.threshold,
                "window_secs": self.window.as_secs_f64(),
                "message": self.message,
                "event_ids": self.event_ids,
                "service_name": self.record.get("service_name"),
                "record": self.record,
            })
            .to_string()
        })
    }
}
