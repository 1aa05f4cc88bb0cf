//! [`AuditedClient`]: a `reqwest` client that records every call it makes
//! as one `audit.request` record with `request_type` `"external"`.

mod body;
pub(crate) mod call;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{IntoUrl, Method};
use serde::Serialize;

use self::call::Call;
use super::DEFAULT_BODY_LIMIT;

/// The settings of an audited client (shared by its clones and by
/// [`AuditMiddleware`](crate::http::AuditMiddleware)).
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) peer_service: Arc<str>,
    pub(crate) body_limit: usize,
    pub(crate) request_id: bool,
    pub(crate) traceparent: bool,
}

impl Config {
    pub(crate) fn new(peer_service: &str) -> Config {
        Config {
            peer_service: peer_service.into(),
            body_limit: DEFAULT_BODY_LIMIT,
            request_id: true,
            traceparent: true,
        }
    }
}

/// Sends `req` through `send`, recording it in `span` (the span current
/// when the caller sent it): the response comes back with its body
/// wrapped (the record is made when the body ends or is dropped), an
/// error is recorded at once and returned as it is.
pub(crate) async fn audited<F, Fut, E>(
    config: &Config,
    mut req: reqwest::Request,
    attempt: Option<u32>,
    span: tracing::Span,
    send: F,
    as_reqwest: impl Fn(&E) -> Option<&reqwest::Error>,
) -> Result<reqwest::Response, E>
where
    F: FnOnce(reqwest::Request) -> Fut,
    Fut: Future<Output = Result<reqwest::Response, E>>,
    E: fmt::Display,
{
    let mut armed = Armed(Some(Call::start(config, &mut req, attempt, span)));
    let result = send(req).await;
    let Some(call) = armed.0.take() else {
        // Taken only here.
        return result;
    };
    match result {
        Ok(response) => Ok(body::wrap(call, response)),
        Err(e) => {
            match as_reqwest(&e) {
                Some(error) => call.failed(error),
                None => call.failed_with(&e),
            }
            Err(e)
        }
    }
}

/// The call while `send` runs: dropped before the response (the caller's
/// own timeout, a `select!`, a cancelled task), it is recorded as
/// abandoned.
struct Armed(Option<Box<Call>>);

impl Drop for Armed {
    fn drop(&mut self) {
        if let Some(call) = self.0.take() {
            call.abandoned();
        }
    }
}

/// A `reqwest::Client` that records every call: method, endpoint, headers
/// and body of the request, status, headers and body of the response, the
/// time taken and any error, with the name of the service called as
/// `peer_service` (see the [module docs](crate::http#outbound-calls)).
///
/// ```no_run
/// # async fn run() -> Result<(), reqwest::Error> {
/// use tracing_audit::http::AuditedClient;
///
/// let client = AuditedClient::new("payments", reqwest::Client::new());
/// let response = client
///     .post("http://payments.internal/api/charges")
///     .json(&serde_json::json!({"amount": 1200, "currency": "EUR"}))
///     .send()
///     .await?;
/// let charge: serde_json::Value = response.json().await?; // recorded here
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// An error of `send` is reqwest's own error, untouched. An error while
/// the body is read (the partner hung up mid-body, a read timeout) reaches
/// the caller as plain reqwest gives it: the same `Display`, the same
/// `is_decode()` / `is_body()` / `is_timeout()` / `url()`, the same root
/// cause; only its `source()` chain has two more `request or response
/// body error` links, since reqwest wraps a body's error each time a
/// response is rebuilt around a new body. The record has the error with
/// `error_kind: "body"` and `aborted: true`.
#[derive(Clone)]
pub struct AuditedClient {
    inner: reqwest::Client,
    config: Arc<Config>,
}

impl fmt::Debug for AuditedClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditedClient")
            .field("peer_service", &self.config.peer_service)
            .field("body_limit", &self.config.body_limit)
            .finish_non_exhaustive()
    }
}

impl AuditedClient {
    /// Wraps `client` for calls to `peer_service`: bodies kept up to
    /// 64 KiB each, `x-request-id` and `traceparent` sent.
    pub fn new(peer_service: impl AsRef<str>, client: reqwest::Client) -> Self {
        AuditedClient {
            inner: client,
            config: Arc::new(Config::new(peer_service.as_ref())),
        }
    }

