//! The console [`Builder::init`](crate::Builder::init) installs: one line a
//! person can read per event, on stderr (or any `MakeWriter`).
//!
//! Each event is rendered by a [`renderer`](AuditLayer::renderer) of the
//! audit layer, so the console sees exactly the record the files get:
//! redacted by the same [`Policy`](crate::redact::Policy), with the same
//! span context, caps and panic guards. The line is then picked out of
//! that record ([`line`]): audit kinds under their own level with the few
//! keys that matter, application records with their message and fields.
//! This costs a second rendering of each record the console shows; the
//! console is for people, not the hot path.

pub(crate) mod line;

use std::io::Write as _;

use tracing_core::{Event, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use crate::layer::AuditLayer;
use crate::record::Kind;
use crate::unwind;

/// The console layer: renders each event as the audit layer would, then
/// writes one human line for it.
pub(crate) struct ConsoleLayer {
    render: AuditLayer,
    writer: BoxMakeWriter,
    ansi: bool,
}

impl ConsoleLayer {
    /// A console that shows what `audit` writes, on `writer`, with ANSI
    /// colours if `ansi`.
    pub(crate) fn new(audit: &AuditLayer, writer: BoxMakeWriter, ansi: bool) -> ConsoleLayer {
        ConsoleLayer {
            render: audit.renderer(),
            writer,
            ansi,
        }
    }
}

/// Whether colours are wanted on a terminal: the `NO_COLOR` convention
/// (<https://no-color.org>: set and not empty turns them off).
pub(crate) fn colour_allowed() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

impl<S> Layer<S> for ConsoleLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        // Nothing the console does may reach the caller: a panic anywhere
        // here (the caller's `Debug` code is guarded already) is dropped.
        let _ = unwind::catch(|| {
            let normalized = event.normalized_metadata();
            let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
            let kind = Kind::of_target(meta.target());
            let mut record = String::new();
            self.render
                .render_guarded(&mut record, event, meta, kind, &ctx);
            let mut text = String::with_capacity(160);
            line::write(&mut text, &record, kind, self.ansi);
            text.push('\n');
            let _ = self.writer.make_writer_for(meta).write_all(text.as_bytes());
        });
    }
}
