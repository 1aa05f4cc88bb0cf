//! [`AuditMiddleware`]: the record of [`AuditedClient`](super::AuditedClient)
//! for `reqwest-middleware` chains, one per attempt under a retry
//! middleware.

use std::sync::Arc;

use http::Extensions;
use reqwest_middleware::{Middleware, Next};

use super::client::{audited, Config};

/// A `reqwest-middleware` middleware recording each request it passes on
/// as one `audit.request` record (`request_type` `"external"`), the same
/// record as [`AuditedClient`](super::AuditedClient)'s.
///
/// Put it after a retry middleware (`.with(retry).with(audit)`): each
/// attempt is then recorded, with its number (from 1) as `attempt`.
///
/// The record is in the span current when the chain runs this middleware,
/// which is when the future of `reqwest-middleware`'s `send` is first
/// polled (not when `send` is called, as with
/// [`AuditedClient`](super::AuditedClient)): a call awaited in a spawned
/// task gets the request's `request_id` only if the task runs in its span
/// (`tokio::spawn(call.in_current_span())`).
///
/// ```no_run
/// use tracing_audit::http::AuditMiddleware;
///
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(AuditMiddleware::new("payments"))
///     .build();
/// ```
#[derive(Debug, Clone)]
pub struct AuditMiddleware {
    config: Arc<Config>,
}

/// The attempts made so far for one request (the extensions are the same
/// for each attempt of a retry middleware).
#[derive(Debug, Clone, Copy, Default)]
struct Attempts(u32);

impl AuditMiddleware {
    /// Records calls to `peer_service`, with the same defaults as
    /// [`AuditedClient::new`](super::AuditedClient::new).
    pub fn new(peer_service: impl AsRef<str>) -> Self {
        AuditMiddleware {
            config: Arc::new(Config::new(peer_service.as_ref())),
        }
    }

    /// As [`AuditedClient::body_limit`](super::AuditedClient::body_limit).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        Arc::make_mut(&mut self.config).body_limit = bytes;
        self
    }

    /// As [`AuditedClient::propagate_request_id`](super::AuditedClient::propagate_request_id).
    pub fn propagate_request_id(mut self, on: bool) -> Self {
        Arc::make_mut(&mut self.config).request_id = on;
        self
    }

    /// As [`AuditedClient::traceparent`](super::AuditedClient::traceparent).
    pub fn traceparent(mut self, on: bool) -> Self {
        Arc::make_mut(&mut self.config).traceparent = on;
        self
    }
}

#[async_trait::async_trait]
impl Middleware for AuditMiddleware {
    async fn handle(
        &self,
        req: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let attempts = extensions.get_or_insert_default::<Attempts>();
        attempts.0 = attempts.0.saturating_add(1);
        let attempt = attempts.0;
        audited(
            &self.config,
            req,
            Some(attempt),
            tracing::Span::current(),
            |req| next.run(req, extensions),
            |e| match e {
                reqwest_middleware::Error::Reqwest(e) => Some(e),
                reqwest_middleware::Error::Middleware(_) => None,
            },
        )
        .await
    }
}
