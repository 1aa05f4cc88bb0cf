//! `builder()` / `layer()`: the files, the console, the filters, the
//! redaction policy and the options, in one place.

use std::fmt;
use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tracing_subscriber::filter::Filtered;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::appender::{
    Appender, AppenderBuilder, Backpressure, ConfigError, LazyAppender, Stats, TimeRotation,
};
use crate::console::ConsoleLayer;
use crate::context::Names;
use crate::filter::AuditFilter;
use crate::json::DEFAULT_STRING_CAP;
use crate::layer::AuditLayer;
use crate::nesting::{DEFAULT_MAX_DEPTH, MAX_DEPTH_LIMIT, MIN_DEPTH_LIMIT};
use crate::record::Kind;
use crate::redact::Policy;
use crate::sink::{Sink, Sinks};

/// The longest line written, by default: below Vector's default
/// `max_line_bytes` of 100 KiB.
pub const DEFAULT_MAX_LINE_BYTES: usize = 96 * 1024;

/// The audit layer as [`Builder::build`] returns it: the crate's layer with
/// its own filter.
pub type FilteredAuditLayer<S> = Filtered<AuditLayer, AuditFilter, S>;

/// Starts configuring the whole subscriber: [`Builder::init`] installs the
/// audit layer and a console layer as the global default.
pub fn builder() -> Builder {
    Builder::new(WithConsole {
        on: true,
        writer: None,
        filter: None,
    })
}

/// Starts configuring the audit layer alone, to compose with a subscriber
/// of your own ([`LayerBuilder::build`](Builder::build)). The console is
/// yours to add: a [`LayerBuilder`] has every setting of [`builder()`]
/// except the console's, and no `init`.
///
/// ```compile_fail
/// // The console belongs to the subscriber `builder()` installs.
/// let _ = tracing_audit::layer().console(true);
/// ```
pub fn layer() -> LayerBuilder {
    Builder::new(LayerOnly(()))
}

/// Why the subscriber could not be set up.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A log file could not be opened.
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// A filter directive did not parse: the message shows the directives
    /// given, [`source`](std::error::Error::source) is the parser's error.
    Filter(FilterError),
    /// Another global subscriber is already installed
    /// ([`source`](std::error::Error::source) says more).
    Init(tracing_subscriber::util::TryInitError),
    /// A context field name that records already use as a key (such as
    /// `level` or `path`), or too many context fields (at most 56).
    ContextField(ContextFieldError),
    /// A file setting that would destroy data, such as `max_file_size(0)`
    /// or `max_files(0)`.
    Config(ConfigError),
    /// A trusted proxy given to `http::AuditLayer::trusted_proxies`
    /// (feature `http`) that is neither a CIDR nor an IP address: the
    /// message names it.
    TrustedProxy(String),
    /// A background thread (the alert rules', feature `alert`) could not
    /// be started.
    Thread(io::Error),
    /// Two record kinds were given the same file
    /// ([`file_name`](Builder::file_name)), not a device such as
    /// `/dev/stdout`: two writers would rotate one file under each other, and two hash chains in one file would read as
    /// tampered. The path is the shared file.
    SharedFile(PathBuf),
    /// A kind's file already exists and holds something other than
    /// records (its first byte is not `{`): another program's log in a
    /// shared directory. Taking it over would rotate it aside and let
    /// retention delete it, the other program's lines with it, so the file
    /// is left as it is. The path is that file.
    ForeignFile(PathBuf),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "cannot open {}: {source}", path.display()),
            Error::Filter(e) => write!(f, "bad filter directive {e}"),
            Error::Init(e) => write!(f, "cannot install the subscriber: {e}"),
            Error::ContextField(e) => write!(f, "bad context field: {e}"),
            Error::Config(e) => write!(f, "bad file setting: {e}"),
            Error::TrustedProxy(e) => write!(f, "bad trusted proxy: {e}"),
            Error::Thread(e) => write!(f, "cannot start a thread: {e}"),
            Error::ForeignFile(path) => write!(
                f,
                "{} holds lines that are not JSON records (another program's log?): give \
                 log_dir a directory of its own, or move the file away",
                path.display()
            ),
            Error::SharedFile(path) => write!(
                f,
                "two record kinds write to {}: give each kind its own file_name",
                path.display()
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::Config(e) => Some(e),
            Error::Filter(e) => Some(e),
            Error::Init(e) => Some(e),
            Error::ContextField(e) => Some(e),
            Error::TrustedProxy(_) => None,
            Error::Thread(e) => Some(e),
            Error::SharedFile(_) | Error::ForeignFile(_) => None,
        }
    }
}

