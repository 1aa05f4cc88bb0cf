//! Helpers for the record tests (`records_*.rs`): the crate's layer writing
//! real files in a temporary directory, and a strict reading of what it
//! wrote (every line one JSON object, no key twice, a well-formed envelope).

use std::collections::HashSet;
use std::fmt;
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use tracing::Dispatch;
use tracing_audit::redact::Policy;
use tracing_audit::Kind;
use tracing_audit::{AuditGuard, LayerBuilder};
use tracing_subscriber::layer::SubscriberExt;

/// One parsed line.
pub type Record = Map<String, Value>;

/// The `service_name` the helpers configure.
pub const SERVICE: &str = "records-test";

/// The position of a kind in [`Kind::ALL`].
pub fn kind_index(kind: Kind) -> usize {
    Kind::ALL.iter().position(|k| *k == kind).unwrap()
}

/// The crate's layer, built with `layer().log_dir(tmp).build()` on a
/// `registry()`, writing real files in a temporary directory.
pub struct Logs {
    pub dir: tempfile::TempDir,
    pub guard: AuditGuard,
    pub dispatch: Dispatch,
    offsets: [u64; 4],
}

impl Logs {
    /// The layer with the helpers' defaults: service name [`SERVICE`] and
    /// the application filter `info` (independent of `RUST_LOG`).
    pub fn new() -> Logs {
        Logs::with(|b| b)
    }

    /// The layer, configured further by `configure`.
    pub fn with(configure: impl FnOnce(LayerBuilder) -> LayerBuilder) -> Logs {
        let dir = tempfile::tempdir().unwrap();
        let builder = tracing_audit::layer()
            .log_dir(dir.path())
            .service_name(SERVICE)
            .app_filter("info");
        let (layer, guard) = configure(builder).build().unwrap();
        let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
        Logs {
            dir,
            guard,
            dispatch,
            offsets: [0; 4],
        }
    }

    /// Runs `f` with this layer's subscriber as the thread's default.
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        tracing::dispatcher::with_default(&self.dispatch, f)
    }

    /// The file of a kind (the built-in appender's path, else the default
    /// name in the directory).
    pub fn path(&self, kind: Kind) -> PathBuf {
        self.guard
            .path(kind)
            .map(Path::to_path_buf)
            .unwrap_or_else(|| self.dir.path().join(kind.file_name()))
    }

    /// Flushes, then every line of a kind's file, checked and parsed.
    pub fn lines(&self, kind: Kind) -> Vec<Line> {
        self.guard.flush().unwrap();
        read_lines(&self.path(kind))
    }

    /// Flushes, then every record of a kind's file.
    pub fn records(&self, kind: Kind) -> Vec<Record> {
        self.lines(kind).into_iter().map(|l| l.record).collect()
    }

    /// Flushes, then the lines of a kind's file written since the last
    /// `take` of that kind.
    pub fn take(&mut self, kind: Kind) -> Vec<Line> {
        self.guard.flush().unwrap();
        let path = self.path(kind);
        let i = kind_index(kind);
        let mut new = Vec::new();
        if let Ok(mut file) = fs::File::open(&path) {
            file.seek(SeekFrom::Start(self.offsets[i])).unwrap();
            file.read_to_end(&mut new).unwrap();
        }
        self.offsets[i] += new.len() as u64;
        parse_bytes(&path, &new)
    }
}

/// A line of a file: its text (without `\n`) and what it parsed to.
#[derive(Debug, Clone)]
pub struct Line {
    pub text: String,
    pub record: Record,
}

/// Every line of `path` (none if the file does not exist), each checked to
/// be one JSON object with no key twice. Panics on anything else.
pub fn read_lines(path: &Path) -> Vec<Line> {
    if !path.exists() {
        return Vec::new();
    }
    parse_bytes(path, &fs::read(path).unwrap())
}

/// Every record of `path`.
pub fn read_records(path: &Path) -> Vec<Record> {
    read_lines(path).into_iter().map(|l| l.record).collect()
}

/// Splits whole lines and parses each strictly.
pub fn parse_bytes(path: &Path, bytes: &[u8]) -> Vec<Line> {
    if bytes.is_empty() {
        return Vec::new();
    }
    assert_eq!(
        bytes.last(),
        Some(&b'\n'),
        "{}: the last line is not terminated",
        path.display()
    );
    let text =
        std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("{}: not UTF-8: {e}", path.display()));
    text[..text.len() - 1]
        .split('\n')
        .map(|line| Line {
            text: line.to_owned(),
            record: parse_line(line)
                .unwrap_or_else(|e| panic!("{}: {e}\nline: {}", path.display(), excerpt(line))),
        })
        .collect()
}

/// The start and end of a long line, for messages.
pub fn excerpt(line: &str) -> String {
    if line.len() <= 600 {
        return line.to_owned();
    }
    let mut a = 300;
    while !line.is_char_boundary(a) {
        a -= 1;
    }
    let mut b = line.len() - 300;
    while !line.is_char_boundary(b) {
        b += 1;
    }
    format!("{} … ({} bytes) … {}", &line[..a], line.len(), &line[b..])
}

/// Parses one line: exactly one JSON object, no key twice at any depth.
pub fn parse_line(line: &str) -> Result<Record, String> {
    if !line.starts_with('{') {
        return Err("the line does not start with `{`".to_owned());
    }
    match serde_json::from_str::<Strict>(line) {
        Ok(Strict(Value::Object(map))) => Ok(map),
        Ok(Strict(other)) => Err(format!("not an object: {other}")),
        Err(e) => Err(format!("invalid JSON: {e}")),
    }
}

