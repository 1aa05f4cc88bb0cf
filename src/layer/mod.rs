//! The tracing layer: one JSON line per event, routed by target to its
//! kind's sink, with the span context spliced in.
//!
//! - [`render`]: an event into its line;
//! - [`visit`]: the two passes over the event's fields;
//! - this file: the layer itself, its span bookkeeping and where a line
//!   goes (its kind's sink, or the open [`Transaction`](crate::Transaction),
//!   see [`crate::transaction::buffer`]).

mod render;
mod visit;

use std::fmt;
use std::sync::{Arc, Mutex};

use tracing_core::field::Visit;
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Dispatch, Event, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use crate::context::{self, Collect, Names, SpanContext};
use crate::filter::AuditFilter;
use crate::json;
use crate::nesting;
use crate::peers::{self, Peer};
use crate::record::{self, Kind};
use crate::redact::Policy;
use crate::sink::Sinks;
use crate::span_data::{self, LayerId};
use crate::transaction::buffer;

/// The crate's tracing layer. Made by [`layer()`](crate::layer()) (or
/// installed by [`builder()`](crate::builder())); see the crate docs.
pub struct AuditLayer {
    pub(crate) sinks: Arc<Sinks>,
    pub(crate) policy: Arc<Policy>,
    pub(crate) names: Names,
    /// `"service_name":"…"` rendered once.
    pub(crate) service: String,
    /// The service name itself (for [`fallback`](crate::fallback) records).
    pub(crate) service_name: Box<str>,
    pub(crate) string_cap: usize,
    pub(crate) line_cap: usize,
    pub(crate) max_depth: usize,
    access: Option<Access>,
    /// This layer, as other audit layers of its subscriber see it.
    pub(crate) me: Peer,
    /// The other audit layers of the subscriber, when this one is its
    /// outermost (see [`peers`]).
    peers: Mutex<Vec<Peer>>,
}

impl Drop for AuditLayer {
    fn drop(&mut self) {
        peers::unregister(self.me.id);
    }
}

impl fmt::Debug for AuditLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditLayer")
            .field("sinks", &self.sinks)
            .field("service", &self.service)
            .field("string_cap", &self.string_cap)
            .field("line_cap", &self.line_cap)
            .field("max_depth", &self.max_depth)
            .finish_non_exhaustive()
    }
}

/// [`context::set_user_in`] for the subscriber's type.
type SetUserFn = fn(
    &Dispatch,
    &Id,
    &AuditLayer,
    Option<&AuditFilter>,
    &dyn fmt::Display,
    Option<&dyn record::ToJson>,
);

/// Functions that reach a span's data through the subscriber the layer was
/// added to (known only in `on_layer`).
#[derive(Clone, Copy)]
struct Access {
    set_user: SetUserFn,
    finish_tx: fn(&Dispatch, &Id, &AuditLayer, buffer::Outcome),
    context_value: fn(&Dispatch, &Id, &AuditLayer, usize) -> Option<String>,
}

impl AuditLayer {
    /// The context value `name` of span `id` or the nearest span around
    /// it that has one, as text (a JSON string unquoted).
    pub(crate) fn context_value(&self, dispatch: &Dispatch, id: &Id, name: &str) -> Option<String> {
        let index = self.names.index(name)?;
        (self.access?.context_value)(dispatch, id, self, index)
    }
}

impl AuditLayer {
    pub(crate) fn new(
        sinks: Sinks,
        policy: Policy,
        names: Names,
        service_name: &str,
        string_cap: usize,
        line_cap: usize,
        max_depth: usize,
    ) -> AuditLayer {
        let mut service = String::from(",\"service_name\":");
        let _ = json::plain_string(&mut service, service_name);
        let policy = Arc::new(policy);
        let sinks = Arc::new(sinks);
        let me = Peer {
            id: LayerId::next(),
            sinks: Arc::clone(&sinks),
            policy: Arc::clone(&policy),
            string_cap,
            max_depth,
        };
        peers::register(&me);
        AuditLayer {
            sinks,
            policy,
            names,
            service,
            service_name: service_name.into(),
            string_cap,
            line_cap,
            max_depth,
            access: None,
            me,
            peers: Mutex::new(Vec::new()),
        }
    }

    /// A copy of this layer that renders records as it does (same policy,
    /// context names, caps, and the same span data), for the console, which
    /// shows what the files get. Its lines nest at most
    /// [`DEFAULT_MAX_DEPTH`](nesting::DEFAULT_MAX_DEPTH) deep, so that the
    /// console can read them back with `serde_json`. It has no access to
    /// the subscriber and no peers: it only renders, it writes nothing.
    pub(crate) fn renderer(&self) -> AuditLayer {
        AuditLayer {
            sinks: Arc::clone(&self.sinks),
            policy: Arc::clone(&self.policy),
            names: self.names.clone(),
            service: self.service.clone(),
            service_name: self.service_name.clone(),
            string_cap: self.string_cap,
            line_cap: self.line_cap,
            max_depth: self.max_depth.min(nesting::DEFAULT_MAX_DEPTH),
            access: None,
            me: self.me.clone(),
            peers: Mutex::new(Vec::new()),
        }
    }