/// A filter directive that did not parse ([`Error::Filter`]): the
/// directives as given, and the parser's error as its
/// [`source`](std::error::Error::source).
///
/// ```
/// use std::error::Error as _;
///
/// let err = tracing_audit::layer()
///     .app_filter("warn,my_app=loud")
///     .build::<tracing_subscriber::Registry>()
///     .err()
///     .unwrap();
/// let tracing_audit::Error::Filter(filter) = &err else { panic!("{err}") };
/// assert_eq!(filter.directives(), "warn,my_app=loud");
/// assert!(err.to_string().contains("`warn,my_app=loud`"), "{err}");
/// assert!(err.source().is_some());
/// ```
#[derive(Debug)]
pub struct FilterError {
    directives: String,
    source: tracing_subscriber::filter::ParseError,
}

impl FilterError {
    /// The directives that did not parse, as given.
    pub fn directives(&self) -> &str {
        &self.directives
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.directives, self.source)
    }
}

impl std::error::Error for FilterError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// A context field that cannot be declared ([`Error::ContextField`]): a
/// name records already use as a key, an empty name, or too many fields.
#[derive(Debug)]
pub struct ContextFieldError {
    name: Option<String>,
    reason: String,
}

impl ContextFieldError {
    /// The field's name, when one name is at fault (not for "too many").
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

impl fmt::Display for ContextFieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for ContextFieldError {}

enum SinkChoice {
    File,
    Writer(BoxMakeWriter),
    Off,
}

type Configure = Box<dyn Fn(Kind, AppenderBuilder) -> AppenderBuilder + Send + Sync>;

/// Configures the audit layer (and, with [`init`](Builder::init), the
/// whole subscriber).
///
/// | setting | default |
/// |---|---|
/// | [`log_dir`](Builder::log_dir) | `audit_logs` |
/// | [`file_name`](Builder::file_name) | `audit.log`, `api.log`, `login.log`, `app.log` |
/// | [`service_name`](Builder::service_name) | the executable's file name without extension (`std::env::current_exe`), else `unknown` |
/// | [`max_file_size`](Builder::max_file_size) | 10 MiB |
/// | [`rotate_every`](Builder::rotate_every) | never (size only) |
/// | [`max_files`](Builder::max_files) | 5 rotated files per kind |
/// | [`drain_on_exit`](Builder::drain_on_exit) | on: `std::process::exit` drains and fsyncs every file (Unix) |
/// | backpressure | `Block` for audit, API and login; `Drop` (counted) for app ([`app_backpressure`](Builder::app_backpressure)) |
/// | [`console`](Builder::console) | on with `init`, off with `build`; stderr ([`console_writer`](Builder::console_writer)), colours on a terminal unless `NO_COLOR` |
/// | [`app_filter`](Builder::app_filter), [`console_filter`](Builder::console_filter) | `RUST_LOG`, else `info` |
/// | [`redaction`](Builder::redaction) | [`Policy::default()`] |
/// | [`context_field`](Builder::context_field) | `user_id`, `user_info`, `request_id`, `tenant` |
/// | [`max_string_bytes`](Builder::max_string_bytes) | 16 KiB |
/// | [`max_line_bytes`](Builder::max_line_bytes) | 96 KiB |
/// | [`max_depth`](Builder::max_depth) | 127 levels |
///
/// Audit records (targets `audit.*`) are always written, whatever the
/// filters say; the filters apply to application records.
///
/// [`builder()`] gives a `Builder<WithConsole>` (plain `Builder`): the
/// whole subscriber, with [`console`](Builder::console),
/// [`init`](Builder::init) and [`finish`](Builder::finish). [`layer()`]
/// gives a [`LayerBuilder`] (`Builder<LayerOnly>`): the audit layer alone,
/// with [`build`](Builder::build) and no console. Every other setting is
/// the same method on both.
#[must_use]
pub struct Builder<M = WithConsole> {
    log_dir: PathBuf,
    service_name: Option<String>,
    file_names: [String; 4],
    sinks: [SinkChoice; 4],
    max_file_size: Option<u64>,
    rotate_every: Option<TimeRotation>,
    max_files: Option<usize>,
    app_backpressure: Backpressure,
    drain_on_exit: bool,
    configure: Option<Configure>,
    #[cfg(feature = "chain")]
    chain: Option<crate::chain::ChainOptions>,
    app_filter: Option<String>,
    policy: Policy,
    context_fields: Vec<String>,
    string_cap: usize,
    line_cap: usize,
    max_depth: usize,
    #[cfg(feature = "alert")]
    alerts: Option<crate::alert::Alerts>,
    mode: M,
}

/// What [`layer()`] returns: the audit layer's settings, without the
/// console's; [`build`](Builder::build) gives the layer.
pub type LayerBuilder = Builder<LayerOnly>;

/// The mode of the [`Builder`] that [`builder()`] returns: it builds the
/// whole subscriber, console included.
pub struct WithConsole {
    on: bool,
    writer: Option<BoxMakeWriter>,
    filter: Option<String>,
}

impl fmt::Debug for WithConsole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithConsole")
            .field("on", &self.on)
            .field("writer", &self.writer.as_ref().map(|_| "custom"))
            .field("filter", &self.filter)
            .finish()
    }
}

