//! A compliance-grade audit trail for [`tracing`](https://docs.rs/tracing).
//!
//! Services must answer *who did what, when, from where, and what changed*.
//! `tracing-audit` writes that answer as JSON lines, one file per kind of
//! record (`audit.log`, `api.log`, `login.log`, `app.log`), through an
//! appender that loses nothing by default, rotates by size and time, and
//! reports every error instead of swallowing it. The files are made to be
//! shipped by Vector into ClickHouse.
//!
//! # Quick start
//!
//! ```no_run
//! use tracing_audit::diff;
//!
//! #[derive(serde::Serialize, Clone)]
//! struct Product { id: u64, price: f64 }
//!
//! // audit.log, api.log, login.log, app.log in audit_logs/ (each made by
//! // the first record of its kind) and a console on stderr (see below).
//! // Keep the guard: dropping it writes out and fsyncs.
//! // service_name: your package's name (`billing` in the examples);
//! // without it, the executable's file name.
//! let guard = tracing_audit::builder()
//!     .service_name(env!("CARGO_PKG_NAME"))
//!     .init()?;
//!
//! let before = Product { id: 42, price: 10.99 };
//! let after = Product { price: 12.99, ..before.clone() };
//! tracing_audit::update!(model: "Product", id: after.id, changes: diff(&before, &after));
//!
//! // Closing explicitly gives the final figures (dropping discards them).
//! let report = guard.shutdown();
//! assert_eq!(report.lost(), 0);
//! # Ok::<(), tracing_audit::Error>(())
//! ```
//!
//! # Record kinds
//!
//! `tracing`'s levels are closed, so the kinds are *targets*; the JSON
//! `level` names the kind. Each kind has its own file:
//!
//! | target | JSON `level` | file | made by |
//! |---|---|---|---|
//! | `audit.crud`, `audit.process`, any other `audit.*` | `AUDIT` | `audit.log` | [`create!`], [`read!`], [`update!`], [`delete!`], [`bulk_create!`], [`bulk_update!`], [`bulk_delete!`]; [`Process`] (business processes, step by step) |
//! | `audit.request` | `API` | `api.log` | `http::AuditLayer` (feature `http`): every inbound HTTP/gRPC request; `http::AuditedClient` (feature `reqwest`) and [`external_call`]: every outbound call |
//! | `audit.login` | `LOGIN` | `login.log` | [`login!`], [`logout!`], [`login_failed!`] |
//! | anything not `audit.*` | the event's level | `app.log` | `tracing::info!` and friends, and the `log` crate |
//!
//! The [`schema`] module documents every key of every kind. Each record is
//! serialized once, on the caller's thread, into a reused buffer, and handed
//! to its file's [`appender`] as one whole line.
//! The [`shipping`] module takes the files to ClickHouse with Vector:
//! tables, configuration, queries and a dashboard, all checked in CI.
//! On one machine, the `tracing-audit` command (feature `cli`; its guide
//! is the `cli::docs` module) queries, exports and tails the files
//! directly, and the `read` module (feature `read`) reads them back.
//!
//! # The console
//!
//! [`builder()`]'s console shows each record as one line a person can
//! read, on stderr:
//!
//! ```text
//! 2026-11-29T10:00:00.123Z  AUDIT  UPDATE Product 42 (price, stock) user=7 request=r-1
//! 2026-11-29T10:00:00.124Z  LOGIN  login failed user=alice ip=10.0.0.1
//! 2026-11-29T10:00:00.125Z  INFO   billing::db: connected pool=4 password=[REDACTED] user=7
//! ```
//!
//! Audit kinds show under their own level, with the keys that matter
//! rather than the JSON body; application records with their target,
//! message and fields. It shows the very record the files get, so every
//! value is redacted by the same [`redact::Policy`]; values are cut at 200
//! characters and control characters escaped. Colours only on a terminal,
//! and not when `NO_COLOR` is set. See [`Builder::console`],
//! [`Builder::console_filter`] and [`Builder::console_writer`].
//!
//! # Composing with your own subscriber
//!
//! [`builder()`] installs everything; [`layer()`] gives the audit layer
//! alone, with its own filter, for a `registry()` you assemble. It is a
//! [`LayerBuilder`]: every setting of `builder()` but the console's, and
//! [`build`](Builder::build) instead of `init` (a console asked of it
//! does not compile rather than being ignored):
//!
//! ```no_run
//! use tracing_subscriber::prelude::*;
//! use tracing_subscriber::{fmt, EnvFilter};
//!
//! let (audit, _guard) = tracing_audit::layer().log_dir("/var/log/billing").build()?;
//! tracing_subscriber::registry()
//!     .with(audit)
//!     .with(fmt::layer().with_filter(EnvFilter::from_default_env()))
//!     .init();
//! # Ok::<(), tracing_audit::Error>(())
//! ```
//!
//! A `fmt` layer of your own, as here, prints application fields and
//! messages as they are: redaction applies to the audit layer's records
//! (and to the record bodies `fmt` prints), not to what another layer
//! formats itself. [`Builder::finish`] gives the whole subscriber
//! `builder()` would install, console included, without installing it.
//! Added at once, as above, the layer's subscriber type is inferred; a
//! layer kept aside first names it once: `build::<Registry>()` (see
//! [`Builder::build`]).
//!
//! # Filters
//!
//! Audit records (every `audit.*` target) are always written, whatever
//! `RUST_LOG` says: `RUST_LOG=off` silences the console and `app.log`, not
//! the audit trail. Application records reaching `app.log` follow
//! [`Builder::app_filter`] (default `RUST_LOG`, else `info`); the console
//! follows [`Builder::console_filter`]. A span reaches the audit layer when
//! it declares a context field (see below; `tracing::field::Empty` will
//! do), is a [`Transaction`], or the application filter wants it; other
//! spans are not made at all unless another layer wants them, so with
//! `RUST_LOG=off` the `trace_span!`s of hyper or tokio cost next to
//! nothing (see [`AuditFilter`] for what such a span cannot do). A filter
//! you add to the registry as a *global* layer filters the audit layer too:
//! give your own layers per-layer filters instead, as above.
//!
//! # Who, and in which request
//!
//! A span's `user_id`, `user_info`, `request_id` and `tenant` fields (and
//! any declared with [`Builder::context_field`]) are carried into every
//! record made inside it, across `.await` points and into tasks spawned
//! with `.instrument(span)`. [`set_user`] (or [`set_user_info`], with details) fills in the user after
//! authentication. A record made outside any span has `user_id` `""` and
//! no `request_id`.
//!
//! # Changes and transactions
//!
//! [`diff()`] gives the field-level changes between any two `Serialize`
//! values (`{"price":{"old":10.99,"new":12.99}}`, nested fields by dotted
//! path, with [`diff_ignoring()`] for fields such as `updated_at`).
//! CRUD records made inside a [`Transaction`] are held until it commits,
//! and never written if it rolls back.
//!
//! # SeaORM
//!
//! With the feature `sea-orm`, the `orm` module turns SeaORM's lifecycle
//! hooks into CRUD records: `tracing_audit::audited_behavior!(AUDIT)` in
//! an entity's module, and every insert, update and delete of it writes
//! its record, the changes of an update included; records made in
//! `orm::audited_transaction` are written only if the database commits.
//!
//! # Redaction
//!
//! One [`redact::Policy`] applies to every record kind: keys whose
//! segments spell `password`, `token`, `secret`, `api_key`, `refresh`, …
//! at any depth (a changed password shows as
//! `{"old":"[REDACTED]","new":"[REDACTED]"}`; `authorId` is not `auth`),
//! secret headers, and secret values inside any string, where only the
//! secret part is masked: `Bearer`/`Basic` credentials, JWTs, URL
//! passwords, tokens with a well-known prefix (`sk_live_`, `ghp_`, `AKIA`,
//! …) and card numbers. It is on by default; see [`Builder::redaction`].
//!
//! # HTTP and gRPC requests
//!
//! With the feature `http`, `http::AuditLayer` is a `tower` layer (axum,
//! hyper, tonic) that writes one `audit.request` record per request: method,
//! path, query, headers, bodies (the first 64 KiB of each, never buffered),
//! status, timing, client address, errors and panics, all redacted by the
//! same policy. The handler runs inside a span carrying the request's id,
//! so its CRUD records carry it too, and [`set_user`] in an auth middleware
//! reaches the request record:
//!
//! ```ignore
//! let app = axum::Router::new()
//!     .route("/items", post(create_item))
//!     .layer(axum::middleware::from_fn(auth)) // calls tracing_audit::set_user
//!     .layer(tracing_audit::http::AuditLayer::new());
//! ```
//!
//! # Outbound calls
//!
//! With the feature `reqwest`, `http::AuditedClient` wraps a
//! `reqwest::Client` with the same calling style and records each call
//! (`request_type: "external"`, the callee as `peer_service`), sending the
//! current span's request id as `x-request-id` and a W3C `traceparent`;
//! `http::AuditMiddleware` (feature `reqwest-middleware`) does the same in
//! a `reqwest-middleware` chain, one record per attempt. Any other
//! protocol uses [`external_call`]:
//!
//! ```ignore
//! let partner = tracing_audit::http::AuditedClient::new("payments", reqwest::Client::new());
//! let charge: Charge = partner.post(url).json(&order).send().await?.json().await?;
//!
//! let upload = tracing_audit::external_call("partner-sftp", "sftp").request(&file_info);
//! match sftp.put(&file).await {
//!     Ok(done) => upload.finish_ok(&done),
//!     Err(e) => upload.finish_err(&e),
//! }
//! ```
//!
//! # Other sinks
//!
//! Any `MakeWriter` (for example `tracing_appender::rolling::daily`) can
//! take a kind's records instead of the built-in appender:
//! [`Builder::writer`].
//!
//! # The appender
//!
//! Every file is written by an [`appender::Appender`]: a bounded queue and
//! a writer thread that loses nothing by default, rotates by size and time
//! by renaming, keeps a set number of rotated files, and reports every
//! error. It can be used on its own:
//!
//! ```no_run
//! use tracing_audit::appender::{Appender, Backpressure, TimeRotation};
//!
//! // One appender per file. Defaults: block when full (lose nothing),
//! // rotate at 10 MiB, keep 5 rotated files, files created 0640.
//! let (audit, _guard) = Appender::builder("audit_logs/audit.log")
//!     .rotate_every(TimeRotation::Daily)
//!     .build()?;
//!
//! // Container logs may shed load; every dropped line is counted and a
//! // summary line in the file says how many.
//! let (app, _app_guard) = Appender::builder("audit_logs/app.log")
//!     .backpressure(Backpressure::Drop)
//!     .build()?;
//!
//! audit.write_line(br#"{"level":"AUDIT","message":"UPDATE event for Product (id: 42)"}"#)?;
//! audit.sync()?; // written and fsynced
//! println!("{:?}", audit.stats());
//! // Dropping the guards drains the queues, fsyncs and joins the threads
//! // (`appender::shutdown_all` closes several in parallel).
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Feature flags
//!
//! No feature is on by default. The core depends on `tracing`,
//! `tracing-subscriber` (registry, fmt, env-filter), `serde_json`,
//! `crossbeam-channel`, `time` and `uuid`.
//!
//! | feature | what it adds |
//! |---|---|
//! | `gzip` | [`AppenderBuilder::compress`](appender::AppenderBuilder::compress): gzip rotated files in a background thread (`flate2`) |
//! | `http` | `http::AuditLayer`: inbound HTTP and gRPC auditing as a `tower` layer (`http`, `http-body`, `tower-layer`, `tower-service`, `bytes`, `form_urlencoded`, `ipnet`, `base64`) |
//! | `axum` | `http`, and the client address from axum's `ConnectInfo<SocketAddr>` (`axum` without default features, with `tokio`) |
//! | `tonic` | `http`, and the client address from tonic's `TcpConnectInfo` (gRPC servers built with `tonic::transport::Server`) |
//! | `reqwest` | `http`, and `http::AuditedClient`: outbound calls through `reqwest` 0.12 (without default features: choose a TLS backend in your own `reqwest` dependency) |
//! | `reqwest-middleware` | `reqwest`, and `http::AuditMiddleware` for `reqwest-middleware` 0.4 |
//! | `sea-orm` | `orm`: CRUD records from SeaORM 2's `ActiveModelBehavior` hooks, `orm::audited_transaction`, bulk helpers (`sea-orm` without a driver; it needs Rust 1.94) |
//! | `alert` | `alert`: rules over the records on a thread of their own, `audit.alert` records, HMAC-signed webhooks with retries (`reqwest`'s blocking client, no TLS backend chosen for you; `hmac`, `sha2`, `hex`), callbacks; guide: `alert` |
//! | `alert-email` | `alert`, and alert emails over SMTP (`lettre` with `builder` and `smtp-transport` only) |
//! | `read` | `read`: a kind's files in write order (rotated, `.gz`, live), `.gz` files gunzipped, whole lines with a length cap (`flate2`, `memchr`) |
//! | `cli` | `read`, and the `tracing-audit` command (query, export, tail, stats, report, verify) with its internals as the `cli` module (`clap`, `csv`, `indicatif`, `tempfile`); guide: `cli` |
//! | `chain` | tamper evidence: `seq`, `prev_hash` and `hash` through `audit.log` and `login.log`, checkpoints, `chain::verify` (`sha2`, `hmac`, `hex`); guide: `chain` |
//! | `chain-sign` | `chain`, and checkpoints signed with an ed25519 key (`ed25519-dalek`) |
//!
//! # Platform and MSRV
//!
//! Linux and other Unix systems are the supported targets (file modes,
//! identity checks and the `EFBIG` recovery are Unix features; elsewhere
//! they are skipped). The minimum supported Rust version declared in
//! `Cargo.toml`, 1.89, is the highest `rust-version` among the locked
//! dependencies (`uuid`), read from the lockfile; what is verified is the
//! build and the tests with one toolchain (1.95) and clippy's
//! `incompatible_msrv` lint against 1.89. No 1.89 compiler has built it.
#![warn(missing_docs, unreachable_pub, rust_2018_idioms)]
// No `unsafe` but one: registering the exit hook with `atexit`, which the
// standard library has no safe form of (`src/appender/exit.rs`, allowed
// there alone, with its SAFETY note).
#![deny(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// `eprintln!` that never panics: a report stderr cannot take (a pipe
/// whose reader is gone) is dropped, where `eprintln!` would panic, in the
/// caller's code or on a writer thread.
macro_rules! report {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let _ = ::std::writeln!(::std::io::stderr(), $($arg)*);
    }};
}

