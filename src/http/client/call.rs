//! One outbound call in flight: what the record needs from the request,
//! the headers that carry the request id and trace out, and the one place
//! an outbound record is made ([`Call::emit`]), inside the caller's span.

use std::borrow::Cow;
use std::time::Instant;

use http::{HeaderValue, StatusCode};
use tracing::Span;

use super::Config;
use crate::external::emit_in;
use crate::http::body::Capture;
use crate::http::capture::Shape;
use crate::http::exchange::{side, status_text};
use crate::http::headers::HeaderTexts;
use crate::http::request_id;
use crate::http::trace::{self, TraceParent};
use crate::record::request::{External, Payload, Request};

/// What is known of an outbound request when it is sent.
#[derive(Debug)]
pub(crate) struct Call {
    peer_service: std::sync::Arc<str>,
    body_limit: usize,
    span: Span,
    start: Instant,
    method: http::Method,
    /// The URL as sent (`None`: the request could not be built).
    url: Option<reqwest::Url>,
    headers: HeaderTexts,
    request_shape: Shape,
    request: Capture,
    /// A body given as a stream: not seen by the record.
    streamed: bool,
    trace: Option<TraceParent>,
    attempt: Option<u32>,
}

/// How the response ended, for the record.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) status: Option<StatusCode>,
    pub(crate) headers: HeaderTexts,
    pub(crate) shape: Shape,
    pub(crate) body: Capture,
    pub(crate) error: Option<String>,
    pub(crate) error_kind: Option<&'static str>,
    pub(crate) aborted: bool,
}

impl Call {
    /// Starts the record of `req` (in `span`, the caller's) and adds the
    /// propagation headers the caller did not set.
    pub(crate) fn start(
        config: &Config,
        req: &mut reqwest::Request,
        attempt: Option<u32>,
        span: Span,
    ) -> Box<Call> {
        let headers = req.headers_mut();
        if config.request_id && !headers.contains_key(request_id::HEADER) {
            if let Some(id) = crate::request_id_in(&span) {
                // Only a sane id goes out as it is: it cannot break a header.
                if request_id::is_sane(id.as_bytes()) {
                    if let Ok(value) = HeaderValue::from_str(&id) {
                        headers.insert(request_id::HEADER, value);
                    }
                }
            }
        }
        let trace = match headers.get(trace::HEADER) {
            // The caller's own, if it is valid.
            Some(theirs) => TraceParent::parse(theirs.as_bytes()),
            None if config.traceparent => {
                // Inside an audited inbound request that came with a
                // trace: continued; else a new one.
                let ours = trace::inbound(&span).map_or_else(TraceParent::fresh, |t| t.child());
                // Hex digits and hyphens: always a header value.
                if let Ok(value) = HeaderValue::from_bytes(ours.as_bytes()) {
                    headers.insert(trace::HEADER, value);
                }
                Some(ours)
            }
            None => None,
        };
        let texts = HeaderTexts::new(headers);
        let request_shape = texts.shape(false);
        let limit = if request_shape == Shape::Binary {
            0
        } else {
            config.body_limit
        };
        let mut request = Capture::new(limit);
        let mut streamed = false;
        if let Some(body) = req.body() {
            match body.as_bytes() {
                Some(bytes) => request.data(&bytes),
                None => streamed = true,
            }
        }
        // Boxed: the call waits in the caller's future and then in the
        // response body, and is moved between them.
        Box::new(Call {
            peer_service: config.peer_service.clone(),
            body_limit: config.body_limit,
            span,
            start: Instant::now(),
            method: req.method().clone(),
            url: Some(req.url().clone()),
            headers: texts,
            request_shape,
            request,
            streamed,
            trace,
            attempt,
        })
    }

    /// The cap on the kept response body of the shape `shape`.
    pub(crate) fn response_limit(&self, shape: Shape) -> usize {
        if shape == Shape::Binary {
            0
        } else {
            self.body_limit
        }
    }

    /// Makes the record of a call that failed before a response: `error`
    /// is the very error the caller gets.
    pub(crate) fn failed(self: Box<Self>, error: &reqwest::Error) {
        self.emit(Outcome {
            status: None,
            headers: HeaderTexts::default(),
            shape: Shape::Binary,
            body: Capture::new(0),
            error: Some(error_text(error)),
            error_kind: Some(error_kind(error)),
            aborted: false,
        });
    }