/// The mode of the [`LayerBuilder`] that [`layer()`] returns: it builds
/// the audit layer alone.
#[derive(Debug)]
pub struct LayerOnly(());

impl<M: fmt::Debug> fmt::Debug for Builder<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("log_dir", &self.log_dir)
            .field("service_name", &self.service_name)
            .field("file_names", &self.file_names)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

/// The settings shared by [`builder()`] and [`layer()`].
impl<M> Builder<M> {
    fn new(mode: M) -> Builder<M> {
        Builder {
            log_dir: PathBuf::from("audit_logs"),
            service_name: None,
            file_names: Kind::ALL.map(|k| k.file_name().to_string()),
            sinks: [
                SinkChoice::File,
                SinkChoice::File,
                SinkChoice::File,
                SinkChoice::File,
            ],
            max_file_size: Some(10 * 1024 * 1024),
            rotate_every: None,
            max_files: Some(5),
            app_backpressure: Backpressure::Drop,
            drain_on_exit: true,
            configure: None,
            #[cfg(feature = "chain")]
            chain: None,
            app_filter: None,
            policy: Policy::default(),
            context_fields: Vec::new(),
            string_cap: DEFAULT_STRING_CAP,
            line_cap: DEFAULT_MAX_LINE_BYTES,
            max_depth: DEFAULT_MAX_DEPTH,
            #[cfg(feature = "alert")]
            alerts: None,
            mode,
        }
    }

