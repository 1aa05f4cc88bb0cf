//! [`AuditLayer`] (the configuration) and [`Audit`] (the service it wraps
//! around the application's).

use std::fmt;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use http::request::Parts;
use http::{Method, Request, Response};
use http_body::Body;
use ipnet::IpNet;
use tower_layer::Layer;
use tower_service::Service;

use super::body::{Capture, RequestBody, ResponseBody};
use super::client_ip::ProxyHeader;
use super::exchange::{Exchange, Finish};
use super::future::ResponseFuture;
use super::headers::HeaderTexts;
use super::paths::{self, Pattern};
use super::trace::{self, TraceParent};
use super::{capture, client_ip, login, request_id, user};
use crate::{redact, unwind};

/// The default cap on each kept body: 64 KiB.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

type UserFn = dyn Fn(&Parts) -> Option<String> + Send + Sync;

/// The layer's settings, shared by every clone of the service.
pub(super) struct Config {
    body_limit: usize,
    include: Vec<Pattern>,
    /// The default exclusions (probes, metrics, static files): for GET,
    /// HEAD and OPTIONS only.
    defaults: Vec<Pattern>,
    exclude: Vec<Pattern>,
    skip_body: Vec<Pattern>,
    trusted: Vec<IpNet>,
    proxy_header: ProxyHeader,
    user_from: Option<Arc<UserFn>>,
    jwt_sub: bool,
    pub(super) login_routes: Vec<login::LoginRoute>,
}

impl Config {
    fn audits(&self, method: &Method, path: &str) -> bool {
        let reads = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
        (self.include.is_empty() || paths::any(&self.include, path))
            && !paths::any(&self.exclude, path)
            && !(reads && paths::any(&self.defaults, path))
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("body_limit", &self.body_limit)
            .field("include", &self.include)
            .field("defaults", &self.defaults)
            .field("exclude", &self.exclude)
            .field("skip_body", &self.skip_body)
            .field("trusted", &self.trusted)
            .field("proxy_header", &self.proxy_header)
            .field("user_from", &self.user_from.is_some())
            .field("jwt_sub", &self.jwt_sub)
            .field("login_routes", &self.login_routes)
            .finish()
    }
}

/// A `tower` layer that records every request and its response as one
/// `audit.request` record (see the [module docs](super)).
#[derive(Clone, Debug)]
pub struct AuditLayer {
    config: Arc<Config>,
}

impl Default for AuditLayer {
    fn default() -> Self {
        AuditLayer::new()
    }
}

impl AuditLayer {
    /// Bodies kept up to 64 KiB each; probes, metrics, the favicon and
    /// static files not recorded; no trusted proxy; the user from
    /// [`set_user`](crate::set_user) only.
    pub fn new() -> Self {
        AuditLayer {
            config: Arc::new(Config {
                body_limit: DEFAULT_BODY_LIMIT,
                include: Vec::new(),
                defaults: paths::DEFAULT_EXCLUDES
                    .iter()
                    .map(|p| Pattern::new(p))
                    .collect(),
                exclude: Vec::new(),
                skip_body: Vec::new(),
                trusted: Vec::new(),
                proxy_header: ProxyHeader::default(),
                user_from: None,
                jwt_sub: false,
                login_routes: Vec::new(),
            }),
        }
    }

    pub(super) fn with(mut self, f: impl FnOnce(&mut Config)) -> Self {
        // Settings are made before the layer is cloned: when it already
        // was, this copy gets a configuration of its own.
        match Arc::get_mut(&mut self.config) {
            Some(config) => f(config),
            None => {
                let old = &self.config;
                let mut config = Config {
                    body_limit: old.body_limit,
                    include: old.include.clone(),
                    defaults: old.defaults.clone(),
                    exclude: old.exclude.clone(),
                    skip_body: old.skip_body.clone(),
                    trusted: old.trusted.clone(),
                    proxy_header: old.proxy_header,
                    user_from: old.user_from.clone(),
                    jwt_sub: old.jwt_sub,
                    login_routes: old.login_routes.clone(),
                };
                f(&mut config);
                self.config = Arc::new(config);
            }
        }
        self
    }

