//! `tracing-audit export`: the matching records as CSV, a JSON array or
//! JSON lines, written as they are found (nothing is held in memory but
//! the record being written).

use std::io::{self, BufWriter, Write};

use serde_json::{Map, Value};

use super::args::{ExportArgs, ExportFormat};
use super::filter::Filter;
use super::output;
use super::scan::{self, Flow, Options, Record};
use crate::record::Kind;

/// Keys every kind has (the envelope and the context).
const ENVELOPE: &[&str] = &[
    "timestamp",
    "level",
    "name",
    "event_id",
    "message",
    "service_name",
    "user_id",
    "user_info",
    "request_id",
    "tenant",
    "truncated",
];

/// Each kind's own keys, as the schema lists them.
fn kind_keys(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Audit => &[
            "model",
            "event_type",
            "instance_id",
            "instance_ids",
            "count",
            "changes",
            "instance_repr",
            "extra",
        ],
        Kind::Api => &[
            "request_type",
            "protocol",
            "peer_service",
            "request_repr",
            "response_repr",
            "execution_time",
            "request_size",
            "response_size",
            "error_message",
            "error_kind",
            "attempt",
            "aborted",
            "trace_id",
            "span_id",
            "extra",
        ],
        Kind::Login => &[
            "event",
            "success",
            "client_ip",
            "user_agent",
            "error",
            "extra",
        ],
        Kind::App => &["module", "path", "line", "fields", "exception"],
    }
}

/// The last CSV column: the keys of a record that have no column of
/// their own, as one JSON object (empty when there are none).
pub const OTHER: &str = "other";

/// The CSV header for records of `kinds` (all kinds when empty): the
/// envelope, then each kind's keys in the schema's order (each once),
/// then [`OTHER`]. It depends only on the kinds asked for, never on the
/// records found, so the same command always gives the same columns.
pub fn csv_columns(kinds: &[Kind]) -> Vec<&'static str> {
    let kinds = if kinds.is_empty() {
        &Kind::ALL[..]
    } else {
        kinds
    };
    let mut columns: Vec<&'static str> = ENVELOPE.to_vec();
    for kind in Kind::ALL.iter().filter(|k| kinds.contains(k)) {
        for key in kind_keys(*kind) {
            if !columns.contains(key) {
                columns.push(key);
            }
        }
    }
    columns.push(OTHER);
    columns
}

/// One CSV row: a string as it is, any other value as JSON text, a
/// missing key empty; the keys without a column in [`OTHER`].
pub fn csv_row(columns: &[&str], record: &Map<String, Value>) -> Vec<String> {
    let mut row: Vec<String> = columns[..columns.len() - 1]
        .iter()
        .map(|key| match record.get(*key) {
            None => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
        })
        .collect();
    let other: Map<String, Value> = record
        .iter()
        .filter(|(k, _)| !columns.contains(&k.as_str()) || k.as_str() == OTHER)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    row.push(if other.is_empty() {
        String::new()
    } else {
        Value::Object(other).to_string()
    });
    row
}

/// A CSV cell a spreadsheet would run as a formula (one that starts with
/// `=`, `+`, `-`, `@`, a tab or a carriage return and is not a plain
/// number) gets a leading `'`, so that a value an attacker put in a
/// record (a path, a header, a user name) opens as text. `--csv-raw`
/// skips this.
///
/// A plain number is what a spreadsheet reads as one: a sign, digits
/// with at most one decimal point, an optional exponent, and a finite
/// value. Rust's float parser takes more (`-inf`, `+nan`, `-Infinity`,
/// `-1e999` as infinity), which a spreadsheet runs as formulas: those
/// are quoted.
pub fn spreadsheet_safe(cell: &mut String) {
    let risky = matches!(
        cell.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    );
    if risky && !plain_number(cell) {
        cell.insert(0, '\'');
    }
}

