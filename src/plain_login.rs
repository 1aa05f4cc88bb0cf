//! Login records made with plain `tracing` macros (`tracing::info!(target:
//! "audit.login", …)`, not the crate's `login!`): the login keys the schema
//! calls *always* are written at the top level, from the event's fields of
//! those names when it has them, else as `null`.

use std::fmt;

use tracing_core::field::{Field, Visit};
use tracing_core::Event;

use crate::json::{self, Opts};

/// The login keys a plain event fills: `event`, `success`, `client_ip`,
/// `user_agent`, `error`.
pub(crate) const KEYS: [&str; 5] = ["event", "success", "client_ip", "user_agent", "error"];

/// Whether `name` is one of [`KEYS`] (such a field is not repeated in
/// `extra`).
pub(crate) fn is_key(name: &str) -> bool {
    KEYS.contains(&name)
}

/// Writes `,"key":value` for each of [`KEYS`]: the event's field of that
/// name (the first one), else `null`.
pub(crate) fn write(out: &mut String, event: &Event<'_>, opts: &Opts<'_>) {
    let mut keys = Keys {
        out,
        opts,
        written: 0,
    };
    event.record(&mut keys);
    let Keys { out, written, .. } = keys;
    for (i, key) in KEYS.iter().enumerate() {
        if written & (1 << i) == 0 {
            out.push_str(",\"");
            out.push_str(key);
            out.push_str("\":null");
        }
    }
}

struct Keys<'a, 'o> {
    out: &'a mut String,
    opts: &'a Opts<'o>,
    written: u8,
}

impl Keys<'_, '_> {
    fn field(&mut self, field: &Field, write: impl FnOnce(&mut String, &Opts<'_>) -> fmt::Result) {
        let Some(i) = KEYS.iter().position(|k| *k == field.name()) else {
            return;
        };
        if self.written & (1 << i) != 0 {
            return;
        }
        self.written |= 1 << i;
        self.out.push_str(",\"");
        self.out.push_str(KEYS[i]);
        self.out.push_str("\":");
        let before = self.out.len();
        let written = if self.opts.policy.is_secret_key(field.name()) {
            json::plain_string(self.out, self.opts.policy.mask())
        } else {
            write(self.out, self.opts)
        };
        if written.is_err() {
            self.out.truncate(before);
            self.out.push_str("null");
        }
    }
}

impl Visit for Keys<'_, '_> {
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.field(field, |out, _| {
            out.push_str(if value { "true" } else { "false" });
            Ok(())
        });
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.field(field, |out, opts| json::value_string(out, value, opts));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.field(field, |out, opts| json::display(out, value, opts));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.field(field, |out, opts| json::debug(out, value, opts));
    }
}
