//! What `client_overhead --floors` and `client_calls` add to a plain
//! `reqwest` call to show what a part of the job costs with nothing of
//! `AuditedClient` in it. Not an example itself.

use std::time::Duration;

use http_body_util::BodyExt;

/// What a floor adds to a plain call.
#[derive(Debug, Clone, Copy)]
pub struct Parts {
    /// The response body wrapped ([`wrapped`]).
    pub wrap: bool,
    /// The two propagation headers added ([`propagated`]).
    pub propagate: bool,
    /// One line for the call ([`log_call`]).
    pub log: bool,
}

impl Parts {
    pub const NONE: Parts = Parts {
        wrap: false,
        propagate: false,
        log: false,
    };
    pub const ALL: Parts = Parts {
        wrap: true,
        propagate: true,
        log: true,
    };
}

/// The response with its body wrapped in an identity `map_frame` and
/// rebuilt around it: the least a wrapper that sees the end of the body
/// costs (issue 13, item 2).
pub fn wrapped(response: reqwest::Response) -> reqwest::Response {
    let response: http::Response<reqwest::Body> = response.into();
    reqwest::Response::from(response.map(|body| reqwest::Body::wrap(body.map_frame(|frame| frame))))
}

/// The request with the two headers a propagating client adds, made as
/// cheaply as a careful hand can: the request id (`id`, as a span would
/// hold it) and a new W3C `traceparent` (random trace and span ids from
/// `uuid`'s generator), each written once into the `String` the header
/// value takes over, the names constants.
pub fn propagated(request: reqwest::RequestBuilder, id: u64) -> reqwest::RequestBuilder {
    use std::fmt::Write;
    const REQUEST_ID: http::HeaderName = http::HeaderName::from_static("x-request-id");
    const TRACEPARENT: http::HeaderName = http::HeaderName::from_static("traceparent");
    let mut request_id = String::with_capacity(20);
    let _ = write!(request_id, "{id}");
    let (trace, span) = (
        uuid::Uuid::new_v4().as_u128(),
        uuid::Uuid::new_v4().as_u64_pair().0,
    );
    let mut traceparent = String::with_capacity(55);
    let _ = write!(traceparent, "00-{trace:032x}-{span:016x}-01");
    let mut request = request;
    for (name, value) in [(REQUEST_ID, request_id), (TRACEPARENT, traceparent)] {
        if let Ok(value) = http::HeaderValue::try_from(value) {
            request = request.header(name, value);
        }
    }
    request
}

/// One line for the call, as a user who logs calls writes it: no headers,
/// no bodies.
pub fn log_call(url: &str, status: u16, elapsed: Duration) {
    tracing::info!(
        peer_service = "orders",
        method = "POST",
        url,
        status,
        elapsed_ms = elapsed.as_secs_f64() * 1e3,
        "external call"
    );
}
