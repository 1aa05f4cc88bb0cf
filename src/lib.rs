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
mod clock;

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
