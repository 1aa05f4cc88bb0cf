//! What the comparison examples share: their options, latency
//! percentiles, medians and the way they exit. Not an example itself
//! (Cargo only builds `examples/*.rs` and `examples/*/main.rs`).

use std::path::PathBuf;
use std::process::ExitCode;

/// `--records N --rounds R --dir PATH`.
pub struct Args {
    pub records: u64,
    pub rounds: usize,
    pub dir: Option<PathBuf>,
}

/// Parses the options of the example `name`; `max_records` is the most
/// records the example can tell apart.
pub fn parse_args(name: &str, max_records: u64) -> Result<Args, String> {
    let mut args = Args {
        records: 1_000_000,
        rounds: 3,
        dir: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--records" => {
                args.records = value()?
                    .replace('_', "")
                    .parse()
                    .map_err(|e| format!("--records: {e}"))?;
            }
            "--rounds" => args.rounds = value()?.parse().map_err(|e| format!("--rounds: {e}"))?,
            "--dir" => args.dir = Some(PathBuf::from(value()?)),
            "-h" | "--help" => {
                return Err(format!(
                    "usage: {name} [--records N] [--rounds R] [--dir PATH]"
                ))
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    if args.records == 0 || args.records > max_records {
        return Err(format!("--records must be between 1 and {max_records}"));
    }
    if args.rounds == 0 {
        return Err("--rounds must be at least 1".into());
    }
    Ok(args)
}

/// Runs the example: exit status 2 for bad options, 1 if `run` found a
/// lost line (`Ok(false)`) or failed.
pub fn main(
    name: &str,
    max_records: u64,
    run: impl FnOnce(&Args) -> std::io::Result<bool>,
) -> ExitCode {
    exit_status(parse_args(name, max_records), run)
}

/// The exit status of an example whose options parsed to `args`: 2 for
/// bad options, 1 if `run` found a loss (`Ok(false)`) or failed.
pub fn exit_status<A>(
    args: Result<A, String>,
    run: impl FnOnce(&A) -> std::io::Result<bool>,
) -> ExitCode {
    let args = match args {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Caller latency percentiles, in nanoseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Latency {
    pub p50: u32,
    pub p99: u32,
    pub p999: u32,
}

impl Latency {
    pub fn of(mut ns: Vec<u32>) -> Latency {
        if ns.is_empty() {
            return Latency::default();
        }
        ns.sort_unstable();
        let at = |q: f64| ns[((ns.len() - 1) as f64 * q).round() as usize];
        Latency {
            p50: at(0.50),
            p99: at(0.99),
            p999: at(0.999),
        }
    }
}

pub fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// `950ns`, `13.7µs`, `1.2ms`.
pub fn fmt_ns(ns: u32) -> String {
    if ns < 10_000 {
        format!("{ns}ns")
    } else if ns < 10_000_000 {
        format!("{:.1}µs", f64::from(ns) / 1e3)
    } else {
        format!("{:.1}ms", f64::from(ns) / 1e6)
    }
}

/// The span `AuditLayer` makes around a request, made without the layer:
/// a new UUIDv7 `request_id` and an empty `user_id` (the span floors of
/// `http_overhead` and `http_layer_calls`).
#[allow(dead_code)] // not every example that shares this module needs it
pub fn request_span() -> tracing::Span {
    let mut text = uuid::Uuid::encode_buffer();
    let id = uuid::Uuid::now_v7().hyphenated().encode_lower(&mut text);
    tracing::info_span!(
        "request",
        request_id = &*id,
        user_id = tracing::field::Empty
    )
}

/// The anchor's subscriber, as a careful user sets it up for a JSON file
/// (`dir/file`): `fmt().json()` with the event's fields at the top level,
/// the current span once and no span list, INFO and above, through a
/// lossless `non_blocking` (the caller waits when the queue is full) over
/// `rolling::never`. The comparisons' anchors (`http_overhead`'s
/// `TraceLayer`, `client_overhead`'s logged call) write through it.
#[allow(dead_code)] // not every example that shares this module needs it
pub fn json_anchor(
    dir: &std::path::Path,
    file: &str,
) -> (
    tracing::Dispatch,
    tracing_appender::non_blocking::WorkerGuard,
) {
    let file = tracing_appender::rolling::never(dir, file);
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(file);
    let subscriber = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_max_level(tracing::Level::INFO)
        .with_writer(writer)
        .finish();
    (tracing::Dispatch::new(subscriber), guard)
}
