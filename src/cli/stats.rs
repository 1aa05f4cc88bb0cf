//! Figures over records (`tracing-audit stats`): counts by kind, event
//! type, model and user; logins and failed logins per client IP; requests,
//! error rate and `execution_time` quantiles per path; records over time.
//!
//! ```
//! use tracing_audit::cli::stats::Stats;
//!
//! let mut stats = Stats::default();
//! for line in [
//!     r#"{"timestamp":"2026-11-22T10:00:00.000001Z","level":"LOGIN","name":"audit.login","event":"failed_login","success":false,"user_id":"alice","client_ip":"10.0.0.9"}"#,
//!     r#"{"timestamp":"2026-11-22T10:00:01.000001Z","level":"API","name":"audit.request","user_id":"7","request_repr":{"path":"/items"},"response_repr":{"status_code":503},"execution_time":0.25}"#,
//! ] {
//!     stats.add(&serde_json::from_str(line)?);
//! }
//! assert_eq!(stats.failed_logins_by_ip(), vec![("10.0.0.9", 1)]);
//! let items = &stats.paths()[0];
//! assert_eq!((items.path, items.requests, items.errors, items.p99), ("/items", 1, 1, Some(0.25)));
//! # Ok::<(), serde_json::Error>(())
//! ```
//!
//! Quantiles are exact: every `execution_time` is kept (8 bytes per
//! request record, 8 MB per million), sorted when the figures are asked
//! for, and the p-th quantile is the nearest rank (the smallest kept value
//! that at least p % of the values do not exceed), so it is always a time
//! some request took. The time buckets stay bounded (see
//! [`Stats::add`]); the other counts grow with the number of distinct
//! values (users, models, paths, client IPs).

use std::collections::HashMap;
use std::io;

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::args::{FilterArgs, Inputs, ProgressArgs, StatsArgs, StatsOutput};
use super::fields::Fields;
use super::scan::{self, Flow, InputError, Options, Summary};
use super::timeline::{Counts, Timeline};
use crate::console::line::push_clean;
use crate::record::Kind;

/// The most columns of the records-over-time figures (JSON and report).
pub(crate) const TIME_COLUMNS: usize = 60;

/// Figures accumulated over records, one [`add`](Stats::add) per record;
/// two scans of different files combine with [`merge`](Stats::merge).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    records: u64,
    not_objects: u64,
    untimed: u64,
    kinds: [u64; 4],
    event_types: HashMap<String, u64>,
    models: HashMap<String, u64>,
    users: HashMap<String, u64>,
    logins: HashMap<String, u64>,
    failed_logins_by_ip: HashMap<String, u64>,
    paths: HashMap<String, PathTimes>,
    timeline: Timeline,
}

/// What is kept per path while counting.
#[derive(Debug, Clone, Default, PartialEq)]
struct PathTimes {
    requests: u64,
    errors: u64,
    times: Vec<f64>,
}

/// The figures of one request path.
#[derive(Debug, Clone, PartialEq)]
pub struct PathFigures<'a> {
    /// `request_repr.path` (inbound), or `request_repr.endpoint` without
    /// its query (outbound).
    pub path: &'a str,
    /// Request records with this path.
    pub requests: u64,
    /// Those that failed: status 500 or above, or no status (the service
    /// answered with an error, or the call failed before a response).
    pub errors: u64,
    /// `errors / requests`.
    pub error_rate: f64,
    /// Requests with an `execution_time` that is a duration: a number, not
    /// negative, finite in milliseconds (the quantiles' basis).
    pub timed: u64,
    /// Median `execution_time`, seconds (`None` when none was timed).
    pub p50: Option<f64>,
    /// 95th percentile of `execution_time`, seconds.
    pub p95: Option<f64>,
    /// 99th percentile of `execution_time`, seconds.
    pub p99: Option<f64>,
}

impl PathFigures<'_> {
    /// The column names of [`cells`](Self::cells).
    pub const HEADINGS: [&'static str; 7] = [
        "path",
        "requests",
        "errors",
        "error rate",
        "p50 (ms)",
        "p95 (ms)",
        "p99 (ms)",
    ];

    /// The figures as table cells (times in milliseconds, `-` when no
    /// request was timed), for the table and the report alike.
    pub fn cells(&self) -> Vec<String> {
        vec![
            self.path.to_owned(),
            self.requests.to_string(),
            self.errors.to_string(),
            format!("{:.1}%", self.error_rate * 100.0),
            millis(self.p50),
            millis(self.p95),
            millis(self.p99),
        ]
    }
}