    /// The most bytes kept of each body (request and response) for the
    /// record: the rest passes through uncopied and the record says the
    /// body was cut (`body_truncated`). `0` keeps no body at all.
    pub fn body_limit(self, bytes: usize) -> Self {
        self.with(|c| c.body_limit = bytes)
    }

    /// Records only requests whose path matches one of the included
    /// patterns (once any is given), less the excluded ones. Patterns:
    /// `/exact/path`, `/prefix/*` (the prefix and everything under it),
    /// `*.ext` (paths ending so). They match the path as the wrapped
    /// service sees it: inside an axum router nested under `/api`, without
    /// that prefix (the record still has the client's whole path).
    pub fn include(self, pattern: &str) -> Self {
        self.with(|c| c.include.push(Pattern::new(pattern)))
    }

    /// Records no request whose path matches `pattern` (patterns as for
    /// [`include`](Self::include)). By default `/health`, `/healthz`,
    /// `/livez`, `/readyz`, `/ready`, `/ping`, `/metrics`, `/favicon.ico`,
    /// `/robots.txt`, `/static/*`, `/assets/*` and the usual static file
    /// extensions are excluded for `GET`, `HEAD` and `OPTIONS` requests
    /// (a `DELETE /files/report.png` is still recorded);
    /// [`keep_default_paths`](Self::keep_default_paths) drops those
    /// defaults. What `exclude` adds applies to every method.
    pub fn exclude(self, pattern: &str) -> Self {
        self.with(|c| c.exclude.push(Pattern::new(pattern)))
    }

    /// Forgets the default exclusions (probes, metrics, static files):
    /// only what [`exclude`](Self::exclude) adds is left out.
    pub fn keep_default_paths(self) -> Self {
        self.with(|c| c.defaults.clear())
    }

    /// Never keeps the bodies (request and response) of the paths matching
    /// `pattern`: the record has `"[not kept N bytes]"` instead. For routes
    /// whose bodies are secrets as a whole, or too large to be of use.
    pub fn skip_body(self, pattern: &str) -> Self {
        self.with(|c| c.skip_body.push(Pattern::new(pattern)))
    }

    /// The proxies (CIDRs like `10.0.0.0/8`, or single addresses) whose
    /// forwarding header ([`proxy_header`](Self::proxy_header)) is believed. From any other
    /// peer those headers are ignored: anyone can write them. An IPv4
    /// address and its IPv4-mapped IPv6 form (`::ffff:10.0.0.1`) are one
    /// address here, whichever way the CIDR or the peer is written. A string that
    /// is neither is an [`Error::TrustedProxy`](crate::Error::TrustedProxy).
    pub fn trusted_proxies<I, T>(self, cidrs: I) -> Result<Self, crate::Error>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        let mut nets = Vec::new();
        for cidr in cidrs {
            nets.push(client_ip::parse_cidr(cidr.as_ref()).map_err(crate::Error::TrustedProxy)?);
        }
        Ok(self.with(|c| c.trusted.extend(nets)))
    }

    /// The forwarding header the trusted proxies append to, the only one
    /// read: [`ProxyHeader::XForwardedFor`] (the default) or
    /// [`ProxyHeader::Forwarded`]. The other is ignored, since a proxy passes
    /// it on as the client wrote it.
    pub fn proxy_header(self, header: ProxyHeader) -> Self {
        self.with(|c| c.proxy_header = header)
    }

    /// Who the request comes from, read from the request before the
    /// handler runs (a session cookie looked up, a header an authenticating
    /// proxy set). [`set_user`](crate::set_user) in a handler or middleware
    /// still overrides it.
    pub fn user_from<F>(self, f: F) -> Self
    where
        F: Fn(&Parts) -> Option<String> + Send + Sync + 'static,
    {
        self.with(|c| c.user_from = Some(Arc::new(f)))
    }

    /// Opt-in: the user is the `sub` claim of an `Authorization: Bearer`
    /// JWT, **decoded WITHOUT verifying the signature**. Anyone can forge
    /// such a token: use it only behind something that verifies it, or as
    /// a hint of who the caller claims to be. A [`user_from`](Self::user_from)
    /// closure that gives a user wins over it.
    pub fn user_from_jwt_sub(self, on: bool) -> Self {
        self.with(|c| c.jwt_sub = on)
    }
}

