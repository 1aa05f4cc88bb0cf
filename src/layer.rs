//! The tracing layer: one JSON line per event, routed by target to its
//! kind's sink, with the span context spliced in.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

use tracing_core::field::{Field, Visit};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Dispatch, Event, Metadata, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use crate::clock;
use crate::context::{self, Collect, Names, SpanContext};
use crate::fallback;
use crate::filter::AuditFilter;
use crate::json::{self, Limits, Opts, Out};
use crate::nesting;
use crate::peers::{self, Peer};
use crate::record::{self, Kind};
use crate::redact::{user_info, Policy};
use crate::sink::Sinks;
use crate::span_data::{self, LayerId};
use crate::unwind;

/// The name of the event field that carries a record body.
const BODY: &str = "audit";

/// The crate's tracing layer. Made by [`layer()`](crate::layer) (or
/// installed by [`builder()`](crate::builder)); see the crate docs.
pub struct AuditLayer {
    pub(crate) sinks: Arc<Sinks>,
    pub(crate) policy: Arc<Policy>,
    pub(crate) names: Names,
    /// `"service_name":"…"` rendered once.
    pub(crate) service: String,
    /// The service name itself (for [`fallback`] records).
    pub(crate) service_name: Box<str>,
    pub(crate) string_cap: usize,
    pub(crate) line_cap: usize,
    pub(crate) max_depth: usize,
    access: Option<Access>,
    /// This layer, as other audit layers of its subscriber see it.
    pub(crate) me: Peer,
    /// The audit layers that were in the subscriber before this one (see
    /// [`peers`]).
    peers: Vec<Peer>,
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

/// Records held by an open [`Transaction`](crate::Transaction).
pub(crate) struct TxBuffer {
    lines: Vec<Vec<u8>>,
}

/// [`set_user_in`] for the subscriber's type.
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
    finish_tx: fn(&Dispatch, &Id, &AuditLayer, bool),
    context_value: fn(&Dispatch, &Id, &AuditLayer, usize) -> Option<String>,
}