/// The name of a kind in the figures: its JSON level, `APP` for
/// application records.
pub(crate) fn kind_name(kind: Kind) -> &'static str {
    kind.level().unwrap_or("APP")
}

impl Stats {
    /// Counts one record (a parsed line). Any JSON is accepted: a value
    /// that is not an object counts as [`not_objects`](Stats::not_objects),
    /// keys of the wrong type are left out of the figures they feed. A
    /// record is counted in the time buckets when its `timestamp` is RFC
    /// 3339 (else in [`untimed`](Stats::untimed)); the buckets widen (1 s,
    /// 10 s, 1 min, … 1 day, 7 days, …) to keep at most 4096 of them.
    pub fn add(&mut self, record: &Value) {
        match record.as_object() {
            Some(r) => self.add_fields(&Fields::of_object(r)),
            None => {
                self.records += 1;
                self.not_objects += 1;
            }
        }
    }

    /// Counts one record given as its JSON line, as [`add`](Stats::add)
    /// would count it parsed, but reading only the keys the figures use
    /// (borrowed, the others skipped).
    ///
    /// # Errors
    ///
    /// When the line is not JSON; nothing is counted then.
    pub fn add_line(&mut self, line: &[u8]) -> serde_json::Result<()> {
        match Fields::of_line(line) {
            Some(fields) => self.add_fields(&fields),
            None => self.add(&serde_json::from_slice(line)?),
        }
        Ok(())
    }

    fn add_fields(&mut self, r: &Fields<'_>) {
        self.records += 1;
        let kind = match (r.name.as_deref(), r.level.as_deref()) {
            (Some(name), _) => Kind::of_target(name),
            (None, Some(level)) => Kind::ALL
                .into_iter()
                .find(|k| k.level() == Some(level))
                .unwrap_or(Kind::App),
            (None, None) => Kind::App,
        };
        self.kinds[kind.index()] += 1;
        let secs = r
            .timestamp
            .as_deref()
            .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
            .map(OffsetDateTime::unix_timestamp);
        if !secs.is_some_and(|s| self.timeline.add(s, kind)) {
            self.untimed += 1;
        }
        if let Some(user) = r.user_id.as_deref().filter(|u| !u.is_empty()) {
            bump(&mut self.users, user);
        }
        if let Some(model) = r.model.as_deref() {
            bump(&mut self.models, model);
        }
        if let Some(event_type) = r.event_type.as_deref() {
            bump(&mut self.event_types, event_type);
        }
        match kind {
            Kind::Login => self.add_login(r),
            Kind::Api => self.add_request(r),
            Kind::Audit | Kind::App => {}
        }
    }

    fn add_login(&mut self, r: &Fields<'_>) {
        let event = r.event.as_deref();
        if let Some(event) = event {
            bump(&mut self.logins, event);
        }
        if r.success == Some(false) || event == Some("failed_login") {
            bump(
                &mut self.failed_logins_by_ip,
                r.client_ip.as_deref().unwrap_or(""),
            );
        }
    }

    fn add_request(&mut self, r: &Fields<'_>) {
        let request = r.request_repr.as_ref();
        let path = match request.and_then(|q| q.path.as_deref()) {
            Some(path) => path,
            None => match request.and_then(|q| q.endpoint.as_deref()) {
                Some(url) => url.split(['?', '#']).next().unwrap_or(url),
                None => return,
            },
        };
        let status = r.response_repr.as_ref().and_then(|s| s.status_code);
        let entry = match self.paths.get_mut(path) {
            Some(entry) => entry,
            None => self.paths.entry(path.to_owned()).or_default(),
        };
        entry.requests += 1;
        if status.is_none_or(|s| s >= 500) {
            entry.errors += 1;
        }
        if let Some(t) = r.execution_time.filter(|t| is_duration(*t)) {
            entry.times.push(t);
        }
    }

