//! Field-level changes between two `Serialize` values: [`diff`] and
//! [`Changes`], re-exported at the crate root.

use std::cell::Cell;
use std::fmt;

use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::json::{self, Opts};
use crate::nesting::{self, DEFAULT_MAX_DEPTH};

/// One changed field: its old and new value.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The field's dotted path (`price`, `address.city`).
    pub field: String,
    /// The value before (`null` if the field did not exist).
    pub old: Value,
    /// The value after (`null` if the field no longer exists).
    pub new: Value,
}

/// The changes between two values, in field order. Serializes as
/// `{"field":{"old":…,"new":…},…}`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    changes: Vec<Change>,
    /// Whether a value was cut at the nesting limit on the way in: the
    /// record that writes these is marked `truncated`.
    cut: bool,
}

impl Changes {
    /// No changes.
    pub fn new() -> Self {
        Changes::default()
    }

    /// Adds a change by hand (for values that are not `Serialize`, or for
    /// changes known without a before and after). A field already in the
    /// list is replaced, so that no field appears twice.
    pub fn push(&mut self, field: impl Into<String>, old: impl Serialize, new: impl Serialize) {
        let change = Change {
            field: field.into(),
            old: to_value(&old, &mut self.cut),
            new: to_value(&new, &mut self.cut),
        };
        match self.changes.iter_mut().find(|c| c.field == change.field) {
            Some(existing) => *existing = change,
            None => self.changes.push(change),
        }
    }

    /// Adds a change by hand, builder style.
    pub fn with(
        mut self,
        field: impl Into<String>,
        old: impl Serialize,
        new: impl Serialize,
    ) -> Self {
        self.push(field, old, new);
        self
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// How many fields changed.
    pub fn len(&self) -> usize {
        self.changes.len()
    }

    /// The changes.
    pub fn iter(&self) -> std::slice::Iter<'_, Change> {
        self.changes.iter()
    }

    /// The change to `field`, if it changed.
    pub fn get(&self, field: &str) -> Option<&Change> {
        self.changes.iter().find(|c| c.field == field)
    }

    /// Writes the changes as a record field: secret fields masked on both
    /// sides, long strings cut.
    pub(crate) fn write_json<W: fmt::Write + ?Sized>(
        &self,
        out: &mut W,
        opts: &Opts<'_>,
    ) -> fmt::Result {
        if self.cut {
            opts.truncated.set(true);
        }
        out.write_char('{')?;
        let mut first = true;
        let mut cut_keys = json::CutKeys::new();
        for change in &self.changes {
            json::data_key(out, &mut first, &change.field, opts, &mut cut_keys)?;
            let secret = if change.field.contains(['.', '\\']) {
                path_keys(&change.field).any(|key| opts.policy.is_secret_key(&key))
            } else {
                opts.policy.is_secret_key(&change.field)
            };
            out.write_str("{\"old\":")?;
            if secret {
                json::plain_string(out, opts.policy.mask())?;
                out.write_str(",\"new\":")?;
                json::plain_string(out, opts.policy.mask())?;
            } else {
                // Two levels below a member of the record: `changes` and
                // the field's object.
                let room = opts.value_depth.saturating_sub(2);
                json::value_at(out, &change.old, opts, room)?;
                out.write_str(",\"new\":")?;
                json::value_at(out, &change.new, opts, room)?;
            }
            out.write_char('}')?;
        }
        out.write_char('}')
    }
}

impl<'a> IntoIterator for &'a Changes {
    type Item = &'a Change;
    type IntoIter = std::slice::Iter<'a, Change>;

    fn into_iter(self) -> Self::IntoIter {
        self.changes.iter()
    }
}

/// Serializes the raw values, unredacted: for the caller's own use. Records
/// go through the crate's writer, which redacts.
impl Serialize for Changes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct OldNew<'a>(&'a Change);
        impl Serialize for OldNew<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut s = serializer.serialize_struct("Change", 2)?;
                s.serialize_field("old", &self.0.old)?;
                s.serialize_field("new", &self.0.new)?;
                s.end()
            }
        }
        let mut map = serializer.serialize_map(Some(self.changes.len()))?;
        for change in &self.changes {
            map.serialize_entry(&change.field, &OldNew(change))?;
        }
        map.end()
    }
}

