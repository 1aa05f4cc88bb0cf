//! Inbound HTTP and gRPC auditing (feature `http`): a `tower` layer that
//! records every request with its response as one `audit.request` record
//! in `api.log`.
//!
//! ```no_run
//! # #[cfg(feature = "axum")] {
//! use axum::{routing::post, Router};
//! use tracing_audit::http::AuditLayer;
//!
//! let app: Router = Router::new()
//!     .route("/api/items", post(|body: String| async move { body }))
//!     .layer(
//!         AuditLayer::new()
//!             .body_limit(16 * 1024)
//!             .skip_body("/api/upload/*")
//!             .trusted_proxies(["10.0.0.0/8"])
//!             .expect("valid CIDRs"),
//!     );
//! # }
//! ```
//!
//! The layer serves anything built on `tower` and `http` 1.x: axum, hyper
//! and tonic alike. It changes nothing the client or the handler sees
//! except one header: the response carries `x-request-id` (the request's
//! id; a response whose handler set its own `x-request-id` keeps that one,
//! and the record shows it among the response headers).
//!
//! # What is recorded
//!
//! One record per request (see [`schema`](crate::schema) for every key):
//! method, path, query parameters, headers, body and client address of the
//! request; status, headers and body of the response; `execution_time` in
//! seconds (from the call to the end of the response body), the sizes of
//! both bodies, `error_message`, `aborted`, and the `trace_id` / `span_id`
//! of a W3C `traceparent` header. Everything goes through the audit
//! layer's [redaction policy](crate::redact::Policy): secret headers
//! (`Authorization`, `Cookie`, `Set-Cookie`, …), secret keys in query
//! strings, JSON and form bodies, and secret values (bearer tokens, JWTs,
//! card numbers) anywhere.
//!
//! One request gives one record even when the layer wraps it twice (a
//! nested router's layer inside the app's): the innermost layer that
//! audits it records it, with its own settings and request id (the one
//! that goes out in `x-request-id`), keeping what the outer one was told:
//! its login routes, its `skip_body` routes, its trusted proxies' client
//! address and its user.
//!
//! The record is made once the response body has ended, so a stream
//! (server-sent events, a long download) is recorded when it ends, and one
//! the client walked away from when it is dropped, with `"aborted": true`.
//! Nothing is buffered: the bodies pass through frame by frame and only
//! their first [`body_limit`](AuditLayer::body_limit) bytes are copied
//! aside (a body over the limit is recorded cut, `body_truncated: true`).
//!
//! Bodies are recorded by their `content-type`: JSON as JSON, forms
//! (`application/x-www-form-urlencoded`) as objects, text as text, and
//! compressed bodies (`content-encoding`), bytes that are not UTF-8 or hold a NUL (UTF-16),
//! protobuf, octet streams and gRPC as `"[binary N bytes]"`. A JSON body
//! that was cut or does not parse is kept as text; a cut form is still an
//! object (its pairs up to the cut, decoded, so redacted as a whole one).
//!
//! # The request span
//!
//! The inner service, and its response body while it streams, run inside
//! a span `request` with the request's `request_id` (an incoming sane `x-request-id`, 1 to 128 characters of
//! `[A-Za-z0-9._:-]`, else a new UUIDv7) and `user_id`. Every record a
//! handler makes (a [`create!`](crate::create), a login) carries them, and
//! [`set_user`](crate::set_user) in a handler or an auth middleware (inside
//! this layer) reaches the request record too. The user may also come from
//! [`AuditLayer::user_from`] or, opt-in, from the `sub` claim of a bearer
//! JWT ([`AuditLayer::user_from_jwt_sub`], read WITHOUT verifying it).
//!
//! # Failures
//!
//! The inner service's `Err` is recorded at once (its `Display` as
//! `error_message`) and returned unchanged; a 5xx response has its status
//! as `error_message`; a panic in the handler is caught, answered with an
//! empty 500 and recorded with the panic's message.
//!
//! # gRPC
//!
//! A request with `content-type: application/grpc…` is recorded with
//! `protocol: "grpc"`, the method path as `path`, the bodies as
//! `"[binary N bytes]"`, and `grpc_status` / `grpc_message` from the
//! trailers (or from the headers of a trailers-only answer).
//!
//! # Client address
//!
//! The connection's peer: axum's `ConnectInfo<SocketAddr>` (feature
//! `axum`, with `into_make_service_with_connect_info`), tonic's
//! `TcpConnectInfo` (feature `tonic`, which `tonic::transport::Server`
//! inserts) or a `SocketAddr` request extension. The forwarding header is believed only when that
//! peer is one of the [trusted proxies](AuditLayer::trusted_proxies), and
//! then walked from the right, past every trusted hop. Only the header the
//! proxies append to is read ([`ProxyHeader`]: `X-Forwarded-For` by
//! default, or `Forwarded`), since a proxy passes the other one on as the
//! client wrote it.
//!
//! # Outbound calls
//!
//! With the feature `reqwest`, `AuditedClient` wraps a `reqwest::Client`
//! for calls to one partner service, named in each record's
//! `peer_service`. It has the client's calling style (`get`, `post`,
//! `put`, `patch`, `delete`, `request`, then `header`, `query`, `json`,
//! `form`, `body`, `timeout`, `send`) and gives back the plain
//! `reqwest::Response` and `reqwest::Error`, so the caller's code does not
//! change: `status()`, `headers()`, `text()`, `json()`, `bytes()` and
//! `bytes_stream()` all work and see every byte.
//!
//! One record per call, in the span current at `send` (so it carries the
//! caller's `request_id` and `user_id`): method, endpoint (userinfo and
//! secret query values masked), headers and body of the request; status,
//! headers and body of the response (the first `body_limit` bytes, copied
//! while the caller reads); `execution_time`; `error_message` and
//! `error_kind` for a failed call. It is made when the response body is
//! read to its end or dropped, or at once when `send` fails (the caller
//! gets that very error). A 200 whose body is not JSON is text, not an
//! error; a 5xx has its status as `error_message`.
//!
//! The current span's request id goes out as `x-request-id` and each call
//! gets a W3C `traceparent` (unless the caller set them), its ids in the
//! record's `trace_id` / `span_id`, so the partner's records (an
//! [`AuditLayer`] there) join on them. Inside a request that an
//! [`AuditLayer`] received with a valid `traceparent`, the call continues
//! that trace (the same trace id and flags, a new parent id for the hop),
//! also from a task spawned with the request's span
//! (`.instrument(Span::current())`); otherwise it starts a new trace. This
//! needs the `tracing-subscriber` registry at the base of the subscriber,
//! as every subscriber this crate builds has.
//!
//! With the feature `reqwest-middleware`, `AuditMiddleware` makes the same
//! record in a `reqwest-middleware` chain, one per attempt behind a retry
//! middleware, numbered in `attempt`.

mod body;
mod capture;
#[cfg(feature = "reqwest")]
mod client;
mod client_ip;
mod exchange;
mod future;
mod headers;
pub(crate) mod ip_text;
mod layer;
mod login;
#[cfg(feature = "reqwest-middleware")]
mod middleware;
mod paths;
mod request_id;
mod trace;
mod user;

pub use body::{RequestBody, ResponseBody};
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub use client::{AuditedClient, AuditedRequestBuilder};
pub use client_ip::ProxyHeader;
pub use future::ResponseFuture;
pub use layer::{Audit, AuditLayer, DEFAULT_BODY_LIMIT};
#[cfg(feature = "reqwest-middleware")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest-middleware")))]
pub use middleware::AuditMiddleware;
