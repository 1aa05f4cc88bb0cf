//! One console line out of one rendered record (already redacted):
//!
//! ```text
//! 2026-11-29T10:00:00.123Z  AUDIT  UPDATE Product 42 (price, stock) user=7 request=r-1
//! 2026-11-29T10:00:00.124Z  LOGIN  login failed user=alice ip=10.0.0.1 error="bad password"
//! 2026-11-29T10:00:00.125Z  API    GET /orders 200 user=7 request=r-1
//! 2026-11-29T10:00:00.126Z  INFO   billing::db: connected pool=4 user=7
//! ```
//!
//! Every value is cut at [`VALUE_CAP`] characters (the message at
//! [`MESSAGE_CAP`]), and control and bidirectional-override characters are
//! written escaped (`\u{1b}`), so that a value cannot move the cursor,
//! clear the screen or disguise the line.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::record::Kind;

/// The most characters of one value shown; longer ones end with `…`.
pub(crate) const VALUE_CAP: usize = 200;
/// The most characters of a message shown.
pub(crate) const MESSAGE_CAP: usize = 1000;
/// The most ids of a bulk record, and changed field names, listed.
const LIST_MAX: usize = 10;

const RESET: &str = "\x1b[0m";
const DIM: &str = "\x1b[2m";

/// The colour of a level word.
fn level_colour(level: &str) -> &'static str {
    match level {
        "AUDIT" => "\x1b[1;35m",
        "LOGIN" => "\x1b[1;36m",
        "API" => "\x1b[1;34m",
        "ERROR" => "\x1b[1;31m",
        "WARN" => "\x1b[1;33m",
        "INFO" => "\x1b[1;32m",
        "DEBUG" => "\x1b[34m",
        _ => "\x1b[35m",
    }
}

/// The line being written, and whether it is coloured.
struct Line<'a> {
    out: &'a mut String,
    ansi: bool,
}

impl Line<'_> {
    fn paint(&mut self, code: &str, f: impl FnOnce(&mut String)) {
        if self.ansi {
            self.out.push_str(code);
        }
        f(self.out);
        if self.ansi {
            self.out.push_str(RESET);
        }
    }

    /// ` key=value`, the key dimmed; strings with spaces, quotes or `=`
    /// (and empty ones) are quoted.
    fn pair(&mut self, key: &str, value: &Value) {
        self.key(key);
        push_value(self.out, value);
    }

    /// ` key=`, the key dimmed.
    fn key(&mut self, key: &str) {
        self.out.push(' ');
        self.paint(DIM, |o| {
            push_clean(o, key, VALUE_CAP, false);
            o.push('=');
        });
    }

    /// ` key=value` for a string value.
    fn pair_str(&mut self, key: &str, value: &str) {
        self.pair(key, &Value::String(value.to_owned()));
    }
}

/// Writes the console line for `record` (one JSON record as the layer
/// renders it) of `kind` into `out`, without the newline.
pub(crate) fn write(out: &mut String, record: &str, kind: Kind, ansi: bool) {
    let mut line = Line { out, ansi };
    let parsed = serde_json::from_str::<Member>(record.trim_end());
    let Ok(Member::Object(r)) = parsed else {
        // A context value nested deeper than `serde_json` reads (with a
        // `max_depth` above the default): the file has the record.
        line.out.push_str(kind.level().unwrap_or("?"));
        line.out
            .push_str("  [a record too deeply nested for the console; see the file]");
        return;
    };
    let level = kind.level().or_else(|| str_of(&r, "level")).unwrap_or("?");
    let time = str_of(&r, "timestamp").unwrap_or("");
    line.paint(DIM, |o| push_clean(o, &short_time(time), 40, false));
    line.out.push_str("  ");
    line.paint(level_colour(level), |o| push_clean(o, level, 8, false));
    for _ in level.chars().count()..5 {
        line.out.push(' ');
    }
    line.out.push_str("  ");
    match kind {
        Kind::Audit => audit(&mut line, &r),
        Kind::Login => login(&mut line, &r),
        Kind::Api => api(&mut line, &r),
        _ => app(&mut line, &r),
    }
}