    /// The directory of the files (created if missing). A kind's file that
    /// is already there is taken up again (appended to, rotated and, once
    /// rotated, subject to retention) only if it holds records: one whose
    /// first byte is not `{` (another program's log) makes the build fail
    /// with [`Error::ForeignFile`] and is left as it is.
    pub fn log_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.log_dir = dir.as_ref().to_path_buf();
        self
    }

    /// The `service_name` written in every record.
    ///
    /// Without it, records name the running executable's file stem
    /// (`std::env::current_exe`: `billing` for `/usr/bin/billing`, else
    /// `unknown`), the same under `cargo run` and when deployed; no
    /// environment variable is read. A renamed or wrapped binary changes
    /// it, so a service whose name matters should set it, for instance to
    /// its package name, fixed at compile time:
    ///
    /// ```no_run
    /// let _guard = tracing_audit::builder()
    ///     .service_name(env!("CARGO_PKG_NAME"))
    ///     .init()?;
    /// # Ok::<(), tracing_audit::Error>(())
    /// ```
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// The file name of a kind's records, inside [`log_dir`](Builder::log_dir).
    /// Keep the `.log` ending: rotated files are named `<name>.<time>Z`, and
    /// a shipper's `*.log` glob must not match them. Each kind needs a file
    /// of its own: two kinds given one file make the build fail with
    /// [`Error::SharedFile`].
    pub fn file_name(mut self, kind: Kind, name: impl Into<String>) -> Self {
        self.file_names[kind.index()] = name.into();
        self
    }

    /// Sends a kind's records to `writer` (any `MakeWriter`, such as
    /// `tracing_appender::rolling::daily(..)`) instead of the built-in
    /// appender. Each record is one `write_all` of one whole line.
    pub fn writer<W>(mut self, kind: Kind, writer: W) -> Self
    where
        W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        self.sinks[kind.index()] = SinkChoice::Writer(BoxMakeWriter::new(writer));
        self
    }

    /// Writes no file for this kind: its records are dropped by this layer.
    pub fn disable(mut self, kind: Kind) -> Self {
        self.sinks[kind.index()] = SinkChoice::Off;
        self
    }

    /// Rotates a file once the next line would take it past `bytes`
    /// (`None`: never by size). `0` fails with [`Error::Config`].
    pub fn max_file_size(mut self, bytes: impl Into<Option<u64>>) -> Self {
        self.max_file_size = bytes.into();
        self
    }

    /// Also rotates every hour or day, on UTC boundaries.
    pub fn rotate_every(mut self, rotation: impl Into<Option<TimeRotation>>) -> Self {
        self.rotate_every = rotation.into();
        self
    }

    /// How many rotated files of each kind to keep (`None`: all). `0`
    /// fails with [`Error::Config`]; to really keep none, use
    /// [`configure_appender`](Builder::configure_appender) with
    /// [`AppenderBuilder::discard_rotated_files`].
    pub fn max_files(mut self, files: impl Into<Option<usize>>) -> Self {
        self.max_files = files.into();
        self
    }

    /// What the application file does when its queue is full: `Drop` (the
    /// default; every drop counted and reported in the file) or `Block`.
    /// Audit, API and login files always block: they lose nothing.
    pub fn app_backpressure(mut self, backpressure: Backpressure) -> Self {
        self.app_backpressure = backpressure;
        self
    }

    /// Whether an exit hook (`atexit`, Unix) drains every queue and fsyncs
    /// every file when the process ends with `std::process::exit` while
    /// the guard is alive (on by default). Records made by other threads
    /// after the hook starts are refused and counted. Without it, records
    /// still queued at exit are lost. See
    /// [what survives exit, abort and kill -9](crate::appender#what-survives-exit-abort-and-kill--9).
    pub fn drain_on_exit(mut self, enabled: bool) -> Self {
        self.drain_on_exit = enabled;
        self
    }

    /// Adjusts each built-in appender before it is built (durability,
    /// capacity, compression, …), after the settings above are applied.
    ///
    /// ```no_run
    /// use tracing_audit::appender::Durability;
    /// use tracing_audit::Kind;
    ///
    /// let _guard = tracing_audit::builder()
    ///     .configure_appender(|kind, appender| match kind {
    ///         Kind::Audit => appender.durability(Durability::SyncEachBatch),
    ///         _ => appender,
    ///     })
    ///     .init()?;
    /// # Ok::<(), tracing_audit::Error>(())
    /// ```
    pub fn configure_appender(
        mut self,
        f: impl Fn(Kind, AppenderBuilder) -> AppenderBuilder + Send + Sync + 'static,
    ) -> Self {
        self.configure = Some(Box::new(f));
        self
    }

    /// Chains the records of `audit.log` and `login.log` (and `api.log`
    /// if asked) with a hash chain, for tamper evidence (feature `chain`;
    /// see [`chain`](crate::chain)). Applied before
    /// [`configure_appender`](Builder::configure_appender).
    #[cfg(feature = "chain")]
    #[cfg_attr(docsrs, doc(cfg(feature = "chain")))]
    pub fn chain(mut self, options: crate::chain::ChainOptions) -> Self {
        self.chain = Some(options);
        self
    }

    /// Which application records reach `app.log`, as `RUST_LOG` directives
    /// (default: `RUST_LOG`, else `info`). Audit records are not affected.
    pub fn app_filter(mut self, directives: impl Into<String>) -> Self {
        self.app_filter = Some(directives.into());
        self
    }

    /// The redaction policy every record kind applies.
    pub fn redaction(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Also carries the span field `name` into every record made inside
    /// the span, like `user_id` and `request_id`. A name that records
    /// already use as a key (`level`, `path`, `client_ip`, … see the
    /// [`schema`](crate::schema)) makes [`build`](Builder::build) and
    /// [`init`](Builder::init) fail with [`Error::ContextField`].
    pub fn context_field(mut self, name: impl Into<String>) -> Self {
        self.context_fields.push(name.into());
        self
    }

    /// The longest string value written whole; longer ones are cut and
    /// marked `…[cut N bytes]`.
    pub fn max_string_bytes(mut self, bytes: usize) -> Self {
        self.string_cap = bytes.max(16);
        self
    }

    /// The longest line written, newline included (at least 1024). A
    /// record that would be longer is written again with shorter strings
    /// and, if still too long, with its identifying fields only, marked
    /// `"truncated":true`; if even that does not fit, a stand-in record
    /// with the envelope and `"message":"[record too large: N bytes]"` is
    /// written instead. No line is ever longer. With the hash
    /// [`chain`](Builder::chain) on, records are sized 180 bytes shorter,
    /// the room its `seq`, `prev_hash` and `hash` take.
    pub fn max_line_bytes(mut self, bytes: usize) -> Self {
        self.line_cap = bytes.max(1024);
        self
    }

    /// How deep a line may nest, the record object itself being level 1,
    /// between 4 and 1024 (values outside are clamped). The values a record
    /// writes (`instance:`, `extra:`, `changes`, `user_info`, …) are
    /// followed down to that level; what is nested deeper is written as
    /// the string [`DEPTH_MARKER`](crate::DEPTH_MARKER) (`"[depth limit]"`)
    /// and the record is marked `"truncated":true`. A level is an array or
    /// an object, and, in a `Serialize` type, also a `Some` or newtype
    /// wrapper. The default, 127, keeps every line readable by
    /// `serde_json` with its default recursion limit; the limit also
    /// bounds the stack the crate uses on the caller's thread, whatever the
    /// input.
    pub fn max_depth(mut self, levels: usize) -> Self {
        self.max_depth = levels.clamp(MIN_DEPTH_LIMIT, MAX_DEPTH_LIMIT);
        self
    }

    /// Alert rules over the records (feature `alert`), evaluated on a
    /// thread of their own: see [`alert`](crate::alert).
    #[cfg(feature = "alert")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alert")))]
    pub fn alerts(mut self, alerts: crate::alert::Alerts) -> Self {
        self.alerts = Some(alerts);
        self
    }

    fn service(&self) -> String {
        if let Some(name) = &self.service_name {
            return name.clone();
        }
        std::env::current_exe()
            .ok()
            .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "unknown".to_string())
    }

    fn build_layer(self) -> Result<(AuditLayer, EnvFilter, AuditGuard), Error> {
        let app = filter(&self.app_filter)?;
        for name in &self.context_fields {
            crate::context::check_name(name).map_err(|reason| {
                Error::ContextField(ContextFieldError {
                    name: Some(name.clone()),
                    reason,
                })
            })?;
        }
        if self.context_fields.len() > 56 {
            return Err(Error::ContextField(ContextFieldError {
                name: None,
                reason: format!(
                    "{} context fields declared; at most 56",
                    self.context_fields.len()
                ),
            }));
        }
        if self.max_file_size == Some(0) {
            return Err(Error::Config(ConfigError::ZeroMaxFileSize));
        }
        if self.max_files == Some(0) {
            return Err(Error::Config(ConfigError::ZeroMaxFiles));
        }
        let service = self.service();
        let mut guard = AuditGuard {
            appenders: Vec::new(),
            sinks: None,
            #[cfg(feature = "alert")]
            alerts: None,
        };
        let Builder {
            log_dir,
            file_names,
            sinks: choices,
            max_file_size,
            rotate_every,
            max_files,
            app_backpressure,
            drain_on_exit,
            configure,
            #[cfg(feature = "chain")]
            chain,
            policy,
            context_fields,
            string_cap,
            line_cap,
            max_depth,
            #[cfg(feature = "alert")]
            alerts,
            ..
        } = self;
        // One writer per file: each kind the built-in appender writes has
        // a file of its own.
        let mut paths: Vec<PathBuf> = Vec::with_capacity(4);
        for (kind, choice) in Kind::ALL.into_iter().zip(&choices) {
            if matches!(choice, SinkChoice::File) {
                let path = log_dir.join(&file_names[kind.index()]);
                // A device (`/dev/stdout`) is never rotated: kinds may share it.
                let device = std::fs::metadata(&path).is_ok_and(|m| !m.is_file());
                if paths.contains(&path) && !device {
                    return Err(Error::SharedFile(path));
                }
                if holds_foreign_lines(&path) {
                    return Err(Error::ForeignFile(path));
                }
                paths.push(path);
            }
        }
        let mut sinks = Vec::with_capacity(4);
        for (kind, choice) in Kind::ALL.into_iter().zip(choices) {
            sinks.push(match choice {
                SinkChoice::Off => Sink::Off,
                SinkChoice::Writer(w) => Sink::Writer(w),
                SinkChoice::File => {
                    let path = log_dir.join(&file_names[kind.index()]);
                    let mut builder = Appender::builder(&path)
                        .service_name(&service)
                        .max_file_size(max_file_size)
                        .rotate_every(rotate_every)
                        .max_files(max_files)
                        .drain_on_exit(drain_on_exit);
                    if kind == Kind::App {
                        builder = builder.backpressure(app_backpressure);
                    }
                    #[cfg(feature = "chain")]
                    if let Some(chain) = chain.as_ref().filter(|c| c.chains(kind)) {
                        let level = kind.level().unwrap_or("AUDIT");
                        builder =
                            builder.line_transform(chain.transform_for(&path, level, &service));
                    }
                    if let Some(f) = &configure {
                        builder = f(kind, builder);
                    }
                    // Checked now; the file and the writer thread are
                    // made by the kind's first record.
                    let appender = LazyAppender::new(builder).map_err(|source| {
                        match source
                            .get_ref()
                            .and_then(|e| e.downcast_ref::<ConfigError>())
                        {
                            Some(e) => Error::Config(*e),
                            None => Error::Io { path, source },
                        }
                    })?;
                    guard.appenders.push((kind, appender.clone()));
                    Sink::Appender(appender)
                }
            });
        }
        let sinks: [Sink; 4] = match sinks.try_into() {
            Ok(s) => s,
            Err(_) => unreachable!("one sink per kind"),
        };
        let sinks = Sinks::new(sinks);
        #[cfg(feature = "alert")]
        let sinks = match alerts {
            Some(alerts) => {
                let timeout = alerts.timeout();
                let (engine, handle) =
                    crate::alert::engine::start(alerts).map_err(Error::Thread)?;
                guard.alerts = Some((handle, timeout));
                sinks.with_observer(std::sync::Arc::new(engine))
            }
            None => sinks,
        };
        // The chain adds its members to a line after the layer sized it.
        #[cfg(feature = "chain")]
        let line_cap = if chain.is_some() {
            line_cap - crate::chain::MAX_ADDED
        } else {
            line_cap
        };
        let layer = AuditLayer::new(
            sinks,
            policy,
            Names::new(&context_fields),
            &service,
            string_cap,
            line_cap,
            max_depth,
        );
        guard.sinks = Some(Arc::clone(&layer.sinks));
        Ok((layer, app, guard))
    }
}