/// Open transactions, in every layer: while there is none, a CRUD record
/// need not look for one.
static OPEN_TRANSACTIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static LINE: RefCell<String> = RefCell::new(String::with_capacity(1024));
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
        json::set_print_policy(&policy);
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
            peers: Vec::new(),
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
            peers: Vec::new(),
        }
    }

    /// This layer and the audit layers added to its subscriber before it.
    pub(crate) fn all_peers(&self) -> impl Iterator<Item = &Peer> {
        std::iter::once(&self.me).chain(&self.peers)
    }

    /// [`render`](Self::render), and if it panics (the caller's code is
    /// guarded where it is called; this catches anything else), a
    /// [`fallback`] record, so that a record is written all the same.
    pub(crate) fn render_guarded<S>(
        &self,
        buf: &mut String,
        event: &Event<'_>,
        meta: &Metadata<'_>,
        kind: Kind,
        ctx: &Context<'_, S>,
    ) where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if let Err(panicked) = unwind::catch(|| self.render(buf, event, meta, kind, ctx)) {
            fallback::write(self, buf, event, meta, kind, ctx, &panicked);
        }
    }

    /// The limits records are written with, before any shrinking.
    fn limits(&self) -> Limits {
        Limits {
            string_cap: self.string_cap,
            value_depth: nesting::value_depth(self.max_depth),
            minimal: false,
        }
    }

    /// Formats `event` into `buf` (cleared first), within the line cap:
    /// whole, else shrunk, else as a [`fallback`] record.
    fn render<S>(
        &self,
        buf: &mut String,
        event: &Event<'_>,
        meta: &Metadata<'_>,
        kind: Kind,
        ctx: &Context<'_, S>,
    ) where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let mut limits = self.limits();
        loop {
            buf.clear();
            let (_, flags) = json::scope(&self.policy, limits, |opts| {
                let _ = self.format(buf, event, meta, kind, ctx, opts);
            });
            if flags.truncated {
                buf.push_str(",\"truncated\":true");
            }
            buf.push_str("}\n");
            if buf.len() <= self.line_cap {
                return;
            }
            if limits.minimal {
                let message = format!("[record too large: {} bytes]", buf.len());
                fallback::write(self, buf, event, meta, kind, ctx, &message);
                return;
            }
            // Too long: cut every string shorter, then keep only the
            // identifying fields.
            if limits.string_cap > 256 {
                limits.string_cap = 256;
            } else {
                limits.minimal = true;
            }
        }
    }

    fn format<S>(
        &self,
        out: &mut String,
        event: &Event<'_>,
        meta: &Metadata<'_>,
        kind: Kind,
        ctx: &Context<'_, S>,
        opts: &Opts<'_>,
    ) -> fmt::Result
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        out.push_str("{\"timestamp\":\"");
        let now = clock::write_now_rfc3339(out);
        out.push_str("\",\"level\":\"");
        out.push_str(kind.level().unwrap_or_else(|| meta.level().as_str()));
        out.push_str("\",\"name\":");
        match kind {
            // The targets of these kinds are the crate's own names.
            Kind::Audit | Kind::Api | Kind::Login => {
                out.push('"');
                out.push_str(meta.target());
                out.push('"');
            }
            // A `log` record's target is the caller's text: capped.
            _ => json::string(out, meta.target(), opts)?,
        }
        out.push_str(",\"event_id\":\"");
        let mut id = uuid::Uuid::encode_buffer();
        out.push_str(crate::event_id::at(now).hyphenated().encode_lower(&mut id));
        out.push('"');

        // Pass 1: the message, the record body, context fields given on
        // the event itself, the first error.
        let mut envelope = Envelope {
            out,
            names: &self.names,
            opts,
            context_written: 0,
            has_body: false,
            body_index: None,
            has_message: false,
            has_exception: false,
            free: 0,
        };
        event.record(&mut envelope);
        let Envelope {
            context_written,
            has_body,
            body_index,
            has_message,
            free,
            ..
        } = envelope;
        let mut written = context_written | opts.wrote_context.get();
        if !has_message && written & context::MESSAGE_BIT == 0 {
            out.push_str(",\"message\":\"\"");
        }
        written &= !context::MESSAGE_BIT;
        let plain_login = kind == Kind::Login && !has_body;
        if plain_login {
            crate::plain_login::write(out, event, opts);
        }
        let mut skip = self.other_users_info(out, written, event, ctx);

        // The span context, nearest span first.
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope {
                let extensions = span.extensions();
                let Some(sc) = span_data::get::<SpanContext>(&extensions, self.me.id) else {
                    continue;
                };
                for (index, value) in sc.iter() {
                    let bit = 1u64 << index;
                    if written & bit == 0 && skip & bit == 0 {
                        written |= bit;
                        out.push_str(self.names.prefix(index));
                        write_context_value(out, value, opts)?;
                    }
                }
                // The details of a user further out are not this user's:
                // `user_info` comes from the span that names the user or
                // from spans inside it.
                if sc.get(context::USER_ID).is_some() {
                    skip |= 1u64 << context::USER_INFO;
                }
            }
        }
        if kind != Kind::App {
            if written & (1 << context::USER_ID) == 0 {
                out.push_str(",\"user_id\":\"\"");
            }
            if written & (1 << context::USER_INFO) == 0 {
                out.push_str(",\"user_info\":{}");
            }
        }
        out.push_str(&self.service);

        if kind == Kind::App {
            out.push_str(",\"module\":");
            match meta.module_path() {
                Some(m) => json::string(out, m, opts)?,
                None => out.push_str("null"),
            }
            out.push_str(",\"path\":");
            match meta.file() {
                Some(f) => json::string(out, f, opts)?,
                None => out.push_str("null"),
            }
            out.push_str(",\"line\":");
            match meta.line() {
                Some(l) => json::int(out, l)?,
                None => out.push_str("null"),
            }
        }

        // Pass 2: every other field, in an object of its own so that no
        // caller field can overwrite the envelope.
        let container = if kind == Kind::App || has_body {
            "fields"
        } else {
            "extra"
        };
        if free > 0 || !has_body {
            out.push_str(",\"");
            out.push_str(container);
            out.push_str("\":{");
            if free > 0 {
                let mut fields = Fields {
                    out,
                    names: &self.names,
                    opts,
                    first: true,
                    plain_login,
                    body_index,
                    set: event.metadata().fields(),
                    bridged: event.is_log(),
                };
                event.record(&mut fields);
            }
            out.push('}');
        }
        Ok(())
    }

    /// The context bits to leave out: `user_info` when the record named its
    /// own user (`written` has `user_id`, not `user_info`) and the
    /// context's user is another one (see [`crate::same_user`]).
    fn other_users_info<S>(
        &self,
        line: &str,
        written: u64,
        event: &Event<'_>,
        ctx: &Context<'_, S>,
    ) -> u64
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let (user_id, user_info) = (1u64 << context::USER_ID, 1u64 << context::USER_INFO);
        if written & user_id == 0 || written & user_info != 0 {
            return 0;
        }
        let Some(scope) = ctx.event_scope(event) else {
            return 0;
        };
        let own = crate::same_user::top_level_value(line, "\"user_id\":");
        for span in scope {
            let extensions = span.extensions();
            let Some(sc) = span_data::get::<SpanContext>(&extensions, self.me.id) else {
                continue;
            };
            if let Some(context_user) = sc.get(context::USER_ID) {
                // Two ids cut to the same text may be two users: only whole
                // ids that are equal name the same one.
                let same = !context_user.truncated
                    && own.is_some_and(|own| {
                        own == context_user.json.as_str() && !own.contains("…[cut ")
                    });
                return if same { 0 } else { user_info };
            }
        }
        // No user in the context: its details belong to nobody named.
        user_info
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
        if kind == Kind::Audit
            && OPEN_TRANSACTIONS.load(Relaxed) > 0
            && target == record::target::CRUD
        {
            if let Some(scope) = ctx.event_scope(event) {
                for span in scope {
                    let mut extensions = span.extensions_mut();
                    if let Some(tx) = span_data::get_mut::<TxBuffer>(&mut extensions, self.me.id) {
                        tx.lines.push(line.to_vec());
                        return;
                    }
                }
            }
        }
        self.sinks.write(kind, line);
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
    pub(crate) fn finish_tx(&self, dispatch: &Dispatch, id: &Id, commit: bool) {
        if let Some(access) = self.access {
            (access.finish_tx)(dispatch, id, self, commit);
        }
    }
}