/// `UPDATE Product 42 (price, stock) user=7 request=r-1`; a record that is
/// not a CRUD record (`audit.process`, plain macros): its message and the
/// fields in `extra`.
fn audit(line: &mut Line<'_>, r: &Object) {
    let (Some(event_type), Some(model)) = (str_of(r, "event_type"), str_of(r, "model")) else {
        message(line, r);
        fields(line, get(r, "extra"));
        context(line, r, true);
        return;
    };
    push_clean(line.out, event_type, VALUE_CAP, false);
    line.out.push(' ');
    push_clean(line.out, model, VALUE_CAP, false);
    if let Some(ids) = value_of(r, "instance_ids").and_then(Value::as_array) {
        line.out.push_str(" [");
        list(line.out, ids.iter().map(text_of), ids.len());
        line.out.push(']');
    } else if let Some(count) = value_of(r, "count").and_then(Value::as_u64) {
        // A shrunk bulk record keeps the count only.
        line.out.push_str(&format!(" ({count} instances)"));
    } else if let Some(id) = str_of(r, "instance_id") {
        line.out.push(' ');
        push_clean(line.out, id, VALUE_CAP, false);
    }
    if let Some(Member::Object(changes)) = get(r, "changes") {
        if !changes.is_empty() {
            line.out.push_str(" (");
            list(
                line.out,
                changes.iter().map(|(k, _)| Cow::Borrowed(k.as_str())),
                changes.len(),
            );
            line.out.push(')');
        }
    }
    context(line, r, true);
}

/// `login failed user=alice ip=10.0.0.1 error=…`.
fn login(line: &mut Line<'_>, r: &Object) {
    match str_of(r, "event") {
        Some("login") => line.out.push_str("login"),
        Some("logout") => line.out.push_str("logout"),
        Some("failed_login") => line.out.push_str("login failed"),
        Some(other) => push_clean(line.out, other, VALUE_CAP, false),
        None => message(line, r),
    }
    if let Some(user) = str_of(r, "user_id").filter(|u| !u.is_empty()) {
        line.pair_str("user", user);
    }
    for (key, shown) in [("client_ip", "ip"), ("error", "error")] {
        match value_of(r, key) {
            None | Some(Value::Null) => {}
            Some(v) => line.pair(shown, v),
        }
    }
    context(line, r, false);
}

/// `GET /orders 200 user=7 request=r-1`: method, path (or endpoint) and
/// status from the request record's `request_repr` and `response_repr`, else
/// from the record or its `extra`; without any of them, the message.
fn api(line: &mut Line<'_>, r: &Object) {
    let object = |key| match get(r, key) {
        Some(Member::Object(o)) => o.as_slice(),
        _ => &[],
    };
    let places = [
        object("request_repr"),
        object("response_repr"),
        object("extra"),
        r,
    ];
    let find = |keys: &[&str]| {
        places.iter().find_map(|place| {
            keys.iter()
                .find_map(|k| value_of(place, k).filter(|v| !v.is_null() && !v.is_array()))
        })
    };
    let parts = [
        find(&["method"]),
        find(&["path", "endpoint", "url", "uri"]),
        find(&["status_code", "status"]),
    ];
    if parts.iter().all(Option::is_none) {
        message(line, r);
    } else {
        let mut first = true;
        for part in parts.into_iter().flatten() {
            if !std::mem::take(&mut first) {
                line.out.push(' ');
            }
            push_clean(line.out, &text_of(part), VALUE_CAP, false);
        }
    }
    context(line, r, true);
}

/// `billing::db: message key=value … user=7 request=r-1`.
fn app(line: &mut Line<'_>, r: &Object) {
    if let Some(target) = str_of(r, "name") {
        line.paint(DIM, |o| {
            push_clean(o, target, VALUE_CAP, false);
            o.push(':');
        });
        line.out.push(' ');
    }
    message(line, r);
    fields(line, get(r, "fields"));
    context(line, r, true);
}