/// The field-level changes from `before` to `after`.
///
/// `diff` serializes both values to JSON and compares them field by
/// field. Nested objects are followed, and a change inside one is named by
/// its dotted path (`address.city`); arrays and scalars are compared whole.
/// A field present on one side only shows `null` on the other.
///
/// A key that itself contains a `.` or a `\` has them escaped in the path
/// (`\.` and `\\`): the key `"a.b"` is the field `a\.b`, the key `b`
/// inside `a` is `a.b`, so no two changes ever share a name (and no key is
/// written twice in `changes`).
///
/// ```
/// use serde::Serialize;
/// use tracing_audit::{diff, diff_ignoring};
///
/// #[derive(Serialize)]
/// struct Product { name: &'static str, price: f64, updated_at: u64 }
///
/// let before = Product { name: "Lamp", price: 10.99, updated_at: 1 };
/// let after = Product { name: "Lamp", price: 12.99, updated_at: 2 };
///
/// let changes = diff_ignoring(&before, &after, &["updated_at"]);
/// assert_eq!(changes.len(), 1);
/// assert_eq!(
///     serde_json::to_string(&changes)?,
///     r#"{"price":{"old":10.99,"new":12.99}}"#,
/// );
/// assert!(diff(&before, &before).is_empty());
/// # Ok::<(), serde_json::Error>(())
/// ```
///
/// Redaction happens when the changes are written into a record, not here:
/// a changed `password` is kept in memory as it is and written as
/// `{"password":{"old":"[REDACTED]","new":"[REDACTED]"}}`.
///
/// Two values that do not serialize to JSON objects (two numbers, say) are
/// compared whole, as the field `""`. A value that cannot be serialized at
/// all is taken as a string describing the error, and one whose
/// `Serialize` impl panics as `"[panicked: <message>]"`.
///
/// Values are followed [`DEFAULT_MAX_DEPTH`]
/// (127) levels deep, whatever the builder's limit: a part nested deeper
/// is taken as the string [`DEPTH_MARKER`](crate::DEPTH_MARKER), so a
/// difference down there is not seen. However deep the input, `diff` uses
/// a bounded amount of stack.
pub fn diff<A: Serialize + ?Sized, B: Serialize + ?Sized>(before: &A, after: &B) -> Changes {
    diff_ignoring(before, after, &[])
}

/// [`diff`], leaving out the fields named in `ignore` (a top-level name or
/// a dotted path: `updated_at`, `meta.etag`; a key's own `.` escaped as
/// `\.`, as in the changes' names).
pub fn diff_ignoring<A: Serialize + ?Sized, B: Serialize + ?Sized>(
    before: &A,
    after: &B,
    ignore: &[&str],
) -> Changes {
    let mut changes = Changes::new();
    let old = to_value(before, &mut changes.cut);
    let new = to_value(after, &mut changes.cut);
    match (&old, &new) {
        (Value::Object(a), Value::Object(b)) => walk(a, b, None, ignore, &mut changes),
        _ if old != new => changes.changes.push(Change {
            field: String::new(),
            old,
            new,
        }),
        _ => {}
    }
    changes
}

fn walk(
    a: &Map<String, Value>,
    b: &Map<String, Value>,
    // `None` at the top: an empty key's path is `""` too.
    prefix: Option<&str>,
    ignore: &[&str],
    out: &mut Changes,
) {
    let path = |key: &str| {
        let mut field = String::with_capacity(prefix.map_or(0, str::len) + key.len() + 1);
        if let Some(prefix) = prefix {
            field.push_str(prefix);
            field.push('.');
        }
        push_escaped(&mut field, key);
        field
    };
    for (key, old) in a {
        let field = path(key);
        if ignore.contains(&field.as_str()) {
            continue;
        }
        match (old, b.get(key)) {
            (Value::Object(x), Some(Value::Object(y))) => walk(x, y, Some(&field), ignore, out),
            (old, Some(new)) if old == new => {}
            (old, new) => out.changes.push(Change {
                field,
                old: old.clone(),
                new: new.cloned().unwrap_or(Value::Null),
            }),
        }
    }
    for (key, new) in b {
        if a.contains_key(key) {
            continue;
        }
        let field = path(key);
        if ignore.contains(&field.as_str()) {
            continue;
        }
        out.changes.push(Change {
            field,
            old: Value::Null,
            new: new.clone(),
        });
    }
}

