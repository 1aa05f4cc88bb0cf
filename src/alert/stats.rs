//! The alert engine's counters.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// What the alert engine saw, found and delivered, from
/// [`AuditGuard::alert_stats`](crate::AuditGuard::alert_stats).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AlertStats {
    /// Records the rules evaluated. A record no rule can match (told by a
    /// scan of the line on the caller's thread: its target, a keyword such
    /// as `failed_login` or `DELETE`) is passed over uncopied, uncounted.
    pub records_seen: u64,
    /// Records not evaluated because the rules' queue was full (the
    /// application is never made to wait), or because they were still
    /// queued when the [`shutdown_timeout`](super::Alerts::shutdown_timeout)
    /// ran out: the rules missed them (they are in their files all the
    /// same).
    pub records_dropped: u64,
    /// Lines that did not parse as JSON (never the crate's own).
    pub records_unparsed: u64,
    /// Alerts raised.
    pub alerts: u64,
    /// Keys a rule forgot early because it tracked its
    /// [`max_keys`](super::Rule::max_keys).
    pub keys_capped: u64,
    /// Panics in rules (a user predicate) caught on the rules thread.
    pub rule_panics: u64,
    /// Deliveries (webhook, email, callback) that succeeded.
    pub delivered: u64,
    /// Attempts that failed and were retried.
    pub retries: u64,
    /// Deliveries given up on after their last retry.
    pub deliveries_failed: u64,
    /// Deliveries refused because the delivery queue was full.
    pub deliveries_dropped: u64,
    /// Deliveries still pending when the guard was dropped and the
    /// shutdown deadline passed, the one in an attempt that has not ended
    /// by then (a webhook that does not answer) included: when the guard's
    /// shutdown returns, every delivery is delivered or counted lost.
    pub deliveries_abandoned: u64,
}

impl AlertStats {
    /// Deliveries lost: failed, dropped and abandoned.
    pub fn deliveries_lost(&self) -> u64 {
        self.deliveries_failed + self.deliveries_dropped + self.deliveries_abandoned
    }
}

macro_rules! counters {
    ($($name:ident),* $(,)?) => {
        /// The live counters behind [`AlertStats`].
        #[derive(Debug, Default)]
        pub(crate) struct Counters {
            $(pub(crate) $name: AtomicU64,)*
            /// Deliveries queued and not yet ended (delivered, failed or
            /// abandoned): what a shutdown that stops waiting abandons.
            outstanding: AtomicU64,
        }

        impl Counters {
            pub(crate) fn snapshot(&self) -> AlertStats {
                AlertStats { $($name: self.$name.load(Relaxed),)* }
            }
        }
    };
}

counters!(
    records_seen,
    records_dropped,
    records_unparsed,
    alerts,
    keys_capped,
    rule_panics,
    delivered,
    retries,
    deliveries_failed,
    deliveries_dropped,
    deliveries_abandoned,
);

impl Counters {
    /// A delivery is about to be queued: it counts as outstanding until it
    /// ends.
    pub(crate) fn delivery_queued(&self) {
        self.outstanding.fetch_add(1, Relaxed);
    }

    /// A delivery ended (delivered, failed, or refused by the queue):
    /// whether it was still outstanding, that is, not already counted as
    /// abandoned by a shutdown that stopped waiting for it. Only then is
    /// its outcome counted.
    pub(crate) fn delivery_ended(&self) -> bool {
        self.outstanding
            .fetch_update(Relaxed, Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }

    /// Counts every outstanding delivery as abandoned.
    pub(crate) fn abandon_outstanding(&self) {
        let left = self.outstanding.swap(0, Relaxed);
        self.deliveries_abandoned.fetch_add(left, Relaxed);
    }
}

/// Adds one to a counter.
pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Relaxed);
}