/// The record's message, cut at [`MESSAGE_CAP`].
fn message(line: &mut Line<'_>, r: &Object) {
    if let Some(m) = str_of(r, "message") {
        push_clean(line.out, m, MESSAGE_CAP, false);
    }
}

/// ` key=value` for each member of an object, in the record's order.
fn fields(line: &mut Line<'_>, object: Option<&Member>) {
    if let Some(Member::Object(object)) = object {
        for (k, v) in object {
            match v {
                Member::Value(v) => line.pair(k, v),
                Member::Object(_) => {
                    let mut json = String::new();
                    v.compact(&mut json);
                    line.key(k);
                    push_clean(line.out, &json, VALUE_CAP, false);
                }
            }
        }
    }
}

/// ` user=… request=…` from the record's context keys.
fn context(line: &mut Line<'_>, r: &Object, with_user: bool) {
    if with_user {
        if let Some(user) = value_of(r, "user_id").filter(|u| u.as_str() != Some("")) {
            line.pair("user", user);
        }
    }
    if let Some(request) = value_of(r, "request_id") {
        line.pair("request", request);
    }
}

/// `items` separated by `, `, at most [`LIST_MAX`] of `len`, then `…+N`.
fn list<'v>(out: &mut String, items: impl Iterator<Item = Cow<'v, str>>, len: usize) {
    for (i, item) in items.take(LIST_MAX).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_clean(out, &item, VALUE_CAP, false);
    }
    if len > LIST_MAX {
        out.push_str(&format!(", …+{}", len - LIST_MAX));
    }
}

/// A record, or an object in it, with its members in the record's order
/// (`serde_json::Map` would sort them).
type Object = Vec<(String, Member)>;

/// A member of a record: an object (its members in order), or any other
/// value (objects inside arrays come sorted).
#[derive(Debug)]
enum Member {
    Object(Object),
    Value(Value),
}

impl Member {
    /// Appends the member as compact JSON, objects in their order.
    fn compact(&self, out: &mut String) {
        match self {
            Member::Value(v) => out.push_str(&v.to_string()),
            Member::Object(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push(':');
                    v.compact(out);
                }
                out.push('}');
            }
        }
    }
}

impl<'de> Deserialize<'de> for Member {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Member, D::Error> {
        d.deserialize_any(MemberVisitor)
    }
}

struct MemberVisitor;