impl<S> Layer<S> for AuditLayer {
    type Service = Audit<S>;

    fn layer(&self, inner: S) -> Audit<S> {
        Audit {
            inner,
            config: Arc::clone(&self.config),
        }
    }
}

/// Left in the request by an auditing [`Audit`] for one inside it (which
/// then makes the record): its request capture, where the inner one says
/// so, and what the inner one keeps of its settings: its login watch, that
/// it keeps no body, the client's address if it trusts proxies (it is the
/// nearer to them), its user.
#[derive(Clone)]
struct Outer {
    capture: super::body::Shared,
    login: Option<login::Watch>,
    keep_bodies: bool,
    trusted_ip: Option<std::net::IpAddr>,
    user: Option<String>,
}

/// The audited service: see [`AuditLayer`].
#[derive(Clone, Debug)]
pub struct Audit<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S, ReqB, ResB> Service<Request<ReqB>> for Audit<S>
where
    S: Service<Request<RequestBody<ReqB>>, Response = Response<ResB>>,
    S::Error: fmt::Display,
    ResB: Body,
{
    type Response = Response<ResponseBody<ResB>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        let config = &*self.config;
        if !config.audits(req.method(), req.uri().path()) {
            let req = req.map(|b| RequestBody::new(b, None));
            return match unwind::catch(|| self.inner.call(req)) {
                Ok(future) => ResponseFuture::passthrough(future),
                Err(message) => ResponseFuture::panicked(None, None, message),
            };
        }
        let start = Instant::now();
        let (mut parts, body) = req.into_parts();
        // The layer wrapped twice (a nested router's and the app's): the
        // innermost one that audits makes the one record (the outer one
        // then makes none), and its request id is the one that goes out.
        // What the outer one knows still holds (see `Outer`).
        let outer = parts.extensions.remove::<Outer>();
        let mut login = login::watch(&config.login_routes, &parts.method, parts.uri.path());
        if let Some(outer) = &outer {
            outer
                .capture
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .claimed = true;
            if login.is_none() {
                login.clone_from(&outer.login);
            }
        }
        // A sane id or a UUID: visible ASCII, so always text.
        let (header, made) = request_id::pick_header(parts.headers.get(request_id::HEADER));
        let id = header.to_str().unwrap_or("invalid");
        let new_span =
            || tracing::info_span!("request", request_id = id, user_id = tracing::field::Empty);
        // A UUID made here is not scanned for secrets (nor its echo in the
        // response headers); a client's id always is.
        let span = if made {
            redact::made_here(id, new_span)
        } else {
            new_span()
        };
        let user = match &config.user_from {
            Some(f) => unwind::catch(|| f(&parts)).ok().flatten(),
            None => None,
        }
        .or_else(|| config.jwt_sub.then(|| user::jwt_sub(&parts)).flatten())
        .or_else(|| outer.as_ref().and_then(|o| o.user.clone()));
        if let Some(user) = &user {
            span.record("user_id", user.as_str());
        }
        let headers = HeaderTexts::new(&parts.headers);
        // Kept in the span: calls made inside the request continue it.
        let trace = headers
            .get(trace::HEADER.as_str())
            .and_then(|v| TraceParent::parse(v.as_bytes()));
        if let Some(trace) = trace {
            trace::remember(&span, trace);
        }
        let grpc = headers.is_grpc();
        let keep_bodies = config.body_limit > 0
            && !paths::any(&config.skip_body, parts.uri.path())
            && outer.as_ref().is_none_or(|o| o.keep_bodies);
        let request_shape = headers.shape(grpc);
        // Binary bodies are recorded by their size: nothing to copy.
        let request_limit = if keep_bodies && request_shape != capture::Shape::Binary {
            config.body_limit
        } else {
            0
        };
        let shared = Arc::new(Mutex::new(Capture::new(request_limit)));
        // The address the nearest layer that trusts proxies found.
        let trusted_ip = outer.as_ref().and_then(|o| o.trusted_ip).or_else(|| {
            (!config.trusted.is_empty())
                .then(|| {
                    client_ip::client(
                        client_ip::peer(&parts.extensions),
                        &parts.headers,
                        &config.trusted,
                        config.proxy_header,
                    )
                })
                .flatten()
        });
        let client_ip = trusted_ip.or_else(|| {
            client_ip::client(
                client_ip::peer(&parts.extensions),
                &parts.headers,
                &config.trusted,
                config.proxy_header,
            )
        });
        parts.extensions.insert(Outer {
            capture: Arc::clone(&shared),
            login: login.clone(),
            keep_bodies,
            trusted_ip,
            user: user.clone(),
        });
        // One allocation for the whole exchange: the response's part is
        // filled in when it comes.
        let exchange = Box::new(Finish::new(Exchange {
            span,
            start,
            grpc,
            keep_bodies,
            request_shape,
            method: parts.method.clone(),
            uri: paths::recorded_uri(&parts),
            headers,
            client_ip,
            trace,
            request: Arc::clone(&shared),
            login,
        }));
        let req = Request::from_parts(parts, RequestBody::new(body, Some(shared)));
        let called = {
            let _entered = exchange.exchange.span.enter();
            unwind::catch(|| self.inner.call(req))
        };
        match called {
            Ok(future) => ResponseFuture::audited(future, exchange, header, config.body_limit),
            Err(message) => ResponseFuture::panicked(Some(exchange), Some(header), message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `x-request-id` of the response to a request with `incoming`,
    /// from a handler that sets `own`.
    fn echoed(incoming: Option<&'static str>, own: Option<&'static str>) -> String {
        use tower::ServiceExt;
        let service = tower::service_fn(move |_req: Request<RequestBody<String>>| async move {
            let mut response = Response::new(String::new());
            if let Some(own) = own {
                response
                    .headers_mut()
                    .insert("x-request-id", http::HeaderValue::from_static(own));
            }
            Ok::<_, std::convert::Infallible>(response)
        });
        let mut req = Request::post("/api/items");
        if let Some(id) = incoming {
            req = req.header("x-request-id", id);
        }
        let req = req.body(String::new()).expect("a request");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        let response = runtime
            .block_on(AuditLayer::new().layer(service).oneshot(req))
            .expect("infallible");
        let id = response.headers()["x-request-id"].to_str().expect("text");
        id.to_owned()
    }

    #[test]
    fn the_request_id_is_echoed_unless_the_handler_set_its_own() {
        assert_eq!(echoed(Some("req-7"), None), "req-7");
        assert_eq!(echoed(None, None).len(), 36, "a new UUID");
        assert_eq!(echoed(Some("req-7"), Some("handler-1")), "handler-1");
        assert_eq!(echoed(None, Some("handler-1")), "handler-1");
    }

    #[test]
    fn default_exclusions_skip_only_reads() {
        let layer = AuditLayer::new().exclude("/internal/*");
        let c = &*layer.config;
        assert!(!c.audits(&Method::GET, "/static/app.js"));
        assert!(!c.audits(&Method::HEAD, "/health"));
        // A change to a path that looks static is still audited.
        assert!(c.audits(&Method::DELETE, "/api/files/report.png"));
        assert!(c.audits(&Method::POST, "/api/users/bob.js"));
        // What the user excludes holds for every method.
        assert!(!c.audits(&Method::POST, "/internal/jobs"));
        let kept = AuditLayer::new().keep_default_paths();
        assert!(kept.config.audits(&Method::GET, "/static/app.js"));
    }
}