#[cfg(feature = "alert")]
#[cfg_attr(docsrs, doc(cfg(feature = "alert")))]
pub mod alert;
pub mod appender;
mod builder;
#[cfg(feature = "chain")]
#[cfg_attr(docsrs, doc(cfg(feature = "chain")))]
pub mod chain;
#[cfg(feature = "cli")]
#[cfg_attr(docsrs, doc(cfg(feature = "cli")))]
pub mod cli;
mod clock;
mod console;
mod context;
mod diff;
mod event_id;
mod external;
mod fallback;
mod filter;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
mod json;
mod layer;
mod macros;
mod nesting;
#[cfg(feature = "sea-orm")]
#[cfg_attr(docsrs, doc(cfg(feature = "sea-orm")))]
pub mod orm;
mod peers;
mod plain_login;
mod process;
#[cfg(feature = "read")]
#[cfg_attr(docsrs, doc(cfg(feature = "read")))]
pub mod read;
pub mod record;
pub mod redact;
mod same_user;
pub mod schema;
pub mod shipping;
mod sink;
mod span_data;
mod transaction;
mod unwind;

pub use builder::{
    builder, layer, AuditGuard, Builder, ContextFieldError, Error, FilterError, FilteredAuditLayer,
    LayerBuilder, LayerOnly, ShutdownReport, WithConsole, DEFAULT_MAX_LINE_BYTES,
};
pub use diff::{diff, diff_ignoring, Change, Changes};
pub use external::{external_call, ExternalCall};
pub use filter::AuditFilter;
pub use layer::AuditLayer;
pub use nesting::{DEFAULT_MAX_DEPTH, DEPTH_MARKER};
pub use process::{Process, ProcessError};
pub use record::Kind;
pub use transaction::Transaction;