    /// Adds the figures of another scan (of other records) to these.
    pub fn merge(&mut self, other: Stats) {
        self.records += other.records;
        self.not_objects += other.not_objects;
        self.untimed += other.untimed;
        for (a, b) in self.kinds.iter_mut().zip(other.kinds) {
            *a += b;
        }
        for (mine, theirs) in [
            (&mut self.event_types, other.event_types),
            (&mut self.models, other.models),
            (&mut self.users, other.users),
            (&mut self.logins, other.logins),
            (&mut self.failed_logins_by_ip, other.failed_logins_by_ip),
        ] {
            for (key, n) in theirs {
                *mine.entry(key).or_default() += n;
            }
        }
        for (path, theirs) in other.paths {
            let mine = self.paths.entry(path).or_default();
            mine.requests += theirs.requests;
            mine.errors += theirs.errors;
            mine.times.extend(theirs.times);
        }
        self.timeline.merge(other.timeline);
    }

    /// Records counted.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Records that were JSON but not an object (or, read by the command,
    /// nested too deep to parse).
    pub fn not_objects(&self) -> u64 {
        self.not_objects
    }

    /// Records without an RFC 3339 `timestamp` (not in the time buckets).
    pub fn untimed(&self) -> u64 {
        self.untimed
    }

    /// Records per kind, by the kind of their `name` (the target) as the
    /// crate routes it, else of their `level`: `AUDIT`, `API`, `LOGIN`,
    /// `APP` (application records), in that order, zeros included.
    pub fn kinds(&self) -> Vec<(&'static str, u64)> {
        Kind::ALL
            .into_iter()
            .map(|k| (kind_name(k), self.kinds[k.index()]))
            .collect()
    }

    /// Records per `event_type` (CRUD records), most first.
    pub fn event_types(&self) -> Vec<(&str, u64)> {
        ranked(&self.event_types)
    }

    /// Records per `model`, most first.
    pub fn models(&self) -> Vec<(&str, u64)> {
        ranked(&self.models)
    }

    /// Records (of every kind) per non-empty `user_id`, most first.
    pub fn users(&self) -> Vec<(&str, u64)> {
        ranked(&self.users)
    }

    /// Login records per `event` (`login`, `logout`, `failed_login`).
    pub fn logins(&self) -> Vec<(&str, u64)> {
        ranked(&self.logins)
    }

    /// Failed logins (`success: false`) per `client_ip`, most first; `""`
    /// for those without an address.
    pub fn failed_logins_by_ip(&self) -> Vec<(&str, u64)> {
        ranked(&self.failed_logins_by_ip)
    }