/// The audit layer alone, for a subscriber of your own.
impl Builder<LayerOnly> {
    /// Builds the audit layer, with its filter, to add to a subscriber of
    /// your own. Keep the guard alive: dropping it writes out and syncs
    /// every file.
    ///
    /// ```no_run
    /// use tracing_subscriber::prelude::*;
    ///
    /// let (audit, _guard) = tracing_audit::layer().log_dir("audit_logs").build()?;
    /// tracing_subscriber::registry()
    ///     .with(audit)
    ///     .with(tracing_subscriber::fmt::layer())
    ///     .init();
    /// # Ok::<(), tracing_audit::Error>(())
    /// ```
    ///
    /// # The subscriber type
    ///
    /// The layer carries its own per-layer filter, and `tracing-subscriber`
    /// ties a filtered layer to the type of the subscriber it is added to
    /// ([`FilteredAuditLayer<S>`]). Added at once, as above, `S` is
    /// inferred. A layer kept aside first (returned from a function, stored
    /// in a struct, or dropped unused) needs it named, in one place:
    ///
    /// ```
    /// use tracing_subscriber::prelude::*;
    /// use tracing_subscriber::Registry;
    ///
    /// # let dir = tempfile::tempdir()?;
    /// fn audit_layer(
    ///     dir: &std::path::Path,
    /// ) -> Result<(tracing_audit::FilteredAuditLayer<Registry>, tracing_audit::AuditGuard), tracing_audit::Error>
    /// {
    ///     tracing_audit::layer().log_dir(dir).build()
    /// }
    ///
    /// let (audit, guard) = audit_layer(dir.path())?;
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(audit), || {
    ///     tracing_audit::create!(model: "Order", id: 1);
    /// });
    /// assert_eq!(guard.shutdown().stats(tracing_audit::Kind::Audit).unwrap().lines_written, 1);
    ///
    /// // Or, with the layer unused: `build::<Registry>()`.
    /// # let dir = tempfile::tempdir()?;
    /// let (_unused, _guard) = tracing_audit::layer().log_dir(dir.path()).build::<Registry>()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// (A layer type for every subscriber would have to forward the
    /// per-layer filter's hooks by hand, `unsafe` included; the annotation
    /// is the smaller cost.)
    ///
    /// # Filters and several layers
    ///
    /// A global filter added to the subscriber (`.with(EnvFilter::..)` as a
    /// layer) applies to the audit layer too; give your other layers
    /// per-layer filters (`fmt::layer().with_filter(..)`) so that audit
    /// records always pass.
    ///
    /// Several audit layers may share one subscriber, each with its own
    /// directory and settings (`registry().with(a).with(b)`): each keeps its
    /// own context in the spans and writes every record to its own files;
    /// [`set_user`](crate::set_user) and [`Transaction`](crate::Transaction)
    /// reach each of them when they are added one after another with
    /// `.with`.
    pub fn build<S>(self) -> Result<(FilteredAuditLayer<S>, AuditGuard), Error>
    where
        S: tracing_core::Subscriber + for<'a> LookupSpan<'a>,
    {
        let (layer, app, guard) = self.build_layer()?;
        let filter = AuditFilter::new(app).with_names(layer.names.clone());
        Ok((layer.with_filter(filter), guard))
    }
}

/// The whole subscriber: the audit layer, the console and the `log` bridge.
impl Builder<WithConsole> {
    /// Whether [`init`](Builder::init) adds a console: one line a person
    /// can read per record, on stderr.
    ///
    /// ```text
    /// 2026-11-29T10:00:00.123Z  AUDIT  UPDATE Product 42 (price, stock) user=7 request=r-1
    /// 2026-11-29T10:00:00.124Z  LOGIN  login failed user=alice ip=10.0.0.1 error="bad password"
    /// 2026-11-29T10:00:00.125Z  INFO   billing::db: connected pool=4 user=7
    /// ```
    ///
    /// Audit kinds show under their own level (`AUDIT`, `LOGIN`, `API`)
    /// with the keys that matter: the CRUD kind, model and id and the names
    /// of the changed fields; the login event, user, client address and
    /// error; the method, path and status of an `API` record found in its
    /// fields; then the `user` and `request` of the span context.
    /// Application records show their target, message and fields. Every
    /// value is redacted by the same [`redaction`](Builder::redaction)
    /// policy as the files (the console shows the record the files get),
    /// cut at 200 characters, and its control characters escaped. Colours
    /// only on a terminal, and not when `NO_COLOR` is set (not empty).
    pub fn console(mut self, on: bool) -> Self {
        self.mode.on = on;
        self
    }

