//! What `client_overhead --floors` and `client_calls` add to a plain
//! `reqwest` call to show what a part of the job costs with nothing of
//! `AuditedClient` in it. Not an example itself.

use std::time::Duration;

use http_body_util::BodyExt;

/// The response with its body wrapped in an identity `map_frame` and
/// rebuilt around it: the least a wrapper that sees the end of the body
/// costs (issue 13, item 2).
pub fn wrapped(response: reqwest::Response) -> reqwest::Response {
    let response: http::Response<reqwest::Body> = response.into();
    reqwest::Response::from(response.map(|body| reqwest::Body::wrap(body.map_frame(|frame| frame))))
}

/// The request with the two headers a propagating client adds: the
/// request id (a new UUIDv7) and a new W3C `traceparent` (random trace and
/// span ids from `uuid`'s generator).
pub fn propagated(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    let id = uuid::Uuid::now_v7();
    let trace = uuid::Uuid::new_v4().simple();
    let span = uuid::Uuid::new_v4().as_u64_pair().0;
    request
        .header("x-request-id", id.hyphenated().to_string())
        .header("traceparent", format!("00-{trace}-{span:016x}-01"))
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