impl<'de> Visitor<'de> for MemberVisitor {
    type Value = Member;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Member, E> {
        Ok(Member::Value(Value::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Member, E> {
        Ok(Member::Value(Value::from(v)))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Member, E> {
        Ok(Member::Value(Value::from(v)))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Member, E> {
        Ok(Member::Value(Value::from(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Member, E> {
        Ok(Member::Value(Value::String(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Member, E> {
        Ok(Member::Value(Value::String(v)))
    }

    fn visit_unit<E>(self) -> Result<Member, E> {
        Ok(Member::Value(Value::Null))
    }

    fn visit_none<E>(self) -> Result<Member, E> {
        Ok(Member::Value(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Member, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Value>()? {
            items.push(item);
        }
        Ok(Member::Value(Value::Array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Member, A::Error> {
        let mut members = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Member>()? {
            members.push((k, v));
        }
        Ok(Member::Object(members))
    }
}

/// The first member named `key`.
fn get<'r>(r: &'r [(String, Member)], key: &str) -> Option<&'r Member> {
    r.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// The member named `key`, if it is not an object.
fn value_of<'r>(r: &'r [(String, Member)], key: &str) -> Option<&'r Value> {
    match get(r, key) {
        Some(Member::Value(v)) => Some(v),
        _ => None,
    }
}

fn str_of<'r>(r: &'r [(String, Member)], key: &str) -> Option<&'r str> {
    value_of(r, key).and_then(Value::as_str)
}

/// A value as text: a string as it is, anything else as compact JSON.
fn text_of(v: &Value) -> Cow<'_, str> {
    match v {
        Value::String(s) => Cow::Borrowed(s),
        other => Cow::Owned(other.to_string()),
    }
}

/// `2026-11-29T10:00:00.123456Z` shown to the millisecond.
fn short_time(time: &str) -> Cow<'_, str> {
    let b = time.as_bytes();
    if b.len() == 27 && b[19] == b'.' && b[26] == b'Z' && time.is_char_boundary(23) {
        Cow::Owned(format!("{}Z", &time[..23]))
    } else {
        Cow::Borrowed(time)
    }
}

/// A value of a `key=value` pair: strings quoted when they hold spaces,
/// quotes or `=` (or are empty); anything else as compact JSON.
fn push_value(out: &mut String, v: &Value) {
    let text = text_of(v);
    let quote = matches!(v, Value::String(_))
        && (text.is_empty()
            || text
                .chars()
                .any(|c| c.is_whitespace() || c == '"' || c == '='));
    if quote {
        out.push('"');
        push_clean(out, &text, VALUE_CAP, true);
        out.push('"');
    } else {
        push_clean(out, &text, VALUE_CAP, false);
    }
}

/// Appends at most `cap` characters of `s` (then `…`), with control and
/// bidirectional-override characters escaped, and `"` and `\` too when
/// `quoted`.
pub(crate) fn push_clean(out: &mut String, s: &str, cap: usize, quoted: bool) {
    for (n, c) in s.chars().enumerate() {
        if n == cap {
            out.push('…');
            return;
        }
        if c.is_control() || is_bidi(c) || (quoted && (c == '"' || c == '\\')) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
}

/// Characters that reorder the text around them on a terminal.
fn is_bidi(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(record: &str, kind: Kind) -> String {
        let mut out = String::new();
        write(&mut out, record, kind, false);
        out
    }

    #[test]
    fn a_crud_record_shows_what_changed() {
        let record = r#"{"timestamp":"2026-11-29T10:00:00.123456Z","level":"AUDIT","name":"audit.crud","message":"UPDATE event for Product (id: 42)","model":"Product","event_type":"UPDATE","instance_id":"42","changes":{"price":{"old":1,"new":2},"stock":{"old":1,"new":0}},"extra":{},"request_id":"r-1","user_id":"7","user_info":{}}"#;
        assert_eq!(
            shown(record, Kind::Audit),
            "2026-11-29T10:00:00.123Z  AUDIT  UPDATE Product 42 (price, stock) user=7 request=r-1"
        );
    }

    #[test]
    fn hostile_text_is_escaped_and_cut() {
        let long = "x".repeat(500);
        let record = serde_json::json!({
            "timestamp": "t", "level": "INFO", "name": "app", "message": "a\u{1b}[2Jb\u{202e}c",
            "fields": {"k": long, "q": "say \"hi\""},
        })
        .to_string();
        let out = shown(&record, Kind::App);
        assert!(
            !out.contains('\u{1b}') && !out.contains('\u{202e}'),
            "{out}"
        );
        assert!(out.contains(r"a\u{1b}[2Jb\u{202e}c"), "{out}");
        assert!(
            out.contains(&format!("k={}…", "x".repeat(VALUE_CAP))),
            "{out}"
        );
        assert!(out.contains(r#"q="say \"hi\"""#), "{out}");
    }

    #[test]
    fn colours_only_when_asked() {
        let record = r#"{"timestamp":"t","level":"LOGIN","event":"login","user_id":"7"}"#;
        let mut out = String::new();
        write(&mut out, record, Kind::Login, true);
        assert!(out.contains("\x1b[1;36mLOGIN\x1b[0m"), "{out:?}");
        assert!(!shown(record, Kind::Login).contains('\x1b'));
    }
}