    /// Where the console writes, instead of stderr: any `MakeWriter` (a
    /// file, a buffer in a test). Each line is one `write_all`. No colours
    /// are written to it. Turns the console on.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    ///
    /// #[derive(Clone, Default)]
    /// struct Shared(Arc<Mutex<Vec<u8>>>);
    /// impl std::io::Write for Shared {
    ///     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
    ///         self.0.lock().unwrap().extend_from_slice(b);
    ///         Ok(b.len())
    ///     }
    ///     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
    /// }
    ///
    /// # let dir = tempfile::tempdir()?;
    /// let console = Shared::default();
    /// let writer = console.clone();
    /// let (subscriber, _guard) = tracing_audit::builder()
    ///     # .log_dir(dir.path())
    ///     .console_writer(move || writer.clone())
    ///     .finish()?;
    /// tracing::subscriber::with_default(subscriber, || {
    ///     tracing::info!(password = "hunter2", "signed in");
    /// });
    /// let text = String::from_utf8(console.0.lock().unwrap().clone())?;
    /// assert!(text.contains("signed in password=[REDACTED]"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn console_writer<W>(mut self, writer: W) -> Self
    where
        W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        self.mode.on = true;
        self.mode.writer = Some(BoxMakeWriter::new(writer));
        self
    }

