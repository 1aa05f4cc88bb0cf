//! The rules: what they match, what they count, and their own actions.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::action::Action;
use super::prefilter::Keyword;
use super::view::RecordView;
use super::window::{KeyedWindow, Reached};
use super::Alert;
use crate::record::{target, Kind};

type Predicate = Arc<dyn Fn(&RecordView<'_>) -> bool + Send + Sync>;

#[derive(Clone)]
enum Matcher {
    FailedLoginsByIp,
    FailedLoginsByUser,
    Deleted(String),
    ServerErrors {
        rate: f64,
        min_requests: u64,
    },
    /// The predicate, and the one target it reads (all if `None`).
    Predicate(Predicate, Option<String>),
}

/// An alert rule. Made by one of the constructors, adjusted by the others,
/// and given to [`Alerts::rule`](super::Alerts::rule).
///
/// | rule | counts | key | default |
/// |---|---|---|---|
/// | [`failed_logins_per_ip`](Rule::failed_logins_per_ip) | `failed_login` records | `client_ip` | 5 in 60 s |
/// | [`failed_logins_per_user`](Rule::failed_logins_per_user) | `failed_login` records | `user_id` | 5 in 60 s |
/// | [`deleted`](Rule::deleted) | `DELETE`/`BULK_DELETE` of one model | the record | every one |
/// | [`server_errors`](Rule::server_errors) | inbound request records, `status_code` ≥ 500 | the service | rate over 60 s, at least 20 requests |
/// | [`matching`](Rule::matching) | records your predicate accepts | the record | every one |
#[derive(Clone)]
pub struct Rule {
    pub(crate) name: String,
    matcher: Matcher,
    threshold: u64,
    window: Duration,
    max_keys: usize,
    pub(crate) actions: Vec<Action>,
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rule")
            .field("name", &self.name)
            .field("threshold", &self.threshold)
            .field("window", &self.window)
            .field("max_keys", &self.max_keys)
            .field("actions", &self.actions.len())
            .finish_non_exhaustive()
    }
}

/// Default threshold of the failed-login rules.
pub const DEFAULT_THRESHOLD: u64 = 5;
/// Default window of the counting rules.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(60);

/// The longest [`Rule::window`]: a century (`Duration::MAX` would
/// overflow the clock when the quiet time after an alert is set).
pub const MAX_WINDOW: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// Default cap on the keys a rule tracks at once.
pub const DEFAULT_MAX_KEYS: usize = 10_000;

impl Rule {
    fn new(name: &str, matcher: Matcher, threshold: u64) -> Rule {
        Rule {
            name: name.to_owned(),
            matcher,
            threshold,
            window: DEFAULT_WINDOW,
            max_keys: DEFAULT_MAX_KEYS,
            actions: Vec::new(),
        }
    }

    /// `threshold` failed logins (`login_failed!`, or an HTTP login route)
    /// from one `client_ip` within the window: 5 in 60 s unless changed.
    pub fn failed_logins_per_ip() -> Rule {
        Rule::new(
            "failed_logins_per_ip",
            Matcher::FailedLoginsByIp,
            DEFAULT_THRESHOLD,
        )
    }

    /// `threshold` failed logins for one `user_id` within the window: 5 in
    /// 60 s unless changed.
    pub fn failed_logins_per_user() -> Rule {
        Rule::new(
            "failed_logins_per_user",
            Matcher::FailedLoginsByUser,
            DEFAULT_THRESHOLD,
        )
    }

    /// Every `DELETE` or `BULK_DELETE` record of `model` (compared exactly).
    pub fn deleted(model: impl Into<String>) -> Rule {
        let model = model.into();
        Rule::new(&format!("deleted:{model}"), Matcher::Deleted(model), 1)
    }

    /// More than `rate` (0.05 is 5 %) of the inbound requests
    /// (`request_type` `internal`) answered with a status of 500 or more,
    /// over the window, once at least
    /// [`min_requests`](Rule::min_requests) (20) were seen in it.
    pub fn server_errors(rate: f64) -> Rule {
        let rate = if rate.is_finite() {
            rate.clamp(0.0, 1.0)
        } else {
            1.0
        };
        Rule::new(
            "server_errors",
            Matcher::ServerErrors {
                rate,
                min_requests: 20,
            },
            1,
        )
    }

