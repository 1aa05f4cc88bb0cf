//! The context a span carries into every record made inside it: `user_id`,
//! `user_info`, `request_id`, `tenant`, and any field the user declares.
//!
//! When a span is created or records one of these fields, the layer renders
//! the value to JSON once and keeps it in the span's extensions. A record
//! looks them up from its span outwards, nearest first, so a value set
//! later on an outer span (by [`set_user`](crate::set_user)) is seen by
//! every record made after it, in child spans too.

use std::fmt;

use tracing_core::field::{Field, Visit};

use crate::json::{self, Opts};

/// The context fields every layer carries.
pub(crate) const BUILTIN: [&str; 4] = ["user_id", "user_info", "request_id", "tenant"];

/// The bit a record body sets in `Opts::wrote_context` when it wrote the
/// `message` itself (context fields use the bits below 60).
pub(crate) const MESSAGE_BIT: u64 = 1 << 63;

/// Index of `user_id` / `user_info` in the field list.
pub(crate) const USER_ID: usize = 0;
pub(crate) const USER_INFO: usize = 1;

/// Keys the records already use: a context field cannot take one of these
/// names (it would write the key twice).
pub(crate) const RESERVED: &[&str] = &[
    "timestamp",
    "level",
    "name",
    "event_id",
    "message",
    "service_name",
    "truncated",
    "module",
    "path",
    "line",
    "fields",
    "exception",
    "extra",
    "audit",
    "model",
    "event_type",
    "instance_id",
    "instance_ids",
    "count",
    "changes",
    "instance_repr",
    "event",
    "success",
    "client_ip",
    "user_agent",
    "error",
    "request_type",
    "protocol",
    "request_repr",
    "response_repr",
    "execution_time",
    "request_size",
    "response_size",
    "error_message",
    "aborted",
    "trace_id",
    "span_id",
];

/// Why a declared context field name cannot be used, if it cannot.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a context field needs a name".into());
    }
    if RESERVED.contains(&name) || name.starts_with("log.") {
        return Err(format!(
            "`{name}` is a key every record of some kind already has; pick another name"
        ));
    }
    Ok(())
}

/// The names of the context fields of one layer: the built-in ones first,
/// then the declared ones. At most 60 (the bits above are flags).
#[derive(Debug, Clone)]
pub(crate) struct Names {
    names: Vec<Box<str>>,
    /// `,"name":` for each, escaped once.
    prefixes: Vec<Box<str>>,
}

impl Names {
    pub(crate) fn new(extra: &[String]) -> Names {
        let mut names: Vec<Box<str>> = BUILTIN.iter().map(|&n| n.into()).collect();
        for name in extra {
            if !names.iter().any(|n| **n == **name) && names.len() < 60 {
                names.push(name.as_str().into());
            }
        }
        let prefixes = names
            .iter()
            .map(|name| {
                let mut prefix = String::from(",");
                let _ = json::plain_string(&mut prefix, name);
                prefix.push(':');
                prefix.into_boxed_str()
            })
            .collect();
        Names { names, prefixes }
    }

    pub(crate) fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| **n == *name)
    }

    /// `,"name":` for the field at `i`.
    pub(crate) fn prefix(&self, i: usize) -> &str {
        &self.prefixes[i]
    }
}

/// The longest string kept whole in a context value: ids and names, not
/// documents.
pub(crate) const CONTEXT_STRING_CAP: usize = 1024;

/// One rendered context value.
#[derive(Debug, Clone)]
pub(crate) struct Value {
    pub(crate) json: String,
    /// Whether something was cut while rendering it.
    pub(crate) truncated: bool,
}

/// A span's context values, each already rendered as JSON.
#[derive(Debug, Default, Clone)]
pub(crate) struct SpanContext {
    values: Vec<(usize, Value)>,
}

impl SpanContext {
    pub(crate) fn set(&mut self, index: usize, value: Value) {
        match self.values.iter_mut().find(|(i, _)| *i == index) {
            Some(slot) => slot.1 = value,
            None => self.values.push((index, value)),
        }
    }

    pub(crate) fn get(&self, index: usize) -> Option<&Value> {
        self.values
            .iter()
            .find(|(i, _)| *i == index)
            .map(|(_, v)| v)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (usize, &Value)> {
        self.values.iter().map(|(i, v)| (*i, v))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// Collects the context fields of a span's attributes or record.
pub(crate) struct Collect<'a> {
    pub(crate) names: &'a Names,
    pub(crate) opts: &'a Opts<'a>,
    pub(crate) into: &'a mut SpanContext,
}

impl Collect<'_> {
    fn put(&mut self, field: &Field, render: impl FnOnce(&mut String, &Opts<'_>) -> fmt::Result) {
        if let Some(index) = self.names.index(field.name()) {
            let mut out = String::new();
            let before = self.opts.truncated.replace(false);
            let rendered = if self.opts.policy.is_secret_key(field.name()) {
                json::plain_string(&mut out, self.opts.policy.mask())
            } else {
                render(&mut out, self.opts)
            };
            if rendered.is_ok() {
                let truncated = self.opts.truncated.get();
                self.into.set(
                    index,
                    Value {
                        json: out,
                        truncated,
                    },
                );
            }
            self.opts.truncated.set(before);
        }
    }
}

impl Visit for Collect<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        let user_info = field.name() == BUILTIN[USER_INFO];
        self.put(field, |out, opts| {
            // A `user_info` given as JSON text is kept as JSON.
            if user_info {
                return crate::redact::user_info::write_text(out, value, opts);
            }
            json::value_string(out, value, opts)
        });
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, |out, _| json::quoted_int(out, value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, |out, _| json::quoted_int(out, value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, |out, _| {
            out.push_str(if value { "\"true\"" } else { "\"false\"" });
            Ok(())
        });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let user_info = field.name() == BUILTIN[USER_INFO];
        self.put(field, |out, opts| {
            let mut s = String::new();
            json::display_into(&mut s, &format_args!("{value:?}"));
            if user_info {
                return crate::redact::user_info::write_text(out, &s, opts);
            }
            json::value_string(out, &s, opts)
        });
    }
}
