//! Where each kind's finished lines go: the crate's appender, any
//! `MakeWriter`, or nowhere.

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::fmt::MakeWriter;

use crate::appender::LazyAppender;
use crate::record::Kind;

/// One kind's destination.
pub(crate) enum Sink {
    /// The built-in appender, started by the kind's first record.
    Appender(LazyAppender),
    Writer(BoxMakeWriter),
    Off,
}

/// Something that sees every finished line after its sink took it (the
/// alert rules, feature `alert`). It must not block: it is called on the
/// caller's thread.
pub(crate) trait Observer: Send + Sync {
    /// A line of `kind` and `target` (the record's `name`, before any
    /// escaping), as written.
    fn line(&self, kind: Kind, target: &str, line: &[u8]);
    /// The subscriber the layer was added to (for records the observer
    /// emits itself, through `tracing`).
    fn dispatch(&self, dispatch: &tracing_core::Dispatch);
}

/// The four destinations, and the count of lines none could take.
pub(crate) struct Sinks {
    sinks: [Sink; 4],
    failed: AtomicU64,
    observer: Option<std::sync::Arc<dyn Observer>>,
}

impl fmt::Debug for Sinks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_map();
        for kind in Kind::ALL {
            let what = match &self.sinks[kind.index()] {
                Sink::Appender(a) => format!("appender {}", a.path().display()),
                Sink::Writer(_) => "writer".to_string(),
                Sink::Off => "off".to_string(),
            };
            list.entry(&kind, &what);
        }
        list.finish()
    }
}

impl Sinks {
    pub(crate) fn new(sinks: [Sink; 4]) -> Sinks {
        Sinks {
            sinks,
            failed: AtomicU64::new(0),
            observer: None,
        }
    }

    /// Adds the observer that sees every line written.
    #[cfg_attr(not(feature = "alert"), allow(dead_code))]
    pub(crate) fn with_observer(mut self, observer: std::sync::Arc<dyn Observer>) -> Sinks {
        self.observer = Some(observer);
        self
    }

    /// Tells the observer which subscriber the layer is in.
    pub(crate) fn register_dispatch(&self, dispatch: &tracing_core::Dispatch) {
        if let Some(o) = &self.observer {
            o.dispatch(dispatch);
        }
    }

    pub(crate) fn is_on(&self, kind: Kind) -> bool {
        !matches!(self.sinks[kind.index()], Sink::Off)
    }

    /// Writes one whole line of `kind` whose record's target is `target`.
    /// A line that cannot be written (the guard is
    /// gone, or the writer failed) is counted and reported on stderr, the
    /// first time and then every 1000th time.
    pub(crate) fn write(&self, kind: Kind, target: &str, line: &[u8]) {
        let result = match &self.sinks[kind.index()] {
            Sink::Appender(a) => a.write_line(line),
            Sink::Writer(w) => w.make_writer().write_all(line),
            Sink::Off => Ok(()),
        };
        if let Some(o) = &self.observer {
            o.line(kind, target, line);
        }
        if let Err(e) = result {
            let n = self.failed.fetch_add(1, Relaxed);
            if n.is_multiple_of(1000) {
                report!(
                    "tracing-audit: could not write a record to {} ({e}); {} failed so far",
                    kind.file_name(),
                    n + 1
                );
            }
        }
    }

    /// Lines no sink could take.
    pub(crate) fn failed(&self) -> u64 {
        self.failed.load(Relaxed)
    }
}