    /// Every record `predicate` accepts (alert records excepted). A panic
    /// in the predicate is caught and counted
    /// ([`AlertStats::rule_panics`](super::AlertStats::rule_panics)); the
    /// record is then taken as not matching.
    pub fn matching<F>(name: impl Into<String>, predicate: F) -> Rule
    where
        F: Fn(&RecordView<'_>) -> bool + Send + Sync + 'static,
    {
        let name = name.into();
        Rule::new(&name, Matcher::Predicate(Arc::new(predicate), None), 1)
    }

    /// For a [`matching`](Rule::matching) rule: reads only records of
    /// `target` (`"audit.crud"`, say). The other records are not even
    /// parsed for it, and records of other kinds not copied.
    pub fn target(mut self, target: impl Into<String>) -> Rule {
        if let Matcher::Predicate(_, only) = &mut self.matcher {
            *only = Some(target.into());
        }
        self
    }

    /// The name written in alerts (each constructor gives one).
    pub fn name(mut self, name: impl Into<String>) -> Rule {
        self.name = name.into();
        self
    }

    /// Records counted before the failed-login rules alert (at least 1).
    pub fn threshold(mut self, n: u64) -> Rule {
        self.threshold = n.max(1);
        self
    }

    /// The sliding window: the span of time counted, and the quiet time
    /// after an alert in which the same key does not alert again. At most
    /// [`MAX_WINDOW`] (a century): a longer one, up to `Duration::MAX`,
    /// counts as that.
    pub fn window(mut self, window: Duration) -> Rule {
        self.window = window.min(MAX_WINDOW);
        self
    }

    /// The fewest requests in the window before [`server_errors`](Rule::server_errors) alerts.
    pub fn min_requests(mut self, n: u64) -> Rule {
        if let Matcher::ServerErrors { min_requests, .. } = &mut self.matcher {
            *min_requests = n.max(1);
        }
        self
    }

    /// The most keys tracked at once (10,000): past it, expired keys are
    /// forgotten, then the one seen least recently, counted in
    /// [`AlertStats::keys_capped`](super::AlertStats::keys_capped).
    pub fn max_keys(mut self, n: usize) -> Rule {
        self.max_keys = n.max(1);
        self
    }

    /// A webhook for this rule's alerts only (besides the ones every alert
    /// goes to).
    pub fn webhook(mut self, webhook: super::Webhook) -> Rule {
        self.actions.push(Action::Webhook(Arc::new(webhook)));
        self
    }

    /// An email for this rule's alerts only.
    #[cfg(feature = "alert-email")]
    pub fn email(mut self, email: super::Email) -> Rule {
        self.actions.push(Action::Email(Arc::new(email)));
        self
    }

    /// A callback for this rule's alerts only (run on the delivery thread).
    pub fn callback<F>(mut self, f: F) -> Rule
    where
        F: Fn(&Alert) + Send + Sync + 'static,
    {
        self.actions.push(Action::Callback(Arc::new(f)));
        self
    }

    pub(crate) fn window_len(&self) -> Duration {
        self.window
    }

    /// The kinds of record this rule reads.
    pub(crate) fn kinds(&self) -> &'static [Kind] {
        match &self.matcher {
            Matcher::FailedLoginsByIp | Matcher::FailedLoginsByUser => &[Kind::Login],
            Matcher::Deleted(_) => &[Kind::Audit],
            Matcher::ServerErrors { .. } => &[Kind::Api],
            Matcher::Predicate(_, Some(t)) => match Kind::of_target(t) {
                Kind::Audit => &[Kind::Audit],
                Kind::Api => &[Kind::Api],
                Kind::Login => &[Kind::Login],
                _ => &[Kind::App],
            },
            Matcher::Predicate(_, None) => &Kind::ALL,
        }
    }

    /// What the caller's thread checks before a line reaches this rule:
    /// the target it reads (`None`: every one) and a word the line must
    /// hold. Never excludes a line the rule would match.
    pub(crate) fn prefilter(&self) -> (Option<&str>, Keyword) {
        match &self.matcher {
            Matcher::FailedLoginsByIp | Matcher::FailedLoginsByUser => {
                (Some(target::LOGIN), Keyword::FailedLogin)
            }
            Matcher::Deleted(_) => (Some(target::CRUD), Keyword::Delete),
            Matcher::ServerErrors { .. } => (Some(target::REQUEST), Keyword::None),
            Matcher::Predicate(_, only) => (only.as_deref(), Keyword::None),
        }
    }

    pub(crate) fn arm(&self) -> Armed {
        let state = match self.matcher {
            Matcher::FailedLoginsByIp | Matcher::FailedLoginsByUser => {
                State::Keyed(KeyedWindow::new(self.threshold, self.window, self.max_keys))
            }
            Matcher::ServerErrors { .. } => State::Rate(RateWindow::new(self.window)),
            _ => State::None,
        };
        Armed {
            rule: self.clone(),
            state,
        }
    }
}

/// What a rule found.
#[derive(Debug)]
pub(crate) struct Fired {
    pub(crate) key: String,
    pub(crate) count: u64,
    pub(crate) threshold: u64,
    pub(crate) event_ids: Vec<String>,
    pub(crate) message: String,
}

/// A rule with its state, on the rules thread.
pub(crate) struct Armed {
    pub(crate) rule: Rule,
    state: State,
}

enum State {
    None,
    Keyed(KeyedWindow),
    Rate(RateWindow),
}

