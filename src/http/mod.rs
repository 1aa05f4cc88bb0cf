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
//! except one header: the response carries `x-request-id`.
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
//! The record is made once the response body has ended, so a stream
//! (server-sent events, a long download) is recorded when it ends, and one
//! the client walked away from when it is dropped, with `"aborted": true`.
//! Nothing is buffered: the bodies pass through frame by frame and only
//! their first [`body_limit`](AuditLayer::body_limit) bytes are copied
//! aside (a body over the limit is recorded cut, `body_truncated: true`).
//!
//! Bodies are recorded by their `content-type`: JSON as JSON, forms
//! (`application/x-www-form-urlencoded`) as objects, text as text, and
//! compressed bodies (`content-encoding`), bytes that are not UTF-8,
//! protobuf, octet streams and gRPC as `"[binary N bytes]"`. A JSON body
//! that was cut or does not parse is kept as text.
//!
//! # The request span
//!
//! The inner service runs inside a span `request` with the request's
//! `request_id` (an incoming sane `x-request-id`, 1 to 128 characters of
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
//! `axum`, with `into_make_service_with_connect_info`) or a `SocketAddr`
//! request extension. `Forwarded` and `X-Forwarded-For` are believed only
//! when that peer is one of the [trusted proxies](AuditLayer::trusted_proxies),
//! and then walked from the right, past every trusted hop.

mod body;
mod capture;
mod client_ip;
mod exchange;
mod future;
mod layer;
mod login;
mod paths;
mod request_id;
mod user;

pub use body::{RequestBody, ResponseBody};
pub use future::ResponseFuture;
pub use layer::{Audit, AuditLayer, DEFAULT_BODY_LIMIT};
