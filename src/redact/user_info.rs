//! `user_info` given as text: a JSON string field, `%value`, `?value` of a
//! `String`, or a `Serialize` that is a string. When the text holds a JSON
//! object, the object is written (its keys and values redacted like any
//! other object's), so `user_info` reads the same whatever the source;
//! otherwise the text is written as a string, its secret values masked.

use std::fmt::{self, Write};

use serde_json::Value;

use crate::json::{self, Opts};

/// The JSON object `text` holds: `text` itself, or, when `text` is a quoted
/// string (what `?value` gives for a `String`), the text inside the quotes.
pub(crate) fn parse(text: &str) -> Option<Value> {
    let text = text.trim();
    let inner: String;
    let object = if text.starts_with('"') {
        inner = serde_json::from_str(text).ok()?;
        inner.trim()
    } else {
        text
    };
    if !object.starts_with('{') {
        return None;
    }
    serde_json::from_str(object).ok().filter(Value::is_object)
}

/// Writes `user_info` given as text (see the module docs).
pub(crate) fn write_text<W: Write + ?Sized>(
    out: &mut W,
    text: &str,
    opts: &Opts<'_>,
) -> fmt::Result {
    match parse(text) {
        Some(v) => json::value(out, &v, opts),
        None => json::value_string(out, text, opts),
    }
}

/// Writes `user_info` given as a `Serialize` value, which `write` writes as
/// JSON: a string holding a JSON object is written as that object.
pub(crate) fn write_serialized<W: Write + ?Sized>(
    out: &mut W,
    opts: &Opts<'_>,
    write: impl FnOnce(&mut String) -> fmt::Result,
) -> fmt::Result {
    let mut written = String::new();
    write(&mut written)?;
    if written.starts_with('"') {
        if let Some(v) = parse(&written) {
            return json::value(out, &v, opts);
        }
    }
    out.write_str(&written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_object_in_plain_or_quoted_text() {
        let object = serde_json::json!({"email": "a@b.c"});
        assert_eq!(parse(r#"{"email":"a@b.c"}"#), Some(object.clone()));
        assert_eq!(parse(r#""{\"email\":\"a@b.c\"}""#), Some(object));
        assert_eq!(parse("alice"), None);
        assert_eq!(parse("[1]"), None);
        assert_eq!(parse(r#""[1]""#), None);
    }
}