impl Armed {
    /// Evaluates one record; `capped` is set when the key cap was hit.
    pub(crate) fn check(
        &mut self,
        view: &RecordView<'_>,
        at: Instant,
        capped: &mut bool,
    ) -> Option<Fired> {
        let rule = &self.rule;
        let id = view.event_id();
        match (&rule.matcher, &mut self.state) {
            (Matcher::FailedLoginsByIp, State::Keyed(w))
            | (Matcher::FailedLoginsByUser, State::Keyed(w)) => {
                if view.name() != target::LOGIN || view.str("event") != Some("failed_login") {
                    return None;
                }
                let by_ip = matches!(rule.matcher, Matcher::FailedLoginsByIp);
                // No address (`null`) or no user (`""`): nothing to count by.
                let key = view
                    .str(if by_ip { "client_ip" } else { "user_id" })
                    .filter(|k| !k.is_empty())?;
                let Reached { count, event_ids } = w.hit(key, at, id, capped)?;
                let what = if by_ip { "from" } else { "for user" };
                Some(Fired {
                    key: key.to_owned(),
                    count,
                    threshold: rule.threshold,
                    event_ids,
                    message: format!(
                        "{count} failed logins {what} {key} within {} s",
                        rule.window.as_secs_f64()
                    ),
                })
            }
            (Matcher::Deleted(model), _) => {
                let event = view.str("event_type")?;
                if view.name() != target::CRUD
                    || view.str("model") != Some(model.as_str())
                    || !(event == "DELETE" || event == "BULK_DELETE")
                {
                    return None;
                }
                let instance = view
                    .str("instance_id")
                    .map(|i| format!(" (id: {i})"))
                    .unwrap_or_default();
                Some(single(id, format!("{event} of {model}{instance}")))
            }
            (Matcher::ServerErrors { rate, min_requests }, State::Rate(w)) => {
                if view.name() != target::REQUEST
                    || view.str("request_type").is_some_and(|t| t != "internal")
                {
                    return None;
                }
                let status = view.u64("response_repr.status_code")?;
                let (errors, total) = w.hit(at, status >= 500, *rate, *min_requests)?;
                Some(Fired {
                    key: "service".to_owned(),
                    count: errors,
                    threshold: *min_requests,
                    event_ids: vec![id.to_owned()],
                    message: format!(
                        "{errors} of {total} requests answered 5xx within {} s (over {:.1} %)",
                        rule.window.as_secs_f64(),
                        rate * 100.0
                    ),
                })
            }
            (Matcher::Predicate(p, only), _) => {
                if only.as_deref().is_some_and(|t| view.name() != t) || !p(view) {
                    return None;
                }
                let message = format!("{} matched {}", rule.name, view.name());
                Some(single(id, message))
            }
            _ => None,
        }
    }
}

fn single(event_id: &str, message: String) -> Fired {
    Fired {
        key: event_id.to_owned(),
        count: 1,
        threshold: 1,
        event_ids: vec![event_id.to_owned()],
        message,
    }
}

/// Errors and totals over a sliding window, in ten buckets.
struct RateWindow {
    bucket: Duration,
    /// (bucket start, errors, total), oldest first, at most ten.
    buckets: std::collections::VecDeque<(Instant, u64, u64)>,
    quiet_until: Option<Instant>,
}

impl RateWindow {
    fn new(window: Duration) -> RateWindow {
        RateWindow {
            bucket: (window / 10).max(Duration::from_millis(1)),
            buckets: std::collections::VecDeque::with_capacity(11),
            quiet_until: None,
        }
    }

    /// Counts one request; `Some((errors, total))` when the error rate
    /// crosses `rate` (and no alert was given in the last window).
    fn hit(&mut self, at: Instant, error: bool, rate: f64, min: u64) -> Option<(u64, u64)> {
        let span = self.bucket * 10;
        while let Some((start, _, _)) = self.buckets.front() {
            if at.saturating_duration_since(*start) >= span {
                self.buckets.pop_front();
            } else {
                break;
            }
        }
        match self.buckets.back_mut() {
            Some((start, e, t)) if at.saturating_duration_since(*start) < self.bucket => {
                *e += u64::from(error);
                *t += 1;
            }
            _ => self.buckets.push_back((at, u64::from(error), 1)),
        }
        let (errors, total) = self
            .buckets
            .iter()
            .fold((0, 0), |(e, t), (_, be, bt)| (e + be, t + bt));
        if total < min || (errors as f64) <= rate * total as f64 {
            return None;
        }
        if self.quiet_until.is_some_and(|q| at < q) {
            return None;
        }
        self.quiet_until = Some(at + span);
        Some((errors, total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_rate_alerts_once_past_the_minimum() {
        let mut w = RateWindow::new(Duration::from_secs(60));
        let t = Instant::now();
        // 10 requests, all failing: below the minimum of 20.
        for i in 0..10 {
            assert!(w.hit(t + Duration::from_millis(i), true, 0.5, 20).is_none());
        }
        // 10 good ones: 10 of 20 is 50 %, not above 50 %.
        let mut fired = None;
        for i in 10..20 {
            fired = fired.or(w.hit(t + Duration::from_millis(i), false, 0.5, 20));
        }
        assert!(fired.is_none());
        assert_eq!(
            w.hit(t + Duration::from_millis(30), true, 0.5, 20),
            Some((11, 21))
        );
        // Once per window.
        assert!(w
            .hit(t + Duration::from_millis(31), true, 0.5, 20)
            .is_none());
        // Old buckets leave the window.
        assert!(w.hit(t + Duration::from_secs(200), true, 0.5, 1).is_some());
    }
}