/// Sets the acting user on the current span, after authentication: every
/// record made from now on in this span, in spans opened inside it, and in
/// the enclosing spans up to the one that carries the `request_id` (the
/// request's own span), gets this `user_id` (and an empty `user_info`; use
/// [`set_user_info`] to give details). When no enclosing span carries a
/// `request_id`, only the current span gets it: spans further out may be
/// shared by other requests.
///
/// ```
/// let span = tracing::info_span!("request", request_id = "r-1");
/// let _entered = span.enter();
/// tracing_audit::set_user(7); // no type annotation needed
/// tracing_audit::set_user("alice");
/// tracing_audit::read!(model: "Invoice", id: 12); // user_id "alice"
/// ```
///
/// The current span is the innermost span the subscriber made: a span with
/// no context field that no filter wants is not made (see
/// [`AuditFilter`]), so give the span that should hold the user a context
/// field (`user_id = tracing::field::Empty`) when it has no `request_id`.
/// A span made only because another layer's filter wants it is skipped
/// the same way: the audit layer does not see it, so the user goes to the
/// nearest span around it that the audit layer sees.
/// With several audit layers in one subscriber, each gets the user.
///
/// Without the crate's layer installed this does nothing.
pub fn set_user(user_id: impl std::fmt::Display) {
    set_user_dyn(&user_id, None);
}