    /// Makes the record of a call that failed before a response with an
    /// error of a middleware (not reqwest's).
    pub(crate) fn failed_with(self: Box<Self>, error: &dyn std::fmt::Display) {
        let mut text = String::new();
        crate::json::display_into(&mut text, error);
        self.emit(Outcome {
            status: None,
            headers: HeaderTexts::default(),
            shape: Shape::Binary,
            body: Capture::new(0),
            error: Some(text),
            error_kind: Some("other"),
            aborted: false,
        });
    }

    /// Makes the record of a call dropped before its response.
    pub(crate) fn abandoned(self: Box<Self>) {
        self.emit(Outcome {
            status: None,
            headers: HeaderTexts::default(),
            shape: Shape::Binary,
            body: Capture::new(0),
            error: Some("abandoned: dropped before the response".to_owned()),
            error_kind: Some("abandoned"),
            aborted: true,
        });
    }

    /// Makes the record.
    pub(crate) fn emit(self: Box<Self>, outcome: Outcome) {
        let execution_time = self.start.elapsed().as_secs_f64();
        let req_headers = self.headers.pairs();
        let res_headers = outcome.headers.pairs();
        // Decoded when the record is made, borrowing from the URL.
        let query: Vec<(Cow<'_, str>, Cow<'_, str>)> = self
            .url
            .as_ref()
            .and_then(|u| u.query())
            .map(|q| form_urlencoded::parse(q.as_bytes()).collect())
            .unwrap_or_default();
        // `body_limit(0)`: bodies are recorded by size only.
        let keep = self.body_limit > 0;
        let mut request = side(&req_headers, &self.request, self.request_shape, keep);
        if self.streamed {
            request.body = Payload::Text("[streamed body]".to_owned());
        }
        let error = outcome.error.or_else(|| {
            outcome
                .status
                .filter(StatusCode::is_server_error)
                .map(status_text)
        });
        let record = Request {
            protocol: "http",
            method: self.method.as_str(),
            query: &query,
            request,
            status: outcome.status.map(|s| s.as_u16()),
            response: side(&res_headers, &outcome.body, outcome.shape, keep),
            execution_time,
            error: error.as_deref(),
            aborted: outcome.aborted,
            trace_id: self.trace.as_ref().map(TraceParent::trace_id),
            span_id: self.trace.as_ref().map(TraceParent::span_id),
            external: Some(External {
                peer_service: &self.peer_service,
                endpoint: self.url.as_ref().map_or("", |u| u.as_str()),
                error_kind: outcome.error_kind,
                attempt: self.attempt,
            }),
            ..Request::default()
        };
        emit_in(&self.span, &record);
    }
}

/// Records a request that could not be built (a bad URL or header): the
/// caller gets `error`.
pub(crate) fn unsent(config: &Config, span: Span, method: http::Method, error: &reqwest::Error) {
    let call = Box::new(Call {
        peer_service: config.peer_service.clone(),
        body_limit: 0,
        span,
        start: Instant::now(),
        method,
        url: error.url().cloned(),
        headers: HeaderTexts::default(),
        request_shape: Shape::Binary,
        request: Capture::new(0),
        streamed: false,
        trace: None,
        attempt: None,
    });
    call.failed(error);
}

/// The kind of a reqwest error, for `error_kind`.
pub(crate) fn error_kind(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else if error.is_body() {
        "body"
    } else if error.is_decode() {
        "decode"
    } else if error.is_redirect() {
        "redirect"
    } else if error.is_request() {
        "request"
    } else {
        "other"
    }
}

/// The error and its causes, `: `-joined. The URL reqwest puts in its
/// message is written as `endpoint` already (redacted there): here it is
/// cut down to scheme, host and path.
pub(crate) fn error_text(error: &reqwest::Error) -> String {
    let mut text = String::new();
    crate::json::display_into(&mut text, error);
    if let Some(url) = error.url() {
        let mut short = url.clone();
        let _ = short.set_username("");
        let _ = short.set_password(None);
        short.set_query(None);
        short.set_fragment(None);
        text = text.replace(url.as_str(), short.as_str());
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        crate::json::display_into(&mut text, cause);
        source = cause.source();
    }
    text
}