    /// The figures of each request path, most requests first (then by
    /// path). Request records without a path or endpoint are in
    /// [`kinds`](Stats::kinds) only.
    pub fn paths(&self) -> Vec<PathFigures<'_>> {
        let mut paths: Vec<PathFigures<'_>> = self
            .paths
            .iter()
            .map(|(path, p)| {
                let mut times = p.times.clone();
                times.sort_unstable_by(f64::total_cmp);
                PathFigures {
                    path,
                    requests: p.requests,
                    errors: p.errors,
                    error_rate: p.errors as f64 / p.requests.max(1) as f64,
                    timed: times.len() as u64,
                    p50: quantile(&times, 50),
                    p95: quantile(&times, 95),
                    p99: quantile(&times, 99),
                }
            })
            .collect();
        paths.sort_by(|a, b| b.requests.cmp(&a.requests).then(a.path.cmp(b.path)));
        paths
    }

    /// Records per kind over time: the bucket width in seconds and
    /// `(bucket start in Unix seconds, counts per kind in Kind::ALL order)`,
    /// at most 60 consecutive buckets (empty ones included).
    pub(crate) fn time_columns(&self) -> (i64, Vec<(i64, Counts)>) {
        self.timeline.columns(TIME_COLUMNS)
    }

    /// Every figure as one JSON object (`stats --json`); lists are ranked
    /// as by the methods, each entry `{"key": …, "count": …}`.
    pub fn to_json(&self) -> Value {
        let list = |items: Vec<(&str, u64)>| -> Value {
            items
                .into_iter()
                .map(|(key, count)| json!({"key": key, "count": count}))
                .collect()
        };
        let kinds: serde_json::Map<String, Value> = self
            .kinds()
            .into_iter()
            .map(|(k, n)| (k.to_owned(), n.into()))
            .collect();
        let paths: Vec<Value> = self
            .paths()
            .into_iter()
            .map(|p| {
                json!({
                    "path": p.path, "requests": p.requests, "errors": p.errors,
                    "error_rate": p.error_rate, "timed": p.timed,
                    "p50": p.p50, "p95": p.p95, "p99": p.p99,
                })
            })
            .collect();
        let (width, columns) = self.time_columns();
        let buckets: Vec<Value> = columns
            .into_iter()
            .map(|(start, counts)| {
                let mut b = serde_json::Map::new();
                b.insert("start".into(), rfc3339(start).into());
                for k in Kind::ALL {
                    b.insert(kind_name(k).into(), counts[k.index()].into());
                }
                Value::Object(b)
            })
            .collect();
        json!({
            "records": self.records,
            "not_objects": self.not_objects,
            "untimed": self.untimed,
            "kinds": kinds,
            "event_types": list(self.event_types()),
            "models": list(self.models()),
            "users": list(self.users()),
            "logins": list(self.logins()),
            "failed_logins_by_ip": list(self.failed_logins_by_ip()),
            "paths": paths,
            "over_time": {"bucket_seconds": width, "buckets": buckets},
        })
    }

    /// The figures as aligned text tables, each list cut to its `top`
    /// entries (a last line says how many more). Values from records are
    /// cut at 60 characters, their control characters escaped.
    pub fn table(&self, top: usize) -> String {
        let mut out = format!(
            "records: {}  (not objects: {}, without a timestamp: {})\n",
            self.records, self.not_objects, self.untimed
        );
        let counted = |title: &str, head: &str, items: Vec<(&str, u64)>| {
            let rows = items
                .into_iter()
                .map(|(k, n)| vec![k.to_owned(), n.to_string()])
                .collect();
            section(title, &[head, "count"], rows, top)
        };
        out.push_str(&counted("Records by kind", "kind", self.kinds()));
        out.push_str(&counted("Event types", "event_type", self.event_types()));
        out.push_str(&counted("Models", "model", self.models()));
        out.push_str(&counted("Users", "user_id", self.users()));
        out.push_str(&counted("Logins", "event", self.logins()));
        out.push_str(&counted(
            "Failed logins by client IP",
            "client_ip",
            self.failed_logins_by_ip(),
        ));
        let rows = self.paths().into_iter().map(|p| p.cells()).collect();
        out.push_str(&section(
            "Requests by path (execution_time in ms)",
            &PathFigures::HEADINGS,
            rows,
            top,
        ));
        out
    }
}

/// Counts `records` and writes the figures to `out` as tables (each list
/// cut to `top`) or, with `json`, as [`Stats::to_json`]: the output of the
/// `stats` command for records obtained some other way.
pub fn run_stats<I, W>(records: I, json: bool, top: usize, out: &mut W) -> io::Result<Stats>
where
    I: IntoIterator<Item = Value>,
    W: io::Write + ?Sized,
{
    let mut stats = Stats::default();
    for record in records {
        stats.add(&record);
    }
    write(&stats, json, top, out)?;
    Ok(stats)
}

fn write<W: io::Write + ?Sized>(
    stats: &Stats,
    json: bool,
    top: usize,
    out: &mut W,
) -> io::Result<()> {
    if json {
        serde_json::to_writer_pretty(&mut *out, &stats.to_json())?;
        out.write_all(b"\n")?;
    } else {
        out.write_all(stats.table(top).as_bytes())?;
    }
    out.flush()
}

/// Runs `stats` and gives the exit status.
pub fn run(args: &StatsArgs) -> u8 {
    let (stats, errors, summary) = match scan_stats(&args.inputs, &args.filter, args.progress) {
        Ok(scanned) => scanned,
        Err(code) => return code,
    };
    let json = args.output == StatsOutput::Json;
    let written = write(&stats, json, args.top, &mut io::stdout().lock());
    super::finish(&errors, &summary, written)
}