/// [`set_user`] with the user's details: any `Serialize` value, written as
/// the records' `user_info` (redacted like every other value).
///
/// ```
/// #[derive(serde::Serialize)]
/// struct Info { email: &'static str }
///
/// let span = tracing::info_span!("request", request_id = "r-1");
/// let _entered = span.enter();
/// tracing_audit::set_user_info(7, &Info { email: "a@b.c" });
/// tracing_audit::set_user_info(7, &serde_json::json!({"role": "admin"}));
/// tracing_audit::read!(model: "Invoice", id: 12); // user_id "7", user_info {"role":"admin"}
/// ```
pub fn set_user_info<T: serde::Serialize + ?Sized>(user_id: impl std::fmt::Display, user_info: &T) {
    set_user_dyn(&user_id, Some(&user_info as &dyn record::ToJson));
}

fn set_user_dyn(user_id: &dyn std::fmt::Display, info: Option<&dyn record::ToJson>) {
    tracing::Span::current().with_subscriber(|(id, dispatch)| {
        if let Some(layer) = dispatch.downcast_ref::<AuditLayer>() {
            // The filter of the same `Filtered` layer (found the same way,
            // outermost first): spans it left out do not hold the user.
            let filter = dispatch.downcast_ref::<AuditFilter>();
            layer.set_user(dispatch, id, filter, user_id, info);
        }
    });
}

