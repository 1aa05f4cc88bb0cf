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
use tracing_core::span::Id;
use tracing_core::{Dispatch, Subscriber};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use crate::filter::AuditFilter;
use crate::json::{self, Opts};
use crate::layer::AuditLayer;
use crate::peers::{self, Peer};
use crate::record::ToJson;
use crate::span_data;
use crate::transaction::buffer;

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
            let opts = self.opts;
            let (rendered, truncated) = opts.cuts_of(|| {
                if opts.policy.is_secret_key(field.name()) {
                    json::plain_string(&mut out, opts.policy.mask())
                } else {
                    render(&mut out, opts)
                }
            });
            if rendered.is_ok() {
                self.into.set(
                    index,
                    Value {
                        json: out,
                        truncated,
                    },
                );
            }
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

/// The context value at `index` of span `id` or the nearest span around it
/// that has one, as text (a JSON string unquoted); `S` is the subscriber's
/// type, which `layer` learned when it was added.
pub(crate) fn context_value_in<S>(
    dispatch: &Dispatch,
    id: &Id,
    layer: &AuditLayer,
    index: usize,
) -> Option<String>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let subscriber = dispatch.downcast_ref::<S>()?;
    let span = subscriber.span(id)?;
    span.scope().find_map(|s| {
        let extensions = s.extensions();
        let value = span_data::get::<SpanContext>(&extensions, layer.me.id)?.get(index)?;
        Some(match serde_json::from_str::<String>(&value.json) {
            Ok(text) => text,
            Err(_) => value.json.clone(),
        })
    })
}

/// Sets the user on the span `id` and outwards, for every audit layer of
/// the subscriber `dispatch` (see [`crate::set_user`]); `S` is the
/// subscriber's type, which `layer` learned when it was added.
pub(crate) fn set_user_in<S>(
    dispatch: &Dispatch,
    id: &Id,
    layer: &AuditLayer,
    filter: Option<&AuditFilter>,
    user_id: &dyn fmt::Display,
    user_info: Option<&dyn ToJson>,
) where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some(subscriber) = dispatch.downcast_ref::<S>() else {
        return;
    };
    let Some(current) = subscriber.span(id) else {
        return;
    };
    // The innermost span the audit layer sees: a span made only because
    // another layer's filter wanted it is skipped by the audit layer, so
    // a user kept there would reach no record.
    // (A span some audit layer keeps data in was seen by that layer, even
    // if the filter found here, the outermost layer's, leaves it out.)
    let seen = |s: &SpanRef<'_, S>| {
        filter.is_none_or(|f| f.lets_span_through(s.metadata())) || {
            let extensions = s.extensions();
            !span_data::layers::<SpanContext>(&extensions).is_empty()
                || !buffer::holders(&extensions).is_empty()
        }
    };
    let Some(span) = current.scope().find(|s| seen(s)) else {
        return;
    };
    // Every audit layer of the subscriber: those this one knows of, and
    // those that keep data in the spans of the scope (composed so that
    // they could not learn of each other, with `and_then` or in a `Vec`).
    let mut all: Vec<Peer> = layer.all_peers();
    for s in span.scope() {
        let extensions = s.extensions();
        peers::extend_with(&mut all, span_data::layers::<SpanContext>(&extensions));
        peers::extend_with(&mut all, buffer::holders(&extensions));
    }
    // Rendered by each audit layer of the subscriber as it renders context
    // values (its own policy and caps).
    let rendered: Vec<_> = all
        .iter()
        .map(|peer| (peer.id, peer.render_user(user_id, user_info)))
        .collect();
    // The current span, and outwards up to the span that carries the
    // request id (the request's own span), so that every record of the
    // request made from now on sees the user. Without such a span, the
    // current span only: spans further out may be shared by other requests.
    let request_id = layer.names.index("request_id");
    let carries_request = |span: &SpanRef<'_, S>| {
        request_id.is_some_and(|i| {
            let extensions = span.extensions();
            all.iter().any(|peer| {
                span_data::get::<SpanContext>(&extensions, peer.id)
                    .is_some_and(|sc| sc.get(i).is_some())
            })
        })
    };
    let reaches_request = span.scope().any(|s| carries_request(&s));
    for span in span.scope() {
        let at_request = carries_request(&span);
        {
            let mut extensions = span.extensions_mut();
            for (peer, (id_json, info_json)) in &rendered {
                let sc =
                    span_data::get_or_insert_with(&mut extensions, *peer, SpanContext::default);
                if let Some(sc) = sc {
                    sc.set(USER_ID, id_json.clone());
                    if let Some(info) = info_json {
                        sc.set(USER_INFO, info.clone());
                    }
                }
            }
        }
        if at_request || !reaches_request {
            break;
        }
    }
}