/// Appends `key` as one path segment: `.` and `\` escaped with a `\`.
fn push_escaped(path: &mut String, key: &str) {
    for c in key.chars() {
        if c == '.' || c == '\\' {
            path.push('\\');
        }
        path.push(c);
    }
}

/// The keys of a path, unescaped: `a\.b.c` is `a.b`, then `c`.
fn path_keys(path: &str) -> impl Iterator<Item = String> + '_ {
    let mut chars = path.chars();
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let mut key = String::new();
        loop {
            match chars.next() {
                Some('\\') => key.extend(chars.next()),
                Some('.') => return Some(key),
                Some(c) => key.push(c),
                None => {
                    done = true;
                    return Some(key);
                }
            }
        }
    })
}

/// `v` as JSON, followed [`DEFAULT_MAX_DEPTH`] levels deep (see
/// [`nesting::to_value`]): the recursion of [`walk`], and of comparing,
/// cloning and dropping the values, is bounded by it. Sets `cut` if
/// something was left out.
fn to_value<T: Serialize + ?Sized>(v: &T, cut: &mut bool) -> Value {
    let flag = Cell::new(false);
    let v = nesting::to_value(v, DEFAULT_MAX_DEPTH, &flag);
    *cut |= flag.get();
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_fields_are_named_by_path() {
        let a = json!({"name": "a", "address": {"city": "Oslo", "zip": "0150"}, "tags": [1, 2]});
        let b = json!({"name": "a", "address": {"city": "Bergen", "zip": "0150"}, "tags": [1, 3]});
        let c = diff(&a, &b);
        let fields: Vec<_> = c.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["address.city", "tags"]);
        assert_eq!(c.get("address.city").unwrap().new, json!("Bergen"));
    }

    #[test]
    fn added_and_removed_fields_show_null_on_the_other_side() {
        let c = diff(&json!({"a": 1}), &json!({"b": 2}));
        assert_eq!(c.get("a").unwrap().new, Value::Null);
        assert_eq!(c.get("b").unwrap().old, Value::Null);
    }

    #[test]
    fn ignored_paths_are_left_out() {
        let a = json!({"x": 1, "meta": {"etag": "1", "v": 1}});
        let b = json!({"x": 2, "meta": {"etag": "2", "v": 2}});
        let c = diff_ignoring(&a, &b, &["x", "meta.etag"]);
        let fields: Vec<_> = c.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["meta.v"]);
    }

    #[test]
    fn a_field_pushed_twice_is_kept_once() {
        let c = Changes::new().with("price", 1, 2).with("price", 1, 3);
        assert_eq!(c.len(), 1);
        assert_eq!(c.get("price").unwrap().new, json!(3));
    }

    #[test]
    fn a_key_with_a_dot_is_escaped_and_never_named_like_a_nested_field() {
        let a = json!({"a.b": 1, "a": {"b": 2}, "c\\": {"d": 1}});
        let b = json!({"a.b": 3, "a": {"b": 4}, "c\\": {"d": 2}});
        let c = diff(&a, &b);
        let fields: Vec<_> = c.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["a.b", "a\\.b", "c\\\\.d"]);
        assert_eq!(c.get("a\\.b").unwrap().new, json!(3));
        assert_eq!(c.get("a.b").unwrap().new, json!(4));
        let keys: Vec<_> = path_keys("a\\.b.c\\\\.d").collect();
        assert_eq!(keys, ["a.b", "c\\", "d"]);
    }

    #[test]
    fn scalars_are_compared_whole() {
        assert!(diff(&1, &1).is_empty());
        let c = diff(&1, &2);
        assert_eq!(c.len(), 1);
        assert_eq!(c.iter().next().unwrap().field, "");
    }
}
