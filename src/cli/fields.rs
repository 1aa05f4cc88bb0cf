//! The keys [`Stats`](super::stats::Stats) reads from a record, taken
//! either from a parsed `Value` or straight from the JSON line, borrowing
//! its strings and skipping every other key unparsed (most of a request
//! record is headers and bodies the figures never look at).

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::{Map, Value};

/// A record's keys that feed the figures; a key that is absent or not of
/// its type is `None`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Fields<'a> {
    #[serde(borrow)]
    pub(crate) name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) level: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) timestamp: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) user_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) model: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) event_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) event: Option<Cow<'a, str>>,
    pub(crate) success: Option<bool>,
    #[serde(borrow)]
    pub(crate) client_ip: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) request_repr: Option<Request<'a>>,
    pub(crate) response_repr: Option<Response>,
    pub(crate) execution_time: Option<f64>,
}

/// The keys of `request_repr` the figures use.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Request<'a> {
    #[serde(borrow)]
    pub(crate) path: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) endpoint: Option<Cow<'a, str>>,
}

/// The key of `response_repr` the figures use.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Response {
    pub(crate) status_code: Option<u64>,
}

impl<'a> Fields<'a> {
    /// The keys of an object record.
    pub(crate) fn of_object(r: &'a Map<String, Value>) -> Fields<'a> {
        let text = |v: Option<&'a Value>| v.and_then(Value::as_str).map(Cow::Borrowed);
        let request = r.get("request_repr").filter(|q| q.is_object());
        Fields {
            name: text(r.get("name")),
            level: text(r.get("level")),
            timestamp: text(r.get("timestamp")),
            user_id: text(r.get("user_id")),
            model: text(r.get("model")),
            event_type: text(r.get("event_type")),
            event: text(r.get("event")),
            success: r.get("success").and_then(Value::as_bool),
            client_ip: text(r.get("client_ip")),
            request_repr: request.map(|q| Request {
                path: text(q.get("path")),
                endpoint: text(q.get("endpoint")),
            }),
            response_repr: r.get("response_repr").map(|s| Response {
                status_code: s.get("status_code").and_then(Value::as_u64),
            }),
            execution_time: r.get("execution_time").and_then(Value::as_f64),
        }
    }

    /// The keys of a JSON line holding an object whose keys all have the
    /// types above; `None` otherwise (not an object, a key of another
    /// type, a key twice): then the line is read whole, as a `Value`.
    pub(crate) fn of_line(line: &'a [u8]) -> Option<Fields<'a>> {
        let first = line.iter().find(|b| !b.is_ascii_whitespace())?;
        if *first != b'{' {
            return None;
        }
        serde_json::from_slice(line).ok()
    }
}
