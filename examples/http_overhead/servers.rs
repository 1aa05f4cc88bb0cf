//! The three servers: one axum hello-world, each behind its own stack and
//! on its own tokio runtime, whose threads log through that stack only.

use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tokio::runtime::Runtime;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::dispatcher::DefaultGuard;
use tracing::{Dispatch, Level};
use tracing_appender::non_blocking::WorkerGuard;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// axum alone, on threads whose dispatcher is `NoSubscriber`.
    Bare,
    /// `tracing_audit::http::AuditLayer::new()`, the global subscriber.
    Ours,
    /// tower-http's `TraceLayer` + `fmt().json()` + `non_blocking`.
    Anchor,
    /// `--floors`: only the request span issue 12 asks for (a UUIDv7
    /// `request_id`, an empty `user_id`), entered around the handler, under
    /// the global subscriber; no record.
    SpanOnly,
    /// `--floors`: the same span under a bare `tracing_subscriber::Registry`
    /// (no layer): what any subscriber that keeps spans spends on it.
    SpanRegistry,
    /// `--floors`: `AuditLayer::new().body_limit(0)`, every record but no
    /// body kept.
    NoBodies,
}

impl Variant {
    /// The order of every round.
    pub const ALL: [Variant; 3] = [Variant::Bare, Variant::Ours, Variant::Anchor];

    /// With `--floors`, after the three.
    pub const FLOORS: [Variant; 3] = [Variant::SpanRegistry, Variant::SpanOnly, Variant::NoBodies];

    pub fn label(self) -> &'static str {
        match self {
            Variant::Bare => "bare",
            Variant::Ours => "audit-layer",
            Variant::Anchor => "tracelayer",
            Variant::SpanOnly => "span-only",
            Variant::SpanRegistry => "span-registry",
            Variant::NoBodies => "no-bodies",
        }
    }
}

/// The anchor's file, inside the run's directory.
pub const ANCHOR_FILE: &str = "tracelayer.log";

#[derive(Deserialize)]
struct NewItem {
    name: String,
    price: f64,
    tags: Vec<String>,
}

#[derive(Serialize)]
struct Item {
    id: u64,
    name: String,
    price: f64,
    tags: Vec<String>,
}

/// Requests the handlers answered, per server.
type Served = Arc<AtomicU64>;

async fn create_item(
    State(served): State<Served>,
    Json(item): Json<NewItem>,
) -> (StatusCode, Json<Item>) {
    let id = served.fetch_add(1, Ordering::Relaxed) + 1;
    let item = Item {
        id,
        name: item.name,
        price: item.price,
        tags: item.tags,
    };
    (StatusCode::CREATED, Json(item))
}

async fn read_item(State(served): State<Served>, UrlPath(id): UrlPath<u64>) -> Json<Item> {
    served.fetch_add(1, Ordering::Relaxed);
    Json(Item {
        id,
        name: "Desk lamp".into(),
        price: 12.99,
        tags: vec!["home".into(), "light".into()],
    })
}

/// The hello-world every variant serves: `POST /items` (JSON in, JSON
/// out, 201) and `GET /items/{id}` (JSON out).
fn app(served: Served) -> Router {
    Router::new()
        .route("/items", post(create_item))
        .route("/items/{id}", get(read_item))
        .with_state(served)
}

/// The floor of issue 12's second demand: the request's span alone.
#[derive(Clone)]
struct SpanOnly<S>(S);

impl<S, B> tower::Service<axum::http::Request<B>> for SpanOnly<S>
where
    S: tower::Service<axum::http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = tracing::instrument::Instrumented<S::Future>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: axum::http::Request<B>) -> Self::Future {
        let span = crate::support::request_span();
        let future = span.in_scope(|| self.0.call(req));
        tracing::Instrument::instrument(future, span)
    }
}

thread_local! {
    /// The dispatcher of this runtime thread, for the thread's life.
    static THREAD_DISPATCH: RefCell<Option<DefaultGuard>> = const { RefCell::new(None) };
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    pub served: Served,
    runtime: Runtime,
}

impl Server {
    /// Starts `variant` on `threads` worker threads. `dispatch`: the
    /// dispatcher of every thread of its runtime; `None` leaves them on
    /// the global one.
    pub fn start(
        variant: Variant,
        threads: usize,
        dispatch: Option<Dispatch>,
    ) -> io::Result<Server> {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder
            .worker_threads(threads)
            .thread_name(format!("srv-{}", variant.label()))
            .enable_all();
        if let Some(dispatch) = dispatch {
            builder
                .on_thread_start(move || {
                    let guard = tracing::dispatcher::set_default(&dispatch);
                    THREAD_DISPATCH.with(|slot| *slot.borrow_mut() = Some(guard));
                })
                .on_thread_stop(|| {
                    THREAD_DISPATCH.with(|slot| slot.borrow_mut().take());
                });
        }
        let runtime = builder.build()?;
        let served = Served::default();
        let router = app(served.clone());
        let router = match variant {
            Variant::Bare => router,
            Variant::Ours => router.layer(tracing_audit::http::AuditLayer::new()),
            Variant::NoBodies => router.layer(tracing_audit::http::AuditLayer::new().body_limit(0)),
            Variant::SpanOnly | Variant::SpanRegistry => {
                router.layer(tower::layer::layer_fn(SpanOnly))
            }
            // TraceLayer's span and its response event are DEBUG by
            // default, so the default layer writes nothing under an INFO
            // subscriber: a careful user raises both to INFO, which gives
            // one line per request (status and latency) in the span of the
            // request (method, uri, version).
            Variant::Anchor => router.layer(
                TraceLayer::new_for_http()
                    .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                    .on_response(DefaultOnResponse::new().level(Level::INFO)),
            ),
        };
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let listener = {
            let _entered = runtime.enter();
            tokio::net::TcpListener::from_std(std_listener)?
        };
        let listener = listener.tap_io(|tcp| {
            // Small responses: no Nagle delay, as in any production server.
            let _ = tcp.set_nodelay(true);
        });
        runtime.spawn(async move {
            let service = router.into_make_service_with_connect_info::<SocketAddr>();
            if let Err(e) = axum::serve(listener, service).await {
                eprintln!("server: {e}");
            }
        });
        Ok(Server {
            addr,
            served,
            runtime,
        })
    }

    pub fn served(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }

    /// Stops the server: its connections and their bodies are dropped,
    /// so every request it answered has been logged when this returns.
    pub fn stop(self) {
        self.runtime.shutdown_timeout(Duration::from_secs(10));
    }
}

/// The anchor's subscriber (see [`crate::support::json_anchor`]).
pub fn anchor_dispatch(dir: &Path) -> (Dispatch, WorkerGuard) {
    crate::support::json_anchor(dir, ANCHOR_FILE)
}
