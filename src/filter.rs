//! The per-layer filter of the audit layer: audit records always pass,
//! application records go through the application filter (`RUST_LOG`),
//! and spans pass when they carry context, are transactions, or the
//! application filter wants them.

use tracing_core::{subscriber::Interest, Event, LevelFilter, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

use crate::context::Names;
use crate::record::is_audit_target;

/// Lets every audit record through, whatever the application filter says,
/// asks the application filter about the other events, and lets a span
/// through only when the audit layer has a use for it.
///
/// A span reaches the audit layer when
///
/// - its metadata declares a context field (`user_id`, `user_info`,
///   `request_id`, `tenant` or one declared with
///   [`Builder::context_field`](crate::Builder::context_field)), even as
///   `tracing::field::Empty`: its context goes into the records made inside
///   it;
/// - it is a [`Transaction`](crate::Transaction)'s span (any `audit.*`
///   target); or
/// - the application filter enables it.
///
/// For any other span (say a `trace_span!` of hyper, h2 or tokio with
/// `RUST_LOG=off`) the filter's interest is `never`, so the registry does
/// not make it at all unless another layer's filter wants it; if one does,
/// the audit layer skips it and the records made inside it take their
/// context from the spans around it.
///
/// What a span left out cannot do:
///
/// - carry context somewhere else: a task instrumented with it
///   (`.instrument(trace_span!("job"))`) runs outside the request's span.
///   Instrument tasks with `Span::current()` (or `.in_current_span()`), or
///   with a span that declares a context field;
/// - hold the user: [`set_user`](crate::set_user) acts on the nearest span
///   that was made, which may be a span further out. Give the span that
///   should hold the user a context field (`user_id =
///   tracing::field::Empty`, or the `request_id`);
/// - be an explicit parent: `info_span!(parent: &left_out, "child", …)`
///   makes a root span, which does not see the spans around `left_out`.
///   A span opened inside it the usual way (its contextual parent) has the
///   spans around it as parents and loses nothing.
///
/// [`max_level_hint`](Filter::max_level_hint) is `TRACE`: audit records may
/// be made at any level (the crate's macros use `INFO`; a plain
/// `tracing::trace!(target: "audit.process", …)` is an audit record too),
/// so no level can be ruled out, not even with `RUST_LOG=off`. What keeps
/// the spans above out is their callsites' interest, cached once per
/// callsite.
#[derive(Debug)]
pub struct AuditFilter {
    app: EnvFilter,
    names: Names,
}

impl AuditFilter {
    /// A filter whose application part is `app`, for a layer with the
    /// built-in context fields only.
    pub fn new(app: EnvFilter) -> Self {
        AuditFilter {
            app,
            names: Names::new(&[]),
        }
    }

    /// The filter for a layer with these context fields.
    pub(crate) fn with_names(mut self, names: Names) -> Self {
        self.names = names;
        self
    }

    /// Whether `meta` always reaches the audit layer, wherever it is made.
    fn always(&self, meta: &Metadata<'_>) -> bool {
        is_audit_target(meta.target())
            || (meta.is_span()
                && meta
                    .fields()
                    .iter()
                    .any(|field| self.names.index(field.name()).is_some()))
    }
}

impl AuditFilter {
    /// Whether a span with this metadata may have reached the audit layer
    /// (its callsite's interest is not `never`): `set_user` skips the
    /// spans it left out, which another layer's filter may have made.
    pub(crate) fn lets_span_through(&self, meta: &'static Metadata<'static>) -> bool {
        self.always(meta)
            || !Filter::<tracing_subscriber::Registry>::callsite_enabled(&self.app, meta).is_never()
    }
}

impl<S> Filter<S> for AuditFilter
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn enabled(&self, meta: &Metadata<'_>, cx: &Context<'_, S>) -> bool {
        self.always(meta) || Filter::enabled(&self.app, meta, cx)
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if self.always(meta) {
            Interest::always()
        } else {
            // `never` for a span no filter wants: the registry does not make
            // it. (Only a callsite's interest can do that: a per-layer
            // filter's `enabled` returning false does not stop the registry
            // from making the span.)
            Filter::<S>::callsite_enabled(&self.app, meta)
        }
    }

    fn event_enabled(&self, event: &Event<'_>, cx: &Context<'_, S>) -> bool {
        is_audit_target(event.metadata().target()) || Filter::event_enabled(&self.app, event, cx)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        // Audit records can be made at any level (see the type's docs).
        Some(LevelFilter::TRACE)
    }

    fn on_new_span(
        &self,
        attrs: &tracing_core::span::Attributes<'_>,
        id: &tracing_core::span::Id,
        ctx: Context<'_, S>,
    ) {
        Filter::on_new_span(&self.app, attrs, id, ctx);
    }

    fn on_record(
        &self,
        id: &tracing_core::span::Id,
        values: &tracing_core::span::Record<'_>,
        ctx: Context<'_, S>,
    ) {
        Filter::on_record(&self.app, id, values, ctx);
    }

    fn on_enter(&self, id: &tracing_core::span::Id, ctx: Context<'_, S>) {
        Filter::on_enter(&self.app, id, ctx);
    }

    fn on_exit(&self, id: &tracing_core::span::Id, ctx: Context<'_, S>) {
        Filter::on_exit(&self.app, id, ctx);
    }

    fn on_close(&self, id: tracing_core::span::Id, ctx: Context<'_, S>) {
        Filter::on_close(&self.app, id, ctx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::Registry;

    #[test]
    fn the_level_hint_keeps_audit_records_at_every_level_with_the_app_filter_off() {
        let filter = AuditFilter::new(EnvFilter::new("off"));
        assert_eq!(
            Filter::<Registry>::max_level_hint(&filter),
            Some(LevelFilter::TRACE)
        );
    }
}
