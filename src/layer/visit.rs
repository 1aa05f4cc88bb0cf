//! The two passes over an event's fields: [`Envelope`] writes the message,
//! the record body, context fields given on the event and the first error
//! at the top level; [`Fields`] writes every other field into an object of
//! its own, redacted by name.

use std::fmt;

use tracing_core::field::{Field, Visit};

use crate::context::{self, Names};
use crate::json::{self, Opts, Out, Printed};
use crate::redact::user_info;

/// The name of the event field that carries a record body.
const BODY: &str = "audit";

/// Pass 1 over an event's fields.
pub(super) struct Envelope<'a, 'o> {
    pub(super) out: &'a mut String,
    pub(super) names: &'a Names,
    pub(super) opts: &'a Opts<'o>,
    pub(super) context_written: u64,
    pub(super) has_body: bool,
    /// The field that was spliced in as the record body.
    pub(super) body_index: Option<usize>,
    pub(super) has_message: bool,
    pub(super) has_exception: bool,
    /// Fields left for pass 2.
    pub(super) free: usize,
}

impl Envelope<'_, '_> {
    /// Writes a field given on the event under a context name; true if it
    /// was one.
    fn context(
        &mut self,
        field: &Field,
        write: impl FnOnce(&mut String, &Opts<'_>) -> fmt::Result,
    ) -> bool {
        let Some(index) = self.names.index(field.name()) else {
            return false;
        };
        let bit = 1u64 << index;
        if (self.context_written | self.opts.wrote_context.get()) & bit == 0 {
            self.context_written |= bit;
            self.out.push_str(self.names.prefix(index));
            if self.opts.policy.is_secret_key(field.name()) {
                let _ = json::plain_string(self.out, self.opts.policy.mask());
            } else {
                let _ = write(self.out, self.opts);
            }
        }
        true
    }

    fn message_written(&self) -> bool {
        self.has_message || self.opts.wrote_context.get() & context::MESSAGE_BIT != 0
    }

    fn message(&mut self, args: fmt::Arguments<'_>) {
        self.has_message = true;
        // A record body after it must not write a second one.
        self.opts
            .wrote_context
            .set(self.opts.wrote_context.get() | context::MESSAGE_BIT);
        self.out.push_str(",\"message\":");
        let _ = self.out.formatted(args, self.opts);
    }
}

impl Visit for Envelope<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" && !self.message_written() {
            self.message(format_args!("{value}"));
        } else if !self.context(field, |out, opts| {
            if field.name() == context::BUILTIN[context::USER_INFO] {
                return user_info::write_text(out, value, opts);
            }
            json::value_string(out, value, opts)
        }) {
            self.free += 1;
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if field.name() == "message" && !self.message_written() {
            self.message(format_args!("{value}"));
        } else if !self.context(field, |out, _| json::quoted_int(out, value)) {
            self.free += 1;
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "message" && !self.message_written() {
            self.message(format_args!("{value}"));
        } else if !self.context(field, |out, _| json::quoted_int(out, value)) {
            self.free += 1;
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        // An error under a secret name is not copied into `exception`.
        if !self.has_exception && !self.opts.policy.is_secret_key(field.name()) {
            self.has_exception = true;
            self.out.push_str(",\"exception\":");
            let _ = json::display(self.out, &ErrorChain(value), self.opts);
        }
        if !self.context(field, |out, opts| {
            json::display(out, &ErrorChain(value), opts)
        }) {
            self.free += 1;
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "message" if !self.message_written() => self.message(format_args!("{value:?}")),
            BODY if !self.has_body => match json::print_body(self.out, value, self.opts) {
                Printed::Body => {
                    self.has_body = true;
                    self.body_index = Some(field.index());
                }
                // A panicking body is written as a field in pass 2, as its
                // marker; anything else called `audit` goes with the other
                // fields.
                Printed::NotBody | Printed::Panicked => self.free += 1,
            },
            _ => {
                let written = self.context(field, |out, opts| {
                    if field.name() == context::BUILTIN[context::USER_INFO] {
                        let mut text = String::new();
                        json::display_into(&mut text, &format_args!("{value:?}"));
                        return user_info::write_text(out, &text, opts);
                    }
                    json::debug(out, value, opts)
                });
                if !written {
                    self.free += 1;
                }
            }
        }
    }
}

/// Pass 2: the fields that are neither envelope nor context, redacted by
/// name.
pub(super) struct Fields<'a, 'o> {
    pub(super) out: &'a mut String,
    pub(super) names: &'a Names,
    pub(super) opts: &'a Opts<'o>,
    pub(super) first: bool,
    /// The login keys were written at the top level (`plain_login`).
    pub(super) plain_login: bool,
    /// The field pass 1 spliced in as the record body: not a field.
    pub(super) body_index: Option<usize>,
    /// The event's fields: a name given twice (`info!(a = 1, a = 2)`) is
    /// written once, the first time, like context fields and login keys.
    pub(super) set: &'a tracing_core::field::FieldSet,
    /// A record bridged from the `log` crate: its `log.*` fields (target,
    /// module, file, line) are in the envelope already. A `tracing` event's
    /// own `log.*` fields are the caller's, written like any other.
    pub(super) bridged: bool,
}

impl Fields<'_, '_> {
    fn field(&mut self, field: &Field, write: impl FnOnce(&mut String, &Opts<'_>) -> fmt::Result) {
        let name = field.name();
        if name == "message"
            || self.names.index(name).is_some()
            || (self.bridged && name.starts_with("log."))
            || (self.plain_login && crate::plain_login::is_key(name))
            || self
                .set
                .iter()
                .take(field.index())
                .any(|earlier| earlier.name() == name)
        {
            return;
        }
        let _ = json::key(self.out, &mut self.first, name);
        if self.opts.policy.is_secret_key(name) {
            let _ = json::plain_string(self.out, self.opts.policy.mask());
        } else {
            let _ = write(self.out, self.opts);
        }
    }
}

impl Visit for Fields<'_, '_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.field(field, |out, _| json::float(out, value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.field(field, |out, _| json::int(out, value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.field(field, |out, _| json::int(out, value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.field(field, |out, _| json::int(out, value));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.field(field, |out, _| json::int(out, value));
    }

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
        self.field(field, |out, opts| {
            json::display(out, &ErrorChain(value), opts)
        });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // The body spliced in pass 1 is not a field; anything else called
        // `audit` (see `Envelope`) is written as text.
        if self.body_index == Some(field.index()) {
            return;
        }
        self.field(field, |out, opts| json::debug(out, value, opts));
    }
}

/// An error and its sources: `outer: inner: root`.
struct ErrorChain<'e>(&'e (dyn std::error::Error + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(e) = source {
            write!(f, ": {e}")?;
            source = e.source();
        }
        Ok(())
    }
}
