//! W3C trace context: the `traceparent` header read strictly, a new one
//! made for a call, and the inbound request's trace kept in its span so
//! that calls made inside the request continue it.

use tracing::Span;
use tracing_subscriber::registry::LookupSpan;

/// `traceparent`.
pub(crate) const HEADER: http::HeaderName = http::HeaderName::from_static("traceparent");

/// A valid trace context, as a version `00` `traceparent` value
/// (`00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`, lower case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TraceParent {
    header: [u8; 55],
}

impl TraceParent {
    /// From a `traceparent` value, checked strictly: lower-case hex only,
    /// version `ff` refused, all-zero ids refused, version `00` exactly 55
    /// bytes (later versions may add fields after a `-`, which are
    /// dropped). `None` if malformed.
    pub(crate) fn parse(value: &[u8]) -> Option<TraceParent> {
        if value.len() < 55 {
            return None;
        }
        let (head, rest) = value.split_at(55);
        let version = &head[0..2];
        if !is_hex(version) || version == b"ff" {
            return None;
        }
        if version == b"00" && !rest.is_empty() {
            return None;
        }
        if !rest.is_empty() && rest[0] != b'-' {
            return None;
        }
        if head[2] != b'-' || head[35] != b'-' || head[52] != b'-' {
            return None;
        }
        let (trace, span, flags) = (&head[3..35], &head[36..52], &head[53..55]);
        if !is_hex(trace) || !is_hex(span) || !is_hex(flags) {
            return None;
        }
        if trace.iter().all(|&b| b == b'0') || span.iter().all(|&b| b == b'0') {
            return None;
        }
        let mut header = [0u8; 55];
        header.copy_from_slice(head);
        header[..2].copy_from_slice(b"00");
        Some(TraceParent { header })
    }

    /// A new trace: random ids (never all zeros), sampled.
    pub(crate) fn fresh() -> TraceParent {
        let mut header = *b"00-00000000000000000000000000000000-0000000000000000-01";
        hex_into(&mut header[3..35], fastrand::u128(1..));
        hex_into(&mut header[36..52], u128::from(fastrand::u64(1..)));
        TraceParent { header }
    }

    /// A call made inside this trace: the same trace id and flags, a new
    /// parent id (the call's own, as W3C trace context has each hop name
    /// the span it sends from).
    pub(crate) fn child(&self) -> TraceParent {
        let mut header = self.header;
        hex_into(&mut header[36..52], u128::from(fastrand::u64(1..)));
        TraceParent { header }
    }

    /// The header value.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.header
    }

    /// The trace id: 32 lower-case hex digits.
    pub(crate) fn trace_id(&self) -> &str {
        // Hex digits only (checked or written so): never the fallback.
        std::str::from_utf8(&self.header[3..35]).unwrap_or("")
    }

    /// The parent id: 16 lower-case hex digits.
    pub(crate) fn span_id(&self) -> &str {
        std::str::from_utf8(&self.header[36..52]).unwrap_or("")
    }
}

fn is_hex(s: &[u8]) -> bool {
    s.iter()
        .all(|&b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Writes the low digits of `v` in lower-case hex, filling `out`.
fn hex_into(out: &mut [u8], mut v: u128) {
    for digit in out.iter_mut().rev() {
        *digit = b"0123456789abcdef"[(v & 0xf) as usize];
        v >>= 4;
    }
}

/// The inbound request's trace, kept in its span's extensions.
#[derive(Debug, Clone, Copy)]
struct Inbound(TraceParent);

/// Keeps `trace` in the request's `span`, for the calls made inside it
/// (also from tasks instrumented with the span or a span inside it). Needs
/// the `tracing-subscriber` registry as the subscriber's base, as every
/// subscriber built with this crate has; otherwise nothing is kept.
pub(crate) fn remember(span: &Span, trace: TraceParent) {
    span.with_subscriber(|(id, dispatch)| {
        let Some(registry) = dispatch.downcast_ref::<tracing_subscriber::Registry>() else {
            return;
        };
        if let Some(span) = registry.span(id) {
            span.extensions_mut().replace(Inbound(trace));
        }
    });
}

/// The trace of the inbound request whose span is `span` or around it,
/// if it came with a valid `traceparent`.
pub(crate) fn inbound(span: &Span) -> Option<TraceParent> {
    span.with_subscriber(|(id, dispatch)| {
        let registry = dispatch.downcast_ref::<tracing_subscriber::Registry>()?;
        registry
            .span(id)?
            .scope()
            .find_map(|span| span.extensions().get::<Inbound>().map(|i| i.0))
    })
    .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_is_parsed_strictly() {
        let good = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let t = TraceParent::parse(good).expect("valid");
        assert_eq!(t.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(t.span_id(), "00f067aa0ba902b7");
        assert_eq!(t.as_bytes(), good);
        let future = b"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-extra";
        let t = TraceParent::parse(future).expect("a later version");
        // Sent on as version 00, flags kept, the extra field dropped.
        assert_eq!(
            t.as_bytes(),
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
        );
        for bad in [
            &b"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"[..],
            b"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            b"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            b"00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            b"zz-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(
                TraceParent::parse(bad),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn new_and_child_traceparents_are_valid() {
        let a = TraceParent::fresh();
        let b = TraceParent::fresh();
        assert_ne!(a, b);
        assert_eq!(TraceParent::parse(a.as_bytes()), Some(a));
        let child = a.child();
        assert_eq!(TraceParent::parse(child.as_bytes()), Some(child));
        assert_eq!(child.trace_id(), a.trace_id());
        assert_ne!(child.span_id(), a.span_id());
        assert_eq!(&child.as_bytes()[53..], &a.as_bytes()[53..]);
        let mut one = [0u8; 4];
        hex_into(&mut one, 0xbeef);
        assert_eq!(&one, b"beef");
    }

    #[test]
    fn the_inbound_trace_is_found_from_inner_spans() {
        let trace = TraceParent::fresh();
        tracing::subscriber::with_default(tracing_subscriber::registry(), || {
            assert_eq!(inbound(&Span::current()), None, "no span");
            let request = tracing::info_span!("request");
            remember(&request, trace);
            let _in = request.enter();
            assert_eq!(inbound(&Span::current()), Some(trace));
            let inner = tracing::info_span!("inner");
            let _in_inner = inner.enter();
            assert_eq!(inbound(&Span::current()), Some(trace));
        });
        let other = tracing::info_span!("request");
        remember(&other, trace);
        assert_eq!(inbound(&other), None, "no subscriber: nothing kept");
    }
}