/// A JSON value that refuses an object with the same key twice.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a float JSON cannot hold"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(de::Error::custom(format!("the key {key:?} appears twice")));
            }
            let Strict(v) = access.next_value()?;
            map.insert(key, v);
        }
        Ok(Value::Object(map))
    }
}

/// The Unix time in milliseconds of an RFC 3339 timestamp with exactly six
/// decimals and `Z`, or why it is not one.
pub fn rfc3339_micros_millis(ts: &str) -> Result<u64, String> {
    let b = ts.as_bytes();
    let shape_ok = b.len() == 27
        && b[26] == b'Z'
        && b[19] == b'.'
        && b[10] == b'T'
        && b[20..26].iter().all(u8::is_ascii_digit);
    if !shape_ok {
        return Err(format!("{ts:?} is not YYYY-MM-DDTHH:MM:SS.ffffffZ"));
    }
    let t = time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("{ts:?}: {e}"))?;
    if !t.offset().is_utc() {
        return Err(format!("{ts:?} is not UTC"));
    }
    Ok((t.unix_timestamp_nanos() / 1_000_000) as u64)
}

/// The Unix milliseconds of a lower-case hyphenated UUIDv7 (RFC 9562
/// variant), or `None` if `s` is not one.
pub fn uuid_v7_millis(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 36 {
        return None;
    }
    for (i, &c) in b.iter().enumerate() {
        let ok = if matches!(i, 8 | 13 | 18 | 23) {
            c == b'-'
        } else {
            c.is_ascii_digit() || (b'a'..=b'f').contains(&c)
        };
        if !ok {
            return None;
        }
    }
    if b[14] != b'7' || !b"89ab".contains(&b[19]) {
        return None;
    }
    let hex: String = s.chars().filter(|&c| c != '-').collect();
    u64::from_str_radix(&hex[..12], 16).ok()
}

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis() as u64
}

/// Checks the envelope every record has: `timestamp` (RFC 3339, six
/// decimals, `Z`, not in the future), `level`, `name`, `event_id` (UUIDv7
/// of the same millisecond, give or take a second), `message` and
/// `service_name` (strings). `level` is checked when given.
pub fn check_envelope(r: &Record, level: Option<&str>) {
    let ctx = || serde_json::to_string(r).unwrap();
    let ts = r
        .get("timestamp")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string timestamp: {}", ctx()));
    let ts_ms = rfc3339_micros_millis(ts).unwrap_or_else(|e| panic!("{e}: {}", ctx()));
    assert!(
        ts_ms <= now_millis() + 1_000,
        "timestamp in the future: {}",
        ctx()
    );
    let id = r
        .get("event_id")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string event_id: {}", ctx()));
    let id_ms = uuid_v7_millis(id).unwrap_or_else(|| panic!("event_id is not a UUIDv7: {}", ctx()));
    assert!(
        id_ms.abs_diff(ts_ms) <= 1_000,
        "event_id time {id_ms} far from timestamp {ts_ms}: {}",
        ctx()
    );
    for key in ["level", "name", "message", "service_name"] {
        assert!(
            r.get(key).is_some_and(Value::is_string),
            "no string {key}: {}",
            ctx()
        );
    }
    if let Some(level) = level {
        assert_eq!(r["level"], level, "level: {}", ctx());
    }
}

/// Asserts that no two records share an `event_id`.
pub fn assert_distinct_ids<'a>(records: impl IntoIterator<Item = &'a Record>) {
    let mut seen = HashSet::new();
    for r in records {
        let id = r["event_id"].as_str().unwrap().to_owned();
        assert!(seen.insert(id.clone()), "event_id {id} appears twice");
    }
}

/// What `policy` makes of `v` when a record writes it: secret keys masked
/// at any depth, secret values masked inside strings. A test oracle built on the
/// public [`Policy`] API.
pub fn redacted(v: &Value, policy: &Policy) -> Value {
    match v {
        Value::String(s) => Value::String(policy.redact_text(s).into_owned()),
        Value::Array(items) => Value::Array(items.iter().map(|i| redacted(i, policy)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, item)| {
                    let item = if policy.is_secret_key(k) {
                        Value::String(policy.mask().to_owned())
                    } else {
                        redacted(item, policy)
                    };
                    (k.clone(), item)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Whether two floats are equal or neighbours (JSON text round trips may
/// be one unit in the last place off).
pub fn float_close(a: f64, b: f64) -> bool {
    if a == b {
        return true;
    }
    if a.is_sign_negative() != b.is_sign_negative() {
        return false;
    }
    a.to_bits().abs_diff(b.to_bits()) <= 2
}

/// JSON equality with floats compared by [`float_close`].
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if x.is_f64() || y.is_f64() {
                match (x.as_f64(), y.as_f64()) {
                    (Some(x), Some(y)) => float_close(x, y),
                    _ => false,
                }
            } else {
                x == y
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Asserts [`json_eq`], showing both sides.
#[track_caller]
pub fn assert_json_eq(actual: &Value, expected: &Value, what: &str) {
    assert!(
        json_eq(actual, expected),
        "{what}:\n  actual:   {}\n  expected: {}",
        excerpt(&actual.to_string()),
        excerpt(&expected.to_string())
    );
}

/// A string written through the cap: `(kept, cut)` when it ends with the
/// marker `…[cut N bytes]`.
pub fn split_cut_marker(s: &str) -> Option<(&str, usize)> {
    let rest = s.strip_suffix(" bytes]")?;
    let at = rest.rfind("…[cut ")?;
    let n = rest[at + "…[cut ".len()..].parse().ok()?;
    Some((&s[..at], n))
}