impl AuditLayer {
    /// The context value `name` of span `id` or the nearest span around
    /// it that has one, as text (a JSON string unquoted).
    pub(crate) fn context_value(&self, dispatch: &Dispatch, id: &Id, name: &str) -> Option<String> {
        let index = self.names.index(name)?;
        (self.access?.context_value)(dispatch, id, self, index)
    }
}

fn context_value_in<S>(
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

/// Writes a rendered context value; when the record is being shrunk to fit
/// a line, a long one is replaced by a marker of how long it was.
fn write_context_value(out: &mut String, value: &context::Value, opts: &Opts<'_>) -> fmt::Result {
    const SHRUNK: usize = 300;
    if value.truncated {
        opts.truncated.set(true);
    }
    if (opts.minimal || opts.string_cap <= 256) && value.json.len() > SHRUNK {
        opts.truncated.set(true);
        return write!(out, "\"…[cut {} bytes]\"", value.json.len());
    }
    out.push_str(&value.json);
    Ok(())
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

fn set_user_in<S>(
    dispatch: &Dispatch,
    id: &Id,
    layer: &AuditLayer,
    filter: Option<&AuditFilter>,
    user_id: &dyn fmt::Display,
    user_info: Option<&dyn record::ToJson>,
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
    let seen = |s: &tracing_subscriber::registry::SpanRef<'_, S>| {
        filter.is_none_or(|f| f.lets_span_through(s.metadata())) || {
            let extensions = s.extensions();
            !span_data::layers::<SpanContext>(&extensions).is_empty()
                || !span_data::layers::<TxBuffer>(&extensions).is_empty()
        }
    };
    let Some(span) = current.scope().find(|s| seen(s)) else {
        return;
    };
    // Every audit layer of the subscriber: those this one knows of, and
    // those that keep data in the spans of the scope (composed so that
    // they could not learn of each other, with `and_then` or in a `Vec`).
    let mut all: Vec<Peer> = layer.all_peers().cloned().collect();
    for s in span.scope() {
        let extensions = s.extensions();
        peers::extend_with(&mut all, span_data::layers::<SpanContext>(&extensions));
        peers::extend_with(&mut all, span_data::layers::<TxBuffer>(&extensions));
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
    let carries_request = |span: &tracing_subscriber::registry::SpanRef<'_, S>| {
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
                    sc.set(context::USER_ID, id_json.clone());
                    if let Some(info) = info_json {
                        sc.set(context::USER_INFO, info.clone());
                    }
                }
            }
        }
        if at_request || !reaches_request {
            break;
        }
    }
}

fn finish_tx_in<S>(dispatch: &Dispatch, id: &Id, layer: &AuditLayer, commit: bool)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some(subscriber) = dispatch.downcast_ref::<S>() else {
        return;
    };
    let Some(span) = subscriber.span(id) else {
        return;
    };
    // Every audit layer of the subscriber holds its own records: those
    // this one knows of, and any other that holds a buffer in the span.
    let mut all: Vec<Peer> = layer.all_peers().cloned().collect();
    peers::extend_with(&mut all, span_data::layers::<TxBuffer>(&span.extensions()));
    for peer in &all {
        finish_tx_of(&span, peer, commit);
    }
}

fn finish_tx_of<S>(span: &tracing_subscriber::registry::SpanRef<'_, S>, peer: &Peer, commit: bool)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    // Finished: records made in its span from now on are not held.
    let removed = span_data::remove::<TxBuffer>(&mut span.extensions_mut(), peer.id);
    let lines = match removed {
        Some(tx) => {
            OPEN_TRANSACTIONS.fetch_sub(1, Relaxed);
            tx.lines
        }
        None => return,
    };
    if !commit {
        return;
    }
    // A transaction inside another hands its records to the outer one.
    if let Some(parent) = span.parent() {
        for outer in parent.scope() {
            if let Some(tx) = span_data::get_mut::<TxBuffer>(&mut outer.extensions_mut(), peer.id) {
                tx.lines.extend(lines);
                return;
            }
        }
    }
    for line in lines {
        peer.sinks.write(Kind::Audit, &line);
    }
}