/// The figures of the records the shared scan finds, with what it could
/// not read; `Err` is the exit status of a usage or scan error (reported).
pub(crate) fn scan_stats(
    inputs: &Inputs,
    filter: &FilterArgs,
    progress: ProgressArgs,
) -> Result<(Stats, Vec<InputError>, Summary), u8> {
    let (filter, sources, errors) = super::prepare(inputs, filter)?;
    let options = Options {
        progress: !progress.no_progress,
        ..Options::default()
    };
    let mut stats = Stats::default();
    let summary = scan::scan(&sources, &filter, options, &mut |record| {
        if let Err(e) = stats.add_line(record.bytes) {
            // Nested deeper than serde_json reads: counted, not lost.
            report!(
                "tracing-audit: {}:{}: {e}",
                record.file.display(),
                record.line
            );
            stats.add(&Value::Null);
        }
        Ok(Flow::Continue)
    });
    match summary {
        Ok(summary) => Ok((stats, errors, summary)),
        Err(e) => {
            report!("tracing-audit: {e}");
            Err(super::exit::IO)
        }
    }
}

fn bump(map: &mut HashMap<String, u64>, key: &str) {
    match map.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key.to_owned(), 1);
        }
    }
}

/// Entries by count, most first, then by key.
fn ranked(map: &HashMap<String, u64>) -> Vec<(&str, u64)> {
    let mut items: Vec<(&str, u64)> = map.iter().map(|(k, n)| (k.as_str(), *n)).collect();
    items.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    items
}

/// Whether an `execution_time` is a duration: not negative, and finite
/// in milliseconds too (1e308 seconds would print as `inf` ms). Anything
/// else is left out of the quantiles, as a non-number is.
fn is_duration(secs: f64) -> bool {
    secs >= 0.0 && (secs * 1000.0).is_finite()
}

/// The nearest-rank `p`-th percentile of sorted values.
pub(crate) fn quantile(sorted: &[f64], p: u64) -> Option<f64> {
    let rank = (u128::from(p) * sorted.len() as u128).div_ceil(100).max(1);
    sorted.get(usize::try_from(rank - 1).ok()?).copied()
}

/// Seconds as milliseconds with three decimals, `-` for none.
fn millis(secs: Option<f64>) -> String {
    secs.map_or_else(|| "-".to_owned(), |s| format!("{:.3}", s * 1000.0))
}