    /// The most bytes kept of each body for the record (the caller still
    /// gets every byte); a body over it is recorded cut, with
    /// `body_truncated: true`. `0` keeps no body.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        Arc::make_mut(&mut self.config).body_limit = bytes;
        self
    }

    /// Whether the current span's `request_id` goes out as `x-request-id`
    /// (default on; a header the caller set is never replaced).
    pub fn propagate_request_id(mut self, on: bool) -> Self {
        Arc::make_mut(&mut self.config).request_id = on;
        self
    }

    /// Whether each call without a `traceparent` gets a new W3C one, its
    /// ids recorded as `trace_id` / `span_id` (default on).
    pub fn traceparent(mut self, on: bool) -> Self {
        Arc::make_mut(&mut self.config).traceparent = on;
        self
    }

    /// The wrapped client.
    pub fn inner(&self) -> &reqwest::Client {
        &self.inner
    }

    /// A `GET` request.
    pub fn get<U: IntoUrl>(&self, url: U) -> AuditedRequestBuilder {
        self.request(Method::GET, url)
    }

    /// A `POST` request.
    pub fn post<U: IntoUrl>(&self, url: U) -> AuditedRequestBuilder {
        self.request(Method::POST, url)
    }

    /// A `PUT` request.
    pub fn put<U: IntoUrl>(&self, url: U) -> AuditedRequestBuilder {
        self.request(Method::PUT, url)
    }

    /// A `PATCH` request.
    pub fn patch<U: IntoUrl>(&self, url: U) -> AuditedRequestBuilder {
        self.request(Method::PATCH, url)
    }

    /// A `DELETE` request.
    pub fn delete<U: IntoUrl>(&self, url: U) -> AuditedRequestBuilder {
        self.request(Method::DELETE, url)
    }

    /// A `HEAD` request.
    pub fn head<U: IntoUrl>(&self, url: U) -> AuditedRequestBuilder {
        self.request(Method::HEAD, url)
    }

    /// A request with any method.
    pub fn request<U: IntoUrl>(&self, method: Method, url: U) -> AuditedRequestBuilder {
        AuditedRequestBuilder {
            inner: self.inner.request(method.clone(), url),
            config: Arc::clone(&self.config),
            method,
        }
    }

    /// Sends a request built elsewhere, recorded like the others.
    pub fn execute(
        &self,
        request: reqwest::Request,
    ) -> impl Future<Output = Result<reqwest::Response, reqwest::Error>> + Send + 'static {
        let client = self.inner.clone();
        let config = Arc::clone(&self.config);
        // Taken now: the future may be polled elsewhere (a spawned task).
        let span = tracing::Span::current();
        async move {
            audited(
                &config,
                request,
                None,
                span,
                |req| client.execute(req),
                |e: &reqwest::Error| Some(e),
            )
            .await
        }
    }
}

/// A request being built, as `reqwest::RequestBuilder`; [`send`](Self::send)
/// records it.
#[derive(Debug)]
#[must_use = "a request does nothing until it is sent"]
pub struct AuditedRequestBuilder {
    inner: reqwest::RequestBuilder,
    config: Arc<Config>,
    /// For the record of a request that cannot be built (reqwest's
    /// builder then gives no request to read it from).
    method: Method,
}

impl AuditedRequestBuilder {
    fn map(self, f: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder) -> Self {
        AuditedRequestBuilder {
            inner: f(self.inner),
            config: self.config,
            method: self.method,
        }
    }

    /// Adds a header.
    pub fn header<K, V>(self, key: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        self.map(|b| b.header(key, value))
    }

    /// Adds headers.
    pub fn headers(self, headers: HeaderMap) -> Self {
        self.map(|b| b.headers(headers))
    }

    /// HTTP basic authentication (recorded masked).
    pub fn basic_auth<U: fmt::Display, P: fmt::Display>(
        self,
        username: U,
        password: Option<P>,
    ) -> Self {
        self.map(|b| b.basic_auth(username, password))
    }

    /// A bearer token (recorded masked).
    pub fn bearer_auth<T: fmt::Display>(self, token: T) -> Self {
        self.map(|b| b.bearer_auth(token))
    }

    /// The request body.
    pub fn body<T: Into<reqwest::Body>>(self, body: T) -> Self {
        self.map(|b| b.body(body))
    }

    /// A timeout for this request.
    pub fn timeout(self, timeout: Duration) -> Self {
        self.map(|b| b.timeout(timeout))
    }

    /// Query parameters added to the URL.
    pub fn query<T: Serialize + ?Sized>(self, query: &T) -> Self {
        self.map(|b| b.query(query))
    }

    /// A form body (`application/x-www-form-urlencoded`).
    pub fn form<T: Serialize + ?Sized>(self, form: &T) -> Self {
        self.map(|b| b.form(form))
    }

    /// A JSON body.
    pub fn json<T: Serialize + ?Sized>(self, json: &T) -> Self {
        self.map(|b| b.json(json))
    }

    /// The HTTP version.
    pub fn version(self, version: reqwest::Version) -> Self {
        self.map(|b| b.version(version))
    }

    /// Builds the request without sending it.
    pub fn build(self) -> Result<reqwest::Request, reqwest::Error> {
        self.inner.build()
    }

    /// Sends the request. The record is made when the response body has
    /// been read to its end or dropped, or at once on an error, which is
    /// returned as reqwest made it.
    pub fn send(self) -> impl Future<Output = Result<reqwest::Response, reqwest::Error>> {
        let config = self.config;
        let method = self.method;
        let (client, request) = self.inner.build_split();
        // The span of the call is the one current here, at `send`: the
        // future may be polled elsewhere (a spawned task has no span).
        let span = tracing::Span::current();
        async move {
            match request {
                Ok(request) => {
                    audited(
                        &config,
                        request,
                        None,
                        span,
                        |req| client.execute(req),
                        |e: &reqwest::Error| Some(e),
                    )
                    .await
                }
                Err(e) => {
                    call::unsent(&config, span, method, &e);
                    Err(e)
                }
            }
        }
    }
}