impl<S> Layer<S> for AuditLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_layer(&mut self, subscriber: &mut S) {
        self.access = Some(Access {
            set_user: set_user_in::<S>,
            finish_tx: finish_tx_in::<S>,
            context_value: context_value_in::<S>,
        });
        // Another audit layer already in the subscriber: `set_user` and
        // transactions, which reach only the outermost, act for it too.
        self.peers = peers::find_in(subscriber);
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
        let mut extensions = span.extensions_mut();
        if declares {
            if let Some(slot) =
                span_data::get_or_insert_with(&mut extensions, self.me.id, SpanContext::default)
            {
                *slot = sc;
            }
        }
        if is_tx {
            let tx = span_data::get_or_insert_with(&mut extensions, self.me.id, || TxBuffer {
                lines: Vec::new(),
            });
            if tx.is_some() {
                OPEN_TRANSACTIONS.fetch_add(1, Relaxed);
            }
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else {
            return;
        };
        if span_data::remove::<TxBuffer>(&mut span.extensions_mut(), self.me.id).is_some() {
            OPEN_TRANSACTIONS.fetch_sub(1, Relaxed);
        }
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
        LINE.with(|cell| match cell.try_borrow_mut() {
            Ok(mut buf) => {
                self.render_guarded(&mut buf, event, meta, kind, &ctx);
                self.deliver(buf.as_bytes(), kind, meta.target(), event, &ctx);
                if buf.capacity() > 64 * 1024 {
                    *buf = String::with_capacity(1024);
                }
            }
            // An event made while this thread formats another (a
            // `Serialize` impl that logs): a buffer of its own.
            Err(_) => {
                let mut buf = String::new();
                self.render_guarded(&mut buf, event, meta, kind, &ctx);
                self.deliver(buf.as_bytes(), kind, meta.target(), event, &ctx);
            }
        });
    }

    unsafe fn downcast_raw(&self, id: std::any::TypeId) -> Option<*const ()> {
        if id == std::any::TypeId::of::<Self>() {
            Some(self as *const Self as *const ())
        } else {
            None
        }
    }
}

/// Pass 1 over an event's fields.
struct Envelope<'a, 'o> {
    out: &'a mut String,
    names: &'a Names,
    opts: &'a Opts<'o>,
    context_written: u64,
    has_body: bool,
    /// The field that was spliced in as the record body.
    body_index: Option<usize>,
    has_message: bool,
    has_exception: bool,
    /// Fields left for pass 2.
    free: usize,
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
            BODY if !self.has_body => {
                let start = self.out.len();
                self.out.push(',');
                let before = self.opts.body.replace(false);
                let wrote_before = self.opts.wrote_context.get();
                // The body appends itself to the line (see `json::Lend`);
                // anything else called `audit` prints to nowhere.
                let lent = json::Lend::new(std::mem::take(self.out));
                let panicked = unwind::catch(|| write!(Discard, "{value:#?}")).is_err();
                *self.out = lent.reclaim().unwrap_or_default();
                if panicked {
                    // Whatever it wrote is taken back; it is written as a
                    // field in pass 2, as its marker.
                    self.opts.wrote_context.set(wrote_before);
                    self.out.truncate(start);
                    self.free += 1;
                } else if self.opts.body.get() && self.out.len() > start + 1 {
                    self.has_body = true;
                    self.body_index = Some(field.index());
                } else {
                    // Not a record body, just a field that happens to be
                    // called `audit`: it goes with the other fields.
                    self.out.truncate(start);
                    self.free += 1;
                }
                self.opts.body.set(before);
            }
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

/// Where a non-body `audit` field prints in pass 1.
struct Discard;

impl fmt::Write for Discard {
    fn write_str(&mut self, _: &str) -> fmt::Result {
        Ok(())
    }
}

/// Pass 2: the fields that are neither envelope nor context, redacted by
/// name.
struct Fields<'a, 'o> {
    out: &'a mut String,
    names: &'a Names,
    opts: &'a Opts<'o>,
    first: bool,
    /// The login keys were written at the top level (`plain_login`).
    plain_login: bool,
    /// The field pass 1 spliced in as the record body: not a field.
    body_index: Option<usize>,
    /// The event's fields: a name given twice (`info!(a = 1, a = 2)`) is
    /// written once, the first time, like context fields and login keys.
    set: &'a tracing_core::field::FieldSet,
    /// A record bridged from the `log` crate: its `log.*` fields (target,
    /// module, file, line) are in the envelope already. A `tracing` event's
    /// own `log.*` fields are the caller's, written like any other.
    bridged: bool,
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