/// `[+-]digits[.digits][(e|E)[+-]digits]`, at least one digit before the
/// exponent, and finite.
fn plain_number(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut at = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    let digits = |at: &mut usize| {
        let start = *at;
        while bytes.get(*at).is_some_and(u8::is_ascii_digit) {
            *at += 1;
        }
        *at - start
    };
    let mut mantissa = digits(&mut at);
    if bytes.get(at) == Some(&b'.') {
        at += 1;
        mantissa += digits(&mut at);
    }
    if mantissa == 0 {
        return false;
    }
    if matches!(bytes.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(bytes.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        if digits(&mut at) == 0 {
            return false;
        }
    }
    at == bytes.len() && text.parse::<f64>().is_ok_and(f64::is_finite)
}

/// Runs `export` and gives the exit status.
///
/// `-O FILE` is refused (a usage error) when it is one of the inputs or an
/// audit file's name in an input directory; it is written beside, then
/// renamed over `FILE` once complete (see the `output` module), so a failed
/// export leaves an old `FILE` as it was.
pub fn run(args: &ExportArgs) -> u8 {
    if let Some(code) = args
        .out
        .as_deref()
        .and_then(|out| output::refused(out, &super::paths(&args.inputs)))
    {
        return code;
    }
    let (filter, sources, errors) = match super::prepare(&args.inputs, &args.filter) {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    let (sink, pending): (Box<dyn Write>, _) = match &args.out {
        Some(path) => match output::create(path) {
            Ok((file, pending)) => (Box::new(file), Some(pending)),
            Err(e) => {
                report!("tracing-audit: cannot create {}: {e}", path.display());
                return super::exit::IO;
            }
        },
        None => (Box::new(io::stdout().lock()), None),
    };
    let out = BufWriter::with_capacity(256 * 1024, sink);
    let options = Options {
        progress: !args.progress.no_progress,
        ..Options::default()
    };
    let mut writer = match Writer::new(args.format, &filter, out, args.csv_raw) {
        Ok(w) => w,
        Err(e) => return super::finish(&errors, &scan::Summary::default(), Err(e)),
    };
    let mut failed: io::Result<()> = Ok(());
    let summary = scan::scan(
        &sources,
        &filter,
        options,
        &mut |record| match writer.record(record) {
            Ok(()) => Ok(Flow::Continue),
            Err(e) => {
                failed = Err(e);
                Ok(Flow::Stop)
            }
        },
    );
    let summary = match summary {
        Ok(summary) => summary,
        Err(e) => {
            report!("tracing-audit: {e}");
            return super::exit::IO;
        }
    };
    let finished = failed
        .and_then(|()| writer.finish())
        .and_then(|()| pending.map_or(Ok(()), output::Pending::commit));
    super::finish(&errors, &summary, finished)
}

/// The output of one export.
enum Writer<W: Write> {
    Csv {
        csv: Box<csv::Writer<W>>,
        columns: Vec<&'static str>,
        /// Cells as recorded, formulas included (`--csv-raw`).
        raw: bool,
    },
    Json {
        out: W,
        first: bool,
    },
    Jsonl {
        out: W,
    },
}

impl<W: Write> Writer<W> {
    fn new(format: ExportFormat, filter: &Filter, mut out: W, raw: bool) -> io::Result<Writer<W>> {
        Ok(match format {
            ExportFormat::Csv => {
                let columns = csv_columns(filter.kinds());
                let mut csv = Box::new(csv::Writer::from_writer(out));
                csv.write_record(&columns).map_err(io_error)?;
                Writer::Csv { csv, columns, raw }
            }
            ExportFormat::Json => {
                out.write_all(b"[")?;
                Writer::Json { out, first: true }
            }
            ExportFormat::Jsonl => Writer::Jsonl { out },
        })
    }

    fn record(&mut self, record: &Record<'_>) -> io::Result<()> {
        match self {
            Writer::Csv { csv, columns, raw } => {
                let Ok(Value::Object(object)) = record.value() else {
                    // Deeper than serde_json reads: kept whole in `other`.
                    let mut row = vec![String::new(); columns.len()];
                    if let Some(last) = row.last_mut() {
                        *last = String::from_utf8_lossy(record.bytes).into_owned();
                    }
                    return csv.write_record(&row).map_err(io_error);
                };
                let mut row = csv_row(columns, &object);
                if !*raw {
                    row.iter_mut().for_each(spreadsheet_safe);
                }
                csv.write_record(row).map_err(io_error)
            }
            Writer::Json { out, first } => {
                out.write_all(if *first { b"\n" } else { b",\n" })?;
                *first = false;
                out.write_all(record.bytes)
            }
            Writer::Jsonl { out } => {
                out.write_all(record.bytes)?;
                out.write_all(b"\n")
            }
        }
    }

    fn finish(self) -> io::Result<()> {
        match self {
            Writer::Csv { mut csv, .. } => csv.flush(),
            Writer::Json { mut out, first } => {
                out.write_all(if first { b"]\n" } else { b"\n]\n" })?;
                out.flush()
            }
            Writer::Jsonl { mut out } => out.flush(),
        }
    }
}

/// The I/O error inside a CSV error as it is, so that a closed pipe is
/// still a [`BrokenPipe`](io::ErrorKind::BrokenPipe) (a quiet end).
fn io_error(e: csv::Error) -> io::Error {
    if !e.is_io_error() {
        return io::Error::other(e);
    }
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_depend_on_kinds_only_and_other_takes_the_rest() {
        let audit = csv_columns(&[Kind::Audit]);
        assert_eq!(audit[0], "timestamp");
        assert!(audit.contains(&"changes") && !audit.contains(&"request_repr"));
        assert_eq!(*audit.last().unwrap(), OTHER);
        let all = csv_columns(&[]);
        assert_eq!(all.iter().filter(|c| **c == "extra").count(), 1);
        let record: Value = serde_json::json!({
            "timestamp": "t", "user_id": "", "changes": {"a": {"old": 1, "new": 2}},
            "count": 3, "my_field": "x", "other": 1
        });
        let row = csv_row(&audit, record.as_object().unwrap());
        let at = |c: &str| &row[audit.iter().position(|k| *k == c).unwrap()];
        assert_eq!(at("timestamp"), "t");
        assert_eq!(at("user_id"), "");
        assert_eq!(at("model"), "");
        assert_eq!(at("count"), "3");
        assert_eq!(at("changes"), r#"{"a":{"new":2,"old":1}}"#);
        assert_eq!(at(OTHER), r#"{"my_field":"x","other":1}"#);
    }
}