    /// Which records reach the console (default: `RUST_LOG`, else `info`).
    /// It filters spans too, as any per-layer filter does: a span it leaves
    /// out gives the console lines no `user` or `request` (the files are
    /// not affected).
    pub fn console_filter(mut self, directives: impl Into<String>) -> Self {
        self.mode.filter = Some(directives.into());
        self
    }

    /// Installs the audit layer, the [`console`](Builder::console) (unless
    /// turned off) and the `log` crate bridge as the global default
    /// subscriber. Unless [`drain_on_exit(false)`](Builder::drain_on_exit),
    /// `std::process::exit` with the guard alive still writes and fsyncs
    /// every queued record.
    pub fn init(self) -> Result<AuditGuard, Error> {
        let (subscriber, guard) = self.finish()?;
        subscriber.try_init().map_err(Error::Init)?;
        Ok(guard)
    }

    /// Builds the subscriber [`init`](Builder::init) installs (the audit
    /// layer and the console), without installing it or the `log` bridge:
    /// for `tracing::subscriber::with_default`, in tests say, or to install
    /// it yourself. See [`console_writer`](Builder::console_writer) for an
    /// example.
    pub fn finish(
        mut self,
    ) -> Result<
        (
            impl tracing_core::Subscriber + Send + Sync + 'static,
            AuditGuard,
        ),
        Error,
    > {
        let console = self.mode.on;
        let console_filter = filter(&self.mode.filter)?;
        let console_writer = self.mode.writer.take();
        let (layer, app, guard) = self.build_layer()?;
        let filter = AuditFilter::new(app).with_names(layer.names.clone());
        let console = console.then(|| {
            let (writer, ansi) = match console_writer {
                Some(w) => (w, false),
                None => (
                    BoxMakeWriter::new(io::stderr),
                    io::stderr().is_terminal() && crate::console::colour_allowed(),
                ),
            };
            ConsoleLayer::new(&layer, writer, ansi).with_filter(console_filter)
        });
        let subscriber = tracing_subscriber::registry()
            .with(layer.with_filter(filter))
            .with(console);
        Ok((subscriber, guard))
    }
}

/// The filter of the given directives, else `RUST_LOG`, else `info`.
fn filter(directives: &Option<String>) -> Result<EnvFilter, Error> {
    match directives {
        Some(d) => EnvFilter::builder().parse(d).map_err(|source| {
            Error::Filter(FilterError {
                directives: d.clone(),
                source,
            })
        }),
        None => Ok(EnvFilter::builder()
            .with_default_directive(tracing_core::LevelFilter::INFO.into())
            .from_env_lossy()),
    }
}

/// Keeps the files open. A kind's file and writer thread are made by its
/// first record, so a kind never written costs neither (its settings and
/// directory were checked by `build`/`init`; if making them fails then, the
/// record waits while it is retried with backoff, reported on stderr once,
/// as a running writer retries, except for `app.log` under
/// [`app_backpressure`](Builder::app_backpressure) `Drop`, which counts it
/// as unwritten). Dropping the guard closes
/// every file in parallel: new records are refused, every queue is drained, every file fsynced and the
/// writer threads joined, within the longest
/// [`shutdown_timeout`](AppenderBuilder::shutdown_timeout) (not the sum).
/// Dropping is [`shutdown`](AuditGuard::shutdown) with its report
/// discarded: call `shutdown` to learn what was written and what was lost.
#[must_use = "dropping the guard closes the audit files"]
pub struct AuditGuard {
    /// The built-in appenders, each started by its kind's first record.
    appenders: Vec<(Kind, LazyAppender)>,
    sinks: Option<Arc<Sinks>>,
    /// The alert engine and how long its shutdown may take.
    #[cfg(feature = "alert")]
    alerts: Option<(crate::alert::engine::Handle, std::time::Duration)>,
}

impl fmt::Debug for AuditGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.appenders.iter().map(|(k, a)| (k, a.path())))
            .finish()
    }
}

