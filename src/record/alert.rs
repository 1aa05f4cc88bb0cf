//! Alert records: `audit.alert`, level `AUDIT`, written to `audit.log` by
//! the alert rules (feature `alert`).

use std::fmt;

use super::{fmt_body, Body};
use crate::context::MESSAGE_BIT;
use crate::json::{self, Opts, Out};

/// The body of an `audit.alert` record. Not meant to be used directly.
pub struct AlertRecord<'a> {
    /// The alert's own id, also in the webhook payload.
    pub alert_id: &'a str,
    /// The rule's name.
    pub rule: &'a str,
    /// What the rule counted by (an address, a user, a model), or the
    /// triggering record's `event_id`.
    pub key: &'a str,
    /// Records counted in the window.
    pub count: u64,
    /// The rule's threshold.
    pub threshold: u64,
    /// The rule's window, in seconds.
    pub window_secs: f64,
    /// The `event_id`s of the records that made the alert.
    pub event_ids: &'a [String],
    /// The human-readable message.
    pub message: &'a str,
}

impl Body for AlertRecord<'_> {
    fn write_body<W: Out>(&self, out: &mut W, opts: &Opts<'_>) -> fmt::Result {
        let mut first = true;
        if !opts.written(MESSAGE_BIT) {
            json::lit(out, &mut first, "\"message\":")?;
            json::string(out, self.message, opts)?;
            opts.mark_written(MESSAGE_BIT);
        }
        json::lit(out, &mut first, "\"alert_id\":")?;
        json::plain_string(out, self.alert_id)?;
        json::lit(out, &mut first, "\"rule\":")?;
        json::string(out, self.rule, opts)?;
        json::lit(out, &mut first, "\"alert_key\":")?;
        json::string(out, self.key, opts)?;
        json::lit(out, &mut first, "\"count\":")?;
        json::int(out, self.count)?;
        json::lit(out, &mut first, "\"threshold\":")?;
        json::int(out, self.threshold)?;
        json::lit(out, &mut first, "\"window_secs\":")?;
        json::float(out, self.window_secs)?;
        json::lit(out, &mut first, "\"event_ids\":[")?;
        for (i, id) in self.event_ids.iter().enumerate() {
            if i > 0 {
                out.write_char(',')?;
            }
            json::string(out, id, opts)?;
        }
        out.write_char(']')
    }
}

impl fmt::Debug for AlertRecord<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_body(f, self)
    }
}