/// A Unix time as RFC 3339 (`""` outside its years).
pub(crate) fn rfc3339(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// One titled table: the first column left-aligned, the others right,
/// cut to `top` rows.
fn section(title: &str, head: &[&str], rows: Vec<Vec<String>>, top: usize) -> String {
    let more = rows.len().saturating_sub(top);
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .take(top)
        .map(|row| {
            row.into_iter()
                .map(|cell| {
                    let mut clean = String::new();
                    push_clean(&mut clean, &cell, 60, false);
                    clean
                })
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = format!("\n{title}\n");
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        for (i, (cell, w)) in cells.zip(&widths).enumerate() {
            let pad = w.saturating_sub(cell.chars().count());
            if i == 0 {
                out.push_str(cell);
                out.extend(std::iter::repeat_n(' ', pad));
            } else {
                out.push_str("  ");
                out.extend(std::iter::repeat_n(' ', pad));
                out.push_str(cell);
            }
        }
        let trimmed = out.trim_end_matches(' ').len();
        out.truncate(trimmed);
        out.push('\n');
    };
    line(&mut head.iter().copied());
    if rows.is_empty() {
        line(&mut std::iter::once("(none)"));
    }
    for row in &rows {
        line(&mut row.iter().map(String::as_str));
    }
    if more > 0 {
        out.push_str(&format!("… and {more} more\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_quantiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 50), Some(50.0));
        assert_eq!(quantile(&v, 95), Some(95.0));
        assert_eq!(quantile(&v, 99), Some(99.0));
        assert_eq!(quantile(&[3.0], 99), Some(3.0));
        assert_eq!(quantile(&[1.0, 2.0], 50), Some(1.0));
        assert_eq!(quantile(&[1.0, 2.0], 95), Some(2.0));
        assert_eq!(quantile(&[], 50), None);
    }

    #[test]
    fn any_json_is_counted_without_panicking() {
        let mut stats = Stats::default();
        for text in [
            "null",
            "[1,2]",
            "\"x\"",
            "{}",
            r#"{"name":7,"level":[],"timestamp":"yesterday","user_id":{}}"#,
            r#"{"name":"audit.request","request_repr":"x","response_repr":{"status_code":-1},"execution_time":"slow"}"#,
            r#"{"name":"audit.request","request_repr":{"path":"/a"},"response_repr":{"status_code":1e300},"execution_time":-1e308}"#,
            r#"{"name":"audit.login","success":"no","client_ip":5}"#,
            r#"{"timestamp":"9999-12-31T23:59:59Z"}"#,
            r#"{"timestamp":"0000-01-01T00:00:00Z"}"#,
        ] {
            stats.add(&serde_json::from_str(text).unwrap());
        }
        assert_eq!(stats.records(), 10);
        assert_eq!(stats.not_objects(), 3);
        assert_eq!(stats.untimed(), 5);
        let paths = stats.paths();
        assert_eq!(paths.len(), 1);
        assert_eq!((paths[0].requests, paths[0].errors), (1, 1));
        let _ = stats.table(5);
        let _ = stats.to_json();
    }

    #[test]
    fn a_line_counts_as_its_parsed_value() {
        let lines = [
            "null",
            " [1,2]",
            "{}",
            r#"{"name":7,"level":"LOGIN","timestamp":"yesterday","user_id":{}}"#,
            r#"{"name":"audit.request","request_repr":"x","response_repr":{"status_code":-1},"execution_time":"slow"}"#,
            r#"{"name":"audit.request","request_repr":{"path":"/a\u002fb"},"response_repr":{"status_code":200.0},"execution_time":3}"#,
            r#"{"name":"audit.request","request_repr":{"endpoint":"http://h/p?k=v"},"response_repr":null,"execution_time":0.5}"#,
            r#"{"name":"audit.login","success":"no","client_ip":5,"event":"failed_login"}"#,
            r#"{"name":"audit.login","success":false,"client_ip":null,"user_id":"a\"b"}"#,
            r#"{"name":"audit.crud","model":"M","model":"N","user_id":"u"}"#,
            r#"{"timestamp":"2026-11-22T10:00:00.123456Z","level":"API","request_repr":{"path":"/x","path":1}}"#,
        ];
        let (mut by_line, mut by_value) = (Stats::default(), Stats::default());
        for line in lines {
            by_line.add_line(line.as_bytes()).unwrap();
            by_value.add(&serde_json::from_str(line).unwrap());
        }
        assert_eq!(by_line.to_json(), by_value.to_json());
        assert_eq!(by_line.records(), lines.len() as u64);
        assert!(Stats::default().add_line(b"{not json").is_err());
    }

    #[test]
    fn the_table_escapes_control_characters() {
        let mut stats = Stats::default();
        stats.add(&json!({"name": "audit.crud", "user_id": "\u{1b}[2Jevil", "model": "M"}));
        let table = stats.table(10);
        assert!(!table.contains('\u{1b}'), "{table}");
        assert!(table.contains("\\u{1b}[2Jevil"), "{table}");
    }

    #[test]
    fn merged_scans_equal_one_scan() {
        let records: Vec<Value> = (0..300u64)
            .map(|i| {
                let name = ["audit.crud", "audit.login", "audit.request", "app"][(i % 4) as usize];
                json!({
                    "timestamp": rfc3339(1_700_000_000 + (i * 37 % 1000) as i64),
                    "name": name,
                    "user_id": (i % 7).to_string(),
                    "model": format!("M{}", i % 3),
                    "event_type": "UPDATE",
                    "event": "failed_login", "success": false, "client_ip": format!("10.0.0.{}", i % 5),
                    "request_repr": {"path": format!("/p{}", i % 2)},
                    "response_repr": {"status_code": 200 + (i % 4) * 100},
                    "execution_time": (i % 11) as f64 / 100.0,
                })
            })
            .collect();
        let mut one = Stats::default();
        let (mut a, mut b) = (Stats::default(), Stats::default());
        for (i, r) in records.iter().enumerate() {
            one.add(r);
            if i % 2 == 0 { &mut a } else { &mut b }.add(r);
        }
        a.merge(b);
        assert_eq!(a.to_json(), one.to_json());
        assert_eq!(a.table(100), one.table(100));
    }
}