impl Drop for AuditGuard {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

/// The final figures of an [`AuditGuard`], from
/// [`AuditGuard::shutdown`]: taken after every file was drained, fsynced
/// and its writer thread joined, so they no longer change.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// The appender statistics of each kind the built-in appender writes
    /// (all zero for a kind never written: its file was never made), in
    /// [`Kind::ALL`] order: `lines_written`, `dropped` (refused),
    /// `write_errors`, `abandoned` (accepted, then given up on at the
    /// shutdown timeout), and the rest of [`Stats`].
    pub files: Vec<(Kind, Stats)>,
    /// Records that no sink could take (a writer that failed), as
    /// [`AuditGuard::unwritten`] counted them.
    pub unwritten: u64,
    /// The alert rules' final figures (feature `alert`; `None` without
    /// [`Builder::alerts`]), taken after the rules and deliveries stopped.
    #[cfg(feature = "alert")]
    pub alerts: Option<crate::alert::AlertStats>,
}

impl ShutdownReport {
    /// The final statistics of a kind's file, if the built-in appender
    /// writes that kind (all zero if no record of it was made).
    pub fn stats(&self, kind: Kind) -> Option<&Stats> {
        self.files.iter().find(|(k, _)| *k == kind).map(|(_, s)| s)
    }

    /// Every record lost, all files together: refused (`dropped`), given
    /// up on (`abandoned`) and `unwritten`. `0` means every record made
    /// while the guard was alive is in its file.
    pub fn lost(&self) -> u64 {
        self.files
            .iter()
            .map(|(_, s)| s.dropped + s.abandoned)
            .sum::<u64>()
            + self.unwritten
    }
}

impl AuditGuard {
    /// Closes every file, as dropping the guard does (that is what drop
    /// calls), and returns the final figures.
    ///
    /// ```
    /// let dir = tempfile::tempdir()?;
    /// let (layer, guard) = tracing_audit::layer()
    ///     .log_dir(dir.path())
    ///     .build::<tracing_subscriber::Registry>()?;
    /// # drop(layer);
    /// let report = guard.shutdown();
    /// let audit = report.stats(tracing_audit::Kind::Audit).unwrap();
    /// assert_eq!(audit.lines_written, 0);
    /// assert_eq!(report.lost(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shutdown(mut self) -> ShutdownReport {
        self.close()
    }

    fn close(&mut self) -> ShutdownReport {
        // The rules first: their last alert records go to the files below.
        #[cfg(feature = "alert")]
        if let Some((handle, timeout)) = &mut self.alerts {
            handle.shutdown(*timeout);
        }
        // A kind never written is closed without starting: later records
        // of it are refused and counted in `unwritten`.
        crate::appender::shutdown_all(
            self.appenders
                .iter()
                .filter_map(|(_, a)| a.take_guard())
                .collect::<Vec<_>>(),
        );
        ShutdownReport {
            files: self
                .appenders
                .iter()
                .map(|(k, a)| (*k, a.stats()))
                .collect(),
            unwritten: self.unwritten(),
            #[cfg(feature = "alert")]
            alerts: self.alert_stats(),
        }
    }

    /// Returns once every record made before the call is written to the
    /// operating system (a kind never written has nothing to flush).
    pub fn flush(&self) -> io::Result<()> {
        for (_, a) in &self.appenders {
            a.flush()?;
        }
        Ok(())
    }

    /// Like [`flush`](AuditGuard::flush), and fsyncs the files too.
    pub fn sync(&self) -> io::Result<()> {
        for (_, a) in &self.appenders {
            a.sync()?;
        }
        Ok(())
    }

    /// The path of a kind's file, if the built-in appender writes it. The
    /// file exists once the kind's first record was written (or if an
    /// earlier run left it).
    pub fn path(&self, kind: Kind) -> Option<&Path> {
        self.appenders
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, a)| a.path())
    }

    /// Records that no sink could take (a writer that failed, or records
    /// made after the guard was dropped). Each is also reported on stderr.
    pub fn unwritten(&self) -> u64 {
        self.sinks.as_ref().map_or(0, |s| s.failed())
    }

    /// What the alert rules saw, raised and delivered (feature `alert`;
    /// `None` without [`Builder::alerts`]).
    #[cfg(feature = "alert")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alert")))]
    pub fn alert_stats(&self) -> Option<crate::alert::AlertStats> {
        self.alerts.as_ref().map(|(h, _)| h.stats())
    }

    /// The appender statistics of a kind's file (all zero until its first
    /// record).
    pub fn stats(&self, kind: Kind) -> Option<Stats> {
        self.appenders
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, a)| a.stats())
    }
}

/// Whether `path` is an existing file whose first byte says it is not one
/// of ours: every record line starts with `{`. An empty file, a first line
/// cut short (still `{`), and the zero bytes a power loss can leave are
/// ours to take up again; a file that cannot be read is left to the
/// appender's own check.
fn holds_foreign_lines(path: &Path) -> bool {
    use std::io::Read;
    // Only a regular file is read: reading a device (`/dev/stdout` on a
    // terminal) could wait for input.
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut first = [0u8; 1];
    match std::fs::File::open(path).and_then(|mut f| f.read(&mut first)) {
        Ok(1) => !matches!(first[0], b'{' | b'\0' | b'\n'),
        _ => false,
    }
}
