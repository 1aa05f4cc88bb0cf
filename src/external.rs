//! [`external_call`]: the record of a call to another service over any
//! protocol (SFTP, SMTP, a message broker, a database), the same
//! `audit.request` record with `request_type` `"external"` that
//! [`AuditedClient`](crate::http) makes for HTTP.

use std::fmt;
use std::time::Instant;

use serde::Serialize;
use tracing::Span;

use crate::record::request::{External, Payload, Request, Side};

/// Starts the record of one call to `peer_service` (the service called,
/// as OpenTelemetry's `peer.service`) over `protocol` (`"sftp"`,
/// `"smtp"`, `"amqp"`, …).
///
/// The returned [`ExternalCall`] takes a description of the request and
/// is finished with the result; the record is made then, inside the span
/// that was current when `external_call` was called, with the time since
/// this call as `execution_time`. Dropped unfinished (an early `return`,
/// a `?`, a panic), it records the call as `"abandoned"`.
///
/// Descriptions are any `Serialize` value, written as JSON and redacted
/// like every other record value (secret keys, tokens, URL userinfo).
///
/// ```
/// #[derive(serde::Serialize)]
/// struct Upload<'a> { file: &'a str, bytes: usize }
///
/// let call = tracing_audit::external_call("partner-sftp", "sftp")
///     .operation("put")
///     .endpoint("sftp://partner.example/inbox")
///     .request(&Upload { file: "invoices.csv", bytes: 2048 });
/// match std::fs::metadata(".") {
///     Ok(_) => call.finish_ok(&serde_json::json!({"stored": true})),
///     Err(e) => call.finish_err(&e),
/// }
/// ```
pub fn external_call(peer_service: impl Into<String>, protocol: impl Into<String>) -> ExternalCall {
    ExternalCall {
        span: Span::current(),
        start: Instant::now(),
        peer_service: peer_service.into(),
        protocol: protocol.into(),
        operation: String::new(),
        endpoint: String::new(),
        request: Payload::Empty,
        done: false,
    }
}

/// One call in progress, made by [`external_call`]: recorded when
/// finished, or as `"abandoned"` when dropped unfinished.
#[must_use = "finish the call with finish_ok or finish_err; dropped, it is recorded as abandoned"]
pub struct ExternalCall {
    span: Span,
    start: Instant,
    peer_service: String,
    protocol: String,
    operation: String,
    endpoint: String,
    request: Payload<'static>,
    done: bool,
}

impl fmt::Debug for ExternalCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExternalCall")
            .field("peer_service", &self.peer_service)
            .field("protocol", &self.protocol)
            .field("operation", &self.operation)
            .finish_non_exhaustive()
    }
}

impl ExternalCall {
    /// What was asked of the service (`"put"`, `"send"`, `"publish"`):
    /// the record's `request_repr.method`.
    pub fn operation(mut self, operation: impl Into<String>) -> Self {
        self.operation = operation.into();
        self
    }

    /// Where the call went (a URL, `host:port`, a queue name): the
    /// record's `request_repr.endpoint`, its userinfo and secret query
    /// values masked.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = endpoint.into();
        self
    }

    /// The request's description: the record's `request_repr.body`.
    pub fn request(mut self, description: impl Serialize) -> Self {
        self.request = payload(&description);
        self
    }

    /// Records the call as done, `response` as the record's
    /// `response_repr.body`.
    pub fn finish_ok(mut self, response: impl Serialize) {
        let response = payload(&response);
        self.emit(response, None, None);
    }

    /// Records the call as failed, with `error`'s text as
    /// `error_message` and `error_kind` `"other"`.
    pub fn finish_err(mut self, error: impl fmt::Display) {
        let mut text = String::new();
        crate::json::display_into(&mut text, &error);
        self.emit(Payload::Empty, Some(&text), Some("other"));
    }

    fn emit(&mut self, response: Payload<'_>, error: Option<&str>, kind: Option<&str>) {
        self.done = true;
        let record = Request {
            protocol: &self.protocol,
            method: &self.operation,
            request: Side {
                body: std::mem::take(&mut self.request),
                ..Side::default()
            },
            response: Side {
                body: response,
                ..Side::default()
            },
            execution_time: self.start.elapsed().as_secs_f64(),
            error,
            external: Some(External {
                peer_service: &self.peer_service,
                endpoint: &self.endpoint,
                error_kind: kind,
                attempt: None,
            }),
            ..Request::default()
        };
        emit_in(&self.span, &record);
    }
}

/// Emits `record` as an `audit.request` event whose parent is `span`
/// (named as the event's parent: no enter and exit of the span, which
/// cost more than the lookup); in the current span when `span` is
/// disabled, as [`Span::in_scope`] would.
pub(crate) fn emit_in(span: &Span, record: &Request<'_>) {
    match span.id() {
        Some(_) => tracing::event!(
            target: "audit.request",
            parent: span,
            tracing::Level::INFO,
            audit = tracing::field::debug(record)
        ),
        None => tracing::event!(
            target: "audit.request",
            tracing::Level::INFO,
            audit = tracing::field::debug(record)
        ),
    }
}

impl Drop for ExternalCall {
    fn drop(&mut self) {
        if !self.done {
            self.emit(
                Payload::Empty,
                Some("abandoned: dropped before it was finished"),
                Some("abandoned"),
            );
        }
    }
}

/// A description as JSON, through the crate's nesting limit like every
/// other value (a `Serialize` error or panic is recorded as its text).
/// Followed as deep as the highest limit a line may have: the record's
/// writer cuts it again at the layer's own limit, and marks it cut.
fn payload(description: &impl Serialize) -> Payload<'static> {
    let cut = std::cell::Cell::new(false);
    match crate::nesting::to_value(description, crate::nesting::MAX_DEPTH_LIMIT, &cut) {
        serde_json::Value::Null => Payload::Empty,
        value => Payload::Json(value),
    }
}
