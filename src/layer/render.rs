//! One event into one JSON line: the envelope, the record body, the span
//! context, the other fields; within the line cap, shrunk when too long,
//! and a [`fallback`] record when rendering fails.

use std::fmt::{self, Write as _};

use tracing_core::{Event, Metadata, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use super::visit::{Envelope, Fields};
use super::AuditLayer;
use crate::clock;
use crate::context::{self, SpanContext};
use crate::fallback;
use crate::json::{self, Limits, Opts};
use crate::nesting;
use crate::record::Kind;
use crate::span_data;
use crate::unwind;

impl AuditLayer {
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