    /// This layer and the other audit layers of its subscriber that made
    /// themselves known to it.
    pub(crate) fn all_peers(&self) -> Vec<Peer> {
        let mut all = vec![self.me.clone()];
        all.extend(peers::lock(&self.peers).iter().cloned());
        all
    }

    /// Hands a finished line to its sink, or to the open transaction.
    ///
    /// `target` is the record's own (for one bridged from the `log` crate,
    /// its `log` target, not `log`): a CRUD record from `log` is held by a
    /// transaction like one from `tracing`.
    fn deliver<S>(
        &self,
        line: &[u8],
        kind: Kind,
        target: &str,
        event: &Event<'_>,
        ctx: &Context<'_, S>,
    ) where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let line = if kind == Kind::Audit && target == record::target::CRUD {
            buffer::hold(line, self.me.id, event, ctx)
        } else {
            Some(line)
        };
        if let Some(line) = line {
            self.sinks.write(kind, target, line);
        }
    }

    fn collect_context(&self, values: &dyn RecordFields, into: &mut SpanContext) {
        json::scope(&self.policy, self.me.context_limits(), |opts| {
            values.record_into(&mut Collect {
                names: &self.names,
                opts,
                into,
            });
        });
    }

    /// Sets the user on the span `id` (see [`crate::set_user`]).
    pub(crate) fn set_user(
        &self,
        dispatch: &Dispatch,
        id: &Id,
        filter: Option<&AuditFilter>,
        user_id: &dyn fmt::Display,
        user_info: Option<&dyn record::ToJson>,
    ) {
        if let Some(access) = self.access {
            (access.set_user)(dispatch, id, self, filter, user_id, user_info);
        }
    }

    /// Commits (or rolls back) the transaction span `id`.
    pub(crate) fn finish_tx(&self, dispatch: &Dispatch, id: &Id, outcome: buffer::Outcome) {
        if let Some(access) = self.access {
            (access.finish_tx)(dispatch, id, self, outcome);
        }
    }
}

/// Span attributes and records, visited alike.
trait RecordFields {
    fn record_into(&self, visitor: &mut dyn Visit);
}

impl RecordFields for Attributes<'_> {
    fn record_into(&self, visitor: &mut dyn Visit) {
        self.record(visitor);
    }
}

impl RecordFields for Record<'_> {
    fn record_into(&self, visitor: &mut dyn Visit) {
        self.record(visitor);
    }
}

impl<S> Layer<S> for AuditLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_layer(&mut self, subscriber: &mut S) {
        self.access = Some(Access {
            set_user: context::set_user_in::<S>,
            finish_tx: buffer::finish_in::<S>,
            context_value: context::context_value_in::<S>,
        });
        let _ = subscriber;
    }

    fn on_register_dispatch(&self, dispatch: &Dispatch) {
        self.sinks.register_dispatch(dispatch);
        // `set_user` and transactions reach only the subscriber's outermost
        // audit layer: the others make themselves known to it, so that it
        // acts for them too.
        if let Some(outermost) = dispatch.downcast_ref::<AuditLayer>() {
            if outermost.me.id != self.me.id {
                let mut known = peers::lock(&outermost.peers);
                if known.iter().all(|p| p.id != self.me.id) {
                    known.push(self.me.clone());
                }
            }
        }
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut sc = SpanContext::default();
        self.collect_context(attrs, &mut sc);
        let is_tx = attrs.metadata().target() == record::target::TRANSACTION;
        // A span that declares a context field keeps a slot even with no
        // value yet (`user_id = Empty`): it leaves this layer's id in the
        // span, where `set_user` called through another audit layer finds
        // it (see `peers::extend_with`).
        let declares = !sc.is_empty()
            || attrs
                .metadata()
                .fields()
                .iter()
                .any(|field| self.names.index(field.name()).is_some());
        if !declares && !is_tx {
            return;
        }
        if declares {
            let mut extensions = span.extensions_mut();
            if let Some(slot) =
                span_data::get_or_insert_with(&mut extensions, self.me.id, SpanContext::default)
            {
                *slot = sc;
            }
        }
        if is_tx {
            buffer::open(&span, self.me.id);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else {
            return;
        };
        buffer::close(&span, self.me.id);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        // Rendered before the span's data is locked: the values' `Debug`
        // impls are the caller's code and may log.
        let mut recorded = SpanContext::default();
        self.collect_context(values, &mut recorded);
        if recorded.is_empty() {
            return;
        }
        let mut extensions = span.extensions_mut();
        let slot = span_data::get_or_insert_with(&mut extensions, self.me.id, SpanContext::default);
        if let Some(sc) = slot {
            for (index, value) in recorded.iter() {
                sc.set(index, value.clone());
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        // Records bridged from the `log` crate carry their real target,
        // module and line in fields; `normalized_metadata` puts them back.
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        let kind = Kind::of_target(meta.target());
        if !self.sinks.is_on(kind) {
            return;
        }
        json::with_line(|line| {
            self.render_guarded(line, event, meta, kind, &ctx);
            self.deliver(line.as_bytes(), kind, meta.target(), event, &ctx);
        });
    }

    fn event_enabled(&self, _: &Event<'_>, _: Context<'_, S>) -> bool {
        // Asked of every layer before any formats the event: a record body
        // another layer prints (a `fmt` console, say) is redacted with this
        // layer's policy.
        json::set_print_policy(&self.policy);
        true
    }
}
