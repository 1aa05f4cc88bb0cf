//! The per-layer filter of the audit layer: audit targets and spans always
//! pass, everything else goes through the application filter (RUST_LOG).

use tracing_core::{subscriber::Interest, Event, LevelFilter, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

use crate::record::is_audit_target;

/// Lets every audit record and every span through, whatever the
/// application filter says, and asks the application filter about the
/// rest.
///
/// Spans always pass because they carry the context (`user_id`,
/// `request_id`, …) that audit records inherit: with `RUST_LOG=off` the
/// application's spans still reach the audit layer, and its records still
/// name the user.
#[derive(Debug)]
pub struct AuditFilter {
    app: EnvFilter,
}

impl AuditFilter {
    /// A filter whose application part is `app`.
    pub fn new(app: EnvFilter) -> Self {
        AuditFilter { app }
    }

    fn always(meta: &Metadata<'_>) -> bool {
        meta.is_span() || is_audit_target(meta.target())
    }
}

impl<S> Filter<S> for AuditFilter
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn enabled(&self, meta: &Metadata<'_>, cx: &Context<'_, S>) -> bool {
        Self::always(meta) || Filter::enabled(&self.app, meta, cx)
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if Self::always(meta) {
            Interest::always()
        } else {
            Filter::<S>::callsite_enabled(&self.app, meta)
        }
    }

    fn event_enabled(&self, event: &Event<'_>, cx: &Context<'_, S>) -> bool {
        Self::always(event.metadata()) || Filter::event_enabled(&self.app, event, cx)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        // Audit records are made at INFO; spans at any level.
        None
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
