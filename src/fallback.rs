//! The stand-in record: what the layer writes when a record cannot be
//! written whole, so that no record is lost silently and no line is ever
//! longer than the line cap.
//!
//! Written when the record, even shrunk to its identifying keys, is longer
//! than [`max_line_bytes`](crate::Builder::max_line_bytes)
//! (`"message":"[record too large: N bytes]"`), or when formatting it
//! panicked outside the places where the caller's code is guarded
//! (`"message":"[panicked: …]"`). It has the envelope, with `name` and
//! `service_name` cut short if need be, the keys its kind always has
//! (empty), the `user_id` and `request_id` of the span context when they
//! are short, and `"truncated":true`. Its size is bounded by the lengths
//! below, well under the smallest line cap (1024 bytes).

use std::fmt::Write as _;

use tracing_core::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::clock;
use crate::context::{self, SpanContext};
use crate::json;
use crate::layer::AuditLayer;
use crate::record::Kind;
use crate::span_data;

/// The most text kept of `name` and `message`, escapes included.
const TEXT_MAX: usize = 160;
/// The most text kept of `service_name`, escapes included.
const SERVICE_MAX: usize = 120;
/// The longest context value copied (rendered JSON).
const CONTEXT_MAX: usize = 80;

/// Writes the stand-in record for `event` into `buf` (cleared first),
/// with `message`.
pub(crate) fn write<S>(
    layer: &AuditLayer,
    buf: &mut String,
    event: &Event<'_>,
    meta: &Metadata<'_>,
    kind: Kind,
    ctx: &Context<'_, S>,
    message: &str,
) where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    buf.clear();
    buf.push_str("{\"timestamp\":\"");
    let now = clock::write_now_rfc3339(buf);
    buf.push_str("\",\"level\":\"");
    buf.push_str(kind.level().unwrap_or_else(|| meta.level().as_str()));
    buf.push_str("\",\"name\":");
    string_within(buf, meta.target(), TEXT_MAX);
    buf.push_str(",\"event_id\":\"");
    let mut id = uuid::Uuid::encode_buffer();
    buf.push_str(crate::event_id::at(now).hyphenated().encode_lower(&mut id));
    buf.push_str("\",\"message\":");
    string_within(buf, message, TEXT_MAX);
    buf.push_str(",\"service_name\":");
    string_within(buf, &layer.service_name, SERVICE_MAX);

    // The span context's user and request, if short.
    let wanted = [Some(context::USER_ID), layer.names.index("request_id")];
    let mut found: [Option<String>; 2] = [None, None];
    if let Some(scope) = ctx.event_scope(event) {
        for span in scope {
            let extensions = span.extensions();
            let Some(sc) = span_data::get::<SpanContext>(&extensions, layer.me.id) else {
                continue;
            };
            for (slot, index) in found.iter_mut().zip(wanted) {
                if let (None, Some(index)) = (&slot, index) {
                    if let Some(v) = sc.get(index) {
                        if v.json.len() <= CONTEXT_MAX {
                            *slot = Some(v.json.clone());
                        }
                    }
                }
            }
        }
    }
    let [user_id, request_id] = found;
    if kind == Kind::App {
        if let Some(user_id) = user_id {
            buf.push_str(",\"user_id\":");
            buf.push_str(&user_id);
        }
        buf.push_str(",\"module\":null,\"path\":null,\"line\":");
        match meta.line() {
            Some(l) => {
                let _ = json::int(buf, l);
            }
            None => buf.push_str("null"),
        }
        buf.push_str(",\"fields\":{}");
    } else {
        buf.push_str(",\"user_id\":");
        buf.push_str(user_id.as_deref().unwrap_or("\"\""));
        buf.push_str(",\"user_info\":{}");
    }
    if let Some(request_id) = request_id {
        buf.push_str(",\"request_id\":");
        buf.push_str(&request_id);
    }
    buf.push_str(",\"truncated\":true}\n");
}

/// Writes `s` as a JSON string of at most `max` bytes between the quotes,
/// escapes included, plus the marker `…[cut N bytes]` if it was cut.
fn string_within(out: &mut String, s: &str, max: usize) {
    out.push('"');
    let start = out.len();
    for (i, c) in s.char_indices() {
        let before = out.len();
        let _ = json::escape(out, c.encode_utf8(&mut [0; 4]));
        if out.len() - start > max {
            out.truncate(before);
            let _ = write!(out, "…[cut {} bytes]", s.len() - i);
            break;
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_cut_after_escaping() {
        let mut out = String::new();
        string_within(&mut out, &"\u{1}".repeat(1000), 12);
        assert_eq!(out, "\"\\u0001\\u0001…[cut 998 bytes]\"");
        let mut out = String::new();
        string_within(&mut out, "é\"x", 12);
        assert_eq!(out, "\"é\\\"x\"");
        let back: String = serde_json::from_str(&out).unwrap();
        assert_eq!(back, "é\"x");
    }
}
