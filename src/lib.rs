//! A compliance-grade audit trail for [`tracing`](https://docs.rs/tracing).
//!
//! Services must answer *who did what, when, from where, and what changed*.
//! `tracing-audit` writes that answer as JSON lines, one file per kind of
//! record (`audit.log`, `api.log`, `login.log`, `app.log`), through an
//! appender that loses nothing by default, rotates by size and time, and
//! reports every error instead of swallowing it. The files are made to be
//! shipped by Vector into ClickHouse.
//!
//! # Where the crate stands
//!
//! This release ships the foundation every record goes through: the
//! [`appender`] module. The tracing layer, the AUDIT / API / LOGIN record
//! kinds, the CRUD macros and the one-call subscriber are built on top of
//! it next (see the CHANGELOG).
//!
//! # The appender in one minute
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
//! // Dropping the guards drains the queues, fsyncs and joins the threads.
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Feature flags
//!
//! No feature is on by default; the core needs only `crossbeam-channel`
//! and `time`.
//!
//! | feature | what it adds |
//! |---|---|
//! | `gzip` | [`AppenderBuilder::compress`](appender::AppenderBuilder::compress): gzip rotated files in a background thread (`flate2`) |
//!
//! # Platform and MSRV
//!
//! Linux and other Unix systems are the supported targets (file modes,
//! identity checks and the `EFBIG` recovery are Unix features; elsewhere
//! they are skipped). The minimum supported Rust version is 1.80, declared
//! in `Cargo.toml`; CI builds with the current stable toolchain.
#![warn(missing_docs, unreachable_pub, rust_2018_idioms)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod appender;
mod builder;
mod clock;
mod context;
pub mod diff;
mod event_id;
mod filter;
mod json;
mod layer;
mod macros;
pub mod record;
pub mod redact;
pub mod schema;
mod sink;
mod transaction;

pub use builder::{
    builder, layer, AuditGuard, Builder, Error, FilteredAuditLayer, DEFAULT_MAX_LINE_BYTES,
};
pub use diff::{diff, Changes};
pub use filter::AuditFilter;
pub use layer::AuditLayer;
pub use transaction::Transaction;

/// Sets the acting user on the current span, after authentication: every
/// record made from now on in this span, in spans opened inside it, and in
/// the enclosing spans up to the one that carries the `request_id` (the
/// request's own span), gets this `user_id` and `user_info`.
///
/// ```
/// # #[derive(serde::Serialize)] struct Info { email: &'static str }
/// let span = tracing::info_span!("request", request_id = "r-1");
/// let _entered = span.enter();
/// tracing_audit::set_user(7, Some(&Info { email: "a@b.c" }));
/// tracing_audit::read!(model: "Invoice", id: 12); // user_id "7"
/// ```
///
/// Without the crate's layer installed this does nothing.
pub fn set_user<T: serde::Serialize>(user_id: impl std::fmt::Display, user_info: Option<&T>) {
    tracing::Span::current().with_subscriber(|(id, dispatch)| {
        if let Some(layer) = dispatch.downcast_ref::<AuditLayer>() {
            let info = user_info.map(|i| i as &dyn record::ToJson);
            layer.set_user(dispatch, id, &user_id, info);
        }
    });
}

#[doc(hidden)]
pub mod __private {
    pub use tracing;
}

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
