//! The parsed view of a record that rules and predicates read.

use serde_json::Value;

/// A record as the rules see it: the JSON line, parsed (secrets already
/// redacted, as in the file).
///
/// ```
/// # #[cfg(feature = "alert")] {
/// use tracing_audit::alert::RecordView;
/// let value = serde_json::json!({"name": "audit.request", "response_repr": {"status_code": 503}});
/// let view = RecordView::new(&value);
/// assert_eq!(view.name(), "audit.request");
/// assert_eq!(view.u64("response_repr.status_code"), Some(503));
/// assert_eq!(view.str("response_repr.missing"), None);
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RecordView<'a> {
    value: &'a Value,
}

impl<'a> RecordView<'a> {
    /// A view of a parsed record.
    pub fn new(value: &'a Value) -> RecordView<'a> {
        RecordView { value }
    }

    /// The whole record.
    pub fn value(&self) -> &'a Value {
        self.value
    }

    /// The value at a dotted path (`"response_repr.status_code"`); an
    /// array element by its index (`"event_ids.0"`).
    pub fn get(&self, path: &str) -> Option<&'a Value> {
        path.split('.').try_fold(self.value, |v, part| match v {
            Value::Object(map) => map.get(part),
            Value::Array(items) => part.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        })
    }

    /// The string at `path`, if it is one.
    pub fn str(&self, path: &str) -> Option<&'a str> {
        self.get(path).and_then(Value::as_str)
    }

    /// The unsigned integer at `path`, if it is one.
    pub fn u64(&self, path: &str) -> Option<u64> {
        self.get(path).and_then(Value::as_u64)
    }

    /// The number at `path`, if it is one.
    pub fn f64(&self, path: &str) -> Option<f64> {
        self.get(path).and_then(Value::as_f64)
    }

    /// The record's target (`name`): `audit.crud`, `audit.login`, … (empty
    /// if absent).
    pub fn name(&self) -> &'a str {
        self.str("name").unwrap_or("")
    }

    /// The record's `event_id` (empty if absent).
    pub fn event_id(&self) -> &'a str {
        self.str("event_id").unwrap_or("")
    }
}
