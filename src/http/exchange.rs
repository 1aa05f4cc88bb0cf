//! One request in flight: what the record needs from the request, kept
//! from the call until the response ends, and the one place the record is
//! made ([`Finish::emit`]), inside the request's span.

use std::borrow::Cow;
use std::net::IpAddr;
use std::time::Instant;

use http::{Method, StatusCode, Uri};
use smallvec::SmallVec;
use tracing::Span;

use super::body::{Capture, Shared};
use super::capture::{self, Shape};
use super::headers::HeaderTexts;
use super::ip_text::IpText;
use super::login;
use super::trace::TraceParent;
use crate::external::emit_in;
use crate::record::request::{Payload, Request, Side};

/// What is known of the request when the inner service is called.
#[derive(Debug)]
pub(crate) struct Exchange {
    pub(crate) span: Span,
    pub(crate) start: Instant,
    pub(crate) grpc: bool,
    /// Whether bodies are kept (not for `skip_body` routes or a zero limit).
    pub(crate) keep_bodies: bool,
    pub(crate) request_shape: Shape,
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    pub(crate) headers: HeaderTexts,
    pub(crate) client_ip: Option<IpAddr>,
    /// From a valid `traceparent` header.
    pub(crate) trace: Option<TraceParent>,
    pub(crate) request: Shared,
    /// Set on a login route (see [`AuditLayer::login_route`](super::AuditLayer::login_route)).
    pub(crate) login: Option<login::Watch>,
}

/// Everything the record needs: the request's part from the call, the
/// response's filled in when it comes (one allocation for both); the
/// record is made when the response body ends or is dropped.
#[derive(Debug)]
pub(crate) struct Finish {
    pub(crate) exchange: Exchange,
    /// `None` when the service answered with an error.
    pub(crate) status: Option<StatusCode>,
    pub(crate) headers: HeaderTexts,
    pub(crate) response_shape: Shape,
    pub(crate) response: Capture,
    pub(crate) error: Option<String>,
}

impl Finish {
    /// The exchange, its response not known yet.
    pub(crate) fn new(exchange: Exchange) -> Finish {
        Finish {
            exchange,
            status: None,
            headers: HeaderTexts::default(),
            response_shape: Shape::Binary,
            response: Capture::new(0),
            error: None,
        }
    }

    /// Whether the response body sent all it declared it would: its
    /// `content-length`, which the bytes seen reach. A server stops there
    /// and drops the body without polling it for its end.
    pub(crate) fn sent_declared(&self) -> bool {
        self.headers
            .get(http::header::CONTENT_LENGTH.as_str())
            .and_then(|v| v.trim().parse::<u64>().ok())
            == Some(self.response.total)
    }

    /// Makes the record: `aborted` when the response body was dropped
    /// before its end.
    pub(crate) fn emit(self: Box<Self>, aborted: bool) {
        let Finish {
            exchange: ex,
            status,
            headers,
            response_shape,
            response,
            error,
        } = *self;
        let execution_time = ex.start.elapsed().as_secs_f64();
        let request = std::mem::take(
            &mut *ex
                .request
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        // An AuditLayer inside this one records the exchange (and its
        // login).
        if request.claimed {
            return;
        }

        let req_headers = ex.headers.pairs();
        let res_headers = headers.pairs();
        let query: SmallVec<[(Cow<'_, str>, Cow<'_, str>); 8]> = ex
            .uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).collect())
            .unwrap_or_default();

        // gRPC's status: from the trailers, or from the headers of a
        // trailers-only response.
        let grpc_field = |name: &str| {
            response
                .trailers
                .as_ref()
                .and_then(|t| t.get(name))
                .map(|v| v.as_bytes())
                .or_else(|| headers.get(name).map(str::as_bytes))
        };
        let (grpc_status, grpc_message) = if ex.grpc {
            (
                grpc_field("grpc-status").map(String::from_utf8_lossy),
                // Percent-encoded UTF-8 on the wire (gRPC over HTTP/2):
                // recorded as the service wrote it.
                grpc_field("grpc-message")
                    .map(|m| percent_encoding::percent_decode(m).decode_utf8_lossy()),
            )
        } else {
            (None, None)
        };

        let error: Option<Cow<'_, str>> = match (error, status) {
            (Some(e), _) => Some(e.into()),
            (None, Some(s)) if s.is_server_error() => Some(status_text(s).into()),
            (None, _) => match grpc_status.as_deref() {
                Some(code) if code != "0" => Some(match grpc_message.as_deref() {
                    Some(m) => format!("grpc-status {code}: {m}").into(),
                    None => format!("grpc-status {code}").into(),
                }),
                _ => None,
            },
        };

        let client_ip = ex.client_ip;
        let ip_text = client_ip.map(IpText::new);
        let record = Request {
            protocol: if ex.grpc { "grpc" } else { "http" },
            method: ex.method.as_str(),
            path: ex.uri.path(),
            query: &query,
            client_ip: ip_text.as_ref().map(|ip| ip as &dyn std::fmt::Display),
            request: side(&req_headers, &request, ex.request_shape, ex.keep_bodies),
            status: status.map(|s| s.as_u16()),
            response: side(&res_headers, &response, response_shape, ex.keep_bodies),
            grpc_status: grpc_status.as_deref(),
            grpc_message: grpc_message.as_deref(),
            execution_time,
            error: error.as_deref(),
            aborted,
            trace_id: ex.trace.as_ref().map(TraceParent::trace_id),
            span_id: ex.trace.as_ref().map(TraceParent::span_id),
            external: None,
        };
        match &ex.login {
            None => emit_in(&ex.span, &record),
            Some(watch) => ex.span.in_scope(|| {
                emit_in(&Span::none(), &record);
                watch.emit(&login::Attempt {
                    status,
                    aborted,
                    request_headers: &ex.headers,
                    shape: ex.request_shape,
                    body: &request.kept,
                    cut: request.cut,
                    client_ip,
                });
            }),
        }
    }
}

pub(crate) fn side<'a>(
    headers: &'a [(&'a str, Cow<'a, str>)],
    capture: &'a Capture,
    shape: Shape,
    keep: bool,
) -> Side<'a> {
    let body = if !keep {
        if capture.total == 0 {
            Payload::Empty
        } else {
            Payload::NotKept(capture.total)
        }
    } else {
        capture::represent(shape, &capture.kept, capture.total, capture.cut)
    };
    Side {
        headers,
        body,
        // A binary body is recorded by its size: nothing of it is cut.
        body_truncated: keep && shape != Shape::Binary && capture.cut,
        size: capture.total,
    }
}

/// `"500 Internal Server Error"`.
pub(crate) fn status_text(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}