/// The `request_id` of `span` or the nearest span around it that has one,
/// as the crate's layer keeps it; `None` without the layer.
#[cfg_attr(not(feature = "reqwest"), allow(dead_code))]
pub(crate) fn request_id_in(span: &tracing::Span) -> Option<String> {
    span.with_subscriber(|(id, dispatch)| {
        dispatch
            .downcast_ref::<AuditLayer>()
            .and_then(|layer| layer.context_value(dispatch, id, "request_id"))
    })
    .flatten()
}

#[doc(hidden)]
pub mod __private {
    #[cfg(feature = "sea-orm")]
    pub use sea_orm;
    pub use tracing;

    /// The per-record timestamp and event id, for `benches/clock_id.rs`
    /// (not part of the API).
    pub mod bench {
        /// As every record's `timestamp`: appends the present time.
        pub fn timestamp(out: &mut String) -> std::time::Duration {
            crate::clock::write_now_rfc3339(out)
        }

        /// As every record's `event_id`, for the time of its timestamp.
        pub fn event_id(since: std::time::Duration) -> uuid::Uuid {
            crate::event_id::at(since)
        }

        /// As an inbound record's `client_ip`: appends the address (for
        /// `benches/ip_text.rs`).
        #[cfg(feature = "http")]
        pub fn client_ip(out: &mut String, ip: std::net::IpAddr) {
            use std::fmt::Write as _;
            let _ = write!(out, "{}", crate::http::ip_text::IpText::new(ip));
        }

        /// As a captured JSON body is written into a record (default
        /// policy and caps), for `benches/json_body.rs`: by the crate's
        /// own one-pass reader with `serde_json` behind it, or by
        /// `serde_json` alone; `false` if it is not JSON.
        pub fn json_body(out: &mut String, bytes: &[u8], serde_only: bool) -> bool {
            crate::json::with_opts(|opts| {
                if serde_only {
                    crate::json::json_text_through_serde(out, bytes, opts)
                } else {
                    crate::json::json_text_of_line(out, bytes, opts)
                }
            })
        }

        /// A SeaORM column value as `instance_repr` serializes it, into a
        /// `serde_json::Value` as the record writer takes it, for
        /// `benches/orm_values.rs`.
        #[cfg(feature = "sea-orm")]
        pub fn orm_value(value: &sea_orm::sea_query::Value) -> serde_json::Value {
            crate::orm::bench_value(value)
        }
    }
}

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
